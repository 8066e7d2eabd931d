import { formatUnits } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { type AuditCheck, escrowHoldings, readChainFacts } from "./audit.js";
import type { FleetRun } from "./driver.js";
import type { Fleet } from "./model.js";

/** What the demo prints, every figure read from the chain (the audit has compared them with the simulation). */
export interface FleetSummary {
  readonly vehicles: number;
  readonly days: number;
  readonly seed: number;
  readonly seconds: number;
  readonly readings: number;
  readonly rejected: number;
  readonly batches: number;
  readonly scansCharged: number;
  readonly gasPerScan: number;
  readonly operators: readonly { name: string; gantries: number; scans: number; tolls: bigint; paidOut: bigint }[];
  readonly arrears: { readonly vehicles: number; readonly total: bigint };
  readonly inEscrow: bigint;
  readonly sightings: readonly { vehicleId: bigint; gantryId: number; time: string }[];
  readonly records: number;
  readonly insurer: {
    readonly vehicleId: bigint;
    readonly records: number;
    readonly verified: boolean;
    readonly consent: string;
    readonly distanceKm: number;
    readonly harshEventsPer100Km: number | null;
    readonly speedingShare: number | null;
    readonly nightShare: number | null;
  };
  readonly audit: readonly AuditCheck[];
}

export async function summarizeFleet(
  connection: NetworkConnection,
  fleet: Fleet,
  run: FleetRun,
  audit: readonly AuditCheck[],
  elapsedMs: number,
): Promise<FleetSummary> {
  const facts = await readChainFacts(connection, run);
  const operatorOf = new Map(fleet.gantries.map((g) => [g.id, g.operator]));
  const holdings = await escrowHoldings(run);
  let arrearsVehicles = 0;
  for (const id of run.vehicleIds) if ((await run.contracts.escrow.account(id)).arrears > 0n) arrearsVehicles++;
  const { report } = run.insurer;
  return {
    vehicles: fleet.vehicles.length,
    days: fleet.params.days,
    seed: fleet.params.seed,
    seconds: Math.round(elapsedMs / 100) / 10,
    readings: run.days.reduce((sum, d) => sum + d.readings.length, 0),
    rejected: run.relayerRuns.reduce((sum, r) => sum + r.summary.rejected, 0),
    batches: facts.batches,
    scansCharged: facts.charges.length,
    gasPerScan: facts.charges.length === 0 ? 0 : Number(facts.scanGas / BigInt(facts.charges.length)),
    operators: fleet.operators.map((operator) => {
      const charges = facts.charges.filter((c) => operatorOf.get(c.gantryId) === operator.index);
      return {
        name: operator.name,
        gantries: fleet.gantries.filter((g) => g.operator === operator.index).length,
        scans: charges.length,
        tolls: charges.reduce((sum, c) => sum + c.fee, 0n),
        paidOut: run.payouts.find((p) => p.operator === operator.index)?.claimed ?? 0n,
      };
    }),
    arrears: { vehicles: arrearsVehicles, total: holdings.arrears },
    inEscrow: holdings.total,
    sightings: [...facts.sightings].sort((a, b) => a.timestamp - b.timestamp).map((s) => ({
      vehicleId: s.vehicleId,
      gantryId: s.gantryId,
      time: new Date(s.timestamp * 1000).toISOString().replace(".000Z", "Z"),
    })),
    records: run.recordsAppended,
    insurer: {
      vehicleId: report.vehicle.vehicleId,
      records: report.records.length,
      verified: report.verification.valid,
      consent: report.consent.state,
      distanceKm: report.summary.distanceKm,
      harshEventsPer100Km: report.summary.harshEventsPer100Km,
      speedingShare: report.summary.speedingShare,
      nightShare: report.summary.nightShare,
    },
    audit,
  };
}

const usd = (amount: bigint) => `${Number(formatUnits(amount, 6)).toFixed(2).padStart(10)} tUSD`;
const percent = (share: number | null) => (share === null ? "n/a" : `${(share * 100).toFixed(1)}%`);

export function formatSummary(s: FleetSummary): string {
  const lines: string[] = [];
  const rule = "─".repeat(72);
  lines.push("", rule, `  platechain fleet day: ${s.vehicles} vehicles, ${s.days} day(s), seed ${s.seed}, ${s.seconds} s`, rule);
  lines.push(
    `  Scans relayed      ${s.readings} readings -> ${s.scansCharged} charged in ${s.batches} batches (${s.rejected} rejected)`,
  );
  lines.push(`  Gas per scan       ${s.gasPerScan.toLocaleString("en-US")} (whole transactions, all batch sizes)`);
  lines.push(`  Driving records    ${s.records} appended to the ledger`);
  lines.push("", "  Tolls per operator                 gantries   scans      charged   paid after 7 days");
  for (const o of s.operators) {
    lines.push(`    ${o.name.padEnd(30)} ${String(o.gantries).padStart(6)} ${String(o.scans).padStart(7)}  ${usd(o.tolls)}  ${usd(o.paidOut)}`);
  }
  lines.push("", `  Arrears            ${s.arrears.vehicles} vehicle(s) owe ${usd(s.arrears.total).trim()}`);
  lines.push(`  Escrow holds       ${usd(s.inEscrow).trim()} of prepaid balances`);
  lines.push("", `  Stolen vehicles sighted (${s.sightings.length})`);
  for (const sighting of s.sightings.slice(0, 8)) {
    lines.push(`    vehicle ${String(sighting.vehicleId).padStart(5)} at gantry ${String(sighting.gantryId).padStart(3)}  ${sighting.time}`);
  }
  if (s.sightings.length > 8) lines.push(`    … and ${s.sightings.length - 8} more`);
  const i = s.insurer;
  lines.push("", `  Insurer's report for vehicle ${i.vehicleId}`);
  lines.push(`    chain of ${i.records} record(s): ${i.verified ? "verified against the on-chain head" : "DOES NOT VERIFY"}`);
  lines.push(`    consent: ${i.consent}`);
  lines.push(
    `    ${i.distanceKm} km, ${i.harshEventsPer100Km?.toFixed(1) ?? "n/a"} harsh events / 100 km, speeding ${percent(i.speedingShare)} of driving time, night ${percent(i.nightShare)} of distance`,
  );
  lines.push("", "  Audit of the chain against the simulation");
  for (const check of s.audit) lines.push(`    ${check.ok ? "✔" : "✘"} ${check.name}: ${check.detail}`);
  lines.push(rule, "");
  return lines.join("\n");
}
