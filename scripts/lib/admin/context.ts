/**
 * What every administration command runs against: the network connection, the deployment manifest checked against
 * that network, the contracts at the manifest's addresses, the account that signs, and the two steps every command
 * takes before it sends (the caller's role) and while it sends (simulate, send, wait, decode a revert).
 */
import path from "node:path";

import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { Contract, getAddress } from "ethers";
import type { ContractTransaction, InterfaceAbi, TransactionReceipt } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import type { DrivingRecordLedger, TollEscrow, VehicleRegistry } from "../../../typechain-types/index.js";
import { type DeploymentManifest, ManifestError, defaultManifestPath, loadManifest } from "../manifest.js";

import { AdminError } from "./errors.js";
import { CONTRACTS, type ContractKey, type ContractName, ROLES, roleId } from "./names.js";
import { type RevertSource, explainFailure } from "./revert.js";

/** Flags every command takes. */
export interface CommonFlags {
  /** The deployment manifest; `deployments/<network>.json` under the project root when omitted. */
  readonly manifest?: string;
  /** The account that signs (one of the network's configured accounts); the first one when omitted. */
  readonly from?: string;
}

/** A sent transaction, mined and successful. */
export interface Sent {
  readonly hash: string;
  readonly receipt: TransactionReceipt;
}

const ERC20_METADATA_ABI = [
  "function decimals() view returns (uint8)",
  "function symbol() view returns (string)",
] as const;

export interface TokenInfo {
  readonly address: string;
  readonly decimals: number;
  readonly symbol: string;
}

export class AdminContext {
  readonly #ethers: HardhatEthers;
  readonly #from: string | undefined;
  readonly #abis: Readonly<Record<ContractName, InterfaceAbi>>;
  #signer: HardhatEthersSigner | undefined;
  #token: TokenInfo | undefined;

  readonly registry: VehicleRegistry;
  readonly escrow: TollEscrow;
  readonly ledger: DrivingRecordLedger;

  constructor(
    readonly networkName: string,
    readonly chainId: bigint,
    readonly manifestPath: string,
    readonly manifest: DeploymentManifest,
    ethers: HardhatEthers,
    abis: Readonly<Record<ContractName, InterfaceAbi>>,
    from: string | undefined,
  ) {
    this.#ethers = ethers;
    this.#abis = abis;
    this.#from = from;
    const attach = <T>(name: ContractName): T =>
      new Contract(manifest.contracts[name].address, abis[name], ethers.provider) as unknown as T;
    this.registry = attach<VehicleRegistry>(CONTRACTS.registry);
    this.escrow = attach<TollEscrow>(CONTRACTS.escrow);
    this.ledger = attach<DrivingRecordLedger>(CONTRACTS.ledger);
  }

  get ethers(): HardhatEthers {
    return this.#ethers;
  }

  /** Where the manifest puts a contract. */
  addressOf(key: ContractKey): string {
    return this.manifest.contracts[CONTRACTS[key]].address;
  }

