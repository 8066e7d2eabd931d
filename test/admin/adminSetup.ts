/**
 * Shared by the administration tests: a whole deployment (registry, test stablecoin, escrow, ledger) on the
 * in-process network with one account per role, its manifest in a temporary directory, and a way to run the real
 * `platechain` tasks through the Hardhat runtime and see what they print.
 *
 * The tests and the tasks share one connection: the tasks open theirs with `network.getOrCreate()`, which returns
 * the connection this module opened, so both see the same chain.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { Wallet, id } from "ethers";
import hre from "hardhat";

import type { AdminOutcome } from "../../scripts/lib/admin/command.js";
import { AdminError } from "../../scripts/lib/admin/errors.js";
import { deployVehicleRegistry, registerVehicle, vinCommitment } from "../../scripts/lib/registry.js";
import { encodeScans, signScanBatch } from "../../scripts/lib/scans.js";
import { VehicleClass } from "../../scripts/lib/vehicle.js";
import type { DrivingRecordLedger, TestStablecoin, TollEscrow, VehicleRegistry } from "../../typechain-types/index.js";

export const connection = await hre.network.getOrCreate();
export const { ethers, networkHelpers } = connection;

/** The registrar's VIN salt in these tests (fixed, so runs are reproducible). */
export const VIN_SALT = id("platechain admin test VIN salt");
export const DAY = 86_400n;
/** One token (6 decimals). */
export const TOKEN = 1_000_000n;
export const GANTRY_ID = 7;
export const FEES = [600_000n, 1_200_000n, 2_000_000n, 4_500_000n, 3_000_000n] as const;

export interface AdminSetup {
  readonly registry: VehicleRegistry;
  readonly token: TestStablecoin;
  readonly escrow: TollEscrow;
  readonly ledger: DrivingRecordLedger;
  readonly admin: HardhatEthersSigner;
  readonly registrar: HardhatEthersSigner;
  readonly regulator: HardhatEthersSigner;
  readonly tollAdmin: HardhatEthersSigner;
  readonly arbiter: HardhatEthersSigner;
  readonly pauser: HardhatEthersSigner;
  readonly owner: HardhatEthersSigner;
  readonly stranger: HardhatEthersSigner;
  readonly payee: HardhatEthersSigner;
  /** The oracle key of gantry {@link GANTRY_ID}. */
  readonly oracle: Wallet;
  /** Vehicle 1, a car owned by `owner`, carrying `plate(1)`, with 10 tokens of balance. */
  readonly vehicleId: bigint;
  readonly manifestPath: string;
}

/** A deterministic plate key per number, as the chip of plate `n` would hold. */
export function plate(n: number): Wallet {
  return new Wallet(id(`admin test plate ${n}`));
}

/** A deterministic oracle key per number. */
export function oracleKey(n: number): Wallet {
  return new Wallet(id(`admin test oracle ${n}`));
}

/** The fixture every admin test file loads (one function, so one snapshot for all of them). */
export async function deployAdminFixture(): Promise<AdminSetup> {
  return deployAdminSuite(ethers, connection.networkName);
}

/**
 * Deploys the suite through `suiteEthers` (the in-process network or a node), grants one account per role, registers
 * gantry {@link GANTRY_ID} and vehicle 1 with a balance, and writes the manifest.
 */
export async function deployAdminSuite(suiteEthers: HardhatEthers, networkName: string): Promise<AdminSetup> {
  const [admin, registrar, regulator, tollAdmin, arbiter, pauser, owner, stranger, payee] =
    await suiteEthers.getSigners();
  if (payee === undefined) throw new Error("the in-process network needs at least 9 accounts");
  const registry = await deployVehicleRegistry(suiteEthers, admin, {
    registrars: [registrar],
    regulators: [regulator],
  });
  const token = await suiteEthers.deployContract("TestStablecoin", [admin.address]);
  const escrow = await suiteEthers.deployContract("TollEscrow", [
    await registry.getAddress(),
    await token.getAddress(),
    admin.address,
    7n * DAY,
    3n * DAY,
    2n * DAY,
  ]);
  const ledger = await suiteEthers.deployContract("DrivingRecordLedger", [
    await registry.getAddress(),
    3n * DAY,
    admin.address,
  ]);
  await (await escrow.grantRole(await escrow.TOLL_ADMIN_ROLE(), tollAdmin.address)).wait();
  await (await escrow.grantRole(await escrow.ARBITER_ROLE(), arbiter.address)).wait();
  await (await escrow.grantRole(await escrow.PAUSER_ROLE(), pauser.address)).wait();

  const oracle = oracleKey(1);
  await (await escrow.connect(tollAdmin).registerGantry(GANTRY_ID, payee.address, [oracle.address], [...FEES])).wait();
  const vehicleId = await registerVehicle(registry, registrar, {
    owner: owner.address,
    plate: plate(1).address,
    vinCommitment: vinCommitment("WVWZZZ1JZXW000001", VIN_SALT),
    vehicleClass: VehicleClass.Car,
  });
  await (await token.mint(owner.address, 100n * TOKEN)).wait();
  await (await token.connect(owner).approve(await escrow.getAddress(), 100n * TOKEN)).wait();
  await (await escrow.connect(owner).deposit(vehicleId, 10n * TOKEN)).wait();

  const { chainId } = await suiteEthers.provider.getNetwork();
  const manifestPath = await writeManifest({ registry, escrow, ledger, token }, chainId, networkName);
  return {
    registry,
    token,
    escrow,
    ledger,
    admin,
    registrar,
    regulator,
    tollAdmin,
    arbiter,
    pauser,
    owner,
    stranger,
    payee,
    oracle,
    vehicleId,
    manifestPath,
  };
}

