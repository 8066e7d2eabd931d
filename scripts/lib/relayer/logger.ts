/**
 * Structured logging: every entry is `{ at, message, ...fields }`, where `at` names the code that speaks
 * (`"Batcher#flush"`). On a terminal it reads as one human line; with `--json` it is one JSON object per line.
 * Nothing secret is ever passed in, and fields whose names say "secret" are blanked as a second line of defence.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogFields = Readonly<Record<string, unknown>>;

export interface LogEntry extends LogFields {
  readonly at: string;
  readonly message: string;
  readonly level: LogLevel;
  readonly time: string;
}

export interface Logger {
  debug(at: string, message: string, fields?: LogFields): void;
  info(at: string, message: string, fields?: LogFields): void;
  warn(at: string, message: string, fields?: LogFields): void;
  error(at: string, message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** One JSON object per line instead of a human-readable line. */
  readonly json: boolean;
  /** Where lines go; defaults to standard output. */
  readonly write?: (line: string) => void;
  /** Entries below this level are dropped; defaults to `info`. */
  readonly level?: LogLevel;
  /** Receives every entry as an object too (tests, the fleet simulator). */
  readonly onEntry?: (entry: LogEntry) => void;
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Field names that may never carry a value into a log line. */
const SECRET_FIELD = /private|secret|mnemonic|password|passphrase/i;

/** Creates a logger; see {@link LoggerOptions}. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const minimum = LEVEL_RANK[options.level ?? "info"];
  const log = (level: LogLevel, at: string, message: string, fields: LogFields = {}) => {
    if (LEVEL_RANK[level] < minimum) return;
    const entry: LogEntry = { ...sanitize(fields), at, message, level, time: new Date().toISOString() };
    options.onEntry?.(entry);
    write(options.json ? toJsonLine(entry) : toHumanLine(entry));
  };
  return {
    debug: (at, message, fields) => log("debug", at, message, fields),
    info: (at, message, fields) => log("info", at, message, fields),
    warn: (at, message, fields) => log("warn", at, message, fields),
    error: (at, message, fields) => log("error", at, message, fields),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = createLogger({ json: true, write: () => {}, level: "error" });

function sanitize(fields: LogFields): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    clean[key] = SECRET_FIELD.test(key) ? "[redacted]" : value;
  }
  return clean;
}

function toJsonLine(entry: LogEntry): string {
  const { at, message, ...rest } = entry;
  return JSON.stringify({ at, message, ...rest }, jsonValue);
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}

function toHumanLine(entry: LogEntry): string {
  const { at, message, level, time, ...rest } = entry;
  const fields = Object.entries(rest)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${humanValue(value)}`)
    .join(" ");
  const tag = level === "info" ? "" : ` ${level.toUpperCase()}`;
  return `${time.slice(11, 19)}${tag} [${at}] ${message}${fields === "" ? "" : "  " + fields}`;
}

function humanValue(value: unknown): string {
  if (typeof value === "string") return /\s/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value, jsonValue);
}
