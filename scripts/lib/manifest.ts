/**
 * The deployment manifest: where a platechain deployment lives on one chain. The deploy script writes it, the
 * relayer, the demo and the insurer's reader load it. Shape (JSON):
 *
 *   {
 *     "chainId": 11155111,
 *     "network": "sepolia",
 *     "contracts": {
 *       "VehicleRegistry":     { "address": "0x…", "blockNumber": 123 },
 *       "TollEscrow":          { "address": "0x…", "blockNumber": 124 },
 *       "DrivingRecordLedger": { "address": "0x…", "blockNumber": 125 },
 *       "TestStablecoin":      { "address": "0x…", "blockNumber": 122 }   (optional, test networks only)
 *     }
 *   }
 *
 * `blockNumber` is the block the contract was deployed in: readers start scanning logs there. Other keys are
 * ignored, so the deploy script may record more.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import { ZeroAddress, getAddress, isAddress } from "ethers";

export interface ContractDeployment {
  /** Checksummed address. */
  readonly address: string;
  /** The block the contract was deployed in. */
  readonly blockNumber: number;
}

export interface DeploymentManifest {
  readonly chainId: number;
  readonly network: string;
  readonly contracts: {
    readonly VehicleRegistry: ContractDeployment;
    readonly TollEscrow: ContractDeployment;
    readonly DrivingRecordLedger: ContractDeployment;
    readonly TestStablecoin?: ContractDeployment;
  };
}

/** A manifest that cannot be read or does not have the agreed shape; the message names the file and the field. */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
}

const REQUIRED_CONTRACTS = ["VehicleRegistry", "TollEscrow", "DrivingRecordLedger"] as const;
const OPTIONAL_CONTRACTS = ["TestStablecoin"] as const;

/** Where a network's manifest lives by default, relative to the project root (or `root`). */
export function defaultManifestPath(network: string, root: string = process.cwd()): string {
  return path.join(root, "deployments", `${network}.json`);
}

/** Reads and validates the manifest at `file`. */
export async function loadManifest(file: string): Promise<DeploymentManifest> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(error);
    throw new ManifestError(`manifest ${file}: cannot read it (${reason})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`manifest ${file}: not valid JSON (${(error as Error).message})`);
  }
  return parseManifest(json, file);
}

/** Validates parsed JSON as a manifest; `source` names it in errors. */
export function parseManifest(json: unknown, source: string): DeploymentManifest {
  const fail = (field: string, problem: string): never => {
    throw new ManifestError(`manifest ${source}: ${field} ${problem}`);
  };
  if (!isRecord(json)) return fail("(top level)", "must be a JSON object");
  const { chainId, network, contracts } = json;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    fail("chainId", `must be a positive integer, got ${JSON.stringify(chainId)}`);
  }
  if (typeof network !== "string" || network.trim() === "") {
    fail("network", `must be a non-empty string, got ${JSON.stringify(network)}`);
  }
  if (!isRecord(contracts)) return fail("contracts", "must be an object");

  const parsed: Record<string, ContractDeployment> = {};
  for (const name of [...REQUIRED_CONTRACTS, ...OPTIONAL_CONTRACTS]) {
    const entry = contracts[name];
    if (entry === undefined) {
      if ((REQUIRED_CONTRACTS as readonly string[]).includes(name)) fail(`contracts.${name}`, "is missing");
      continue;
    }
    parsed[name] = parseDeployment(entry, `contracts.${name}`, fail);
  }
  return {
    chainId: chainId as number,
    network: network as string,
    contracts: parsed as unknown as DeploymentManifest["contracts"],
  };
}

function parseDeployment(
  entry: unknown,
  field: string,
  fail: (field: string, problem: string) => never,
): ContractDeployment {
  if (!isRecord(entry)) return fail(field, "must be an object { address, blockNumber }");
  const { address, blockNumber } = entry;
  if (typeof address !== "string" || !isAddress(address) || getAddress(address) === ZeroAddress) {
    fail(`${field}.address`, `must be a non-zero address with a valid checksum, got ${JSON.stringify(address)}`);
  }
  if (typeof blockNumber !== "number" || !Number.isSafeInteger(blockNumber) || blockNumber < 0) {
    fail(`${field}.blockNumber`, `must be a non-negative integer, got ${JSON.stringify(blockNumber)}`);
  }
  return { address: getAddress(address as string), blockNumber: blockNumber as number };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
