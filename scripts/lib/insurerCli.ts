/**
 * The insurer CLI's logic: flags parsed once into a validated, read-only object, the report built through
 * {@link InsurerClient}, and rendered as text, JSON or CSV. `scripts/insurer.ts` only connects and prints.
 */
import { getAddress, isAddress } from "ethers";
import type { Provider } from "ethers";

import { DEFAULT_MAX_BLOCK_SPAN, InsurerClient, isoTime } from "./insurer.js";
import type { ConsentState, EffectiveRecord, TimeRange, VehicleReport } from "./insurer.js";
import { TrustLevel } from "./ledger.js";
import { defaultManifestPath } from "./manifest.js";
import type { DeploymentManifest } from "./manifest.js";

export type OutputFormat = "text" | "json" | "csv";

export interface InsurerCliOptions {
  readonly help: boolean;
  /** A vehicle id or a plate address. */
  readonly vehicle: string;
  readonly range: TimeRange;
  readonly format: OutputFormat;
  /** A network of hardhat.config.ts. */
  readonly network: string;
  /** Overrides the network's RPC URL. */
  readonly rpcUrl?: string;
  readonly manifest: string;
  /** The insurer whose consent is reported; the network's first account when absent. */
  readonly insurer?: string;
  readonly maxBlockSpan: number;
  /** Overrides the manifest's ledger deployment block as the first block scanned. */
  readonly startBlock?: number;
}

/** A bad flag or flag value; the message names the flag. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const DEFAULT_NETWORK = "localhost";

export const INSURER_USAGE = `Usage: npm run insurer -- --vehicle <id|plate> [options]

Prints a vehicle's driving records from the DrivingRecordLedger, whether its hash chain verifies against the
on-chain head, whether the insurer holds the owner's consent, and a usage summary.

  --vehicle <id|plate>   vehicle id, or the address of its current plate key (required)
  --from <date>          only records whose period ends after this time
  --to <date>            only records whose period starts before this time (a bare date includes that day)
                         dates: YYYY-MM-DD (UTC), ISO 8601 with a zone (2026-03-01T08:00:00Z), or unix seconds
  --json | --csv         machine-readable output (CSV: records on stdout, status on stderr)
  --network <name>       a network of hardhat.config.ts (default: ${DEFAULT_NETWORK})
  --rpc-url <url>        use this JSON-RPC endpoint instead of the network's URL
  --manifest <path>      deployment manifest (default: deployments/<network>.json)
  --insurer <address>    whose consent to report (default: the network's first account)
  --max-block-span <n>   widest block range per eth_getLogs call (default: ${DEFAULT_MAX_BLOCK_SPAN})
  --start-block <n>      first block to scan (default: the ledger's deployment block from the manifest)
  --help                 this text

The chain is always verified from its first record, whatever the range: each link hashes the one before it.
Exit status: 0 when the chain verifies, 3 when it does not (the report is still printed), 1 on an error.`;

const VALUE_FLAGS = new Set([
  "vehicle",
  "from",
  "to",
  "network",
  "rpc-url",
  "manifest",
  "insurer",
  "max-block-span",
  "start-block",
]);
const BOOLEAN_FLAGS = new Set(["json", "csv", "help"]);

/** Parses the CLI's flags (`argv` without node and the script), validating every value. */
export function parseInsurerArgs(argv: readonly string[], root: string = process.cwd()): InsurerCliOptions {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") continue;
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}" (flags start with --)`);
    const [name, inline] = splitFlag(arg.slice(2));
    if (values.has(name) || switches.has(name)) throw new UsageError(`--${name} is given more than once`);
    if (BOOLEAN_FLAGS.has(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      switches.add(name);
    } else if (VALUE_FLAGS.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith("--"))) {
        throw new UsageError(`--${name} needs a value`);
      }
      values.set(name, value);
    } else {
      throw new UsageError(`unknown flag --${name} (see --help)`);
    }
  }
  const help = switches.has("help");
  const vehicle = values.get("vehicle");
  if (vehicle === undefined && !help) throw new UsageError("--vehicle is required (a vehicle id or plate address)");
  if (switches.has("json") && switches.has("csv")) throw new UsageError("--json and --csv exclude each other");

  const network = values.get("network") ?? DEFAULT_NETWORK;
  if (!/^[A-Za-z0-9_-]+$/.test(network)) throw new UsageError(`--network "${network}" is not a network name`);
  const range: TimeRange = {
    from: optional(values.get("from"), (v) => parseTime("from", v, false)),
    to: optional(values.get("to"), (v) => parseTime("to", v, true)),
  };
  if (range.from !== undefined && range.to !== undefined && range.from >= range.to) {
    throw new UsageError(`--from ${isoTime(range.from)} is not before --to ${isoTime(range.to)}`);
  }
  return {
    help,
    vehicle: vehicle === undefined ? "" : parseVehicle(vehicle),
    range,
    format: switches.has("json") ? "json" : switches.has("csv") ? "csv" : "text",
    network,
    rpcUrl: optional(values.get("rpc-url"), parseUrl),
    manifest: values.get("manifest") ?? defaultManifestPath(network, root),
    insurer: optional(values.get("insurer"), (v) => parseAddress("insurer", v)),
    maxBlockSpan: optional(values.get("max-block-span"), (v) => parseCount("max-block-span", v, 1)) ?? DEFAULT_MAX_BLOCK_SPAN,
    startBlock: optional(values.get("start-block"), (v) => parseCount("start-block", v, 0)),
  };
}

