import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { type ContractRunner, type Provider, ZeroHash, id } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import PlatechainModule from "../../../ignition/modules/PlatechainModule.js";
import TestStablecoinModule from "../../../ignition/modules/TestStablecoinModule.js";
import {
  DrivingRecordLedger__factory,
  TestStablecoin__factory,
  TollEscrow__factory,
  VehicleRegistry__factory,
  type DrivingRecordLedger,
  type TestStablecoin,
  type TollEscrow,
  type VehicleRegistry,
} from "../../../typechain-types/index.js";
import type { DeploymentManifest } from "../manifest.js";
import { type DeployParams, type RoleName, resolveHolder } from "./params.js";

/** Chains where real money moves: the test stablecoin (anyone with the minter role prints money) never goes there. */
const PRODUCTION_CHAIN_IDS = new Set([1, 10, 56, 100, 137, 324, 8453, 42161, 42220, 43114, 59144, 534352]);

const LOCAL_CHAIN_ID = 31337;

export interface PlatechainContracts {
  readonly registry: VehicleRegistry;
  readonly escrow: TollEscrow;
  readonly ledger: DrivingRecordLedger;
  /** Present when this deployment shipped the test stablecoin. */
  readonly stablecoin: TestStablecoin | undefined;
  readonly tokenAddress: string;
}

export interface DeployResult {
  readonly contracts: PlatechainContracts;
  readonly manifest: DeploymentManifest;
  readonly actions: readonly string[];
}

export class DeployError extends Error {
  override name = "DeployError";
}

/**
 * Deploys the suite with Ignition (resumable: a re-run picks up where a failed one stopped), grants the configured
 * roles, starts the admin handover when the configured admin is not the deployer, and returns the manifest.
 * Every step is idempotent, so running it again against the same deployment changes nothing that is already right.
 */
export async function deployPlatechain(
  connection: NetworkConnection,
  params: DeployParams,
  options: { readonly networkName: string; readonly displayUi?: boolean; readonly log?: (line: string) => void },
): Promise<DeployResult> {
  const log = options.log ?? (() => {});
  const [deployer] = await connection.ethers.getSigners();
  if (deployer === undefined) throw new DeployError(`network "${options.networkName}" has no account to deploy from`);
  const chainId = Number((await connection.ethers.provider.getNetwork()).chainId);
  const deployerAddress = await deployer.getAddress();
  log(`Deploying platechain to "${options.networkName}" (chain ${chainId}) from ${deployerAddress}`);

  const deploymentId = await ignitionDeploymentId(connection, chainId);
  const tokenAddress = await resolveToken(connection, params, chainId, options.displayUi ?? false, deploymentId);
  const deployed = await connection.ignition.deploy(PlatechainModule, {
    displayUi: options.displayUi ?? false,
    deploymentId,
    parameters: {
      VehicleRegistryModule: { adminDelay: params.adminDelaySeconds },
      DrivingRecordLedgerModule: { adminDelay: params.adminDelaySeconds },
      TollEscrowModule: {
        token: tokenAddress,
        disputeWindow: params.disputeWindowSeconds,
        withdrawalNotice: params.withdrawalNoticeSeconds,
        maxScanAge: params.maxScanAgeSeconds,
      },
    },
  });

  const contracts: PlatechainContracts = {
    registry: VehicleRegistry__factory.connect(await deployed.registry.getAddress(), deployer),
    escrow: TollEscrow__factory.connect(await deployed.escrow.getAddress(), deployer),
    ledger: DrivingRecordLedger__factory.connect(await deployed.ledger.getAddress(), deployer),
    stablecoin:
      params.stablecoin === "deploy" ? TestStablecoin__factory.connect(tokenAddress, deployer) : undefined,
    tokenAddress,
  };
  const actions = [
    ...(await grantConfiguredRoles(contracts, params, deployerAddress)),
    ...(await startAdminHandover(contracts, params, deployerAddress)),
  ];
  for (const action of actions) log(action);

  const manifest = await buildManifest(connection.ethers.provider, options.networkName, chainId, contracts);
  return { contracts, manifest, actions };
}

/**
 * Ignition journals a deployment per chain id so a failed one resumes. Every local node is chain 31337, and a
 * restarted node is a new chain: name local deployments after the node's genesis block instead, so a journal of a
 * node that is gone never gets in the way. Public chains keep Ignition's default (chain-<id>).
 */
async function ignitionDeploymentId(connection: NetworkConnection, chainId: number): Promise<string | undefined> {
  // The in-process network keeps no journal at all; only a node over HTTP needs a name.
  if (chainId !== LOCAL_CHAIN_ID || connection.networkConfig.type !== "http") return undefined;
  const genesis = await connection.ethers.provider.getBlock(0);
  return `local-${genesis?.hash?.slice(2, 14) ?? "unknown"}`;
}

/** Writes the manifest (by default `deployments/<network>.json`) that the relayer and the insurer's reader load. */
export async function writeManifest(file: string, manifest: DeploymentManifest): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Which role of which contract each configured role name stands for. */
export function roleTargets(contracts: PlatechainContracts): Record<RoleName, RoleTarget> {
  return {
    registrar: { contract: contracts.registry, label: "VehicleRegistry.REGISTRAR_ROLE", role: "REGISTRAR_ROLE" },
    regulator: { contract: contracts.registry, label: "VehicleRegistry.REGULATOR_ROLE", role: "REGULATOR_ROLE" },
    tollAdmin: { contract: contracts.escrow, label: "TollEscrow.TOLL_ADMIN_ROLE", role: "TOLL_ADMIN_ROLE" },
    arbiter: { contract: contracts.escrow, label: "TollEscrow.ARBITER_ROLE", role: "ARBITER_ROLE" },
    pauser: { contract: contracts.escrow, label: "TollEscrow.PAUSER_ROLE", role: "PAUSER_ROLE" },
    reporter: { contract: contracts.ledger, label: "DrivingRecordLedger.REPORTER_ROLE", role: "REPORTER_ROLE" },
  };
}

