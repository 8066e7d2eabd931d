/**
 * The insurer's reader: fetches a vehicle's driving records from any JSON-RPC endpoint, verifies them against the
 * ledger's on-chain hash chain, resolves corrections, reports the owner's consent and summarises usage.
 *
 * Verification always needs the vehicle's whole chain, from record 1 to the on-chain head, even when only a time
 * range is of interest: each link hashes the one before it, so a range cannot be checked on its own. The reader
 * therefore fetches every record of the vehicle since the ledger's deployment block and filters by time afterwards.
 */
import { ZeroAddress, getAddress, isAddress } from "ethers";
import type { Interface, Log, Provider } from "ethers";

import { IDrivingRecordLedger__factory, IVehicleRegistry__factory } from "../../typechain-types/index.js";
import type { IDrivingRecordLedger, IVehicleRegistry } from "../../typechain-types/index.js";
import { GENESIS_HEAD, TrustLevel, decodeLink, nextHead } from "./ledger.js";
import type { DrivingRecord, RecordLink } from "./ledger.js";
import type { DeploymentManifest } from "./manifest.js";

/** Public RPC providers commonly cap `eth_getLogs` at 10,000 blocks per call. */
export const DEFAULT_MAX_BLOCK_SPAN = 10_000;

/** A problem that makes a report impossible (unknown vehicle, wrong chain, no contract at an address…). */
export class InsurerError extends Error {
  override readonly name = "InsurerError";
}

/** One record as the ledger logged it, with where it was logged. */
export interface LedgerRecord {
  readonly vehicleId: bigint;
  /** Position in the vehicle's chain, from 1. */
  readonly index: number;
  /** The chain head after this record, as logged. */
  readonly head: string;
  /** The account that appended it. */
  readonly reporter: string;
  readonly trust: TrustLevel;
  readonly record: DrivingRecord;
  readonly blockNumber: number;
  readonly transactionHash: string;
  readonly logIndex: number;
}

export type ChainIssueKind =
  | "foreign"
  | "duplicate"
  | "reordered"
  | "missing"
  | "unexpected"
  | "altered"
  | "count-mismatch"
  | "head-mismatch";

/** Something wrong with a copy of a chain. Any issue makes the copy unverified. */
export interface ChainIssue {
  readonly kind: ChainIssueKind;
  /** The record concerned, when one is. */
  readonly index?: number;
  readonly message: string;
}

export interface ChainVerification {
  /** True when the copy is exactly the on-chain chain: every record present, in order, unaltered. */
  readonly valid: boolean;
  readonly onchainHead: string;
  readonly onchainCount: number;
  /** The head obtained by linking the copy's records in the order given, from the genesis head. */
  readonly recomputedHead: string;
  readonly issues: readonly ChainIssue[];
}

/**
 * Checks a copy of one vehicle's chain against the ledger's head and count, recomputing every link exactly as the
 * ledger does. Pure: tests feed it tampered copies. Detects records of another vehicle, duplicates, reordering,
 * missing records, records the ledger does not count, a record whose content no longer matches its logged link,
 * and, decisively, any copy that does not end at the on-chain head after exactly `onchainCount` records.
 */
