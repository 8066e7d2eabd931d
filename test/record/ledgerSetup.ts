import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { Wallet, id } from "ethers";
import type { Log, TransactionReceipt } from "ethers";

import { decodeRecordLog } from "../../scripts/lib/insurer.js";
import {
  TrustLevel,
  encodeBatch,
  ledgerDomain,
  signRecord,
  type DrivingRecord,
  type RecordLink,
  type RecordSubmission,
} from "../../scripts/lib/ledger.js";
import { VehicleClass } from "../../scripts/lib/vehicle.js";
import type { DrivingRecordLedger, VehicleRegistry } from "../../typechain-types/index.js";

/** Shared by the ledger's test files: a registry with vehicles, a ledger, and helpers to build records. */

export const ADMIN_DELAY = 3n * 24n * 60n * 60n;
export const DAY = 86_400;

export interface LedgerSetup {
  readonly registry: VehicleRegistry;
  readonly ledger: DrivingRecordLedger;
  readonly admin: HardhatEthersSigner;
  readonly registrar: HardhatEthersSigner;
  readonly reporter: HardhatEthersSigner;
  readonly owner: HardhatEthersSigner;
  readonly buyer: HardhatEthersSigner;
  readonly insurer: HardhatEthersSigner;
  readonly stranger: HardhatEthersSigner;
  /** plates[i] is the plate key of vehicleIds[i]. */
  readonly plates: readonly Wallet[];
  readonly vehicleIds: readonly bigint[];
  readonly chainId: bigint;
}

/** A deterministic plate key per vehicle number, so tests can sign as the plate. */
export function plateWallet(seed: number | string): Wallet {
  return new Wallet(id(`platechain test plate ${seed}`));
}

/** Deploys a registry with `vehicleCount` cars owned by `owner`, and a ledger whose reporter is `reporter`. */
export async function deployLedger(ethers: HardhatEthers, vehicleCount: number): Promise<LedgerSetup> {
  const [admin, registrar, reporter, owner, buyer, insurer, stranger] = await ethers.getSigners();
  const registry = await ethers.deployContract("VehicleRegistry", [ADMIN_DELAY, admin.address]);
  await registry.grantRole(await registry.REGISTRAR_ROLE(), registrar.address);
  const ledger = await ethers.deployContract("DrivingRecordLedger", [
    await registry.getAddress(),
    ADMIN_DELAY,
    admin.address,
  ]);
  await ledger.grantRole(await ledger.REPORTER_ROLE(), reporter.address);

  const plates: Wallet[] = [];
  const vehicleIds: bigint[] = [];
  for (let i = 1; i <= vehicleCount; i++) {
    const plate = plateWallet(i);
    await registry.connect(registrar).registerVehicle(owner.address, plate.address, id(`VIN ${i}`), VehicleClass.Car);
    plates.push(plate);
    vehicleIds.push(BigInt(i));
  }
  const { chainId } = await ethers.provider.getNetwork();
  return { registry, ledger, admin, registrar, reporter, owner, buyer, insurer, stranger, plates, vehicleIds, chainId };
}

/** A plausible one-day record starting at `periodStart`; `overrides` change any field. */
export function makeRecord(periodStart: number, overrides: Partial<DrivingRecord> = {}): DrivingRecord {
  return {
    periodStart,
    periodEnd: periodStart + DAY,
    distanceMeters: 84_250,
    drivingSeconds: 5_400,
    harshBrakingCount: 2,
    harshAccelerationCount: 1,
    speedingSeconds: 240,
    nightDistanceMeters: 12_000,
    dataHash: id(`raw trips from ${periodStart}`),
    corrects: 0,
    ...overrides,
  };
}

/** A reporter-asserted submission. */
export function asserted(vehicleId: bigint, record: DrivingRecord): RecordSubmission {
  return { vehicleId, record, trust: TrustLevel.ReporterAsserted };
}

/** A submission signed by `plate` in `ledger`'s EIP-712 domain. */
export async function plateSigned(
  setup: Pick<LedgerSetup, "ledger" | "chainId">,
  plate: Wallet,
  vehicleId: bigint,
  record: DrivingRecord,
): Promise<RecordSubmission> {
  const domain = ledgerDomain(setup.chainId, await setup.ledger.getAddress());
  const signature = await signRecord(plate, domain, vehicleId, record);
  return { vehicleId, record, trust: TrustLevel.PlateSigned, signature };
}

/** Appends a batch as `reporter` and returns the mined receipt. */
export async function appendBatch(
  ledger: DrivingRecordLedger,
  reporter: HardhatEthersSigner,
  submissions: readonly RecordSubmission[],
): Promise<TransactionReceipt> {
  const tx = await ledger.connect(reporter).appendRecords(encodeBatch(submissions));
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("appendRecords was not mined");
  return receipt;
}

/** The ledger's RecordAppended logs in a receipt: anonymous, so told apart by address and their single topic. */
export function recordLogs(ledger: DrivingRecordLedger, receipt: TransactionReceipt): Log[] {
  const address = String(ledger.target).toLowerCase();
  return receipt.logs.filter((log) => log.address.toLowerCase() === address && log.topics.length === 1);
}

/** Every link the ledger logged in a receipt, in log order. */
export function loggedLinks(ledger: DrivingRecordLedger, receipt: TransactionReceipt): RecordLink[] {
  return recordLogs(ledger, receipt).map((log) => decodeRecordLog(ledger.interface, log));
}
