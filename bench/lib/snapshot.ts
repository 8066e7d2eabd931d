/**
 * The gas snapshot of the hot paths, checked by test/bench/GasSnapshot.test.ts under `npm test`: the exact receipt
 * gas of each hot path's transaction, in bench/gas-snapshot.json. Update it on purpose with
 * `npm run bench:snapshot` and commit the change with the reason.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { Row } from "./report.js";

export const SNAPSHOT_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "gas-snapshot.json");

/** The hot paths, by row id: what a regression must never slip through unnoticed. */
export const HOT_PATHS = ["scan.distinct.100", "record.batch.100", "register", "deposit"] as const;

export const UPDATE_COMMAND = "npm run bench:snapshot";

export type Snapshot = Record<string, number>;

/** The receipt gas of each hot path that was measured in `rows`. */
export function snapshotOf(rows: readonly Row[]): Snapshot {
  const snapshot: Snapshot = {};
  for (const id of HOT_PATHS) {
    const row = rows.find((r) => r.id === id);
    if (row?.receiptGas !== undefined) snapshot[id] = row.receiptGas;
  }
  return snapshot;
}

export async function readSnapshot(file = SNAPSHOT_FILE): Promise<Snapshot> {
  const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
  if (typeof parsed !== "object" || parsed === null) throw new Error(`${file} is not a JSON object`);
  const snapshot: Snapshot = {};
  for (const [id, value] of Object.entries(parsed)) {
    if (id.startsWith("$")) continue;
    if (typeof value !== "number" || !Number.isInteger(value)) throw new Error(`${file}: ${id} must be an integer`);
    snapshot[id] = value;
  }
  return snapshot;
}

export async function writeSnapshot(snapshot: Snapshot, file = SNAPSHOT_FILE): Promise<string> {
  const body = {
    $comment: `Receipt gas of the hot paths, checked exactly by npm test. Update on purpose: ${UPDATE_COMMAND}`,
    ...snapshot,
  };
  await writeFile(file, JSON.stringify(body, null, 2) + "\n");
  return file;
}

/** One line per hot path whose gas differs from the snapshot, or that one side lacks. */
export function compareSnapshot(expected: Snapshot, actual: Snapshot): string[] {
  const ids = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  const differences: string[] = [];
  for (const id of ids) {
    const before = expected[id];
    const now = actual[id];
    if (before === now) continue;
    if (before === undefined) differences.push(`${id}: measured ${now} gas, not in the snapshot`);
    else if (now === undefined) differences.push(`${id}: in the snapshot (${before} gas) but not measured`);
    else {
      differences.push(`${id}: expected ${before} gas, got ${now} (${describeChange(before, now)})`);
    }
  }
  return differences;
}

/** "+72 gas, +0.005%": how far `now` is from `before`. */
export function describeChange(before: number, now: number): string {
  const sign = now >= before ? "+" : "-";
  const percent = (Math.abs(now - before) / before) * 100;
  return `${sign}${Math.abs(now - before)} gas, ${sign}${percent.toFixed(3)}%`;
}