export function verifyChain(
  records: readonly LedgerRecord[],
  onchainHead: string,
  onchainCount: number | bigint,
): ChainVerification {
  const count = Number(onchainCount);
  const issues: ChainIssue[] = [];
  const vehicleId = records[0]?.vehicleId;
  const firstByIndex = new Map<number, LedgerRecord>();

  records.forEach((entry, position) => {
    if (entry.vehicleId !== vehicleId) {
      issues.push({
        kind: "foreign",
        index: entry.index,
        message: `record #${entry.index} belongs to vehicle ${entry.vehicleId}, not ${vehicleId}`,
      });
    }
    const previous = records[position - 1];
    if (previous !== undefined && entry.index === previous.index) {
      issues.push({ kind: "duplicate", index: entry.index, message: `record #${entry.index} appears twice` });
    } else if (previous !== undefined && entry.index < previous.index) {
      issues.push({
        kind: "reordered",
        index: entry.index,
        message: `record #${entry.index} comes after #${previous.index}: the copy is out of order`,
      });
    }
    if (entry.index < 1 || entry.index > count) {
      issues.push({
        kind: "unexpected",
        index: entry.index,
        message: `record #${entry.index} is not in the ledger's chain of ${count} records`,
      });
    }
    if (!firstByIndex.has(entry.index)) firstByIndex.set(entry.index, entry);
  });

  for (let index = 1; index <= count; index++) {
    if (!firstByIndex.has(index)) {
      issues.push({ kind: "missing", index, message: `record #${index} is missing from the copy` });
    }
  }

  // Each record against its own logged link: pinpoints a record whose content was changed.
  for (const [index, entry] of firstByIndex) {
    const previousHead = index === 1 ? GENESIS_HEAD : firstByIndex.get(index - 1)?.head;
    if (previousHead === undefined) continue;
    const recomputed = linkOf(previousHead, index, entry);
    if (!sameHex(recomputed, entry.head)) {
      issues.push({
        kind: "altered",
        index,
        message: `record #${index} does not hash to its logged link (${entry.head}, recomputed ${recomputed})`,
      });
    }
  }

  // The decisive check: the copy, linked in the order given, must end at the on-chain head.
  let recomputedHead = GENESIS_HEAD;
  records.forEach((entry, position) => {
    recomputedHead = linkOf(recomputedHead, position + 1, entry);
  });
  if (records.length !== count) {
    issues.push({
      kind: "count-mismatch",
      message: `the copy holds ${records.length} records, the ledger counts ${count}`,
    });
  }
  if (!sameHex(recomputedHead, onchainHead)) {
    issues.push({
      kind: "head-mismatch",
      message: `the copy links to ${recomputedHead}, the ledger's head is ${onchainHead}`,
    });
  }
  return { valid: issues.length === 0, onchainHead, onchainCount: count, recomputedHead, issues };
}

function linkOf(previousHead: string, index: number, entry: LedgerRecord): string {
  return nextHead(previousHead, index, entry.reporter, entry.vehicleId, entry.record, entry.trust);
}

/**
 * The link a RecordAppended log carries, decoded with `ledgerInterface` (the ledger's ABI). The event is anonymous
 * (its one topic is the vehicle id), so a log that is malformed is refused here by name rather than misread. A
 * well-formed link of another vehicle is returned: the chain's verification reports it as foreign.
 */
export function decodeRecordLog(ledgerInterface: Interface, log: Log): RecordLink {
  try {
    const event = ledgerInterface.getEvent("RecordAppended");
    if (event === null) throw new RangeError("the ABI given has no RecordAppended event");
    const link: unknown = ledgerInterface.decodeEventLog(event, log.data, log.topics).getValue("link");
    if (!Array.isArray(link) || !link.every((word): word is string => typeof word === "string")) {
      throw new RangeError("its data is not 4 words");
    }
    return decodeLink(link);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InsurerError(
      `log ${log.index} of transaction ${log.transactionHash} is not a driving record link: ${reason}`,
    );
  }
}

