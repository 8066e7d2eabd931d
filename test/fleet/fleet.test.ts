import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { network } from "hardhat";

import { auditFleet, readChainFacts } from "../../scripts/lib/fleet/audit.js";
import { type FleetRun, runFleet } from "../../scripts/lib/fleet/driver.js";
import { createFleet, type Fleet, SECONDS_PER_DAY, vehiclesByPlate } from "../../scripts/lib/fleet/model.js";

const connection = await network.create();

describe("Fleet simulation: a day of 300 vehicles through the real relayer, ledger and reader", function () {
  this.timeout(180_000);
  let fleet: Fleet;
  let run: FleetRun;
  let workDir: string;

  before(async function () {
    const latest = await connection.ethers.provider.getBlock("latest");
    fleet = createFleet({ vehicles: 300, days: 1, seed: 7, startTime: latest!.timestamp - SECONDS_PER_DAY - 3600 });
    workDir = await mkdtemp(path.join(tmpdir(), "platechain-fleet-test-"));
    run = await runFleet({ connection, networkName: "default", fleet, workDir });
  });

  after(async function () {
    await rm(workDir, { recursive: true, force: true });
  });

  it("passes every global audit: money, charges, balances, arrears, sightings, record chains", async function () {
    const audit = await auditFleet(connection, fleet, run);
    for (const check of audit) expect(check.ok, `${check.name}: ${check.detail}`).to.equal(true);
    expect(audit).to.have.length(7);
  });

  it("relays every reading and rejects none, since every reading is of a registered plate", function () {
    const readings = run.days[0]!.readings.length;
    expect(readings).to.be.greaterThan(500);
    const accepted = run.relayerRuns.reduce((sum, r) => sum + r.summary.accepted, 0);
    const rejected = run.relayerRuns.reduce((sum, r) => sum + r.summary.rejected, 0);
    expect(accepted).to.equal(readings);
    expect(rejected).to.equal(0);
  });

  it("charges each reading exactly once even when every operator's relayer runs the same day again", async function () {
    const before = await readChainFacts(connection, run);
    // A relayer restarted on the same input with a fresh journal resends everything: the escrow must skip it all.
    const again = await runFleetDayAgain(run, fleet, workDir);
    const after = await readChainFacts(connection, run);
    expect(after.charges.length).to.equal(before.charges.length);
    expect(again).to.be.greaterThan(0);
  });

  it("leaves arrears exactly on the late payers whose tolls outran what they paid in", async function () {
    const byPlate = vehiclesByPlate(fleet);
    const owed = new Map<number, bigint>();
    for (const reading of run.days[0]!.readings) {
      const vehicle = byPlate.get(reading.plate.toLowerCase())!;
      const fee = fleet.gantries[reading.gantry - 1]!.tariff[vehicle.vehicleClass]!;
      owed.set(vehicle.index, (owed.get(vehicle.index) ?? 0n) + fee);
    }
    const paidIn = new Map<number, bigint>();
    for (const d of run.days[0]!.deposits) paidIn.set(d.vehicle, (paidIn.get(d.vehicle) ?? 0n) + d.amount);
    const expectedDebtors = fleet.vehicles
      .filter((v) => (owed.get(v.index) ?? 0n) > (paidIn.get(v.index) ?? 0n))
      .map((v) => run.vehicleIds[v.index]!);
    const debtors: bigint[] = [];
    for (const id of run.vehicleIds) if ((await run.contracts.escrow.account(id)).arrears > 0n) debtors.push(id);
    expect(debtors).to.deep.equal(expectedDebtors);
    // The model makes some late payers forget their last top-up, so arrears do happen.
    expect(debtors.length).to.be.greaterThan(0);
    for (const id of debtors) expect(fleet.vehicles[run.vehicleIds.indexOf(id)]!.latePayer).to.equal(true);
  });

  it("raises a sighting for every scan of the stolen vehicles", async function () {
    const facts = await readChainFacts(connection, run);
    const stolenIds = new Set(fleet.vehicles.filter((v) => v.stolenOnDay !== undefined).map((v) => run.vehicleIds[v.index]!));
    expect(stolenIds.size).to.be.greaterThanOrEqual(2);
    expect(facts.sightings.length).to.be.greaterThan(0);
    for (const sighting of facts.sightings) expect(stolenIds.has(sighting.vehicleId)).to.equal(true);
  });

  it("pays every operator its charged tolls less the arrears still owed, after the dispute window", async function () {
    const facts = await readChainFacts(connection, run);
    const arrears = (await Promise.all(run.vehicleIds.map((id) => run.contracts.escrow.account(id)))).reduce(
      (sum, a) => sum + a.arrears,
      0n,
    );
    const charged = facts.charges.reduce((sum, c) => sum + c.fee, 0n);
    const paid = run.payouts.reduce((sum, p) => sum + p.claimed, 0n);
    expect(paid + arrears).to.equal(charged);
  });
});

/** Runs the real relayer over the day's readings again with new journals; returns how many readings it resent. */
async function runFleetDayAgain(run: FleetRun, fleet: Fleet, workDir: string): Promise<number> {
  const { relayAgain } = await import("../../scripts/lib/fleet/driver.js");
  return relayAgain(connection, "default", fleet, run, path.join(workDir, "again"));
}
