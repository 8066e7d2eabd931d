/**
 * `npm run bench`: measures platechain's gas figures against their floors and peers on Hardhat's in-process network,
 * prints the table and writes it to bench/results/gas.{json,md}.
 *
 *   npm run bench                     gas figures
 *   npm run bench:scale               the 1,000,000-scan run through the relayer instead (minutes);
 *                                     `-- --vehicles <n> --scans <n>` for a smaller trial
 *   npm run bench:snapshot            measure only the hot paths and rewrite bench/gas-snapshot.json
 *                                     (`tsx bench/run.ts --update-snapshot`)
 *
 * Run through `hardhat build --quiet && tsx bench/run.ts` (the npm scripts do): `hardhat run` passes no arguments.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { network } from "hardhat";

import { measureGas } from "./lib/gas.js";
import { evaluate, renderText, writeResults } from "./lib/report.js";
import { runScale, SCALE_NOTES } from "./lib/scale.js";
import { compareSnapshot, readSnapshot, snapshotOf, writeSnapshot } from "./lib/snapshot.js";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = path.join(BENCH_DIR, "results");

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: "boolean", default: false },
      vehicles: { type: "string" },
      scans: { type: "string" },
      "update-snapshot": { type: "boolean", default: false },
    },
    strict: true,
  });
  const log = (message: string): void => console.error(`[bench] ${message}`);

  if (values.scale) {
    const rows = (
      await runScale({
        log,
        vehicles: positive("--vehicles", values.vehicles),
        scans: positive("--scans", values.scans),
      })
    ).map(evaluate);
    console.log(renderText(rows));
    const written = await writeResults(RESULTS_DIR, {
      name: "scale",
      title: "platechain scale benchmark",
      rows,
      notes: SCALE_NOTES,
    });
    log(`wrote ${written.join(", ")}`);
    return;
  }

  const connection = await network.create();
  if (values["update-snapshot"]) {
    const rows = (await measureGas(connection.ethers, { log, hotPathsOnly: true })).map(evaluate);
    console.log(renderText(rows));
    log(`wrote ${await writeSnapshot(snapshotOf(rows))}`);
    return;
  }

  const rows = (await measureGas(connection.ethers, { log })).map(evaluate);
  console.log(renderText(rows));
  const notes = [
    "Gas from transaction receipts on Hardhat's in-process network (osaka); deterministic from run to run.",
    "Floor: what any correct design must pay for the storage, calldata, logs and cryptography the operation needs; " +
      "the arithmetic is in bench/FLOOR.md.",
  ];
  const drift = compareSnapshot(await readSnapshot(), snapshotOf(rows));
  notes.push(
    drift.length === 0
      ? "Hot paths match bench/gas-snapshot.json."
      : `Hot paths differ from bench/gas-snapshot.json: ${drift.join("; ")}.`,
  );
  const written = await writeResults(RESULTS_DIR, { name: "gas", title: "platechain gas benchmark", rows, notes });
  log(`wrote ${written.join(", ")}`);
  for (const line of drift) log(`snapshot: ${line}`);
  const misses = rows.filter((r) => r.status === "MISS").map((r) => r.figure);
  if (misses.length > 0) log(`targets missed: ${misses.join("; ")}`);
}

/** A positive integer flag, or undefined when absent; exits with a message naming the flag when malformed. */
function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1)
    throw new Error(`${flag} must be a positive integer, got "${value}"`);
  return parsed;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
