/**
 * Turns an input line into a reading ready to journal, or into a reject with a reason. The checks run cheapest
 * first and the registry is asked last: line length, JSON, field types and ranges, the journal (a line seen before
 * the last restart is skipped silently, a second reading with a journaled key is a duplicate), the gantry's key, the
 * clock, and finally the plate, resolved to a vehicle id through the registry's `vehicleIdOfPlate` with a small
 * cache.
 */
import { createHash } from "node:crypto";

import { getAddress, isAddress } from "ethers";

import type { IVehicleRegistry } from "../../../typechain-types/index.js";

import type { Journal, ReadingRecord } from "./journal.js";
import type { InputLine } from "./reader.js";
import type { Rpc } from "./rpc.js";

export type RejectReason =
  | "line-too-long"
  | "malformed-json"
  | "invalid-reading"
  | "duplicate"
  | "unknown-gantry"
  | "future-time"
  | "unknown-plate"
  | "revoked-plate"
  | "vehicle-id-out-of-range";

/** A reading that passed the checks that need no chain. */
export interface ParsedReading {
  readonly gantryId: number;
  /** The plate key's address, checksummed. */
  readonly plate: string;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly sequence: number;
}

export type Verdict =
  | { readonly kind: "accepted"; readonly reading: ReadingRecord }
  | { readonly kind: "replayed" }
  | { readonly kind: "rejected"; readonly reason: RejectReason; readonly detail: string; readonly lineHash: string };

type ParseResult =
  | { readonly ok: true; readonly reading: ParsedReading }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

const UINT32_MAX = 0xffff_ffff;
/** The wire format's `timestamp` and `sequence` are uint40. */
const UINT40_MAX = 2 ** 40 - 1;
/** The wire format's `vehicleId` is uint48. */
const UINT48_MAX = 2 ** 48 - 1;
/** Unix seconds this large lie past the year 5000: the gantry most likely sent milliseconds. */
const MILLISECONDS_LIKELY = 1e11;
/** ISO 8601 with an explicit zone: a reading without one would depend on the relayer's time zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Checks a line's JSON and fields. `nowSeconds` and `clockSkewSeconds` bound the reading's time. */
export function parseReading(text: string, nowSeconds: number, clockSkewSeconds: number): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: "malformed-json", detail: error instanceof Error ? error.message : "not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return invalid("a reading is a JSON object");
  }
  const fields = value as Record<string, unknown>;
  const gantryId = fields.gantry;
  if (!isIntegerIn(gantryId, 0, UINT32_MAX)) return invalid(`"gantry" must be an integer from 0 to ${UINT32_MAX}`);
  const sequence = fields.seq;
  if (!isIntegerIn(sequence, 0, UINT40_MAX)) return invalid(`"seq" must be an integer from 0 to ${UINT40_MAX}`);
  const plate = fields.plate;
  if (typeof plate !== "string" || !isAddress(plate)) {
    return invalid('"plate" must be the plate key\'s 0x address (20 bytes hex, checksum optional)');
  }
  const timestamp = parseTime(fields.time);
  const hint = typeof fields.time === "number" && fields.time > MILLISECONDS_LIKELY ? " (milliseconds?)" : "";
  if (timestamp === undefined) {
    return invalid(`"time" must be ISO 8601 with a zone ("2026-11-25T08:00:01Z") or unix seconds${hint}`);
  }
  if (timestamp > nowSeconds + clockSkewSeconds) {
    return { ok: false, reason: "future-time", detail: `time is ${timestamp - nowSeconds} s in the future${hint}` };
  }
  return { ok: true, reading: { gantryId, plate: getAddress(plate), timestamp, sequence } };
}

function invalid(detail: string): ParseResult {
  return { ok: false, reason: "invalid-reading", detail };
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
}

function parseTime(value: unknown): number | undefined {
  if (typeof value === "number") return isIntegerIn(value, 1, UINT40_MAX) ? value : undefined;
  if (typeof value !== "string" || !ISO_TIME.test(value)) return undefined;
  const millis = Date.parse(value);
  if (!Number.isFinite(millis) || millis < 1000) return undefined;
  return Math.floor(millis / 1000);
}