function sameHex(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** An original record and the version of it in force after corrections. */
export interface EffectiveRecord {
  readonly original: LedgerRecord;
  /** The latest valid correction, or the original itself. */
  readonly current: LedgerRecord;
  /** Indices of the corrections applied, in order. */
  readonly corrections: readonly number[];
}

export interface CorrectionResolution {
  readonly effective: readonly EffectiveRecord[];
  /** Corrections that were ignored, and why. */
  readonly warnings: readonly string[];
}

/**
 * Applies corrections: a record naming another supersedes it (a correction of a correction supersedes the whole
 * line). The ledger cannot check on-chain that a correction covers the period of the record it corrects (it keeps
 * no per-record period), so the reader does: a correction with another period is ignored with a warning, and so is
 * a correction repeating an earlier version of the same record (a replayed signature must not revive old data).
 */
export function resolveCorrections(records: readonly LedgerRecord[]): CorrectionResolution {
  const warnings: string[] = [];
  const rootOf = new Map<number, number>();
  const lines = new Map<number, LedgerRecord[]>();
  for (const entry of [...records].sort((a, b) => a.index - b.index)) {
    const corrects = entry.record.corrects;
    if (corrects === 0) {
      rootOf.set(entry.index, entry.index);
      lines.set(entry.index, [entry]);
      continue;
    }
    const root = rootOf.get(corrects);
    const line = root === undefined ? undefined : lines.get(root);
    if (root === undefined || line === undefined) {
      warnings.push(`correction #${entry.index} names #${corrects}, which is not in the copy: ignored`);
      continue;
    }
    const original = line[0];
    if (!samePeriod(original.record, entry.record)) {
      warnings.push(
        `correction #${entry.index} of #${corrects} covers ${periodText(entry.record)}, ` +
          `not the corrected period ${periodText(original.record)}: ignored`,
      );
      continue;
    }
    const replayed = line.find((version) => sameContent(version, entry));
    if (replayed !== undefined) {
      warnings.push(`correction #${entry.index} repeats #${replayed.index} word for word: ignored as a replay`);
      continue;
    }
    rootOf.set(entry.index, root);
    line.push(entry);
  }
  const effective = [...lines.values()].map((line) => ({
    original: line[0],
    current: line[line.length - 1],
    corrections: line.slice(1).map((version) => version.index),
  }));
  return { effective, warnings };
}

function samePeriod(a: DrivingRecord, b: DrivingRecord): boolean {
  return a.periodStart === b.periodStart && a.periodEnd === b.periodEnd;
}

function sameContent(a: LedgerRecord, b: LedgerRecord): boolean {
  const fields = Object.keys(a.record) as (keyof DrivingRecord)[];
  const same = fields.every((field) => field === "corrects" || a.record[field] === b.record[field]);
  return same && a.trust === b.trust;
}

function periodText(record: DrivingRecord): string {
  return `[${isoTime(record.periodStart)}, ${isoTime(record.periodEnd)})`;
}

/** Unix seconds as ISO 8601 UTC without milliseconds. */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** A time range in unix seconds, [from, to); either end may be open. */
export interface TimeRange {
  readonly from?: number;
  readonly to?: number;
}

/** Whether a record's period [start, end) overlaps the range. */
export function overlaps(record: DrivingRecord, range: TimeRange): boolean {
  const afterFrom = range.from === undefined || record.periodEnd > range.from;
  const beforeTo = range.to === undefined || record.periodStart < range.to;
  return afterFrom && beforeTo;
}

export interface UsageSummary {
  readonly records: number;
  readonly plateSigned: number;
  readonly corrected: number;
  readonly distanceKm: number;
  readonly drivingHours: number;
  readonly harshBraking: number;
  readonly harshAcceleration: number;
  /** Harsh braking and acceleration events per 100 km; null without distance. */
  readonly harshEventsPer100Km: number | null;
  /** Share of driving time over the speed limit, 0..1; null without driving time. */
  readonly speedingShare: number | null;
  /** Share of distance driven at night, 0..1; null without distance. */
  readonly nightShare: number | null;
  /** Stretches of time between consecutive records that no record covers, in seconds in total. */
  readonly uncoveredSeconds: number;
}

/**
 * Usage over the records in force. Records overlapping the range's edges count in full: aggregates are per period
 * and cannot be split.
 */
export function summarize(effective: readonly EffectiveRecord[]): UsageSummary {
  let distance = 0;
  let driving = 0;
  let braking = 0;
  let acceleration = 0;
  let speeding = 0;
  let night = 0;
  let plateSigned = 0;
  let uncovered = 0;
  let previousEnd: number | undefined;
  for (const { current } of effective) {
    const r = current.record;
    distance += r.distanceMeters;
    driving += r.drivingSeconds;
    braking += r.harshBrakingCount;
    acceleration += r.harshAccelerationCount;
    speeding += r.speedingSeconds;
    night += r.nightDistanceMeters;
    if (current.trust === TrustLevel.PlateSigned) plateSigned++;
    if (previousEnd !== undefined && r.periodStart > previousEnd) uncovered += r.periodStart - previousEnd;
    previousEnd = Math.max(previousEnd ?? 0, r.periodEnd);
  }
  return {
    records: effective.length,
    plateSigned,
    corrected: effective.filter((e) => e.corrections.length > 0).length,
    distanceKm: distance / 1000,
    drivingHours: driving / 3600,
    harshBraking: braking,
    harshAcceleration: acceleration,
    harshEventsPer100Km: distance === 0 ? null : ((braking + acceleration) * 100_000) / distance,
    speedingShare: driving === 0 ? null : speeding / driving,
    nightShare: distance === 0 ? null : night / distance,
    uncoveredSeconds: uncovered,
  };
}

export interface VehicleIdentity {
  readonly vehicleId: bigint;
  readonly plate: string;
  readonly owner: string;
}

export interface ChainState {
  readonly head: string;
  readonly count: number;
  readonly lastPeriodEnd: number;
}

/** Why a consent is or is not in force. */
export type ConsentState = "active" | "none" | "expired" | "void-after-sale";

export interface ConsentStatus {
  readonly state: ConsentState;
  readonly insurer: string;
  /** The owner who granted it; the zero address when none was granted. */
  readonly grantor: string;
  /** Unix seconds; 0 when none was granted. */
  readonly expiry: number;
  /** In force at the report's block: granted, not expired, and the grantor still owns the vehicle. */
  readonly active: boolean;
}

export interface VehicleReport {
  readonly vehicle: VehicleIdentity;
  readonly chainId: bigint;
  readonly ledger: string;
  /** Every on-chain read of the report is made at this block, so the logs and the head agree. */
  readonly blockNumber: number;
  /** The timestamp of that block, unix seconds. */
  readonly blockTime: number;
  readonly range: TimeRange;
  readonly chain: ChainState;
  readonly verification: ChainVerification;
  /** The vehicle's whole chain as fetched. */
  readonly records: readonly LedgerRecord[];
  /** The records in force whose period overlaps the range. */
  readonly inRange: readonly EffectiveRecord[];
  readonly correctionWarnings: readonly string[];
  readonly consent: ConsentStatus;
  readonly summary: UsageSummary;
}

export interface InsurerClientConfig {
  readonly ledgerAddress: string;
  readonly registryAddress: string;
  /** The block to scan logs from: the ledger's deployment block. */
  readonly startBlock: number;
  /** The widest block range of one `eth_getLogs` call. */
  readonly maxBlockSpan?: number;
}

/** Reads driving records, chain state and consent from one ledger deployment through any ethers provider. */
export class InsurerClient {
  readonly ledger: IDrivingRecordLedger;
  readonly registry: IVehicleRegistry;
  readonly startBlock: number;
  readonly maxBlockSpan: number;

  constructor(
    readonly provider: Provider,
    config: InsurerClientConfig,
  ) {
    if (!Number.isSafeInteger(config.startBlock) || config.startBlock < 0) {
      throw new InsurerError(`startBlock must be a non-negative integer, got ${config.startBlock}`);
    }
    const span = config.maxBlockSpan ?? DEFAULT_MAX_BLOCK_SPAN;
    if (!Number.isSafeInteger(span) || span < 1) {
      throw new InsurerError(`maxBlockSpan must be a positive integer, got ${span}`);
    }
    this.ledger = IDrivingRecordLedger__factory.connect(config.ledgerAddress, provider);
    this.registry = IVehicleRegistry__factory.connect(config.registryAddress, provider);
    this.startBlock = config.startBlock;
    this.maxBlockSpan = span;
  }

  /**
   * A client for a manifest's deployment, after checking that the provider is on the manifest's chain, that the
   * ledger is deployed there and that it reads the manifest's registry.
   */
  static async fromManifest(
    provider: Provider,
    manifest: DeploymentManifest,
    options: { readonly maxBlockSpan?: number; readonly startBlock?: number } = {},
  ): Promise<InsurerClient> {
    const { chainId } = await provider.getNetwork();
    if (chainId !== BigInt(manifest.chainId)) {
      throw new InsurerError(
        `the manifest is for chain ${manifest.chainId} (${manifest.network}), the RPC endpoint serves chain ${chainId}`,
      );
    }
    const { DrivingRecordLedger: ledger, VehicleRegistry: registry } = manifest.contracts;
    if ((await provider.getCode(ledger.address)) === "0x") {
      throw new InsurerError(`no contract at the manifest's DrivingRecordLedger address ${ledger.address}`);
    }
    const client = new InsurerClient(provider, {
      ledgerAddress: ledger.address,
      registryAddress: registry.address,
      startBlock: options.startBlock ?? ledger.blockNumber,
      maxBlockSpan: options.maxBlockSpan,
    });
    const ledgerRegistry = await client.ledger.registry();
    if (getAddress(ledgerRegistry) !== registry.address) {
      throw new InsurerError(
        `the ledger reads registry ${ledgerRegistry}, the manifest names VehicleRegistry ${registry.address}`,
      );
    }
    return client;
  }

  /** A vehicle by id (decimal) or by its current plate key (address). */
  async resolveVehicle(vehicle: string, blockTag?: number): Promise<VehicleIdentity> {
    const overrides = { blockTag };
    let vehicleId: bigint;
    if (isAddress(vehicle)) {
      vehicleId = await this.registry.vehicleIdOfPlate(vehicle, overrides);
      if (vehicleId === 0n) {
        const revoked = await this.registry.isPlateRevoked(vehicle, overrides);
        throw new InsurerError(
          revoked
            ? `plate ${vehicle} was revoked by a plate rotation: ask by vehicle id instead`
            : `no vehicle carries plate ${vehicle}`,
        );
      }
    } else if (/^[0-9]+$/.test(vehicle)) {
      vehicleId = BigInt(vehicle);
    } else {
      throw new InsurerError(`vehicle "${vehicle}" is neither a vehicle id nor a plate address`);
    }
    const [, status] = await this.registry.classAndStatus(vehicleId, overrides);
    if (status === 0n) throw new InsurerError(`vehicle ${vehicleId} is not registered`);
    const info = await this.registry.vehicle(vehicleId, overrides);
    return { vehicleId, plate: info.plate, owner: info.owner };
  }

  /** The vehicle's chain state at `blockTag`. */
  async chainAt(vehicleId: bigint, blockTag: number): Promise<ChainState> {
    const [head, count, lastPeriodEnd] = await this.ledger.chainOf(vehicleId, { blockTag });
    return { head, count: Number(count), lastPeriodEnd: Number(lastPeriodEnd) };
  }

  /** Every record of the vehicle logged from the start block to `toBlock`, in chain order, `maxBlockSpan` at a time. */
  async fetchRecords(vehicleId: bigint, toBlock: number): Promise<LedgerRecord[]> {
    // RecordAppended is anonymous: its one topic is the vehicle id, and ethers cannot tell its logs by a topic hash,
    // so the logs are fetched by topic and decoded with the event's fragment.
    const event = this.ledger.interface.getEvent("RecordAppended");
    const topics = this.ledger.interface.encodeFilterTopics(event, [vehicleId]);
    const address = await this.ledger.getAddress();
    const records: LedgerRecord[] = [];
    for (let from = this.startBlock; from <= toBlock; from += this.maxBlockSpan) {
      const to = Math.min(from + this.maxBlockSpan - 1, toBlock);
      const logs = await this.provider.getLogs({ address, topics, fromBlock: from, toBlock: to });
      for (const log of logs) {
        const link = decodeRecordLog(this.ledger.interface, log);
        records.push({
          vehicleId: link.vehicleId,
          index: link.index,
          head: link.head,
          reporter: link.reporter,
          trust: link.trust,
          record: link.record,
          blockNumber: log.blockNumber,
          transactionHash: log.transactionHash,
          logIndex: log.index,
        });
      }
    }
    return records;
  }

  /** The consent `insurer` holds for the vehicle at block `blockTag`, whose timestamp is `blockTime`. */
  async consentAt(vehicleId: bigint, insurer: string, blockTag: number, blockTime: number): Promise<ConsentStatus> {
    if (!isAddress(insurer)) throw new InsurerError(`insurer "${insurer}" is not an address`);
    const [grantor, rawExpiry, active] = await this.ledger.consentOf(vehicleId, insurer, { blockTag });
    const expiry = Number(rawExpiry);
    let state: ConsentState = "active";
    if (grantor === ZeroAddress) state = "none";
    else if (expiry <= blockTime) state = "expired";
    else if (!active) state = "void-after-sale";
    return { state, insurer: getAddress(insurer), grantor, expiry, active };
  }

  /**
   * The full report on one vehicle: its whole chain fetched and verified, the records in force in `range`, the
   * consent `insurer` holds and a usage summary. All reads are made at one block.
   */
  async report(vehicle: string, options: { readonly range?: TimeRange; readonly insurer: string }): Promise<VehicleReport> {
    const range = options.range ?? {};
    if (range.from !== undefined && range.to !== undefined && range.from >= range.to) {
      throw new InsurerError(`the range is empty: from ${isoTime(range.from)} is not before to ${isoTime(range.to)}`);
    }
    const block = await this.provider.getBlock("latest");
    if (block === null) throw new InsurerError("the RPC endpoint returned no latest block");
    const blockNumber = block.number;
    const identity = await this.resolveVehicle(vehicle, blockNumber);
    const [chain, records, consent, network] = await Promise.all([
      this.chainAt(identity.vehicleId, blockNumber),
      this.fetchRecords(identity.vehicleId, blockNumber),
      this.consentAt(identity.vehicleId, options.insurer, blockNumber, block.timestamp),
      this.provider.getNetwork(),
    ]);
    const verification = verifyChain(records, chain.head, chain.count);
    const { effective, warnings } = resolveCorrections(records);
    const inRange = effective.filter((e) => overlaps(e.original.record, range));
    return {
      vehicle: identity,
      chainId: network.chainId,
      ledger: await this.ledger.getAddress(),
      blockNumber,
      blockTime: block.timestamp,
      range,
      chain,
      verification,
      records,
      inRange,
      correctionWarnings: warnings,
      consent,
      summary: summarize(inRange),
    };
  }
}
