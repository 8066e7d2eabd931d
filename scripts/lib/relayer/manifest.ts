/**
 * A minimal, validated reader of the deployment manifest `deployments/<network>.json`:
 * `{ chainId, network, contracts: { VehicleRegistry: { address, blockNumber }, TollEscrow: { ... }, ... } }`.
 * The relayer needs the chain id and the registry's and escrow's addresses.
 *
 * TODO(reconcile): the shared loader `scripts/lib/manifest.ts` (branch `ledger`) reads the same shape; once it is on
 * main, the relayer uses it and this file goes.
 */
import { readFile } from "node:fs/promises";

import { getAddress, isAddress } from "ethers";

import { ConfigError } from "./config.js";
import type { RelayerContracts } from "./relayer.js";

export interface DeployedContract {
  readonly address: string;
  readonly blockNumber: number;
}

export interface DeploymentManifest {
  readonly chainId: bigint;
  readonly network: string;
  readonly contracts: Readonly<Record<string, DeployedContract>>;
}

/** Reads and checks a manifest; every problem names the file and the field. */
export async function readManifest(file: string): Promise<DeploymentManifest> {
  let text: string;
  try {
    text = await readFile(file, "utf-8");
  } catch {
    throw new ConfigError("--manifest", `cannot read ${file} (deploy first, or pass --manifest <path>)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError("--manifest", `${file} is not JSON`);
  }
  return parseManifest(file, value);
}

export function parseManifest(file: string, value: unknown): DeploymentManifest {
  const fail = (field: string, problem: string) => new ConfigError("--manifest", `${file}: ${field} ${problem}`);
  if (!isRecord(value)) throw fail("the manifest", "is not an object");
  const chainId = value.chainId;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    throw fail("chainId", "must be a positive integer");
  }
  if (typeof value.network !== "string" || value.network === "") throw fail("network", "must be a name");
  if (!isRecord(value.contracts)) throw fail("contracts", "must be an object");
  const contracts: Record<string, DeployedContract> = {};
  for (const [name, entry] of Object.entries(value.contracts)) {
    if (!isRecord(entry)) throw fail(`contracts.${name}`, "must be { address, blockNumber }");
    const { address, blockNumber } = entry;
    if (typeof address !== "string" || !isAddress(address)) throw fail(`contracts.${name}.address`, "is not an address");
    if (typeof blockNumber !== "number" || !Number.isSafeInteger(blockNumber) || blockNumber < 0) {
      throw fail(`contracts.${name}.blockNumber`, "must be a block number");
    }
    contracts[name] = { address: getAddress(address), blockNumber };
  }
  return { chainId: BigInt(chainId), network: value.network, contracts };
}

/** The addresses the relayer needs; names the missing contract if any. */
export function relayerContracts(file: string, manifest: DeploymentManifest): RelayerContracts {
  const pick = (name: string): string => {
    const entry = manifest.contracts[name];
    if (entry === undefined) throw new ConfigError("--manifest", `${file} lists no ${name}`);
    return entry.address;
  };
  return { chainId: manifest.chainId, registry: pick("VehicleRegistry"), escrow: pick("TollEscrow") };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
