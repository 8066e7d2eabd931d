/**
 * `npm run demo -- [--vehicles N] [--days D] [--seed S] [--json]`
 *
 * The whole system on Hardhat's in-process network with zero setup: deploys the suite, simulates a fleet through
 * the real relayer, ledger and insurer's reader, audits the chain against the simulation, and prints a summary.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { network } from "hardhat";

import { parseFlags, positiveInt, runMain } from "./lib/cli.js";
import { auditFleet } from "./lib/fleet/audit.js";
import { runFleet } from "./lib/fleet/driver.js";
import { createFleet, SECONDS_PER_DAY } from "./lib/fleet/model.js";
import { ProgressBar } from "./lib/fleet/progress.js";
import { formatSummary, summarizeFleet } from "./lib/fleet/summary.js";

const USAGE = `usage: npm run demo -- [--vehicles N] [--days D] [--seed S] [--json]
  --vehicles  vehicles in the fleet (default 200, at most 5000)
  --days      simulated days (default 1, at most 14)
  --seed      the world's seed: the same seed is the same fleet (default 2026)
  --json      print the summary as JSON`;

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    {
      vehicles: { type: "string" },
      days: { type: "string" },
      seed: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
    USAGE,
  );
  if (flags.help === true) {
    console.log(USAGE);
    return;
  }
  const vehicles = positiveInt("vehicles", flags.vehicles, 200, 5_000);
  const days = positiveInt("days", flags.days, 1, 14);
  const seed = flags.seed === undefined ? 2026 : positiveInt("seed", flags.seed, 2026, 2 ** 32 - 1);

  const connection = await network.create();
  const latest = await connection.ethers.provider.getBlock("latest");
  // The simulated days end an hour before the chain's clock: every scan is in the past when relayed.
  const startTime = (latest?.timestamp ?? Math.floor(Date.now() / 1000)) - days * SECONDS_PER_DAY - 3600;
  const fleet = createFleet({ vehicles, days, seed, startTime });
  const workDir = await mkdtemp(path.join(tmpdir(), "platechain-demo-"));
  const progress = new ProgressBar();
  try {
    const started = Date.now();
    const run = await runFleet({ connection, networkName: "default", fleet, workDir, progress });
    const audit = await auditFleet(connection, fleet, run);
    const summary = await summarizeFleet(connection, fleet, run, audit, Date.now() - started);
    console.log(flags.json === true ? JSON.stringify(summary, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2) : formatSummary(summary));
    if (audit.some((check) => !check.ok)) process.exitCode = 1;
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await connection.close();
  }
}

runMain(main);
