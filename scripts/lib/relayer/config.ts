/**
 * The relayer's settings: parsed once from the command line (or given by a caller running the relayer in-process),
 * validated, frozen. Every bad value fails fast with a {@link ConfigError} naming the flag or variable.
 * Keys are not settings: see `keys.ts`.
 */
import path from "node:path";
import { parseArgs } from "node:util";

import { scanBatchGasLimit } from "../scans.js";

/** A setting that cannot be used; `setting` names the flag or environment variable. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = "ConfigError";
  }
}

export interface RelayerConfig {
  /** The Hardhat network name: selects the RPC endpoint, the manifest and the key defaults. */
  readonly network: string;
  /** A file path, or "-" for standard input. */
  readonly input: string;
  /** Keep reading `input` as it grows; only a signal ends the run. */
  readonly follow: boolean;
  /** Most scans per batch; the escrow's MAX_SCANS_PER_BATCH and the gas cap lower it further. */
  readonly batchSize: number;
  /** Longest a reading waits for its batch to fill before the batch is sent anyway. */
  readonly maxWaitMs: number;
  /** Validate, batch, sign and simulate, but send nothing and write no journal. */
  readonly dryRun: boolean;
  /** Log one JSON object per line. */
  readonly json: boolean;
  readonly journalPath: string;
  readonly rejectsPath: string;
  readonly manifestPath: string;
  /** Overrides the network's configured RPC URL. */
  readonly rpcUrl: string | undefined;
  /** Blocks on top of a batch's transaction before the batch counts as settled (1 = mined). */
  readonly confirmations: number;
  /** Transactions waiting for confirmation at once. */
  readonly maxInFlight: number;
  /**
   * Broadcasts on their way at once, in nonce order. 1: the next leaves once the node has answered the last (a node
   * answers at once on a chain with a mempool). More: the next leaves as soon as the last has, for a node that answers
   * a broadcast only after mining it (a local automine node), which would otherwise sit idle between transactions;
   * a transaction that reaches such a node before the one ahead of it is sent again once that one is answered.
   */
  readonly broadcastDepth: number;
  /** How far in the future a reading's time may lie (gantry clocks drift). */
  readonly clockSkewSeconds: number;
  /** Longer input lines are cut there and rejected; the rest of the line is skipped without buffering it. */
  readonly maxLineBytes: number;
  /** A transaction not mined after this long is replaced with a higher fee. */
  readonly stuckAfterMs: number;
  /** How often receipts are polled and a followed file is checked for growth. */
  readonly pollIntervalMs: number;
  /** How often a progress line is logged. */
  readonly progressIntervalMs: number;
  /** A ceiling on maxFeePerGas (wei) that fee bumps never pass; undefined means none. */
  readonly maxFeePerGas: bigint | undefined;
  /** Most gas one transaction may use (gas limit, headroom included): with `estimate`, larger batches are split;
   * with `bound`, it caps the limit and the escrow defers the scans it does not cover. */
  readonly maxGasPerTx: number;
  /**
   * How a batch's gas limit is set: `estimate`, eth_estimateGas plus headroom (any chain; a block builder packs
   * transactions by their gas limit, so a tight one leaves room for others); `bound`, the escrow's worst case for
   * the batch's size capped at {maxGasPerTx}, sent as `submitScansWithinGas`, which defers the scans past what the
   * gas covers to a later batch (no estimate call, but up to eight times what a typical batch uses is reserved in its
   * block: for a chain where block space is no constraint, such as a local node; not for chains that add L1 data
   * costs to the gas used, such as Arbitrum). Which batches are simulated is `simulate`'s business.
   */
  readonly gasLimit: GasLimitMode;
  /**
   * Which batches are simulated (eth_call) before they are sent: `every` one; or, with `first`, a gantry's batches
   * until one of them confirms, each as a one-scan probe signed by the gantry's key (does the escrow take this
   * gantry's batches at all?), after which its batches go unsimulated until any transaction reverts on-chain (then
   * every gantry is simulated again). `first` spares the node one call a batch and risks the gas of the
   * transactions in flight when the escrow starts refusing batches (paused, a key revoked).
   */
  readonly simulate: SimulateMode;
}

