/**
 * `npm run seed:example -- --network localhost [--vehicles N] [--out DIR] [--manifest FILE]`
 *
 * Fills a fresh local deployment with a small example world so the README's walkthrough has something to relay and
 * read: one operator with two gantries, N vehicles with prepaid balances, a day of driving records on the ledger,
 * and that day's scanner readings written as the relayer's input (`<out>/readings.ndjson`, times relative to now so
 * they are fresh), plus `<out>/oracle.env` with the example operator's oracle and gas keys for the relayer.
 * Local networks only: the keys it writes are test keys derived from a public seed.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { network } from "hardhat";

import { UsageError, parseFlags, positiveInt, runMain } from "./lib/cli.js";
import { contractsFromManifest } from "./lib/deploy/deploy.js";
import { appendDayRecords, makeDeposits, prepareFleet, startDay } from "./lib/fleet/driver.js";
import { createFleet, SECONDS_PER_DAY, simulateDay } from "./lib/fleet/model.js";
import { defaultManifestPath, loadManifest, ManifestError } from "./lib/manifest.js";

const USAGE = `usage: npm run seed:example -- --network <local network> [--vehicles N] [--out DIR] [--manifest FILE]
  --network   a local network (localhost, or another whose chain id is 31337)
  --vehicles  example vehicles (default 20, at most 200)
  --out       where readings.ndjson and oracle.env go (default var/example)
  --manifest  the deployment (default deployments/<network>.json)`;

/** Hardhat's local chain id: the example keys are public, so they never go anywhere else. */
const LOCAL_CHAIN_ID = 31337n;

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    { network: { type: "string" }, vehicles: { type: "string" }, out: { type: "string" }, manifest: { type: "string" }, help: { type: "boolean" } },
    USAGE,
  );
  if (flags.help === true) return console.log(USAGE);
  if (flags.network === undefined) throw new UsageError(`--network is required\n\n${USAGE}`);
  const vehicles = positiveInt("vehicles", flags.vehicles, 20, 200);
  const out = path.resolve(flags.out ?? path.join("var", "example"));
  const manifest = await loadManifest(flags.manifest ?? defaultManifestPath(flags.network));

  const connection = await network.create(flags.network);
  const chainId = (await connection.ethers.provider.getNetwork()).chainId;
  if (chainId !== LOCAL_CHAIN_ID) throw new UsageError(`--network ${flags.network} is chain ${chainId}: the example world is for a local node only`);
  const [authority] = await connection.ethers.getSigners();
  const contracts = contractsFromManifest(manifest, authority!);
  if (contracts.stablecoin === undefined) throw new UsageError("the manifest has no TestStablecoin: deploy with \"stablecoin\": \"deploy\"");

  const latest = await connection.ethers.provider.getBlock("latest");
  const fleet = createFleet({
    vehicles,
    days: 1,
    seed: 1,
    startTime: (latest?.timestamp ?? 0) - SECONDS_PER_DAY - 3600,
    operators: 1,
    gantriesPerOperator: 2,
  });
  const world = await prepareFleet(connection, fleet, contracts);
  const day = simulateDay(fleet, 0);
  await startDay(world, day);
  await makeDeposits(world, day, "end");
  const records = await appendDayRecords(world, day);

  await mkdir(out, { recursive: true });
  const readingsFile = path.join(out, "readings.ndjson");
  await writeFile(readingsFile, day.readings.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const operator = fleet.operators[0]!;
  const oracleKeys = fleet.gantries.map((g) => `${g.id}:${operator.oracleKey}`).join(",");
  const envFile = path.join(out, "oracle.env");
  await writeFile(envFile, `# Test keys of the example operator (local chain only)\nORACLE_KEYS=${oracleKeys}\nRELAYER_PRIVATE_KEY=${operator.relayerKey}\n`, { mode: 0o600 });

  const rel = (file: string) => path.relative(process.cwd(), file);
  console.log(`Example world on ${flags.network}: ${vehicles} vehicles (ids ${world.vehicleIds[0]}-${world.vehicleIds.at(-1)}), gantries ${fleet.gantries.map((g) => g.id).join(", ")}, ${records} driving records`);
  console.log(`Readings: ${rel(readingsFile)} (${day.readings.length} lines)    Keys: ${rel(envFile)}`);
  console.log(`Next:  set -a; . ${rel(envFile)}; set +a; npm run oracle -- --network ${flags.network} --input ${rel(readingsFile)}`);
  console.log(`Then:  npm run insurer -- --network ${flags.network} --vehicle ${world.vehicleIds[0]}`);
  await connection.close();
}

runMain(main, [ManifestError]);
