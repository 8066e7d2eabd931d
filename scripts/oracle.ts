/**
 * The oracle relayer's command line: `npm run oracle -- --network <name> --input <file|-> [options]` (`--help`).
 * Parses the settings, resolves keys through Hardhat's configuration variables, reads the deployment manifest,
 * then hands everything to `runRelayer`. SIGINT/SIGTERM stop it gracefully; a second signal exits at once (the
 * journal is consistent at every instant, so that loses nothing).
 *
 * Exit codes: 0 done, 1 fatal error, 2 bad settings, 3 done but some batches failed (they are retried on restart).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { errorMessage } from "./lib/relayer/async.js";
import { ConfigError, parseCliArgs, USAGE, type RelayerConfig } from "./lib/relayer/config.js";
import { loadRelayerKeys } from "./lib/relayer/keys.js";
import { createLogger, type Logger } from "./lib/relayer/logger.js";
import { readManifest, relayerContracts } from "./lib/relayer/manifest.js";
import {
  createProvider,
  hardhatSecretResolver,
  resolveGasSigner,
  resolveNetwork,
} from "./lib/relayer/network.js";
import { runRelayer, type RelayerSummary } from "./lib/relayer/relayer.js";

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
  const logger = createLogger({ json: config.json });
  const stop = new AbortController();
  onSignals(stop, logger);
  const hre: HardhatRuntimeEnvironment = (await import("hardhat")).default;
  const network = await resolveNetwork(hre, config.network, config.rpcUrl);
  const keys = await loadRelayerKeys(hardhatSecretResolver(hre));
  const manifest = await readManifest(config.manifestPath);
  const contracts = relayerContracts(config.manifestPath, manifest);
  const provider = createProvider(network.url, contracts.chainId, config.pollIntervalMs);
  try {
    const gasSigner = await resolveGasSigner(keys.gasSigner, network, contracts.chainId, async () =>
      provider.send("eth_accounts", []).then((accounts: unknown) => (Array.isArray(accounts) ? accounts.map(String) : [])),
    );
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
