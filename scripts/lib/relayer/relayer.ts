/**
 * The relayer in one call: {runRelayer} reads readings, validates and journals them, batches and signs them per
 * gantry, and settles the batches on the TollEscrow through the transaction queue, until the input ends (or, when
 * following, until the signal fires). The CLI (`scripts/oracle.ts`) is a thin wrapper; tests and the fleet simulator
 * call it in-process with their own provider, signers, input stream and signal.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { setImmediate } from "node:timers/promises";
import path from "node:path";

import { JsonRpcApiProvider, type Provider, type Signer } from "ethers";

// The two interfaces only: the package index would also load every contract's bytecode, slowing each restart.
import { ITollEscrow__factory } from "../../../typechain-types/factories/interfaces/ITollEscrow__factory.js";
import type { ITollEscrow } from "../../../typechain-types/index.js";
import { IVehicleRegistry__factory } from "../../../typechain-types/factories/interfaces/IVehicleRegistry__factory.js";
import { encodeScans, signScanBatch } from "../scans.js";

import { errorMessage, readAhead, sleep } from "./async.js";
import { Batcher } from "./batcher.js";
import type { RelayerConfig } from "./config.js";
import { Journal, type ReadingRecord } from "./journal.js";
import { createLogger, type Logger } from "./logger.js";
import { readLineGroups, type InputLine, type InputSource } from "./reader.js";
import { Rpc } from "./rpc.js";
import { TxQueue } from "./sender.js";
import { newStats, type RelayerStats } from "./stats.js";
import { PlateResolver, Validator, type Verdict } from "./validator.js";

/** How long a graceful stop waits for transactions in flight to confirm: enough for a block or two on an L2 or a
 * local node, and under the 10 s a container runtime allows between SIGTERM and SIGKILL. */
export const SHUTDOWN_GRACE_MS = 8_000;
/** Batches queued or in flight, per allowed in-flight transaction, before reading pauses: keeps memory bounded
 * when the input outruns the chain, while leaving the queue enough work to keep every slot busy. */
export const BACKLOG_PER_IN_FLIGHT = 4;
/** Groups of input lines read ahead of validation, their plates looked up meanwhile: a lookup waits at the node
 * behind the batches it is mining, and a group waiting for one would otherwise hold up reading. */
export const READ_AHEAD_GROUPS = 8;
/** Oracle keys checked against the escrow at start: every gantry of a normal operator, while a typo'd range of
 * thousands costs a bounded number of calls. */
const MAX_ORACLE_KEY_CHECKS = 1_000;
const ORACLE_KEY_CHECK_PARALLELISM = 32;
/** Characters of a rejected line kept in the rejects file: enough to recognise it, bounded for hostile input. */
export const REJECT_RAW_CHARS = 200;

export interface RelayerContracts {
  readonly chainId: bigint;
  readonly registry: string;
  readonly escrow: string;
}

export interface RunRelayerOptions {
  readonly config: RelayerConfig;
  /** Where the relayer reads and sends; its chain must be `contracts.chainId`. */
  readonly provider: Provider;
  /** Pays the gas; must sign transactions locally (an ethers `Wallet`). */
  readonly gasSigner: Signer;
  /** The oracle key of every gantry this operator runs; readings of other gantries are rejected. */
  readonly oracleSigners: ReadonlyMap<number, Signer>;
  readonly contracts: RelayerContracts;
  /** Overrides `config.input` (a file, or standard input for "-"). */
  readonly input?: InputSource;
  /** Stops the run gracefully: reading stops, transactions in flight get {SHUTDOWN_GRACE_MS} to confirm. */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** The relayer's idea of now, in unix seconds (time checks and holding readings); the wall clock by default. */
  readonly clock?: () => number;
}

export interface RelayerSummary extends RelayerStats {
  /** Why the run ended. */
  readonly stoppedBy: "end-of-input" | "signal";
  /** What the journal still holds unfinished (settled by the next run). */
  readonly unfinished: { readonly readings: number; readonly batches: number };
  readonly durationMs: number;
}

/** Runs the relayer until the input ends or `signal` fires; returns what it did. Throws on a fatal error. */
export async function runRelayer(options: RunRelayerOptions): Promise<RelayerSummary> {
  const run = new RelayerRun(options);
  try {
    return await run.execute();
  } finally {
    run.dispose();
  }
}

