/**
 * DrivingRecordLedger's figures: gas per driving record appended alone and in a batch of 100, for vehicles whose
 * chains already hold a record (the steady state: one record per vehicle per day).
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { simulateDay } from "../../scripts/lib/fleet/model.js";
import type { DailyRecord, Fleet } from "../../scripts/lib/fleet/model.js";
import { RECORD_SIZE, TrustLevel, encodeBatch } from "../../scripts/lib/ledger.js";
import type { RecordSubmission } from "../../scripts/lib/ledger.js";
import type { DrivingRecordLedger } from "../../typechain-types/index.js";
import { recordBatchFloor } from "./floor.js";
import type { Row, Target } from "./report.js";
import { gasOf } from "./world.js";
import type { RegistryWorld } from "./world.js";

export const RECORD_BATCH = 100;

/** Issue 8's target for a batch of 100 records. */
const RECORD_TARGET: Target = { maxFloorRatio: 1.3 };

export interface LedgerWorld {
  readonly ledger: DrivingRecordLedger;
  readonly reporter: HardhatEthersSigner;
}

export async function deployLedgerWorld(ethers: HardhatEthers, world: RegistryWorld): Promise<LedgerWorld> {
  const reporter = (await ethers.getSigners())[8];
  if (reporter === undefined) throw new Error("the benchmark needs 9 funded accounts");
  const ledger = await ethers.deployContract("DrivingRecordLedger", [
    await world.registry.getAddress(),
    0n,
    world.admin.address,
  ]);
  await ledger.grantRole(await ledger.REPORTER_ROLE(), reporter.address);
  return { ledger, reporter };
}

/**
 * Day 0's records for vehicles 1 to {@link RECORD_BATCH} + 1 first (creating their chains), then day 1's: vehicle
 * {@link RECORD_BATCH} + 1's alone, and vehicles 1 to {@link RECORD_BATCH} in one batch.
 */
export async function measureRecords(world: LedgerWorld, fleet: Fleet, hotPathsOnly: boolean): Promise<Row[]> {
  const vehicles = RECORD_BATCH + 1;
  const [day0, day1] = [dayRecords(fleet, 0, vehicles), dayRecords(fleet, 1, vehicles)];
  const ledger = world.ledger.connect(world.reporter);
  await gasOf(ledger.appendRecords(encodeBatch(day0)));

  const alone = day1.slice(RECORD_BATCH);
  const batch = day1.slice(0, RECORD_BATCH);
  const aloneData = encodeBatch(alone);
  const batchData = encodeBatch(batch);
  const aloneGas = await gasOf(ledger.appendRecords(aloneData));
  const batchGas = await gasOf(ledger.appendRecords(batchData));
  const rows: Row[] = [
    {
      id: "record.batch.100",
      section: "Driving records",
      figure: `Record, batch of ${RECORD_BATCH}`,
      unit: "gas/record",
      measured: batchGas / RECORD_BATCH,
      receiptGas: batchGas,
      floor: recordBatchFloor({ records: batchData, recordBytes: RECORD_SIZE }),
      peer: null,
      target: RECORD_TARGET,
    },
  ];
  if (!hotPathsOnly) {
    rows.unshift({
      id: "record.alone",
      section: "Driving records",
      figure: "Record, alone in its transaction",
      unit: "gas/record",
      measured: aloneGas,
      receiptGas: aloneGas,
      floor: recordBatchFloor({ records: aloneData, recordBytes: RECORD_SIZE }),
      peer: null,
      target: null,
    });
  }
  return rows;
}

/** Day `day`'s telematics records of vehicles 1 to `count`, as reporter-asserted submissions. */
function dayRecords(fleet: Fleet, day: number, count: number): RecordSubmission[] {
  const records = simulateDay(fleet, day).records.slice(0, count);
  if (records.length < count) throw new Error(`the fleet has fewer than ${count} vehicles`);
  return records.map((r: DailyRecord) => ({
    vehicleId: BigInt(r.vehicle + 1),
    trust: TrustLevel.ReporterAsserted,
    record: {
      periodStart: r.periodStart,
      periodEnd: r.periodEnd,
      distanceMeters: r.distanceMeters,
      drivingSeconds: r.drivingSeconds,
      harshBrakingCount: r.harshBrakings,
      harshAccelerationCount: r.harshAccelerations,
      speedingSeconds: r.speedingSeconds,
      nightDistanceMeters: r.nightDistanceMeters,
      dataHash: r.tripDataHash,
      corrects: 0,
    },
  }));
}