export const SIMULATE_MODES = ["every", "first"] as const;
export type SimulateMode = (typeof SIMULATE_MODES)[number];

export const GAS_LIMIT_MODES = ["bound", "estimate"] as const;
export type GasLimitMode = (typeof GAS_LIMIT_MODES)[number];

/** The defaults, chosen for an L1 or L2 with blocks every few seconds. */
export const DEFAULTS = {
  batchSize: 100,
  maxWaitMs: 5_000,
  confirmations: 1,
  maxInFlight: 4,
  broadcastDepth: 1,
  clockSkewSeconds: 60,
  maxLineBytes: 4_096,
  stuckAfterMs: 60_000,
  pollIntervalMs: 1_000,
  progressIntervalMs: 5_000,
  /** EIP-7825 (osaka): no transaction may use more. */
  maxGasPerTx: 16_777_216,
  gasLimit: "estimate",
  simulate: "every",
} as const;

const NETWORK_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const USAGE = `Usage: npm run oracle -- --network <name> --input <file|-> [options]

Reads NDJSON scanner readings, validates them, and settles them on the TollEscrow in signed batches.

  --network <name>        Hardhat network (RPC URL, manifest deployments/<name>.json, key defaults)
  --input <file|->        readings file, or - for standard input
  --follow                keep reading the file as it grows (until SIGINT/SIGTERM)
  --batch-size <n>        most scans per batch (default ${DEFAULTS.batchSize}; capped by MAX_SCANS_PER_BATCH and gas)
  --max-wait-ms <ms>      longest a reading waits for its batch to fill (default ${DEFAULTS.maxWaitMs})
  --dry-run               validate, batch, sign and simulate; send nothing, write no journal
  --json                  one JSON log object per line
  --journal <path>        journal database (default var/relayer/<network>/journal.sqlite)
  --rejects <path>        rejected readings, NDJSON (default var/relayer/<network>/rejects.ndjson)
  --manifest <path>       deployment manifest (default deployments/<network>.json)
  --rpc-url <url>         use this RPC endpoint instead of the network's
  --confirmations <n>     blocks before a batch counts as settled (default ${DEFAULTS.confirmations})
  --max-in-flight <n>     transactions awaiting confirmation at once (default ${DEFAULTS.maxInFlight})
  --broadcast-depth <n>   broadcasts on their way before the node answers (default ${DEFAULTS.broadcastDepth}); 2 or more
                          keeps a node that answers only after mining (a local automine node) busy between them
  --clock-skew-s <s>      how far in the future a reading's time may be (default ${DEFAULTS.clockSkewSeconds})
  --max-line-bytes <n>    longer lines are rejected (default ${DEFAULTS.maxLineBytes})
  --stuck-after-ms <ms>   replace a transaction not mined after this long (default ${DEFAULTS.stuckAfterMs})
  --poll-ms <ms>          receipt and --follow polling interval (default ${DEFAULTS.pollIntervalMs})
  --progress-ms <ms>      progress line interval (default ${DEFAULTS.progressIntervalMs})
  --max-fee-gwei <gwei>   never pay more than this maxFeePerGas
  --max-gas-per-tx <gas>  most gas a transaction may use (default ${DEFAULTS.maxGasPerTx}): estimate splits larger
                          batches; bound caps the limit here and the escrow defers what it does not cover
  --gas-limit <mode>      estimate: eth_estimateGas + 25% (default); bound: the escrow's worst case for the batch
                          size, no estimate call, but ~8x the gas a batch uses is reserved in its block (a local node)
  --simulate <which>      every: eth_call each batch before sending it (default); first: only a gantry's batches
                          until one confirms, as one-scan probes, and every batch again after any on-chain revert
  --help                  this text

Keys (Hardhat keystore or environment): ORACLE_KEYS="<gantry>:<key>,...", or ORACLE_PRIVATE_KEY with
ORACLE_GANTRIES="<id>,<from>-<to>,..."; RELAYER_PRIVATE_KEY pays gas (on local networks it defaults to the
first account).`;