export interface RoleTarget {
  readonly contract: AccessControlled;
  readonly label: string;
  readonly role: string;
}

/** The slice of OpenZeppelin's AccessControlDefaultAdminRules that the deploy and the self-check use. */
export interface AccessControlled {
  getAddress(): Promise<string>;
  hasRole(role: string, account: string): Promise<boolean>;
  grantRole(role: string, account: string): Promise<{ wait(): Promise<unknown> }>;
  defaultAdmin(): Promise<string>;
  pendingDefaultAdmin(): Promise<[string, bigint] & { newAdmin: string; schedule: bigint }>;
  beginDefaultAdminTransfer(newAdmin: string): Promise<{ wait(): Promise<unknown> }>;
}

export function administeredContracts(contracts: PlatechainContracts): { name: string; contract: AccessControlled }[] {
  return [
    { name: "VehicleRegistry", contract: contracts.registry },
    { name: "TollEscrow", contract: contracts.escrow },
    { name: "DrivingRecordLedger", contract: contracts.ledger },
  ];
}

/** A role's id as the contracts declare it: keccak256 of its name; the default admin role is zero. */
export function roleId(role: string): string {
  return role === "DEFAULT_ADMIN_ROLE" ? ZeroHash : id(role);
}

async function resolveToken(
  connection: NetworkConnection,
  params: DeployParams,
  chainId: number,
  displayUi: boolean,
  deploymentId: string | undefined,
): Promise<string> {
  if (params.stablecoin !== "deploy") {
    const code = await connection.ethers.provider.getCode(params.stablecoin);
    if (code === "0x") throw new DeployError(`${params.file}: "stablecoin" ${params.stablecoin} has no contract code on chain ${chainId}`);
    return params.stablecoin;
  }
  if (PRODUCTION_CHAIN_IDS.has(chainId)) {
    throw new DeployError(
      `${params.file}: "stablecoin": "deploy" ships a mintable test token, refused on production chain ${chainId}; give the real stablecoin's address`,
    );
  }
  const { stablecoin } = await connection.ignition.deploy(TestStablecoinModule, { displayUi, deploymentId });
  return stablecoin.getAddress();
}

async function grantConfiguredRoles(
  contracts: PlatechainContracts,
  params: DeployParams,
  deployer: string,
): Promise<string[]> {
  const actions: string[] = [];
  const targets = roleTargets(contracts);
  for (const [name, holders] of Object.entries(params.roles) as [RoleName, readonly string[]][]) {
    const target = targets[name];
    const role = roleId(target.role);
    for (const holder of holders.map((h) => resolveHolder(h, deployer))) {
      if (await target.contract.hasRole(role, holder)) continue;
      await (await target.contract.grantRole(role, holder)).wait();
      actions.push(`granted ${target.label} to ${holder}`);
    }
  }
  return actions;
}

async function startAdminHandover(
  contracts: PlatechainContracts,
  params: DeployParams,
  deployer: string,
): Promise<string[]> {
  const admin = resolveHolder(params.admin, deployer);
  const actions: string[] = [];
  for (const { name, contract } of administeredContracts(contracts)) {
    if ((await contract.defaultAdmin()) === admin) continue;
    const pending = await contract.pendingDefaultAdmin();
    if (pending.newAdmin === admin) continue;
    await (await contract.beginDefaultAdminTransfer(admin)).wait();
    actions.push(`${name}: admin handover to ${admin} started; ${admin} accepts it after the delay`);
  }
  return actions;
}

async function buildManifest(
  provider: Provider,
  network: string,
  chainId: number,
  contracts: PlatechainContracts,
): Promise<DeploymentManifest> {
  const entry = async (address: string) => ({ address, blockNumber: await deploymentBlock(provider, address) });
  const manifest: DeploymentManifest = {
    chainId,
    network,
    contracts: {
      VehicleRegistry: await entry(await contracts.registry.getAddress()),
      TollEscrow: await entry(await contracts.escrow.getAddress()),
      DrivingRecordLedger: await entry(await contracts.ledger.getAddress()),
      ...(contracts.stablecoin === undefined
        ? {}
        : { TestStablecoin: await entry(await contracts.stablecoin.getAddress()) }),
    },
  };
  return manifest;
}

/**
 * The block in which `address` got its code, by binary search over `getCode`: it needs no explorer and works the
 * same for a fresh deployment and for one Ignition resumed.
 */
export async function deploymentBlock(provider: Provider, address: string): Promise<number> {
  let high = await provider.getBlockNumber();
  if ((await provider.getCode(address, high)) === "0x") throw new DeployError(`no contract at ${address}`);
  let low = 0;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if ((await provider.getCode(address, mid)) === "0x") low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Typed handles on a deployment a manifest describes, signing with `runner`. */
export function contractsFromManifest(manifest: DeploymentManifest, runner: ContractRunner): PlatechainContracts {
  const { VehicleRegistry, TollEscrow, DrivingRecordLedger, TestStablecoin } = manifest.contracts;
  const escrow = TollEscrow__factory.connect(TollEscrow.address, runner);
  return {
    registry: VehicleRegistry__factory.connect(VehicleRegistry.address, runner),
    escrow,
    ledger: DrivingRecordLedger__factory.connect(DrivingRecordLedger.address, runner),
    stablecoin: TestStablecoin === undefined ? undefined : TestStablecoin__factory.connect(TestStablecoin.address, runner),
    tokenAddress: TestStablecoin?.address ?? "",
  };
}
