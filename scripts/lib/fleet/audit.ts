import type { NetworkConnection } from "hardhat/types/network";

import { InsurerClient, verifyChain } from "../insurer.js";
import { decodeLeaves } from "../scans.js";
import type { FleetRun } from "./driver.js";
import { type Fleet, vehiclesByPlate } from "./model.js";

/**
 * The global truths a fleet run must leave on the chain, each read back from the chain and compared with what the
 * fleet model implies: money conserved to the last unit, each reading charged exactly once at its tariff, every
 * vehicle's balance net of arrears equal to its deposits less its tolls, every stolen sighting raised, every
 * vehicle's record chain verifying.
 */

export interface AuditCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** One charge as the escrow logged it in a batch's leaves. */
export interface ChargeLeaf {
  readonly batchId: bigint;
  readonly gantryId: number;
  readonly vehicleId: bigint;
  readonly timestamp: number;
  readonly sequence: number;
  readonly fee: bigint;
}

export interface ChainFacts {
  readonly charges: readonly ChargeLeaf[];
  readonly sightings: readonly { vehicleId: bigint; gantryId: number; timestamp: number }[];
  readonly batches: number;
  readonly scanGas: bigint;
}

/** Reads every charge (from the batches' leaves), every sighting and the gas the scan batches used. */
export async function readChainFacts(connection: NetworkConnection, run: FleetRun): Promise<ChainFacts> {
  const { escrow } = run.contracts;
  const fromBlock = run.manifest.contracts.TollEscrow.blockNumber;
  const charges: ChargeLeaf[] = [];
  const txs = new Set<string>();
  for (const event of await escrow.queryFilter(escrow.filters.BatchSettled(), fromBlock)) {
    txs.add(event.transactionHash);
    for (const leaf of decodeLeaves(event.args.leaves)) {
      charges.push({
        batchId: event.args.batchId,
        gantryId: Number(event.args.gantryId),
        vehicleId: leaf.vehicleId,
        timestamp: Number(leaf.timestamp),
        sequence: Number(leaf.sequence),
        fee: leaf.fee,
      });
    }
  }
  const sightings = (await escrow.queryFilter(escrow.filters.StolenVehicleSighted(), fromBlock)).map((e) => ({
    vehicleId: e.args.vehicleId,
    gantryId: Number(e.args.gantryId),
    timestamp: Number(e.args.timestamp),
  }));
  let scanGas = 0n;
  for (const hash of txs) scanGas += (await connection.ethers.provider.getTransactionReceipt(hash))?.gasUsed ?? 0n;
  return { charges, sightings, batches: txs.size, scanGas };
}

export async function auditFleet(connection: NetworkConnection, fleet: Fleet, run: FleetRun): Promise<AuditCheck[]> {
  const facts = await readChainFacts(connection, run);
  return [
    ...(await moneyChecks(run)),
    chargeChecks(fleet, run, facts),
    await balanceCheck(fleet, run),
    sightingCheck(fleet, run, facts),
    await recordChainCheck(connection, run),
    insurerCheck(run),
  ];
}

async function moneyChecks(run: FleetRun): Promise<AuditCheck[]> {
  const { escrow, stablecoin } = run.contracts;
  const escrowAddress = await escrow.getAddress();
  const held = await escrowHoldings(run);
  const tokenBalance = await stablecoin!.balanceOf(escrowAddress);
  const deposited = run.days.flatMap((d) => d.deposits).reduce((sum, d) => sum + d.amount, 0n);
  const claimed = run.payouts.reduce((sum, p) => sum + p.claimed, 0n);
  return [
    {
      name: "escrow holds exactly the vehicle balances, held revenue and claimable revenue",
      ok: tokenBalance === held.total,
      detail: `token balance ${tokenBalance} = balances ${held.balances} + held ${held.held} + claimable ${held.claimable}`,
    },
    {
      name: "money conserved: deposits = escrow balance + paid out",
      ok: deposited === tokenBalance + claimed,
      detail: `deposited ${deposited}, in escrow ${tokenBalance}, paid to operators ${claimed}`,
    },
  ];
}

export async function escrowHoldings(
  run: FleetRun,
): Promise<{ balances: bigint; arrears: bigint; held: bigint; claimable: bigint; total: bigint }> {
  const { escrow } = run.contracts;
  let balances = 0n;
  let arrears = 0n;
  for (const id of run.vehicleIds) {
    const account = await escrow.account(id);
    balances += account.balance;
    arrears += account.arrears;
  }
  let held = 0n;
  const batches = await escrow.totalBatches();
  for (let id = 1n; id <= batches; id++) {
    const info = await escrow.batch(id);
    if (!info.released) held += info.held;
  }
  const payees = new Set((await escrow.queryFilter(escrow.filters.GantryRegistered())).map((e) => e.args.payee));
  let claimable = 0n;
  for (const payee of payees) claimable += await escrow.claimable(payee);
  return { balances, arrears, held, claimable, total: balances + held + claimable };
}