/** What a caller may set; everything but `network` and `input` has a default. */
export type RelayerConfigInput = Partial<RelayerConfig> & Pick<RelayerConfig, "network" | "input">;

/** Validates and freezes settings given in code (tests, the fleet simulator). */
export function makeRelayerConfig(input: RelayerConfigInput): RelayerConfig {
  const network = input.network;
  if (!NETWORK_NAME.test(network)) throw new ConfigError("--network", `"${network}" is not a network name`);
  if (input.input === "") throw new ConfigError("--input", "must be a file path or -");
  const follow = input.follow ?? false;
  if (follow && input.input === "-")
    throw new ConfigError("--follow", "needs a file; standard input is followed anyway");
  const defaultsDir = path.join("var", "relayer", network);
  const config: RelayerConfig = {
    network,
    input: input.input,
    follow,
    batchSize: checkInt("--batch-size", input.batchSize ?? DEFAULTS.batchSize, 1, 100_000),
    maxWaitMs: checkInt("--max-wait-ms", input.maxWaitMs ?? DEFAULTS.maxWaitMs, 0, 3_600_000),
    dryRun: input.dryRun ?? false,
    json: input.json ?? false,
    journalPath: input.journalPath ?? path.join(defaultsDir, "journal.sqlite"),
    rejectsPath: input.rejectsPath ?? path.join(defaultsDir, "rejects.ndjson"),
    manifestPath: input.manifestPath ?? path.join("deployments", `${network}.json`),
    rpcUrl: input.rpcUrl === undefined ? undefined : checkUrl("--rpc-url", input.rpcUrl),
    confirmations: checkInt("--confirmations", input.confirmations ?? DEFAULTS.confirmations, 1, 1_000),
    maxInFlight: checkInt("--max-in-flight", input.maxInFlight ?? DEFAULTS.maxInFlight, 1, 256),
    broadcastDepth: checkInt("--broadcast-depth", input.broadcastDepth ?? DEFAULTS.broadcastDepth, 1, 16),
    clockSkewSeconds: checkInt("--clock-skew-s", input.clockSkewSeconds ?? DEFAULTS.clockSkewSeconds, 0, 86_400),
    maxLineBytes: checkInt("--max-line-bytes", input.maxLineBytes ?? DEFAULTS.maxLineBytes, 64, 1 << 20),
    stuckAfterMs: checkInt("--stuck-after-ms", input.stuckAfterMs ?? DEFAULTS.stuckAfterMs, 100, 86_400_000),
    pollIntervalMs: checkInt("--poll-ms", input.pollIntervalMs ?? DEFAULTS.pollIntervalMs, 10, 600_000),
    progressIntervalMs: checkInt(
      "--progress-ms",
      input.progressIntervalMs ?? DEFAULTS.progressIntervalMs,
      100,
      3_600_000,
    ),
    maxFeePerGas: input.maxFeePerGas,
    maxGasPerTx: checkInt("--max-gas-per-tx", input.maxGasPerTx ?? DEFAULTS.maxGasPerTx, 100_000, DEFAULTS.maxGasPerTx),
    gasLimit: checkMode("--gas-limit", GAS_LIMIT_MODES, input.gasLimit ?? DEFAULTS.gasLimit),
    simulate: checkMode("--simulate", SIMULATE_MODES, input.simulate ?? DEFAULTS.simulate),
  };
  const loneScan = scanBatchGasLimit(1);
  if (config.gasLimit === "bound" && BigInt(config.maxGasPerTx) < loneScan) {
    throw new ConfigError(
      "--max-gas-per-tx",
      `must be at least ${loneScan} with --gas-limit bound (one scan's worst case); got ${config.maxGasPerTx}`,
    );
  }
  for (const [flag, value] of [
    ["--journal", config.journalPath],
    ["--rejects", config.rejectsPath],
    ["--manifest", config.manifestPath],
  ] as const) {
    if (value === "") throw new ConfigError(flag, "must be a path");
  }
  return Object.freeze(config);
}

/** The command line, parsed: `help` when --help was given, the validated config otherwise. */
export type CliParse = { readonly help: true } | { readonly help: false; readonly config: RelayerConfig };

