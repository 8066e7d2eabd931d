/**
 * Turns input lines into readings ready to journal, or into rejects with a reason. Lines come in groups, and the
 * checks run cheapest first: line length, JSON, field types and ranges, the journal (a line seen before the last
 * restart is skipped silently, a second reading with a journaled key is a duplicate), the gantry's key and the clock
 * for each line; then the group's plates that the cache does not know are resolved together, through the registry's
 * `vehicleIdOfPlate`; and finally each line is decided in order, a second reading of a key taken earlier in the same
 * group being a duplicate just as one taken in an earlier group is.
 */
import { createHash } from "node:crypto";

import { dataSlice, getAddress, type Log } from "ethers";

import type { IVehicleRegistry } from "../../../typechain-types/index.js";

import { Limiter } from "./async.js";
import type { Journal, ReadingRecord } from "./journal.js";
import type { InputLine } from "./reader.js";
import { RelayerStopped, type Rpc } from "./rpc.js";

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
  | {
      readonly kind: "rejected";
      readonly reason: RejectReason;
      readonly detail: string;
      readonly lineHash: string;
      /** Journaled by an earlier run that stopped before writing it to the rejects file: only that is left to do. */
      readonly journaled?: boolean;
    };

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
  const plate = typeof fields.plate === "string" ? checksummed(fields.plate) : undefined;
  if (plate === undefined) {
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
  return { ok: true, reading: { gantryId, plate, timestamp, sequence } };
}

/** Plates as read, checksummed: a fleet's plates recur all day, and checksumming one (keccak, in JavaScript) costs
 * more than the rest of a line's checks together. */
const checksums = new Map<string, string>();