  /** The account that signs: `--from` if given (it must be one of the network's accounts), else the first one. */
  async signer(): Promise<HardhatEthersSigner> {
    if (this.#signer !== undefined) return this.#signer;
    const signers = await this.#ethers.getSigners();
    if (signers.length === 0) {
      throw new AdminError(`network ${this.networkName} has no accounts configured to sign with`);
    }
    let chosen = signers[0] as HardhatEthersSigner;
    if (this.#from !== undefined) {
      const match = signers.find((signer) => getAddress(signer.address) === this.#from);
      if (match === undefined) {
        throw new AdminError(
          `--from ${this.#from} is not one of the accounts network ${this.networkName} signs with ` +
            `(${signers.map((signer) => signer.address).join(", ")})`,
        );
      }
      chosen = match;
    }
    this.#signer = chosen;
    return chosen;
  }

  /** The escrow's stablecoin: its address, decimals and symbol (read once). */
  async token(): Promise<TokenInfo> {
    if (this.#token !== undefined) return this.#token;
    const address = await this.escrow.token();
    const erc20 = new Contract(address, ERC20_METADATA_ABI, this.#ethers.provider);
    const [decimals, symbol] = await Promise.all([
      erc20.getFunction("decimals").staticCall() as Promise<bigint>,
      erc20.getFunction("symbol").staticCall() as Promise<string>,
    ]);
    this.#token = { address, decimals: Number(decimals), symbol };
    return this.#token;
  }

  /**
   * Throws unless the signing account holds `roleConstant` (e.g. "REGISTRAR_ROLE") on the contract, naming the role,
   * the account and how to get it, so the operator never meets a raw AccessControl revert.
   */
  async requireRole(key: ContractKey, roleConstant: string): Promise<void> {
    const account = (await this.signer()).address;
    const contract = this.#accessControl(key);
    if (await contract.hasRole(roleId(roleConstant), account)) return;
    const remedy =
      roleConstant === "DEFAULT_ADMIN_ROLE"
        ? "the default admin changes hands only through the contract's two-step, delayed handover"
        : "an account holding DEFAULT_ADMIN_ROLE can grant it with " +
          `\`platechain grant-role --contract ${key} --role ${roleNameOf(key, roleConstant)} --account ${account}\`, ` +
          "or pass --from with an account that holds it";
    throw new AdminError(
      `account ${account} does not hold ${roleConstant} on ${CONTRACTS[key]} at ${this.addressOf(key)}: ${remedy}`,
    );
  }

  /** Whether `account` holds `role` (a role id) on the contract. */
  async hasRole(key: ContractKey, role: string, account: string): Promise<boolean> {
    return this.#accessControl(key).hasRole(role, account);
  }

  /** The role that administers `role` on the contract (DEFAULT_ADMIN_ROLE for every platechain role). */
  async roleAdmin(key: ContractKey, role: string): Promise<string> {
    return this.#accessControl(key).getRoleAdmin(role);
  }

  /** The contracts' ABIs, for decoding reverts: the contract called first, then the others. */
  revertSources(first: ContractKey): RevertSource[] {
    const order = [first, ...(Object.keys(CONTRACTS) as ContractKey[]).filter((key) => key !== first)];
    return order.map((key) => ({ name: CONTRACTS[key], abi: this.#abis[CONTRACTS[key]] }));
  }

  /**
   * Simulates `tx` (an `estimateGas`, so a revert is caught and decoded before anything is broadcast), sends it from
   * the signing account and waits for its receipt. Any failure becomes an {@link AdminError} that names `action` and
   * the contract's custom error with its arguments.
   */
  async send(key: ContractKey, action: string, build: () => Promise<ContractTransaction>): Promise<Sent> {
    const signer = await this.signer();
    const sources = this.revertSources(key);
    let hash: string | undefined;
    try {
      const tx = await build();
      const gasLimit = await signer.estimateGas(tx);
      const response = await signer.sendTransaction({ ...tx, gasLimit });
      hash = response.hash;
      const receipt = await response.wait();
      if (receipt === null) throw new AdminError(`${action}: transaction ${hash} was dropped before it was mined`);
      if (receipt.status !== 1) throw new AdminError(`${action}: transaction ${hash} reverted on-chain`);
      return { hash, receipt };
    } catch (error) {
      const explained = explainFailure(error, action, sources);
      if (hash === undefined) throw explained;
      throw new AdminError(`${explained.message} (transaction ${hash})`, explained);
    }
  }

  #accessControl(key: ContractKey): VehicleRegistry {
    // Every platechain contract is an AccessControlDefaultAdminRules: the registry's typing covers hasRole and
    // getRoleAdmin for all of them.
    const contracts: Record<ContractKey, { getAddress(): Promise<string> }> = {
      registry: this.registry,
      escrow: this.escrow,
      ledger: this.ledger,
    };
    return contracts[key] as unknown as VehicleRegistry;
  }
}

/** Opens the network the command runs on (Hardhat's `--network`), loads and checks the manifest. */
export async function openAdminContext(hre: HardhatRuntimeEnvironment, flags: CommonFlags): Promise<AdminContext> {
  const connection = await hre.network.getOrCreate();
  const { ethers } = connection;
  const networkName = connection.networkName;
  const manifestPath =
    flags.manifest === undefined || flags.manifest.trim() === ""
      ? defaultManifestPath(networkName, hre.config.paths.root)
      : path.resolve(flags.manifest);
  let manifest: DeploymentManifest;
  try {
    manifest = await loadManifest(manifestPath);
  } catch (error) {
    if (error instanceof ManifestError) {
      throw new AdminError(`${error.message}; pass --manifest to point at the deployment's manifest`, error);
    }
    throw error;
  }
  const chainId = (await ethers.provider.getNetwork()).chainId;
  if (BigInt(manifest.chainId) !== chainId) {
    throw new AdminError(
      `manifest ${manifestPath} describes chain ${manifest.chainId} (${manifest.network}), but network ` +
        `${networkName} is chain ${chainId}: pick the manifest of this network or the network of this manifest`,
    );
  }
  const abis = await readAbis(hre);
  for (const name of Object.values(CONTRACTS)) {
    const { address } = manifest.contracts[name];
    if ((await ethers.provider.getCode(address)) === "0x") {
      throw new AdminError(
        `manifest ${manifestPath} puts ${name} at ${address}, but network ${networkName} (chain ${chainId}) has no ` +
          "contract there: is this the node the suite was deployed to?",
      );
    }
  }
  return new AdminContext(networkName, chainId, manifestPath, manifest, ethers, abis, parseFrom(flags.from));
}

/** The role's operator name (`toll-admin`) from its Solidity constant (`TOLL_ADMIN_ROLE`). */
function roleNameOf(key: ContractKey, roleConstant: string): string {
  const roles: Readonly<Record<string, string>> = ROLES[key];
  return Object.keys(roles).find((name) => roles[name] === roleConstant) ?? roleConstant;
}

async function readAbis(hre: HardhatRuntimeEnvironment): Promise<Record<ContractName, InterfaceAbi>> {
  const abis: Partial<Record<ContractName, InterfaceAbi>> = {};
  for (const name of Object.values(CONTRACTS)) {
    try {
      abis[name] = (await hre.artifacts.readArtifact(name)).abi as InterfaceAbi;
    } catch (error) {
      throw new AdminError(`no compiled artifact for ${name}: run \`npx hardhat build\` first`, error as Error);
    }
  }
  return abis as Record<ContractName, InterfaceAbi>;
}

function parseFrom(from: string | undefined): string | undefined {
  if (from === undefined || from.trim() === "") return undefined;
  try {
    return getAddress(from.trim());
  } catch {
    throw new AdminError(`--from must be an address, got "${from}"`);
  }
}
