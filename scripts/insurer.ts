/**
 * The insurer CLI: `npm run insurer -- --vehicle <id|plate> [--from <date>] [--to <date>] [--json|--csv]
 * [--network <name>] [--rpc-url <url>] [--manifest <path>] [--insurer <address>]`. See `--help`.
 *
 * Hardhat's `run` task accepts no script arguments, so the npm script runs this file with Node (through tsx, the
 * TypeScript loader Hardhat itself uses) and this file connects through Hardhat's network manager:
 * `network.create({ network })` honours the networks, accounts and config variables of hardhat.config.ts.
 */
import { network } from "hardhat";

import { INSURER_USAGE, UsageError, parseInsurerArgs, runInsurer } from "./lib/insurerCli.js";
import type { InsurerCliOptions } from "./lib/insurerCli.js";
import { loadManifest } from "./lib/manifest.js";

async function connect(options: InsurerCliOptions) {
  try {
    return await network.create({
      network: options.network,
      override: options.rpcUrl === undefined ? undefined : { url: options.rpcUrl },
    });
  } catch (error) {
    throw new UsageError(`--network ${options.network}: ${(error as Error).message}`);
  }
}

async function main(): Promise<number> {
  const options = parseInsurerArgs(process.argv.slice(2));
  if (options.help) {
    console.log(INSURER_USAGE);
    return 0;
  }
  // The manifest first: a missing or malformed one fails before any network traffic.
  const manifest = await loadManifest(options.manifest);
  const connection = await connect(options);
  try {
    const { ethers } = connection;
    const accounts = options.insurer === undefined ? (await ethers.getSigners()).map((s) => s.address) : [];
    const output = await runInsurer(options, manifest, ethers.provider, accounts);
    process.stdout.write(output.stdout);
    process.stderr.write(output.stderr);
    return output.exitCode;
  } finally {
    await connection.close();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  const usage = error instanceof UsageError ? "\nRun with --help for the flags." : "";
  console.error(`insurer: ${(error as Error).message}${usage}`);
  process.exitCode = 1;
}