/** `text` as a checksummed address, or undefined if it is none (as ethers' `isAddress` decides). */
function checksummed(text: string): string | undefined {
  const known = checksums.get(text);
  if (known !== undefined) return known;
  let address: string;
  try {
    address = getAddress(text);
  } catch {
    return undefined;
  }
  // Emptied when full rather than kept in order: hostile input of ever new plates cannot grow it without bound.
  if (checksums.size >= PLATE_CACHE_MAX_ENTRIES) checksums.clear();
  checksums.set(text, address);
  return address;
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

/** The longest a plate's answer is reused. A change to a plate shows much sooner, from the registry's logs (see
 * {PlateResolver}); this bounds how long an answer can outlive a log that a lagging endpoint failed to return. */
export const PLATE_CACHE_TTL_MS = 600_000;
/** How often the registry's logs are read for changes to plates, in the background: a rotation or a registration
 * shows within this and the poll's round trip to the node. */
export const PLATE_EVENTS_POLL_MS = 1_000;
/** How far behind the chain the cache may fall before a lookup waits for the poll in flight: under load the poll's
 * calls queue at the node behind the batches it is mining, and waiting for every poll would pace reading to them. */
export const PLATE_EVENTS_MAX_LAG_MS = 5_000;
/** Blocks read again at every poll: a shallow reorganisation, or an endpoint a few blocks behind the head it
 * reported, can hide a change that a later poll then finds. Evicting an answer twice costs one lookup. */
export const PLATE_EVENTS_OVERLAP_BLOCKS = 16;
/** More new blocks than this since the last poll (a long idle spell), and the cache is emptied instead of reading
 * their logs: public endpoints cap the block range of `eth_getLogs` (500 blocks passes the usual caps), and an empty
 * cache is correct. So is one emptied when an endpoint will not return the logs at all. */
export const PLATE_EVENTS_MAX_BLOCKS = 500;
/** Plates remembered at once; a fleet day rarely sees more distinct vehicles than this per relayer. */
export const PLATE_CACHE_MAX_ENTRIES = 100_000;
/** Plates resolved per registry call (`resolvePlates`): a cold cache of 10,000 plates costs 20 calls. Each reads
 * one storage slot per plate, about 1.5 million gas for a full call, far below what nodes allow an eth_call. */
export const PLATE_LOOKUP_BATCH = 500;
/** Registry calls in flight at once: enough to look up the plates of the groups read ahead together. */
export const PLATE_LOOKUP_PARALLELISM = 4;

export interface PlateResolverOptions {
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

/**
 * Resolves plates to vehicle ids through the registry and caches the answers. A plate's answer changes only when
 * the registry logs it: `VehicleRegistered` binds a new plate, `PlateRotated` revokes the old plate for good and
 * binds the new one. So an answer is kept until such a log names its plate or {PLATE_CACHE_TTL_MS} has passed. The
 * logs are read every {PLATE_EVENTS_POLL_MS} while plates are being resolved, in the background: a lookup waits for
 * that read only before the first, or when the last one read started over {PLATE_EVENTS_MAX_LAG_MS} ago. A fleet's
 * plates then cost the node a call per {PLATE_LOOKUP_BATCH}, not one a vehicle a minute.
 */
export class PlateResolver {
  readonly #registry: IVehicleRegistry;
  readonly #rpc: Rpc;
  readonly #now: () => number;
  readonly #cache = new Map<string, { readonly lookup: PlateLookup; readonly until: number }>();
  /** The last block whose registry logs were read, or undefined before the first poll. */
  #through: number | undefined;
  /** When the last poll that finished started: the cache knows every change logged before then. */
  #polledAt = Number.NEGATIVE_INFINITY;
  /** The poll in flight, and how the last one failed (thrown at the next resolve, as if it had been waited for). */
  #poll: Promise<void> | undefined;
  #pollError: { readonly error: unknown } | undefined;
  /** Plates a log named in a block after the one the running lookups started from, with that block: an answer
   * read around that block may be from before the change and must not be cached. */
  readonly #changedAt = new Map<string, number>();
  #lookupsInFlight = 0;
  /** Lookups in flight by plate, shared by every caller that needs the plate meanwhile. */
  readonly #lookups = new Map<string, Promise<PlateLookup>>();
  readonly #slots = new Limiter(PLATE_LOOKUP_PARALLELISM);
  /** Moves on each time the cache is emptied for want of logs: a lookup started before must not cache its answer. */
  #generation = 0;

  constructor(registry: IVehicleRegistry, rpc: Rpc, options: PlateResolverOptions = {}) {
    this.#registry = registry;
    this.#rpc = rpc;
    this.#now = options.now ?? Date.now;
  }

  async resolve(plate: string): Promise<PlateLookup> {
    const answers = await this.resolveAll([plate]);
    return answers.get(plate) ?? unresolved(plate);
  }

  /**
   * The answers for `plates`: the cache's where still valid; the rest joined from lookups in flight or looked up
   * {PLATE_LOOKUP_BATCH} to a registry call, and cached. Throws the first failed lookup's error (lookups retry
   * through the `Rpc`; a stop aborts them).
   */
  async resolveAll(plates: Iterable<string>): Promise<Map<string, PlateLookup>> {
    const now = this.#now();
    if (now - this.#polledAt >= PLATE_EVENTS_POLL_MS) {
      const poll = this.#startPoll();
      if (this.#through === undefined || now - this.#polledAt >= PLATE_EVENTS_MAX_LAG_MS) await poll;
    }
    this.#throwPollError();
    const answers = new Map<string, PlateLookup>();
    const pending = new Map<string, Promise<PlateLookup>>();
    const fresh = new Set<string>();
    for (const plate of plates) {
      const cached = this.#cache.get(plate);
      const running = this.#lookups.get(plate);
      if (cached !== undefined && cached.until > now) answers.set(plate, cached.lookup);
      else if (running !== undefined) pending.set(plate, running);
      else fresh.add(plate);
    }
    const toLookUp = [...fresh];
    for (let start = 0; start < toLookUp.length; start += PLATE_LOOKUP_BATCH) {
      const chunk = toLookUp.slice(start, start + PLATE_LOOKUP_BATCH);
      this.#lookUp(chunk, now).forEach((lookup, index) => pending.set(chunk[index], lookup));
    }
    await Promise.all([...pending].map(async ([plate, lookup]) => answers.set(plate, await lookup)));
    return answers;
  }

  /**
   * Starts looking up the plates the cache does not know, without waiting: a later {resolveAll} of them takes the
   * answers as they come instead of asking again. Failures are left for that call to meet.
   */
  prefetch(plates: Iterable<string>): void {
    this.resolveAll(plates).catch(() => undefined);
  }

  /** Reads the registry's logs now (or joins the read in flight) and forgets the answers of the plates they name.
   * Resolves once that read is done; throws how it failed. */
  async refresh(): Promise<void> {
    await this.#startPoll();
    this.#throwPollError();
  }

  /** The poll in flight, or a new one. It never rejects: a failure is kept for the next resolve to throw. */
  #startPoll(): Promise<void> {
    if (this.#poll !== undefined) return this.#poll;
    const startedAt = this.#now();
    const poll = this.#pollChanges().then(
      () => {
        this.#polledAt = startedAt;
        this.#pollError = undefined;
      },
      (error: unknown) => {
        this.#pollError = { error };
      },
    );
    this.#poll = poll.finally(() => (this.#poll = undefined));
    return this.#poll;
  }

  #throwPollError(): void {
    const failed = this.#pollError;
    if (failed === undefined) return;
    this.#pollError = undefined;
    throw failed.error;
  }

  /** Reads the registry's logs since the last poll and forgets the answers of the plates they name. */
  async #pollChanges(): Promise<void> {
    const provider = this.#registry.runner?.provider;
    if (provider === null || provider === undefined) throw new Error("the registry contract has no provider");
    const head = await this.#rpc.call("getBlockNumber", () => provider.getBlockNumber());
    const through = this.#through;
    this.#through = head;
    if (this.#lookupsInFlight === 0) this.#changedAt.clear();
    if (through === undefined) return;
    if (head < through || head - through > PLATE_EVENTS_MAX_BLOCKS) {
      // A chain reset or a long idle spell: start again from an empty cache.
      this.#forgetAll();
      return;
    }
    if (head === through) return;
    const fromBlock = Math.max(0, through + 1 - PLATE_EVENTS_OVERLAP_BLOCKS);
    const registry = this.#registry;
    const topics = [
      [registry.getEvent("VehicleRegistered").fragment.topicHash, registry.getEvent("PlateRotated").fragment.topicHash],
    ];
    const address = await registry.getAddress();
    let logs: Log[];
    try {
      logs = await this.#rpc.call("getLogs", () => provider.getLogs({ address, topics, fromBlock, toBlock: head }));
    } catch (error) {
      if (error instanceof RelayerStopped) throw error;
      // The endpoint will not return these logs (a range or result cap, no eth_getLogs): without them, only an
      // empty cache is sure to be right. Transient failures were retried first.
      this.#forgetAll();
      return;
    }
    for (const log of logs) {
      const plates = log.topics[0] === topics[0]?.[0] ? [log.topics[3]] : [log.topics[2], log.topics[3]];
      for (const topic of plates) {
        if (topic === undefined) continue;
        const plate = getAddress(dataSlice(topic, 12));
        this.#cache.delete(plate);
        this.#changedAt.set(plate, Math.max(this.#changedAt.get(plate) ?? 0, log.blockNumber));
      }
    }
  }

  /** Empties the cache, and keeps lookups already running from filling it with answers read before. */
  #forgetAll(): void {
    this.#cache.clear();
    this.#generation++;
  }

  #remember(plate: string, lookup: PlateLookup, until: number): void {
    this.#cache.delete(plate);
    if (this.#cache.size >= PLATE_CACHE_MAX_ENTRIES) {
      // Maps iterate in insertion order: the first key is the least recently refreshed.
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(plate, { lookup, until });
  }

  /** Looks `plates` up in one registry call, shared (by plate) with every caller that needs them meanwhile; each
   * answer is cached unless a change may have overtaken it. */
  #lookUp(plates: readonly string[], now: number): Array<Promise<PlateLookup>> {
    // Every lookup reads a block at or after this one: a change logged up to it is already in the answer.
    const readFrom = this.#through ?? 0;
    const generation = this.#generation;
    this.#lookupsInFlight++;
    const call = this.#slots
      .run(() => this.#rpc.call("resolvePlates", () => this.#registry.resolvePlates([...plates])))
      .then(([vehicleIds, revoked]) =>
        plates.map((plate, index) => {
          const lookup = plateLookup(vehicleIds[index], revoked[index]);
          const unchanged = generation === this.#generation && (this.#changedAt.get(plate) ?? -1) <= readFrom;
          if (unchanged) this.#remember(plate, lookup, now + PLATE_CACHE_TTL_MS);
          return lookup;
        }),
      )
      .finally(() => {
        this.#lookupsInFlight--;
        for (const plate of plates) this.#lookups.delete(plate);
      });
    return plates.map((plate, index) => {
      const lookup = call.then((lookups) => lookups[index]);
      this.#lookups.set(plate, lookup);
      return lookup;
    });
  }
}