interface Deployed {
  readonly registry: VehicleRegistry;
  readonly escrow: TollEscrow;
  readonly ledger: DrivingRecordLedger;
  readonly token: TestStablecoin;
}

/** Writes the deployment's manifest (the shape of scripts/lib/manifest.ts) to a fresh temporary directory. */
export async function writeManifest(deployed: Deployed, chainId: bigint, networkName: string): Promise<string> {
  const entry = async (contract: { getAddress(): Promise<string> }) => ({
    address: await contract.getAddress(),
    blockNumber: 0,
  });
  const manifest = {
    chainId: Number(chainId),
    network: networkName,
    contracts: {
      VehicleRegistry: await entry(deployed.registry),
      TollEscrow: await entry(deployed.escrow),
      DrivingRecordLedger: await entry(deployed.ledger),
      TestStablecoin: await entry(deployed.token),
    },
  };
  const dir = await mkdtemp(path.join(tmpdir(), "platechain-admin-"));
  const file = path.join(dir, "manifest.json");
  await writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}

export interface TaskRun<Outcome extends AdminOutcome = AdminOutcome> {
  readonly outcome: Outcome;
  /** What the task printed, one entry per console.log call. */
  readonly printed: string[];
}

/** Runs `platechain <name>` in-process with `args` (camelCase option names), capturing what it prints. */
export async function runTask<Outcome extends AdminOutcome = AdminOutcome>(
  name: string,
  args: Record<string, string | boolean | undefined>,
): Promise<TaskRun<Outcome>> {
  const printed: string[] = [];
  const original = console.log;
  console.log = (...items: unknown[]) => {
    printed.push(items.map(String).join(" "));
  };
  try {
    const outcome = (await hre.tasks.getTask(["platechain", name]).run(args)) as Outcome;
    return { outcome, printed };
  } finally {
    console.log = original;
  }
}

/** Runs the task expecting it to fail with an AdminError, and returns that error's message. */
export async function taskError(name: string, args: Record<string, string | boolean | undefined>): Promise<string> {
  let outcome: TaskRun | undefined;
  try {
    outcome = await runTask(name, args);
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(AdminError);
    return (error as AdminError).message;
  }
  expect.fail(`platechain ${name} succeeded, printing ${JSON.stringify(outcome.printed)}`);
}

/** The one line a successful command prints; it ends with the transaction's hash. */
export function expectTxLine(run: TaskRun, pattern: RegExp): string {
  expect(run.printed).to.have.length(1);
  const line = run.printed[0] ?? "";
  expect(line).to.match(pattern);
  const hash = /\(tx (0x[0-9a-f]{64})\)$/.exec(line)?.[1];
  expect(hash, `no transaction hash at the end of "${line}"`).to.not.equal(undefined);
  expect(run.outcome.txHash).to.equal(hash);
  return hash ?? "";
}

/** Signs and submits one scan of `vehicleId` at `gantryId`, returning the batch id and its leaves for disputes. */
export async function chargeOneScan(
  setup: AdminSetup,
  vehicleId: bigint,
  sequence: bigint,
): Promise<{ batchId: bigint; leaves: string }> {
  const { escrow, oracle } = setup;
  const timestamp = BigInt(await networkHelpers.time.latest());
  const scans = encodeScans([{ vehicleId, timestamp, sequence }]);
  const { chainId } = await ethers.provider.getNetwork();
  const signature = await signScanBatch(oracle, await escrow.getAddress(), chainId, GANTRY_ID, scans);
  const receipt = await (await escrow.submitScans(GANTRY_ID, scans, signature)).wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = escrow.interface.parseLog(log);
    if (parsed?.name === "BatchSettled") {
      return { batchId: parsed.args.getValue("batchId") as bigint, leaves: parsed.args.getValue("leaves") as string };
    }
  }
  throw new Error("the scan settled no batch");
}