function chargeChecks(fleet: Fleet, run: FleetRun, facts: ChainFacts): AuditCheck {
  const byPlate = vehiclesByPlate(fleet);
  const expected = new Map<string, bigint>();
  for (const reading of run.days.flatMap((d) => d.readings)) {
    const vehicle = byPlate.get(reading.plate.toLowerCase())!;
    const fee = fleet.gantries[reading.gantry - 1]!.tariff[vehicle.vehicleClass]!;
    expected.set(`${reading.gantry}:${reading.seq}`, fee);
  }
  const seen = new Map<string, number>();
  const problems: string[] = [];
  for (const charge of facts.charges) {
    const key = `${charge.gantryId}:${charge.sequence}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const fee = expected.get(key);
    if (fee === undefined) problems.push(`charge ${key} matches no reading`);
    else if (fee !== charge.fee) problems.push(`reading ${key} charged ${charge.fee}, tariff says ${fee}`);
  }
  for (const [key, count] of seen) if (count > 1) problems.push(`reading ${key} charged ${count} times`);
  for (const key of expected.keys()) if (!seen.has(key)) problems.push(`reading ${key} never charged`);
  return {
    name: "each reading charged exactly once, at its gantry's tariff",
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${expected.size} readings, ${facts.charges.length} charges in ${facts.batches} batches`
        : `${problems.length} problems, first: ${problems.slice(0, 3).join("; ")}`,
  };
}

async function balanceCheck(fleet: Fleet, run: FleetRun): Promise<AuditCheck> {
  const byPlate = vehiclesByPlate(fleet);
  const net = new Map<number, bigint>();
  for (const deposit of run.days.flatMap((d) => d.deposits)) {
    net.set(deposit.vehicle, (net.get(deposit.vehicle) ?? 0n) + deposit.amount);
  }
  for (const reading of run.days.flatMap((d) => d.readings)) {
    const vehicle = byPlate.get(reading.plate.toLowerCase())!;
    const fee = fleet.gantries[reading.gantry - 1]!.tariff[vehicle.vehicleClass]!;
    net.set(vehicle.index, (net.get(vehicle.index) ?? 0n) - fee);
  }
  const wrong: string[] = [];
  for (const vehicle of fleet.vehicles) {
    const account = await run.contracts.escrow.account(run.vehicleIds[vehicle.index]!);
    const netAmount = net.get(vehicle.index) ?? 0n;
    // Charges draw the balance before they leave arrears, and deposits pay arrears first: one of the two is zero.
    const [balance, arrears] = netAmount >= 0n ? [netAmount, 0n] : [0n, -netAmount];
    if (account.balance !== balance || account.arrears !== arrears) {
      const id = run.vehicleIds[vehicle.index];
      wrong.push(`vehicle ${id}: balance ${account.balance}/arrears ${account.arrears}, expected ${balance}/${arrears}`);
    }
  }
  return {
    name: "every balance and arrears = deposits - tolls, arrears only where deposits fell short",
    ok: wrong.length === 0,
    detail: wrong.length === 0 ? `${fleet.vehicles.length} vehicles` : wrong.slice(0, 3).join("; "),
  };
}

function sightingCheck(fleet: Fleet, run: FleetRun, facts: ChainFacts): AuditCheck {
  const byPlate = vehiclesByPlate(fleet);
  const expected = new Set<string>();
  for (const day of run.days) {
    for (const reading of day.readings) {
      const vehicle = byPlate.get(reading.plate.toLowerCase())!;
      if (vehicle.stolenOnDay !== undefined && vehicle.stolenOnDay <= day.day) {
        expected.add(`${run.vehicleIds[vehicle.index]}:${reading.gantry}:${reading.time}`);
      }
    }
  }
  const raised = new Set(facts.sightings.map((s) => `${s.vehicleId}:${s.gantryId}:${s.timestamp}`));
  const missing = [...expected].filter((key) => !raised.has(key));
  const unexpected = [...raised].filter((key) => !expected.has(key));
  return {
    name: "every scan of a stolen vehicle raised a sighting, and only those",
    ok: missing.length === 0 && unexpected.length === 0 && facts.sightings.length === expected.size,
    detail: `${expected.size} expected, ${facts.sightings.length} raised; missing ${missing.length}, unexpected ${unexpected.length}`,
  };
}

async function recordChainCheck(connection: NetworkConnection, run: FleetRun): Promise<AuditCheck> {
  const client = await InsurerClient.fromManifest(connection.ethers.provider, run.manifest);
  const block = await connection.ethers.provider.getBlockNumber();
  const failing: string[] = [];
  for (const vehicleId of run.vehicleIds) {
    const [records, chain] = await Promise.all([client.fetchRecords(vehicleId, block), client.chainAt(vehicleId, block)]);
    const verification = verifyChain(records, chain.head, chain.count);
    if (!verification.valid || chain.count !== run.days.length) failing.push(`vehicle ${vehicleId}`);
  }
  return {
    name: "every vehicle's record chain verifies against its on-chain head",
    ok: failing.length === 0,
    detail: failing.length === 0 ? `${run.vehicleIds.length} chains, ${run.recordsAppended} records` : failing.slice(0, 5).join(", "),
  };
}

function insurerCheck(run: FleetRun): AuditCheck {
  const { report } = run.insurer;
  return {
    name: "the insurer's report verifies and shows the consent granted",
    ok: report.verification.valid && report.consent.state === "active",
    detail: `vehicle ${report.vehicle.vehicleId}: chain ${report.verification.valid ? "verified" : "BROKEN"}, consent ${report.consent.state}`,
  };
}