function splitFlag(flag: string): [string, string | undefined] {
  const eq = flag.indexOf("=");
  return eq === -1 ? [flag, undefined] : [flag.slice(0, eq), flag.slice(eq + 1)];
}

function optional<T>(value: string | undefined, parse: (value: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

function parseVehicle(value: string): string {
  if (/^[0-9]+$/.test(value)) {
    if (BigInt(value) === 0n) throw new UsageError("--vehicle: vehicle ids start at 1");
    return value;
  }
  if (/^0x[0-9a-fA-F]{40}$/.test(value)) return parseAddress("vehicle", value);
  throw new UsageError(`--vehicle "${value}" is neither a vehicle id nor a plate address`);
}

function parseAddress(flag: string, value: string): string {
  if (!isAddress(value)) {
    const checksum = /^0x[0-9a-fA-F]{40}$/.test(value) ? " (bad checksum: use all lower case or the checksum)" : "";
    throw new UsageError(`--${flag} "${value}" is not an address${checksum}`);
  }
  return getAddress(value);
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--rpc-url "${value}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--rpc-url "${value}" must be an http or https URL`);
  }
  return value;
}

function parseCount(flag: string, value: string, min: number): number {
  const parsed = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw new UsageError(`--${flag} "${value}" must be an integer of at least ${min}`);
  }
  return parsed;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Unix seconds from a bare date (UTC; the day's end when `endOfDay`), an ISO time with a zone, or seconds. */
export function parseTime(flag: string, value: string, endOfDay: boolean): number {
  if (/^[0-9]+$/.test(value)) return parseCount(flag, value, 0);
  const dateOnly = DATE_ONLY.exec(value);
  if (dateOnly !== null) {
    const [, year, month, day] = dateOnly.map(Number);
    const ms = Date.UTC(year, month - 1, day + (endOfDay ? 1 : 0));
    const check = new Date(Date.UTC(year, month - 1, day));
    if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
      throw new UsageError(`--${flag} "${value}" is not a calendar date`);
    }
    return ms / 1000;
  }
  const ms = DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `--${flag} "${value}" is not a date (use YYYY-MM-DD, an ISO 8601 time with a zone, or unix seconds)`,
    );
  }
  return Math.floor(ms / 1000);
}

/** What the CLI prints: the report on stdout, status lines on stderr (CSV only), and the exit status. */
export interface CliOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * Everything the CLI does once connected: checks the manifest against the chain, builds the report and renders it.
 * `accounts` are the network's accounts, the first of which is the default insurer.
 */
export async function runInsurer(
  options: InsurerCliOptions,
  manifest: DeploymentManifest,
  provider: Provider,
  accounts: readonly string[],
): Promise<CliOutput> {
  const insurer = options.insurer ?? accounts[0];
  if (insurer === undefined) {
    throw new UsageError(`the network "${options.network}" has no account: pass --insurer <address>`);
  }
  const client = await InsurerClient.fromManifest(provider, manifest, {
    maxBlockSpan: options.maxBlockSpan,
    startBlock: options.startBlock,
  });
  const report = await client.report(options.vehicle, { range: options.range, insurer });
  const exitCode = report.verification.valid ? 0 : 3;
  switch (options.format) {
    case "json":
      return { stdout: `${renderJson(report)}\n`, stderr: "", exitCode };
    case "csv":
      return { stdout: renderCsv(report), stderr: `${renderStatus(report).join("\n")}\n`, exitCode };
    default:
      return { stdout: `${renderText(report).join("\n")}\n`, stderr: "", exitCode };
  }
}

/** The report as JSON: big integers as decimal strings, times as unix seconds. */
export function renderJson(report: VehicleReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2);
}

const CSV_COLUMNS = [
  "index",
  "period_start",
  "period_end",
  "distance_m",
  "driving_s",
  "harsh_braking",
  "harsh_acceleration",
  "speeding_s",
  "night_distance_m",
  "trust",
  "corrected_by",
  "data_hash",
  "reporter",
  "block",
  "transaction",
];