class RelayerRun {
  readonly #o: RunRelayerOptions;
  readonly #config: RelayerConfig;
  readonly #logger: Logger;
  readonly #stats = newStats();
  readonly #startedAt = Date.now();
  readonly #clock: () => number;
  /** Graceful stop: no more reading or sending. Fired by the caller's signal or a fatal error. */
  readonly #stopping = new AbortController();
  /** Hard stop: RPC retries and confirmation polling give up. Fired after the grace period. */
  readonly #halting = new AbortController();
  #journal: Journal | undefined;
  #batcher: Batcher | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  #fatal: unknown = undefined;

  constructor(options: RunRelayerOptions) {
    this.#o = options;
    this.#config = options.config;
    this.#logger = options.logger ?? createLogger({ json: options.config.json });
    this.#clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
    const onAbort = () => this.#stopping.abort();
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
  }

  async execute(): Promise<RelayerSummary> {
    const { config, contracts, provider } = this.#o;
    const sendRpc = new Rpc({ logger: this.#logger, signal: this.#halting.signal, onRetry: () => this.#retried() });
    const readRpc = new Rpc({ logger: this.#logger, signal: this.#stopping.signal, onRetry: () => this.#retried() });
    const escrow = ITollEscrow__factory.connect(contracts.escrow, provider);
    const registry = IVehicleRegistry__factory.connect(contracts.registry, provider);
    const maxScans = await this.#checkChain(sendRpc, escrow.MAX_SCANS_PER_BATCH);
    await this.#checkOracleKeys(sendRpc, (gantryId, key) => escrow.isOracleKey(gantryId, key));
    const journal = Journal.open(config.dryRun ? ":memory:" : config.journalPath, contracts);
    this.#journal = journal;
    // The batcher and the queue feed each other: sealed batches go to the queue, unsettled scans come back.
    const batcher = this.#createBatcher(Math.min(config.batchSize, maxScans), () => queue);
    this.#batcher = batcher;
    const queue = this.#createQueue(escrow, journal, sendRpc, batcher);
    await this.#logStart(Math.min(config.batchSize, maxScans));
    await queue.recover();
    const sending = queue.run().catch((error: unknown) => this.#fail(error));
    for (const reading of journal.unbatchedReadings()) batcher.add(reading);
    this.#startProgress(queue, batcher);
    const validator = new Validator({
      journal,
      plates: new PlateResolver(registry, readRpc),
      gantries: new Set(this.#o.oracleSigners.keys()),
      clockSkewSeconds: config.clockSkewSeconds,
      maxLineBytes: config.maxLineBytes,
      now: this.#clock,
    });
    this.#logger.info("Relayer#ready", "reading input", { input: this.#inputName() });
    await this.#readInput(validator, batcher, queue);
    await this.#finish(batcher, queue, sending);
    if (this.#fatal !== undefined) throw this.#fatal;
    return this.#summary();
  }

  #createBatcher(maxBatchSize: number, queue: () => TxQueue): Batcher {
    return new Batcher({
      maxBatchSize,
      maxWaitMs: this.#config.maxWaitMs,
      seal: async (gantryId, readings) => this.#seal(queue(), gantryId, readings),
      onError: (error) => this.#fail(error),
      now: this.#clock,
    });
  }

  #createQueue(escrow: ITollEscrow, journal: Journal, rpc: Rpc, batcher: Batcher): TxQueue {
    const config = this.#config;
    return new TxQueue({
      provider: this.#o.provider,
      gasSigner: this.#o.gasSigner,
      escrow,
      journal,
      rpc,
      logger: this.#logger,
      stats: this.#stats,
      chainId: this.#o.contracts.chainId,
      confirmations: config.confirmations,
      maxInFlight: config.maxInFlight,
      broadcastDepth: config.broadcastDepth,
      stuckAfterMs: config.stuckAfterMs,
      pollIntervalMs: config.pollIntervalMs,
      maxFeePerGas: config.maxFeePerGas,
      maxGasPerTx: BigInt(config.maxGasPerTx),
      gasLimitMode: config.gasLimit,
      simulate: config.simulate,
      dryRun: config.dryRun,
      signBatch: async (gantryId, scans) => this.#sign(gantryId, scans),
      onUnsettled: (readings, chainTime) => {
        // Ahead of the chain's clock: try again once that much time has passed. Deferred for want of gas (not
        // ahead): batch again now.
        const now = this.#clock();
        for (const reading of readings) {
          const ahead = reading.timestamp - chainTime;
          batcher.add(reading, ahead > 0 ? now + ahead : reading.timestamp);
        }
      },
      stopSending: this.#stopping.signal,
    });
  }

  async #logStart(batchSize: number): Promise<void> {
    const { config, contracts } = this.#o;
    this.#logger.info("Relayer#start", config.dryRun ? "dry run started" : "relayer started", {
      network: config.network,
      chainId: contracts.chainId,
      escrow: contracts.escrow,
      gasAccount: await this.#o.gasSigner.getAddress(),
      gantries: describeGantries([...this.#o.oracleSigners.keys()]),
      batchSize,
      journal: config.dryRun ? "(in memory)" : config.journalPath,
    });
  }

  dispose(): void {
    clearInterval(this.#progressTimer);
    this.#batcher?.discard();
    this.#stopping.abort();
    this.#halting.abort();
    this.#journal?.close();
  }

  // --- input ------------------------------------------------------------------------------------------------------

  async #readInput(validator: Validator, batcher: Batcher, queue: TxQueue): Promise<void> {
    const source = this.#source();
    const signal = this.#stopping.signal;
    // A stream (standard input) may block forever: destroying it is the only way to stop waiting on it.
    const destroy = () => (source.kind === "stream" ? destroyStream(source.stream) : undefined);
    signal.addEventListener("abort", destroy, { once: true });
    const backlogLimit = this.#config.maxInFlight * BACKLOG_PER_IN_FLIGHT;
    try {
      const groups = readLineGroups(source, {
        maxLineBytes: this.#config.maxLineBytes,
        pollIntervalMs: this.#config.pollIntervalMs,
        signal,
        onRestart: (file) =>
          this.#logger.warn("Reader#follow", "input shrank; reading it again from the start", { file }),
      });
      for await (const group of readAhead(groups, READ_AHEAD_GROUPS, (ahead) => validator.prefetch(ahead))) {
        if (signal.aborted) break;
        this.#stats.linesRead += group.length;
        const lines = group.filter((line) => line.tooLong || line.text.trim() !== "");
        if (lines.length > 0) await this.#take(lines, validator, batcher);
        await queue.waitForRoom(backlogLimit);
        // Groups read ahead chain on promises alone: without a turn of the event loop here, the node's answers (and
        // the broadcasts they release) would wait for the whole read-ahead to be validated.
        await setImmediate();
      }
    } catch (error) {
      // Reading ends quietly when it was stopped on purpose (a destroyed stream, an interrupted registry lookup).
      if (!signal.aborted) throw error;
    } finally {
      signal.removeEventListener("abort", destroy);
    }
  }

  /**
   * Validates a group of lines and journals its readings and rejects in one commit; only then are they counted,
   * batched and written to the rejects file, after which the journal notes the rejects as reported. A kill at any
   * point loses nothing acknowledged: the next run reads the group again, the journal skips what it holds, and a
   * reject it holds as unreported goes to the rejects file then (a kill between the file and that note can write a
   * line to the file twice, never leave it out).
   */
  async #take(lines: readonly InputLine[], validator: Validator, batcher: Batcher): Promise<void> {
    const verdicts = await validator.validateGroup(lines);
    const readings: ReadingRecord[] = [];
    const rejects: Rejected[] = [];
    verdicts.forEach((verdict, index) => {
      if (verdict.kind === "accepted") readings.push(verdict.reading);
      else if (verdict.kind === "rejected") rejects.push({ line: lines[index], verdict });
    });
    this.#journal?.recordLines(
      readings,
      rejects
        .filter(({ verdict }) => verdict.journaled !== true)
        .map(({ line, verdict }) => ({ lineNo: line.lineNo, lineHash: verdict.lineHash, reason: verdict.reason })),
    );
    this.#stats.inputGroups++;
    this.#stats.replayed += verdicts.length - readings.length - rejects.length;
    this.#stats.accepted += readings.length;
    for (const reading of readings) batcher.add(reading);
    if (rejects.length > 0) this.#reject(rejects);
  }

  #reject(rejects: readonly Rejected[]): void {
    const stats = this.#stats;
    const at = new Date().toISOString();
    const records = rejects.map(({ line, verdict }) => {
      stats.rejected++;
      stats.rejectsByReason[verdict.reason] = (stats.rejectsByReason[verdict.reason] ?? 0) + 1;
      return {
        line: line.lineNo,
        reason: verdict.reason,
        detail: verdict.detail,
        raw: line.text.slice(0, REJECT_RAW_CHARS),
        at,
      };
    });
    if (this.#config.dryRun) {
      for (const record of records) {
        this.#logger.warn("Validator#reject", "reading rejected", { line: record.line, reason: record.reason });
      }
      return;
    }
    appendDurably(this.#config.rejectsPath, records.map((record) => JSON.stringify(record) + "\n").join(""));
    this.#journal?.markReported(
      rejects.map(({ line, verdict }) => ({ lineNo: line.lineNo, lineHash: verdict.lineHash })),
    );
    for (const record of records) {
      this.#logger.debug("Validator#reject", "reading rejected", { line: record.line, reason: record.reason });
    }
  }

  #source(): InputSource {
    if (this.#o.input !== undefined) return this.#o.input;
    if (this.#config.input === "-") return { kind: "stream", stream: process.stdin };
    return { kind: "file", path: this.#config.input, follow: this.#config.follow };
  }

  #inputName(): string {
    const source = this.#source();
    return source.kind === "file" ? source.path + (source.follow ? " (following)" : "") : "stream";
  }

  // --- batches ----------------------------------------------------------------------------------------------------

  async #seal(queue: TxQueue, gantryId: number, readings: readonly ReadingRecord[]): Promise<void> {
    const scans = encodeScans(
      readings.map((reading) => ({
        vehicleId: BigInt(reading.vehicleId),
        timestamp: BigInt(reading.timestamp),
        sequence: BigInt(reading.sequence),
      })),
    );
    const signature = await this.#sign(gantryId, scans);
    const journal = this.#journal;
    if (journal === undefined || !journal.isOpen) return;
    const sequences = readings.map((reading) => reading.sequence);
    const batchId = journal.createBatch({ gantryId, scans, signature, sequences });
    this.#stats.batchesSealed++;
    this.#logger.debug("Batcher#seal", "batch sealed", { batch: batchId, gantry: gantryId, scans: readings.length });
    queue.enqueue(batchId);
  }

  async #sign(gantryId: number, scans: string): Promise<string> {
    const oracle = this.#o.oracleSigners.get(gantryId);
    if (oracle === undefined) throw new Error(`no oracle key for gantry ${gantryId}`);
    return signScanBatch(oracle, this.#o.contracts.escrow, this.#o.contracts.chainId, gantryId, scans);
  }

  // --- lifecycle --------------------------------------------------------------------------------------------------

  /** Checks that the provider is on the manifest's chain and the escrow is deployed; returns MAX_SCANS_PER_BATCH. */
  async #checkChain(rpc: Rpc, maxScansPerBatch: () => Promise<bigint>): Promise<number> {
    const { provider, contracts } = this.#o;
    const chainId = await rpc.call("chainId", async () =>
      // A JSON-RPC provider pinned to a network would only echo it back: ask the node itself.
      provider instanceof JsonRpcApiProvider
        ? BigInt(String(await provider.send("eth_chainId", [])))
        : (await provider.getNetwork()).chainId,
    );
    if (chainId !== contracts.chainId) {
      throw new Error(`the RPC endpoint is on chain ${chainId}, the manifest on chain ${contracts.chainId}`);
    }
    for (const [name, address] of [
      ["TollEscrow", contracts.escrow],
      ["VehicleRegistry", contracts.registry],
    ] as const) {
      const code = await rpc.call("getCode", () => provider.getCode(address));
      if (code === "0x") throw new Error(`no ${name} contract at ${address} on chain ${contracts.chainId}`);
    }
    const maxScans = await rpc.call("MAX_SCANS_PER_BATCH", maxScansPerBatch);
    return Number(maxScans);
  }

