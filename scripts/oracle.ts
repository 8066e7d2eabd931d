/**
 * The oracle relayer's command line: `npm run oracle -- --network <name> --input <file|-> [options]` (`--help`).
 * Parses the settings, resolves keys (environment, then Hardhat's keystore), reads the deployment manifest, finds
 * the RPC endpoint (`--rpc-url`, else the Hardhat network's URL), then hands everything to `runRelayer`. Hardhat
 * itself is loaded only when something needs it. SIGINT/SIGTERM stop it gracefully; a second signal exits at once (the
 * journal is consistent at every instant, so that loses nothing).
 *
 * Exit codes: 0 done, 1 fatal error, 2 bad settings, 3 done but some batches failed (they are retried on restart).
 */
import { existsSync } from "node:fs";

import dotenv from "dotenv";

import { errorMessage } from "./lib/relayer/async.js";
import { ConfigError, parseCliArgs, USAGE, type RelayerConfig } from "./lib/relayer/config.js";
import { loadRelayerKeys } from "./lib/relayer/keys.js";
import { createLogger, type Logger } from "./lib/relayer/logger.js";
import {
  cliSecretResolver,
  createProvider,
  lazyHardhat,
  networkFirstAccount,
  resolveGasSigner,
  resolveRpcUrl,
} from "./lib/relayer/network.js";
import type { RelayerContracts, RelayerSummary } from "./lib/relayer/relayer.js";
import { loadManifest, ManifestError } from "./lib/manifest.js";

const EXIT_FATAL = 1;
const EXIT_USAGE = 2;
const EXIT_BATCHES_FAILED = 3;
/** Conventional exit status after a second interrupt: 128 + SIGINT. */
const EXIT_INTERRUPTED = 130;

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCliArgs(argv);
  if (parsed.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const config = parsed.config;
  if (config.input !== "-" && !existsSync(config.input)) throw new ConfigError("--input", `no file ${config.input}`);
  // As hardhat.config.ts does: a .env file fills the environment (never overriding it).
  dotenv.config({ quiet: true });
  const logger = createLogger({ json: config.json });
  const stop = new AbortController();
  onSignals(stop, logger);
  const hardhat = lazyHardhat();
  const keys = await loadRelayerKeys(cliSecretResolver(process.env, hardhat));
  const contracts = await relayerContracts(config.manifestPath);
  const url = await resolveRpcUrl(hardhat, config.network, config.rpcUrl);
  const provider = createProvider(url, contracts.chainId, config.pollIntervalMs);
  try {
    const gasSigner = await resolveGasSigner(
      keys.gasSigner,
      async () => networkFirstAccount(hardhat, config.network),
      contracts.chainId,
      async () =>
        provider
          .send("eth_accounts", [])
          .then((accounts: unknown) => (Array.isArray(accounts) ? accounts.map(String) : [])),
    );
    // Loaded here rather than at the top: it needs the contracts' generated types, missing before the first build.
    const { runRelayer } = await import("./lib/relayer/relayer.js").catch((error: unknown) => {
      throw /typechain-types/.test(String(error))
        ? new Error("run `npm run build` first (contract types missing)")
        : error;
    });
    const summary = await runRelayer({
      config,
      provider,
      gasSigner,
      oracleSigners: keys.oracleSigners,
      contracts,
      signal: stop.signal,
      logger,
    });
    return exitCode(summary, config);
  } finally {
    provider.destroy();
  }
}

/** The chain and addresses the relayer needs, from the deployment manifest. */
async function relayerContracts(file: string): Promise<RelayerContracts> {
  try {
    const manifest = await loadManifest(file);
    return {
      chainId: BigInt(manifest.chainId),
      registry: manifest.contracts.VehicleRegistry.address,
      escrow: manifest.contracts.TollEscrow.address,
    };
  } catch (error) {
    if (error instanceof ManifestError) throw new ConfigError("--manifest", error.message);
    throw error;
  }
}

function exitCode(summary: RelayerSummary, config: RelayerConfig): number {
  return summary.batchesFailed > 0 && !config.dryRun ? EXIT_BATCHES_FAILED : 0;
}

function onSignals(stop: AbortController, logger: Logger): void {
  const handle = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      logger.warn("Oracle#signal", "second signal: exiting now; the journal resumes the rest", { signal });
      process.exit(EXIT_INTERRUPTED);
    }
    logger.info("Oracle#signal", "stopping gracefully (send again to exit at once)", { signal });
    stop.abort();
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`oracle: ${error.message}\n`);
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`oracle: fatal: ${errorMessage(error)}\n`);
    process.exit(EXIT_FATAL);
  },
);