const CLI_OPTIONS = {
  network: { type: "string" },
  input: { type: "string" },
  follow: { type: "boolean" },
  "batch-size": { type: "string" },
  "max-wait-ms": { type: "string" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  journal: { type: "string" },
  rejects: { type: "string" },
  manifest: { type: "string" },
  "rpc-url": { type: "string" },
  confirmations: { type: "string" },
  "max-in-flight": { type: "string" },
  "broadcast-depth": { type: "string" },
  "clock-skew-s": { type: "string" },
  "max-line-bytes": { type: "string" },
  "stuck-after-ms": { type: "string" },
  "poll-ms": { type: "string" },
  "progress-ms": { type: "string" },
  "max-fee-gwei": { type: "string" },
  "max-gas-per-tx": { type: "string" },
  "gas-limit": { type: "string" },
  simulate: { type: "string" },
  help: { type: "boolean" },
} as const;

/** Parses `argv` (without the node and script paths). */
export function parseCliArgs(argv: readonly string[]): CliParse {
  const values = parseFlags(argv);
  if (values.help === true) return { help: true };
  const required = (flag: "network" | "input"): string => {
    const value = values[flag];
    if (value === undefined) throw new ConfigError(`--${flag}`, "is required (see --help)");
    return value;
  };
  const int = (flag: keyof typeof CLI_OPTIONS): number | undefined => parseIntFlag(flag, values[flag]);
  const config = makeRelayerConfig({
    network: required("network"),
    input: required("input"),
    follow: values.follow,
    batchSize: int("batch-size"),
    maxWaitMs: int("max-wait-ms"),
    dryRun: values["dry-run"],
    json: values.json,
    journalPath: values.journal,
    rejectsPath: values.rejects,
    manifestPath: values.manifest,
    rpcUrl: values["rpc-url"],
    confirmations: int("confirmations"),
    maxInFlight: int("max-in-flight"),
    broadcastDepth: int("broadcast-depth"),
    clockSkewSeconds: int("clock-skew-s"),
    maxLineBytes: int("max-line-bytes"),
    stuckAfterMs: int("stuck-after-ms"),
    pollIntervalMs: int("poll-ms"),
    progressIntervalMs: int("progress-ms"),
    maxFeePerGas: parseGwei("--max-fee-gwei", values["max-fee-gwei"]),
    maxGasPerTx: int("max-gas-per-tx"),
    // Checked against the known modes by makeRelayerConfig.
    gasLimit: values["gas-limit"] as GasLimitMode | undefined,
    simulate: values.simulate as SimulateMode | undefined,
  });
  return { help: false, config };
}

type FlagValues = {
  [K in keyof typeof CLI_OPTIONS]?: (typeof CLI_OPTIONS)[K]["type"] extends "string" ? string : boolean;
};

function parseFlags(argv: readonly string[]): FlagValues {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: CLI_OPTIONS,
      strict: true,
      allowPositionals: false,
    });
    return values as FlagValues;
  } catch (error) {
    // node:util names the offending flag in its message ("Unknown option '--bogus'").
    const message = error instanceof Error ? error.message : String(error);
    const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "arguments";
    throw new ConfigError(flag, message);
  }
}

function parseIntFlag(flag: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined || typeof raw === "boolean") return undefined;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`--${flag}`, `"${raw}" is not a whole number`);
  return Number(raw);
}

function parseGwei(flag: string, raw: string | undefined): bigint | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(raw);
  if (match === null) throw new ConfigError(flag, `"${raw}" is not an amount of gwei`);
  const wei = BigInt(match[1]) * 10n ** 9n + BigInt((match[2] ?? "").padEnd(9, "0"));
  if (wei === 0n) throw new ConfigError(flag, "must be above zero");
  return wei;
}

function checkMode<Mode extends string>(flag: string, modes: readonly Mode[], value: string): Mode {
  const mode = modes.find((known) => known === value);
  if (mode === undefined) throw new ConfigError(flag, `must be ${modes.join(" or ")}, got "${value}"`);
  return mode;
}

function checkInt(flag: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(flag, `must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function checkUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(flag, "is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError(flag, "must be an http(s) URL");
  return value;
}