  /** Warns about gantries whose oracle key the escrow does not accept: their batches would fail to simulate. */
  async #checkOracleKeys(rpc: Rpc, isOracleKey: (gantryId: number, key: string) => Promise<boolean>): Promise<void> {
    const gantries = [...this.#o.oracleSigners.entries()].slice(0, MAX_ORACLE_KEY_CHECKS);
    const refused: number[] = [];
    for (let start = 0; start < gantries.length; start += ORACLE_KEY_CHECK_PARALLELISM) {
      const chunk = gantries.slice(start, start + ORACLE_KEY_CHECK_PARALLELISM);
      const answers = await Promise.all(
        chunk.map(async ([gantryId, signer]) => {
          const key = await signer.getAddress();
          return rpc.call("isOracleKey", () => isOracleKey(gantryId, key));
        }),
      );
      chunk.forEach(([gantryId], index) => (answers[index] ? undefined : refused.push(gantryId)));
    }
    if (refused.length === 0) return;
    this.#logger.warn(
      "Relayer#start",
      "the escrow does not accept these gantries' oracle keys; their batches will fail",
      {
        gantries: refused,
      },
    );
  }

  async #finish(batcher: Batcher, queue: TxQueue, sending: Promise<void>): Promise<void> {
    // Until everything is settled: confirmations may hand back scans the escrow left unsettled (from the future).
    while (!this.#stopping.signal.aborted) {
      await batcher.flushAll(this.#stopping.signal);
      await queue.idle();
      if (batcher.waiting === 0 && batcher.held === 0) break;
    }
    if (this.#stopping.signal.aborted) {
      // Unsealed readings are journaled already: the next run batches them.
      batcher.discard();
      await batcher.idle();
    }
    queue.close();
    if (this.#stopping.signal.aborted) {
      this.#logger.info("Relayer#stop", "stopping: waiting for transactions in flight", { inFlight: queue.backlog });
      const drained = await Promise.race([sending.then(() => true), sleep(SHUTDOWN_GRACE_MS).then(() => false)]);
      if (!drained) this.#logger.warn("Relayer#stop", "grace period over; unconfirmed batches stay journaled");
    }
    this.#halting.abort();
    await sending;
  }

  #fail(error: unknown): void {
    if (this.#fatal === undefined) {
      this.#fatal = error;
      this.#logger.error("Relayer#fail", "fatal error; stopping", { error: errorMessage(error) });
    }
    this.#stopping.abort();
  }

  #retried(): void {
    this.#stats.rpcRetries++;
  }

  #startProgress(queue: TxQueue, batcher: Batcher): void {
    this.#progressTimer = setInterval(() => {
      const s = this.#stats;
      this.#logger.info("Relayer#progress", "progress", {
        accepted: s.accepted,
        rejected: s.rejected,
        replayed: s.replayed,
        waiting: batcher.waiting,
        held: batcher.held,
        backlog: queue.backlog,
        sent: s.batchesSent,
        confirmed: s.batchesConfirmed,
        failed: s.batchesFailed,
        scansConfirmed: s.scansConfirmed,
        gasUsed: s.gasUsed,
      });
    }, this.#config.progressIntervalMs);
    this.#progressTimer.unref();
  }

  #summary(): RelayerSummary {
    const counts = this.#journal?.counts();
    const unfinishedBatches =
      counts === undefined ? 0 : counts.batches.pending + counts.batches.sent + counts.batches.failed;
    const summary: RelayerSummary = {
      ...this.#stats,
      stoppedBy: this.#o.signal?.aborted === true ? "signal" : "end-of-input",
      unfinished: { readings: counts?.unbatched ?? 0, batches: this.#config.dryRun ? 0 : unfinishedBatches },
      durationMs: Date.now() - this.#startedAt,
    };
    this.#logger.info("Relayer#summary", "relayer finished", { ...summary });
    return summary;
  }
}

/** The gantry ids, or their count and range when there are too many to list in a log line. */
function describeGantries(ids: number[]): number[] | string {
  ids.sort((a, b) => a - b);
  return ids.length <= 32 ? ids : `${ids.length} gantries, ${ids[0]} to ${ids[ids.length - 1]}`;
}

/** Appends `text` to `file` (creating it and its directory) and returns once it is on disk. */
function appendDurably(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const bytes = Buffer.from(text, "utf-8");
  const fd = openSync(file, "a");
  try {
    for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

interface Rejected {
  readonly line: InputLine;
  readonly verdict: Extract<Verdict, { kind: "rejected" }>;
}

function destroyStream(stream: AsyncIterable<Uint8Array | string>): void {
  const destroyable = stream as { destroy?: unknown };
  if (typeof destroyable.destroy === "function") (destroyable.destroy as () => void).call(stream);
}