/** The records in force in the range, one CSV row each (the corrected version, with its corrections named). */
export function renderCsv(report: VehicleReport): string {
  const rows = report.inRange.map(({ current, corrections, original }) => {
    const r = current.record;
    return [
      original.index,
      isoTime(r.periodStart),
      isoTime(r.periodEnd),
      r.distanceMeters,
      r.drivingSeconds,
      r.harshBrakingCount,
      r.harshAccelerationCount,
      r.speedingSeconds,
      r.nightDistanceMeters,
      trustName(current.trust),
      corrections.join(" "),
      r.dataHash,
      current.reporter,
      current.blockNumber,
      current.transactionHash,
    ].join(",");
  });
  return `${[CSV_COLUMNS.join(","), ...rows].join("\n")}\n`;
}

/** The report for a person: header, a table of records in force, then the status lines. */
export function renderText(report: VehicleReport): string[] {
  const { vehicle, range } = report;
  const lines = [
    `Vehicle ${vehicle.vehicleId}, plate ${vehicle.plate}, owner ${vehicle.owner}`,
    `Ledger ${report.ledger} on chain ${report.chainId}, read at block ${report.blockNumber}`,
    `Range: ${range.from === undefined ? "start" : isoTime(range.from)} to ${range.to === undefined ? "now" : isoTime(range.to)}` +
      " (records whose period overlaps it count in full)",
    "",
  ];
  if (report.inRange.length === 0) {
    lines.push("No records in this range.");
  } else {
    lines.push(
      row(["#", "period (UTC)", "km", "driving", "harsh b/a", "speeding", "night km", "trust", "note"]),
      ...report.inRange.map(recordRow),
    );
  }
  lines.push("", ...renderStatus(report));
  return lines;
}

/** Chain, consent and summary lines, shared by the text and CSV outputs. */
export function renderStatus(report: VehicleReport): string[] {
  const { verification, consent, summary } = report;
  const lines: string[] = [];
  if (verification.valid) {
    lines.push(
      `Chain: verified: ${verification.onchainCount} records from #1 link to the ledger's head ${verification.onchainHead}`,
    );
  } else {
    lines.push(`Chain: NOT VERIFIED: ${verification.issues.length} problem(s)`);
    lines.push(...verification.issues.map((issue) => `  - ${issue.kind}: ${issue.message}`));
  }
  lines.push(...report.correctionWarnings.map((warning) => `Correction warning: ${warning}`));
  const grant = `by ${consent.grantor} until ${isoTime(consent.expiry)}`;
  const consentLines: Record<ConsentState, string> = {
    active: `Consent: granted to ${consent.insurer} ${grant}`,
    none: `Consent: none for ${consent.insurer}`,
    expired: `Consent: expired for ${consent.insurer} (granted ${grant})`,
    "void-after-sale": `Consent: void for ${consent.insurer}: the vehicle changed hands since it was granted ${grant}`,
  };
  lines.push(consentLines[consent.state]);
  lines.push(`Summary: ${summaryText(report)}`);
  return lines;
}

function summaryText(report: VehicleReport): string {
  const s = report.summary;
  const parts = [
    `${s.records} record(s) (${s.plateSigned} plate-signed, ${s.corrected} corrected)`,
    `${s.distanceKm.toFixed(1)} km in ${s.drivingHours.toFixed(1)} h`,
    `${s.harshBraking} harsh braking + ${s.harshAcceleration} harsh acceleration = ` +
      `${s.harshEventsPer100Km === null ? "n/a" : s.harshEventsPer100Km.toFixed(2)} per 100 km`,
    `speeding ${percent(s.speedingShare)} of driving time`,
    `night ${percent(s.nightShare)} of distance`,
  ];
  if (s.uncoveredSeconds > 0) parts.push(`${(s.uncoveredSeconds / 86_400).toFixed(1)} day(s) between records uncovered`);
  return parts.join("; ");
}

function recordRow({ original, current, corrections }: EffectiveRecord): string {
  const r = current.record;
  const period = `${isoTime(r.periodStart).slice(0, 16)} → ${isoTime(r.periodEnd).slice(0, 16)}`;
  const note = corrections.length === 0 ? "" : `corrected by #${corrections.join(", #")}`;
  return row([
    String(original.index),
    period,
    (r.distanceMeters / 1000).toFixed(3),
    duration(r.drivingSeconds),
    `${r.harshBrakingCount}/${r.harshAccelerationCount}`,
    duration(r.speedingSeconds),
    (r.nightDistanceMeters / 1000).toFixed(3),
    trustName(current.trust),
    note,
  ]);
}

const WIDTHS = [4, 36, 10, 9, 10, 9, 10, 14, 0];

function row(cells: readonly string[]): string {
  return cells
    .map((cell, i) => cell.padEnd(WIDTHS[i]))
    .join(" ")
    .trimEnd();
}

function duration(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours}h${String(minutes).padStart(2, "0")}m` : `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
}

function percent(share: number | null): string {
  return share === null ? "n/a" : `${(share * 100).toFixed(1)}%`;
}

function trustName(trust: TrustLevel): string {
  return trust === TrustLevel.PlateSigned ? "plate-signed" : "asserted";
}