/** Identifies a line's content: a restart that reads the same line again recognises it. */
export function hashLine(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

export type PlateLookup = { readonly vehicleId: number } | { readonly revoked: boolean };

/** How long a plate's answer is reused: a rotation or a new registration shows within a minute. */
export const PLATE_CACHE_TTL_MS = 60_000;
/** Plates remembered at once; a fleet day rarely sees more distinct vehicles than this per relayer. */
export const PLATE_CACHE_MAX_ENTRIES = 100_000;

/** Resolves plates to vehicle ids through the registry, caching answers for {PLATE_CACHE_TTL_MS}. */
export class PlateResolver {
  readonly #registry: IVehicleRegistry;
  readonly #rpc: Rpc;
  readonly #cache = new Map<string, { readonly lookup: PlateLookup; readonly until: number }>();

  constructor(registry: IVehicleRegistry, rpc: Rpc) {
    this.#registry = registry;
    this.#rpc = rpc;
  }

  async resolve(plate: string): Promise<PlateLookup> {
    const now = Date.now();
    const cached = this.#cache.get(plate);
    if (cached !== undefined && cached.until > now) return cached.lookup;
    const lookup = await this.#lookup(plate);
    this.#cache.delete(plate);
    if (this.#cache.size >= PLATE_CACHE_MAX_ENTRIES) {
      // Maps iterate in insertion order: the first key is the least recently refreshed.
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(plate, { lookup, until: now + PLATE_CACHE_TTL_MS });
    return lookup;
  }

  async #lookup(plate: string): Promise<PlateLookup> {
    const vehicleId = await this.#rpc.call("vehicleIdOfPlate", () => this.#registry.vehicleIdOfPlate(plate));
    if (vehicleId > BigInt(UINT48_MAX)) return { vehicleId: -1 };
    if (vehicleId !== 0n) return { vehicleId: Number(vehicleId) };
    // 0 means unknown or revoked; a revoked plate still being read is a cloned plate, worth telling apart.
    return { revoked: await this.#rpc.call("isPlateRevoked", () => this.#registry.isPlateRevoked(plate)) };
  }
}

export interface ValidatorOptions {
  readonly journal: Journal;
  readonly plates: PlateResolver;
  /** The gantries this operator holds an oracle key for. */
  readonly gantries: ReadonlySet<number>;
  readonly clockSkewSeconds: number;
  readonly maxLineBytes: number;
  /** Current unix time in seconds; injectable for tests. */
  readonly now?: () => number;
}

/** Validates lines against the journal, the keys and the registry. */
export class Validator {
  readonly #options: ValidatorOptions;
  readonly #now: () => number;

  constructor(options: ValidatorOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  async validate(line: InputLine): Promise<Verdict> {
    const lineHash = hashLine(line.text);
    const reject = (reason: RejectReason, detail: string): Verdict => ({ kind: "rejected", reason, detail, lineHash });
    // A restart reads the input again: a line rejected before is not reported twice.
    if (this.#options.journal.wasRejected(line.lineNo, lineHash)) return { kind: "replayed" };
    if (line.tooLong) return reject("line-too-long", `longer than ${this.#options.maxLineBytes} bytes`);
    const parsed = parseReading(line.text, this.#now(), this.#options.clockSkewSeconds);
    if (!parsed.ok) return reject(parsed.reason, parsed.detail);
    const { gantryId, sequence, plate, timestamp } = parsed.reading;
    const journaled = this.#options.journal.findReading(gantryId, sequence);
    if (journaled !== undefined) {
      if (journaled.lineNo === line.lineNo && journaled.lineHash === lineHash) return { kind: "replayed" };
      return reject("duplicate", `gantry ${gantryId} seq ${sequence} already journaled from line ${journaled.lineNo}`);
    }
    if (!this.#options.gantries.has(gantryId)) return reject("unknown-gantry", `no oracle key for gantry ${gantryId}`);
    const lookup = await this.#options.plates.resolve(plate);
    if ("revoked" in lookup) {
      return lookup.revoked
        ? reject("revoked-plate", `plate ${plate} was revoked by a rotation (cloned plate?)`)
        : reject("unknown-plate", `no vehicle carries plate ${plate}`);
    }
    if (lookup.vehicleId < 0) return reject("vehicle-id-out-of-range", `vehicle of plate ${plate} exceeds uint48`);
    return {
      kind: "accepted",
      reading: { gantryId, sequence, vehicleId: lookup.vehicleId, timestamp, lineNo: line.lineNo, lineHash },
    };
  }
}