function plateLookup(vehicleId: bigint | undefined, revoked: boolean | undefined): PlateLookup {
  if (vehicleId === undefined || revoked === undefined) throw new Error("the registry answered for fewer plates");
  // 0 means unknown or revoked; a revoked plate still being read is a cloned plate, worth telling apart.
  if (vehicleId === 0n) return { revoked };
  return { vehicleId: vehicleId > BigInt(UINT48_MAX) ? -1 : Number(vehicleId) };
}

function unresolved(plate: string): never {
  throw new Error(`plate ${plate} was not resolved`);
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

/** A line that passed every check but the plate's and its group's. */
interface Unresolved {
  readonly kind: "unresolved";
  readonly reading: ParsedReading;
  readonly lineHash: string;
}

/** Where a reading's key was taken from: the journal, or an earlier line of the same group. */
interface Taken {
  readonly lineNo: number;
  readonly lineHash: string;
}

const REPLAYED: Verdict = { kind: "replayed" };

/** Validates lines against the journal, the keys and the registry. */
export class Validator {
  readonly #options: ValidatorOptions;
  readonly #now: () => number;
  /** Lines that {prefetch} parsed and found well formed, so that validating them does not parse them again. A line
   * passed the clock check then, a moment before it is validated. */
  readonly #parsedAhead = new WeakMap<InputLine, ParsedReading>();

  constructor(options: ValidatorOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  async validate(line: InputLine): Promise<Verdict> {
    const [verdict] = await this.validateGroup([line]);
    return verdict;
  }

  /**
   * The verdicts on `lines`, in order: the same as validating each line and journaling what it yields before the
   * next, while the group's uncached plates are resolved together. Nothing is journaled here: the caller journals
   * the group's readings and rejects together, before validating the next group.
   */
  async validateGroup(lines: readonly InputLine[]): Promise<Verdict[]> {
    const now = this.#now();
    const screened = lines.map((line) => this.#screen(line, now));
    const plates = new Set<string>();
    for (const item of screened) if (item.kind === "unresolved") plates.add(item.reading.plate);
    const lookups = plates.size === 0 ? new Map<string, PlateLookup>() : await this.#options.plates.resolveAll(plates);
    return this.#decide(lines, screened, lookups);
  }

  /** Starts looking up the plates of lines about to be validated (see {PlateResolver.prefetch}). */
  prefetch(lines: readonly InputLine[]): void {
    const now = this.#now();
    const plates = new Set<string>();
    for (const line of lines) {
      if (line.tooLong) continue;
      const parsed = parseReading(line.text, now, this.#options.clockSkewSeconds);
      if (!parsed.ok) continue;
      this.#parsedAhead.set(line, parsed.reading);
      if (this.#options.gantries.has(parsed.reading.gantryId)) plates.add(parsed.reading.plate);
    }
    if (plates.size > 0) this.#options.plates.prefetch(plates);
  }

  /** The checks that need neither the registry nor the rest of the group. */
  #screen(line: InputLine, now: number): Verdict | Unresolved {
    const { journal, maxLineBytes, clockSkewSeconds, gantries } = this.#options;
    const lineHash = hashLine(line.text);
    // A restart reads the input again: a line rejected and reported before is not reported twice, and one whose
    // run stopped between the journal and the rejects file is reported now, for the reason journaled then.
    const earlier = journal.rejectOf(line.lineNo, lineHash);
    if (earlier !== undefined) {
      if (earlier.reported) return REPLAYED;
      const detail = "rejected before a restart, which came before it reached the rejects file";
      return { kind: "rejected", reason: earlier.reason as RejectReason, detail, lineHash, journaled: true };
    }
    if (line.tooLong) return rejected("line-too-long", `longer than ${maxLineBytes} bytes`, lineHash);
    const ahead = this.#parsedAhead.get(line);
    const parsed: ParseResult =
      ahead !== undefined ? { ok: true, reading: ahead } : parseReading(line.text, now, clockSkewSeconds);
    if (!parsed.ok) return rejected(parsed.reason, parsed.detail, lineHash);
    const { gantryId, sequence } = parsed.reading;
    const journaled = journal.findReading(gantryId, sequence);
    if (journaled !== undefined) return alreadyTaken(journaled, line.lineNo, lineHash, parsed.reading);
    if (!gantries.has(gantryId)) return rejected("unknown-gantry", `no oracle key for gantry ${gantryId}`, lineHash);
    return { kind: "unresolved", reading: parsed.reading, lineHash };
  }

  /** Decides the group line by line, as if each line's outcome were journaled before the next was checked. */
  #decide(
    lines: readonly InputLine[],
    screened: ReadonlyArray<Verdict | Unresolved>,
    lookups: ReadonlyMap<string, PlateLookup>,
  ): Verdict[] {
    // What this group takes, which the journal cannot show until the group is committed.
    const taken = new Map<string, Taken>();
    const rejectedLines = new Set<string>();
    return screened.map((item, index) => {
      const { lineNo } = lines[index];
      if (item.kind === "rejected") {
        const key = `${lineNo}/${item.lineHash}`;
        if (rejectedLines.has(key)) return REPLAYED;
        rejectedLines.add(key);
        return item;
      }
      if (item.kind !== "unresolved") return item;
      const { reading, lineHash } = item;
      const key = `${reading.gantryId}/${reading.sequence}`;
      const earlier = taken.get(key);
      if (earlier !== undefined) return alreadyTaken(earlier, lineNo, lineHash, reading);
      const verdict = plateVerdict(reading, lookups.get(reading.plate) ?? unresolved(reading.plate), lineNo, lineHash);
      if (verdict.kind === "accepted") taken.set(key, { lineNo, lineHash });
      return verdict;
    });
  }
}

function rejected(reason: RejectReason, detail: string, lineHash: string): Verdict {
  return { kind: "rejected", reason, detail, lineHash };
}

/** A line whose key was taken before: the same line read again, or a second reading with that key. */
function alreadyTaken(taken: Taken, lineNo: number, lineHash: string, reading: ParsedReading): Verdict {
  if (taken.lineNo === lineNo && taken.lineHash === lineHash) return REPLAYED;
  const { gantryId, sequence } = reading;
  return rejected(
    "duplicate",
    `gantry ${gantryId} seq ${sequence} already journaled from line ${taken.lineNo}`,
    lineHash,
  );
}

function plateVerdict(reading: ParsedReading, lookup: PlateLookup, lineNo: number, lineHash: string): Verdict {
  const { gantryId, sequence, plate, timestamp } = reading;
  if ("revoked" in lookup) {
    return lookup.revoked
      ? rejected("revoked-plate", `plate ${plate} was revoked by a rotation (cloned plate?)`, lineHash)
      : rejected("unknown-plate", `no vehicle carries plate ${plate}`, lineHash);
  }
  if (lookup.vehicleId < 0)
    return rejected("vehicle-id-out-of-range", `vehicle of plate ${plate} exceeds uint48`, lineHash);
  return {
    kind: "accepted",
    reading: { gantryId, sequence, vehicleId: lookup.vehicleId, timestamp, lineNo, lineHash },
  };
}
