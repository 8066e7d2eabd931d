/**
 * `npm run deploy -- --network <name> [--parameters <file>] [--manifest <file>]`
 *
 * Deploys platechain with Hardhat Ignition, grants the roles from the network's parameters file, starts the admin
 * handover, writes the deployment manifest the relayer and the insurer's reader load, and prints a self-check of
 * everything it can read back from the chain. Exit code 1 when any check fails.
 */
import path from "node:path";

import { network } from "hardhat";

import { UsageError, parseFlags, runMain } from "./lib/cli.js";
import { DeployError, deployPlatechain, writeManifest } from "./lib/deploy/deploy.js";
import { DeployParamsError, loadDeployParams, parametersPath } from "./lib/deploy/params.js";
import { formatCheck, selfCheck } from "./lib/deploy/selfCheck.js";
import { defaultManifestPath } from "./lib/manifest.js";

const USAGE = `usage: npm run deploy -- --network <localhost|sepolia|...> [--parameters <file>] [--manifest <file>]
  --network     a network of hardhat.config.ts (required)
  --parameters  deployment parameters (default: ignition/parameters/<network>.json)
  --manifest    where to write the manifest (default: deployments/<network>.json)`;

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    {
      network: { type: "string" },
      parameters: { type: "string" },
      manifest: { type: "string" },
      help: { type: "boolean" },
    },
    USAGE,
  );
  if (flags.help === true) {
    console.log(USAGE);
    return;
  }
  if (flags.network === undefined) throw new UsageError(`--network is required\n\n${USAGE}`);
  const root = process.cwd();
  const params = await loadDeployParams(flags.parameters ?? parametersPath(root, flags.network));

  const connection = await network.create(flags.network);
  const result = await deployPlatechain(connection, params, {
    networkName: flags.network,
    displayUi: true,
    log: (line) => console.log(line),
  });
  const manifestFile = path.resolve(flags.manifest ?? defaultManifestPath(flags.network, root));
  await writeManifest(manifestFile, result.manifest);

  console.log(`\nManifest: ${path.relative(root, manifestFile)}`);
  for (const [name, entry] of Object.entries(result.manifest.contracts)) {
    console.log(`  ${name.padEnd(20)} ${entry.address}  (block ${entry.blockNumber})`);
  }
  const [deployer] = await connection.ethers.getSigners();
  const rows = await selfCheck(result.contracts, params, await deployer!.getAddress());
  console.log(`\nSelf-check against ${path.relative(root, params.file)}:\n${formatCheck(rows)}`);
  if (rows.some((r) => r.outcome === "fail")) process.exitCode = 1;
  await connection.close();
}

runMain(main, [DeployError, DeployParamsError]);
