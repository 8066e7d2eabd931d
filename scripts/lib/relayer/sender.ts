/**
 * The transaction queue: takes journaled batches, simulates them (`staticCall`), gives each a gas limit (the
 * escrow's bound for its size, capped at the per-transaction limit, sent as `submitScansWithinGas`, which defers what
 * the gas does not cover; or `estimateGas`, sent as `submitScans`, splitting any batch whose estimate would pass the
 * per-transaction limit), signs each transaction with a locally tracked nonce, journals it raw, then
 * broadcasts it and watches it until it has enough confirmations. Several transactions are in flight at once; one
 * not mined in time is replaced on the same nonce with a higher fee. After a crash, {TxQueue.recover} picks up the
 * journaled transactions: rebroadcasts them, or finds them mined, or finds their scans settled by another one; a
 * rebroadcast the node refuses frees its nonce as a refused new transaction does.
 *
 * Nothing here is lost by stopping at any point: a batch is `sent` in the journal before its transaction leaves, so
 * a restart always knows every nonce the relayer may have used, and the escrow settles each scan once however often
 * a batch is resent.
 */
import {
  JsonRpcApiProvider,
  makeError,
  Transaction,
  type JsonRpcPayload,
  type Provider,
  type Signer,
  type TransactionReceipt,
  type TransactionRequest,
  verifyTypedData,
} from "ethers";

import type { ITollEscrow } from "../../../typechain-types/index.js";
import {
  decodeScans,
  encodeScans,
  SCAN_BATCH_TYPES,
  SCAN_BYTES,
  scanBatchDomain,
  scanBatchGasLimit,
  settledBatchFromLogs,
  SkipReason,
  type Scan,
} from "../scans.js";

import { errorMessage, errorText, Signal, sleep } from "./async.js";
import type { GasLimitMode, SimulateMode } from "./config.js";
import type { BatchRecord, Journal, ReadingRecord, TxRecord } from "./journal.js";
import type { Logger } from "./logger.js";
import { RelayerStopped, type Rpc } from "./rpc.js";
import type { RelayerStats } from "./stats.js";

/** Gas limit over the estimate (`--gas-limit estimate`): the estimate is exact for the state it ran on, but batches in flight ahead of this
 * one change balances and arrears (cold vs warm slots, zero vs non-zero writes) before it is mined. */
export const GAS_LIMIT_HEADROOM_PERCENT = 25n;
/** Fee increase per replacement: nodes demand at least 10% on both fee fields to replace a transaction; 25% clears
 * that with margin and doubles the fee in three steps. */
export const REPLACEMENT_FEE_BUMP_PERCENT = 25n;
/** Replacements per transaction before the relayer stops bidding (the fee has grown about sixfold): past that,
 * something other than the fee is holding the transaction and an operator should look. */
export const MAX_REPLACEMENTS = 8;
/** Wait between broadcasts while the gas account cannot pay: long enough not to spam the node or the log, short
 * enough that a top-up is noticed quickly. */
export const INSUFFICIENT_FUNDS_RETRY_MS = 15_000;
/** How long a batch's nonce must look used by a transaction without a receipt of ours before the relayer believes
 * it: longer than a provider's response cache (ethers keeps answers 250 ms) and a node's receipt indexing lag, so a
 * transaction mined between two polls is never taken for a lost nonce (which would resend the batch for nothing). */
export const NONCE_TAKEN_GRACE_MS = 2_000;
/** While the escrow is paused, a batch is simulated again every this many polls (30 s at the default 1 s poll): a
 * pause lasts hours, so there is no hurry, but an unpause should be noticed within a minute. */
export const PAUSED_RECHECK_POLLS = 30;
/** Fee data is reused this long: a batch sent every few milliseconds needs no fresh quote each, and a bid one
 * second stale is still far above a base fee that can move at most 12.5% a block. */
export const FEE_DATA_MAX_AGE_MS = 1_000;
/** A quote this old still serves while a fresh one is on its way: ethers bids twice the base fee, which outlasts six
 * blocks of its steepest rise (12.5% a block), and a bid that falls short anyway is raised (fee too low). */
export const FEE_DATA_STALE_MS = 10_000;
/** `isScanSettled` calls in flight at once when a batch's fate is checked scan by scan. */
const SETTLED_CHECK_PARALLELISM = 32;
/** Why a batch signed on a nonce that became void is signed again. */
const VOID_NONCE = "a transaction ahead of it was refused or lost its nonce; it is signed again";

const ALREADY_KNOWN = /already known|known transaction|already imported|same hash was already/i;
const NONCE_TOO_LOW = /nonce too low|nonce has already been used|NONCE_EXPIRED/i;
/** A node that takes no transaction behind a nonce gap (Hardhat's automine) says so: with broadcasts pipelined, the
 * one ahead may not have reached it yet. */
const NONCE_TOO_HIGH = /nonce too high/i;
const FEE_TOO_LOW = /underpriced|too low for the next block|less than block base fee|fee cap|REPLACEMENT_UNDERPRICED/i;
const INSUFFICIENT_FUNDS = /insufficient funds|INSUFFICIENT_FUNDS/i;
/** A call that needs more than the per-transaction gas cap, which nodes also give eth_call. */
const OUT_OF_GAS = /out of gas|gas required exceeds/i;

export interface TxQueueOptions {
  readonly provider: Provider;
  /** Pays the gas; must sign transactions locally (`signTransaction`), as ethers' `Wallet` does. */
  readonly gasSigner: Signer;
  /** The escrow, connected to `provider`. */
  readonly escrow: ITollEscrow;
  readonly journal: Journal;
  /** Retries RPC calls; its signal is the hard stop. */
  readonly rpc: Rpc;
  readonly logger: Logger;
  readonly stats: RelayerStats;
  readonly chainId: bigint;
  readonly confirmations: number;
  readonly maxInFlight: number;
  /** Broadcasts on their way at once: 1 sends the next once the node has answered the last; more send it as soon
   * as the last has left, for a node that answers a broadcast only after mining it (a local automine node). */
  readonly broadcastDepth: number;
  readonly stuckAfterMs: number;
  readonly pollIntervalMs: number;
  readonly maxFeePerGas: bigint | undefined;
  /** Most gas one transaction may use, limit with headroom included; bigger batches are split. */
  readonly maxGasPerTx: bigint;
  /** `bound`: the escrow's worst case for the batch's size; `estimate`: eth_estimateGas plus headroom. */
  readonly gasLimitMode: GasLimitMode;
  /** `every` batch is simulated before it is sent, or a gantry's until one of them confirms (`first`). */
  readonly simulate: SimulateMode;
  /** Simulate only: nothing is signed for the chain or sent. */
  readonly dryRun: boolean;
  /** Signs a part of a batch that had to be split. */
  readonly signBatch: (gantryId: number, scans: string) => Promise<string>;
  /** Receives the readings of a confirmed batch that the escrow left unsettled (skipped as from the future, judged
   * by `chainTime`, the block's timestamp; or deferred for want of gas): they are unbatched in the journal and must
   * be sent again. */
  readonly onUnsettled: (readings: readonly ReadingRecord[], chainTime: number) => void;
  /** Fires on a graceful stop: no new transaction is sent; those in flight are still watched. */
  readonly stopSending: AbortSignal;
}

interface Fees {
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
}

type Plan =
  | { readonly kind: "send"; readonly gasLimit: bigint; readonly simulated: boolean }
  | { readonly kind: "split" }
  | { readonly kind: "wait"; readonly reason: string }
  | { readonly kind: "fail"; readonly reason: string };

/** What a simulation can answer besides "it settles". */
type Refusal = Exclude<Plan, { kind: "send" }>;

/** `void`: the node took no transaction on this nonce because one ahead never reached it (refused, or lost its
 * nonce): the nonce this one was signed on is void. */
type BroadcastOutcome = "accepted" | "nonce-taken" | "fee-too-low" | "void" | { readonly rejected: string };

/** A broadcast's place in the lane: when it has left (the next may leave then, with a deeper pipeline) and when the
 * node has answered it. */
interface LaneEntry {
  readonly left: Promise<void>;
  readonly answered: Promise<void>;
}

/** What a broadcast needs of the lane: to say when it has left, and to wait for the one ahead of it. */
interface LaneTurn {
  readonly epoch: number;
  readonly left: () => void;
  /** Resolves once the broadcast ahead has been answered (at once if there is none). */
  readonly ahead: Promise<void>;
}

export class TxQueue {
  readonly #o: TxQueueOptions;
  /** The escrow call every batch is simulated and sent as: with the bound as gas limit, the call that defers what a
   * capped limit does not cover; with an estimate, the one that settles all or reverts. */
  readonly #submit: ITollEscrow["submitScans"];
  readonly #queue: number[] = [];
  readonly #inFlight = new Map<number, Promise<void>>();
  readonly #wake = new Signal();
  readonly #room = new Signal();
  #closed = false;
  #processing = false;
  #fatal: unknown = undefined;
  #from = "";
  #nextNonce = 0;
  /** The latest fee quote asked for, and the latest answered. */
  #fees: { readonly at: number; readonly quote: Promise<Fees> } | undefined;
  #answeredFees: { readonly at: number; readonly fees: Fees } | undefined;
  /** Gantries whose batches go unsimulated (`simulate: "first"`): one of their batches confirmed since the last
   * on-chain revert. */
  readonly #proven = new Set<number>();
  /** Probes started when their batches were queued (see {#probeEarly}), by batch id, until the batch is planned. */
  readonly #earlyProbes = new Map<number, Promise<Refusal | undefined>>();
  /** The probe that passed for each gantry not yet proven, shared by its batches (see {#simulate}). */
  readonly #gantryProbes = new Map<number, Promise<Refusal | undefined>>();
  /** Batches whose transaction reverted on-chain once in this run. */
  readonly #revertedBefore = new Set<number>();
  /** The latest broadcasts queued, oldest first, as many as may be on their way at once (`broadcastDepth`). */
  readonly #lane: LaneEntry[] = [];
  /** Moves on when the nonces handed out so far but not yet broadcast are void. */
  #epoch = 0;
  /** Chain answers every watcher needs (an account's mined nonce, the head), shared within half a poll interval:
   * with many batches in flight, one call per poll rather than one per batch. */
  readonly #shared = new Map<string, { readonly at: number; readonly answer: Promise<number> }>();

  constructor(options: TxQueueOptions) {
    this.#o = options;
    this.#submit = options.gasLimitMode === "bound" ? options.escrow.submitScansWithinGas : options.escrow.submitScans;
  }

  /** Batches waiting, being prepared, or in flight. */
  get backlog(): number {
    return this.#queue.length + this.#inFlight.size + (this.#processing ? 1 : 0);
  }

  /** Reads the gas account's nonce and takes over what the journal says was left unfinished. Call once, first. */
  async recover(): Promise<void> {
    this.#from = await this.#o.gasSigner.getAddress();
    const journal = this.#o.journal;
    for (const batch of journal.batchesInState("failed")) journal.requeue(batch.id);
    // In nonce order, the order they left in: a node takes no transaction behind a nonce gap (Hardhat's automine) or
    // holds it back until the gap is filled.
    const sent = journal.batchesInState("sent").sort((a, b) => (a.nonce ?? 0) - (b.nonce ?? 0));
    if (!this.#o.dryRun) await this.#initNonce(sent);
    for (const batch of sent) await this.#recoverSent(batch);
    for (const batch of journal.batchesInState("pending")) this.enqueue(batch.id);
    if (sent.length > 0 || this.#queue.length > 0) {
      this.#o.logger.info("TxQueue#recover", "resuming journaled batches", {
        inFlight: this.#inFlight.size,
        pending: this.#queue.length,
        nextNonce: this.#nextNonce,
      });
    }
  }

  enqueue(batchId: number): void {
    this.#queue.push(batchId);
    this.#probeEarly(batchId);
    this.#wake.notify();
  }

  /** No more batches will be enqueued: {run} returns once the queue is empty and nothing is in flight. */
  close(): void {
    this.#closed = true;
    this.#wake.notify();
  }

  /** Waits until the backlog is below `limit` (or sending stops). */
  async waitForRoom(limit: number): Promise<void> {
    while (this.backlog >= limit && !this.#o.stopSending.aborted && this.#fatal === undefined) {
      await this.#room.wait(this.#o.stopSending);
    }
  }

  /** Waits until every batch enqueued so far is confirmed or failed (or sending stops). */
  async idle(): Promise<void> {
    await this.waitForRoom(1);
  }

  /** Sends and watches batches until closed and drained, or stopped. Throws what went fatally wrong. */
  async run(): Promise<void> {
    while (!this.#o.stopSending.aborted && this.#fatal === undefined) {
      if (this.#inFlight.size >= this.#o.maxInFlight) {
        await Promise.race(this.#inFlight.values());
        continue;
      }
      const batchId = this.#queue.shift();
      if (batchId !== undefined) {
        this.#processing = true;
        await this.#guard(this.#process(batchId));
        this.#processing = false;
        this.#room.notify();
      } else if (this.#inFlight.size > 0) {
        await Promise.race([...this.#inFlight.values(), this.#wake.wait()]);
      } else if (this.#closed) {
        break;
      } else {
        await this.#wake.wait(this.#o.stopSending);
      }
    }
    await Promise.all(this.#inFlight.values());
    this.#room.notify();
    if (this.#fatal !== undefined) throw this.#fatal;
  }

  // --- one batch, from pending to sent ----------------------------------------------------------------------------

  async #process(batchId: number): Promise<void> {
    const batch = this.#o.journal.batch(batchId);
    if (batch === undefined || batch.state !== "pending") return;
    const plan = await this.#plan(batch);
    if (plan.kind === "wait") return this.#waitAndRetry(batch, plan.reason);
    if (plan.kind === "fail") return this.#fail(batch, plan.reason);
    if (plan.kind === "split") return this.#split(batch);
    if (this.#o.dryRun) {
      this.#o.logger.info("TxQueue#simulate", "dry run: batch would be sent", {
        batch: batch.id,
        gantry: batch.gantryId,
        scans: batch.scanCount,
        gasLimit: plan.gasLimit,
      });
      return;
    }
    await this.#sendNew(batch, plan);
  }

  /** Simulates the batch unless its gantry is proven (does it settle?), and sets its gas limit: the escrow's bound
   * (capped; the escrow defers what it does not cover), or an estimate (split when over the cap). */
  async #plan(batch: BatchRecord): Promise<Plan> {
    const proven = this.#o.simulate === "first" && !this.#o.dryRun && this.#proven.has(batch.gantryId);
    const early = this.#earlyProbes.get(batch.id);
    this.#earlyProbes.delete(batch.id);
    if (!proven) {
      const refusal = await (early ?? this.#simulate(batch));
      if (refusal !== undefined) return refusal;
    }
    if (this.#o.gasLimitMode === "bound") {
      // Sent as submitScansWithinGas: no state can make a batch need more than its bound, and a batch whose bound
      // passes the cap settles what the cap covers and defers the rest, which comes back to be batched again.
      const bound = scanBatchGasLimit(batch.scanCount);
      return { kind: "send", gasLimit: bound < this.#o.maxGasPerTx ? bound : this.#o.maxGasPerTx, simulated: !proven };
    }
    let gas: bigint;
    try {
      gas = await this.#o.rpc.call("submitScans.estimateGas", () =>
        this.#o.escrow.submitScans.estimateGas(batch.gantryId, batch.scans, batch.signature, { from: this.#from }),
      );
    } catch (error) {
      if (error instanceof RelayerStopped) throw error;
      // An unsimulated batch that reverts fails to estimate too: tell that (paused, refused) from a batch too big.
      const refusal = proven ? await this.#simulate(batch) : undefined;
      if (refusal !== undefined) return refusal;
      // A batch over the block's or the transaction's gas limit fails to estimate: a smaller one may not.
      if (batch.scanCount > 1) return { kind: "split" };
      return {
        kind: "fail",
        reason: `gas estimation failed: ${describeRevert(error)}`,
      };
    }
    const gasLimit = (gas * (100n + GAS_LIMIT_HEADROOM_PERCENT)) / 100n;
    if (gasLimit <= this.#o.maxGasPerTx) return { kind: "send", gasLimit, simulated: !proven };
    if (batch.scanCount > 1) return { kind: "split" };
    return {
      kind: "fail",
      reason: `one scan needs ${gasLimit} gas with headroom, over the ${this.#o.maxGasPerTx} cap`,
    };
  }

  /** Runs the batch with eth_call: nothing when it settles, else whether to wait (paused), split (it ran out of the
   * per-transaction gas that nodes give a call) or fail, and why. With `simulate: "first"`, what is asked is whether
   * the gantry's batches settle at all (its registration, its oracle key, the escrow not paused): a probe of the
   * batch's first scan, signed by the same key, answers that at the cost of one scan instead of the whole batch,
   * and a probe that passed answers for the gantry's other batches until one confirms (or anything reverts). */
  async #simulate(batch: BatchRecord): Promise<Refusal | undefined> {
    const probe = this.#o.simulate === "first" && batch.scanCount > 1 ? await this.#probeOf(batch) : undefined;
    if (probe === undefined) return this.#simulateCall(batch, batch.scans, batch.signature);
    const shared = this.#gantryProbes.get(batch.gantryId);
    if (shared !== undefined) return shared;
    const asked = this.#simulateCall(batch, probe.scans, probe.signature);
    this.#gantryProbes.set(batch.gantryId, asked);
    const forget = () => {
      if (this.#gantryProbes.get(batch.gantryId) === asked) this.#gantryProbes.delete(batch.gantryId);
    };
    // Only a pass is shared: a refusal (a pause, say) is asked again by the next batch.
    asked.then((refusal) => refusal !== undefined && forget(), forget);
    return asked;
  }

  async #simulateCall(batch: BatchRecord, scans: string, signature: string): Promise<Refusal | undefined> {
    const args = [batch.gantryId, scans, signature] as const;
    const probe = scans !== batch.scans;
    this.#o.stats.batchesSimulated++;
    // The call that will be sent, with the most gas it may have: a bound-mode batch larger than that settles in
    // part; any other runs out of gas, and is split.
    try {
      await this.#o.rpc.call(`${this.#submit.name}.staticCall`, () =>
        this.#submit.staticCall(...args, { from: this.#from, gasLimit: this.#o.maxGasPerTx }),
      );
      return undefined;
    } catch (error) {
      if (error instanceof RelayerStopped) throw error;
      const reason = describeRevert(error);
      if (revertName(error) === "TollEscrowPaused") return { kind: "wait", reason };
      if (OUT_OF_GAS.test(errorText(error)) && !probe && batch.scanCount > 1) return { kind: "split" };
      return { kind: "fail", reason: `simulation reverted: ${reason}` };
    }
  }

  /**
   * With `simulate: "first"`, starts the probe of a batch of a gantry not yet proven as it joins the queue: planned
   * only when its turn comes, its probe would wait at the node behind the transaction being mined, and the next
   * broadcast behind the probe, leaving the node idle between transactions until every gantry is proven.
   */
  #probeEarly(batchId: number): void {
    if (this.#o.simulate !== "first" || this.#o.dryRun) return;
    const batch = this.#o.journal.batch(batchId);
    if (batch === undefined || batch.state !== "pending" || this.#proven.has(batch.gantryId)) return;
    const probe = this.#simulate(batch);
    // Met when the batch is planned; a stop may come first.
    probe.catch(() => undefined);
    this.#earlyProbes.set(batchId, probe);
  }

  /**
   * The batch's first scan as a batch of its own, signed by the gantry's key; or undefined when that key is not the
   * one that signed the batch (journaled by an earlier run, under a key since replaced): only the whole batch then
   * shows whether the escrow takes its signature.
   */
  async #probeOf(batch: BatchRecord): Promise<{ readonly scans: string; readonly signature: string } | undefined> {
    const scans = batch.scans.slice(0, 2 + 2 * SCAN_BYTES);
    const domain = scanBatchDomain(await this.#o.escrow.getAddress(), this.#o.chainId);
    const signerOf = (bytes: string, by: string) =>
      verifyTypedData(domain, SCAN_BATCH_TYPES, { gantryId: batch.gantryId, scans: bytes }, by);
    try {
      const signature = await this.#o.signBatch(batch.gantryId, scans);
      return signerOf(scans, signature) === signerOf(batch.scans, batch.signature) ? { scans, signature } : undefined;
    } catch {
      // No key for this gantry in this run, or a journaled signature that recovers no signer.
      return undefined;
    }
  }

  /** The escrow is paused: nothing settles until it is not, so the batch waits at the head of the queue. */
  async #waitAndRetry(batch: BatchRecord, reason: string): Promise<void> {
    const waitMs = this.#o.pollIntervalMs * PAUSED_RECHECK_POLLS;
    this.#o.logger.warn("TxQueue#simulate", "escrow paused; batch waits", {
      batch: batch.id,
      reason,
      retryInMs: waitMs,
    });
    this.#queue.unshift(batch.id);
    await sleep(waitMs, this.#o.stopSending);
  }

  async #split(batch: BatchRecord): Promise<void> {
    const scans = decodeScans(batch.scans);
    const half = Math.ceil(scans.length / 2);
    const parts = await Promise.all(
      [scans.slice(0, half), scans.slice(half)].map(async (part: Scan[]) => {
        const encoded = encodeScans(part);
        return {
          gantryId: batch.gantryId,
          scans: encoded,
          signature: await this.#o.signBatch(batch.gantryId, encoded),
          sequences: part.map((scan) => Number(scan.sequence)),
        };
      }),
    );
    const ids = this.#o.journal.splitBatch(batch.id, parts);
    this.#o.logger.info("TxQueue#split", "batch over the gas cap split in two", {
      batch: batch.id,
      gantry: batch.gantryId,
      scans: batch.scanCount,
      into: ids,
    });
    this.#queue.unshift(...ids);
  }

  /**
   * Signs the batch's transaction on the next nonce and queues its broadcast, then returns: the next batch is
   * planned and signed while this one is on its way. Broadcasts leave in nonce order, each once the node has answered
   * the one before (or, with a deeper `broadcastDepth`, once that one has left), so the node never sees a gap it
   * keeps. When one is refused or finds its nonce taken, the nonces handed out after it are void (the epoch moves
   * on): those batches are signed again.
   */
  async #sendNew(batch: BatchRecord, plan: Extract<Plan, { kind: "send" }>): Promise<void> {
    const epoch = this.#epoch;
    const nonce = this.#nextNonce++;
    const call = await this.#submit.populateTransaction(batch.gantryId, batch.scans, batch.signature);
    const request: TransactionRequest = {
      type: 2,
      chainId: this.#o.chainId,
      to: call.to,
      data: call.data,
      nonce,
      gasLimit: plan.gasLimit,
    };
    const fees = await this.#currentFees();
    const tx = await this.#signAndJournal(batch.id, { ...request, ...fees });
    this.#inLane(batch.id, epoch, (turn) => this.#broadcastNew(batch, tx, plan.simulated, turn));
  }

  /**
   * Queues a batch's broadcast behind the latest one queued and watches the batch once the node has taken it. It
   * leaves once the one ahead has left and, of the `broadcastDepth` queued before it, the first has been answered
   * (with depth 1: once the one ahead has been answered). If a broadcast ahead was refused or lost its nonce since
   * `epoch`, the nonce this one was signed on is void: it is not broadcast, and the batch is signed again.
   */
  #inLane(batchId: number, epoch: number, broadcast: (turn: LaneTurn) => Promise<boolean>): void {
    const ahead = this.#lane.at(-1);
    const window = this.#lane.length >= this.#o.broadcastDepth ? this.#lane[0] : undefined;
    let leave = (): void => {};
    const left = new Promise<void>((resolve) => (leave = resolve));
    const accepted = (async (): Promise<boolean> => {
      try {
        await ahead?.left;
        await window?.answered;
        if (epoch !== this.#epoch) {
          this.#requeue(batchId, VOID_NONCE);
          return false;
        }
        return await broadcast({ epoch, left: leave, ahead: ahead?.answered ?? Promise.resolve() });
      } finally {
        leave();
      }
    })();
    const answered = accepted.then(
      () => undefined,
      () => undefined,
    );
    this.#lane.push({ left, answered });
    if (this.#lane.length > this.#o.broadcastDepth) this.#lane.shift();
    this.#watch(batchId, accepted);
  }

  /** Broadcasts a batch's first transaction; true once the node took it. */
  async #broadcastNew(batch: BatchRecord, first: TxRecord, simulated: boolean, turn: LaneTurn): Promise<boolean> {
    const { outcome, tx } = await this.#broadcastBidding(batch.id, first, turn);
    if (outcome === "accepted") {
      this.#o.stats.batchesSent++;
      this.#o.logger.info("TxQueue#send", "batch sent", {
        batch: batch.id,
        gantry: batch.gantryId,
        scans: batch.scanCount,
        nonce: tx.nonce,
        tx: tx.hash,
        simulated,
      });
      return true;
    }
    if (outcome === "void") {
      this.#requeue(batch.id, VOID_NONCE);
      return false;
    }
    if (outcome === "nonce-taken") {
      // Another sender used this account's nonce: learn the real next one and send the batch again.
      this.#signFrom(await this.#pendingNonce());
      this.#requeue(batch.id, "its nonce was taken by another transaction");
      return false;
    }
    // The node refused the transaction itself; nothing holds its nonce, so the next batch signed takes it, and
    // those already signed after it (not broadcast: they wait behind this one) are signed again.
    this.#signFrom(tx.nonce);
    this.#fail(batch, `transaction refused: ${outcome.rejected}`);
    return false;
  }

  /**
   * Broadcasts `first`, and while the fee is too low (the base fee rose since it was signed, or the ceiling is below
   * the market) signs it again on the same nonce with a higher bid, shortly after. Returns the node's answer to the
   * last transaction signed, and that transaction.
   */
  async #broadcastBidding(
    batchId: number,
    first: TxRecord,
    turn: LaneTurn,
  ): Promise<{ readonly outcome: Exclude<BroadcastOutcome, "fee-too-low">; readonly tx: TxRecord }> {
    let tx = first;
    for (;;) {
      const outcome = await this.#broadcast(tx, turn);
      if (outcome !== "fee-too-low") return { outcome, tx };
      if (!(await sleep(this.#o.pollIntervalMs, this.#o.rpc.signal))) throw new RelayerStopped();
      tx = await this.#resign(batchId, tx, await this.#bumpedFees(tx));
    }
  }

  /** Signs `tx` again, the same call on the same nonce, with `fees`, and journals it. */
  async #resign(batchId: number, tx: TxRecord, fees: Fees): Promise<TxRecord> {
    const previous = Transaction.from(tx.raw);
    return this.#signAndJournal(batchId, {
      type: 2,
      chainId: this.#o.chainId,
      to: previous.to,
      data: previous.data,
      nonce: previous.nonce,
      gasLimit: previous.gasLimit,
      ...fees,
    });
  }

  async #signAndJournal(batchId: number, request: TransactionRequest): Promise<TxRecord> {
    const raw = await this.#o.gasSigner.signTransaction({
      ...request,
      from: this.#from,
    });
    const tx = Transaction.from(raw);
    const record: TxRecord = {
      hash: tx.hash ?? "",
      batchId,
      from: this.#from,
      nonce: tx.nonce,
      maxFeePerGas: tx.maxFeePerGas ?? 0n,
      maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? 0n,
      raw,
    };
    // Journaled before it leaves: after a crash the relayer knows every nonce it may have used.
    this.#o.journal.recordTransaction(record);
    return record;
  }

  /** Broadcasts `tx`; says it has left once the request is out (the lane may then send the next one). */
  async #broadcast(tx: TxRecord, turn: LaneTurn): Promise<BroadcastOutcome> {
    let waitedForAhead = false;
    for (;;) {
      try {
        // The request is on its way before `left` (see #sendRaw: an HTTP request of its own, started at once). One
        // sent later may still overtake it on another connection: the node then answers that one "nonce too high".
        const sent = this.#o.rpc.call("sendRawTransaction", () => this.#sendRaw(tx.raw));
        turn.left();
        await sent;
        return "accepted";
      } catch (error) {
        if (error instanceof RelayerStopped) throw error;
        const text = errorText(error);
        if (ALREADY_KNOWN.test(text)) return "accepted";
        if (NONCE_TOO_HIGH.test(text) && !waitedForAhead) {
          // The broadcast ahead had not reached the node (pipelined): once it has been answered, either this nonce
          // is next and the same transaction goes again, or the one ahead was refused and this nonce is void.
          waitedForAhead = true;
          this.#o.logger.info(
            "TxQueue#broadcast",
            "transaction reached the node before the one ahead; waiting for it",
            {
              tx: tx.hash,
              nonce: tx.nonce,
            },
          );
          await turn.ahead;
          if (turn.epoch !== this.#epoch) return "void";
          continue;
        }
        if (NONCE_TOO_LOW.test(text)) return (await this.#receipt(tx.hash)) === null ? "nonce-taken" : "accepted";
        if (FEE_TOO_LOW.test(text)) return "fee-too-low";
        if (!INSUFFICIENT_FUNDS.test(text)) {
          // A Hardhat node answers a transaction that reverted with an error, after mining it: if it has a
          // receipt, the node took it (and the receipt tells the rest).
          return (await this.#receipt(tx.hash)) === null ? { rejected: errorMessage(error) } : "accepted";
        }
        this.#o.logger.error("TxQueue#broadcast", "gas account cannot pay for the transaction; waiting for funds", {
          account: this.#from,
          tx: tx.hash,
        });
        if (!(await sleep(INSUFFICIENT_FUNDS_RETRY_MS, this.#o.rpc.signal))) throw new RelayerStopped();
      }
    }
  }

  // --- one transaction, from sent to confirmed --------------------------------------------------------------------

  /** Watches a batch in flight until it is confirmed; `broadcast`, when given, must first report it accepted. */
  #watch(batchId: number, broadcast?: Promise<boolean>): void {
    const follow = async (): Promise<void> => {
      if (broadcast !== undefined && !(await broadcast)) return;
      await this.#confirm(batchId);
    };
    const watching = this.#guard(follow()).finally(() => {
      this.#inFlight.delete(batchId);
      this.#room.notify();
      this.#wake.notify();
    });
    this.#inFlight.set(batchId, watching);
  }

  /** Polls until the batch's transaction is confirmed, replacing it when stuck. */
  async #confirm(batchId: number): Promise<void> {
    let lastBroadcastAt = Date.now();
    let replacements = 0;
    let nonceGoneSince: number | undefined;
    while (!this.#o.rpc.signal.aborted) {
      const latest = this.#latestTx(batchId);
      // Nonce first, receipts second: a transaction mined between the two calls still shows its receipt.
      const nonceUsed = (await this.#minedNonce(latest.from)) > latest.nonce;
      // No transaction of the batch can have a receipt while its nonce is unused.
      const receipt = nonceUsed ? await this.#findReceipt(batchId) : null;
      nonceGoneSince = receipt === null && nonceUsed ? (nonceGoneSince ?? Date.now()) : undefined;
      if (receipt !== null) {
        if (await this.#settle(batchId, receipt)) return;
      } else if (nonceGoneSince !== undefined) {
        if (Date.now() - nonceGoneSince >= NONCE_TAKEN_GRACE_MS) return this.#settleWithoutReceipt(batchId);
      } else if (Date.now() - lastBroadcastAt >= this.#o.stuckAfterMs && !this.#o.stopSending.aborted) {
        if (replacements < MAX_REPLACEMENTS && (await this.#replace(batchId, latest))) replacements++;
        lastBroadcastAt = Date.now();
      }
      await sleep(this.#o.pollIntervalMs, this.#o.rpc.signal);
    }
  }

  /** Finishes a batch whose transaction has a receipt; false while confirmations are still missing. */
  async #settle(batchId: number, receipt: TransactionReceipt): Promise<boolean> {
    const batch = this.#batch(batchId);
    if (receipt.status !== 1) {
      await this.#reverted(batch, receipt);
      return true;
    }
    this.#proven.add(batch.gantryId);
    this.#gantryProbes.delete(batch.gantryId);
    const head = await this.#sharedAnswer("blockNumber", "head", () => this.#o.provider.getBlockNumber());
    if (head - receipt.blockNumber + 1 < this.#o.confirmations) return false;
    const tally = this.#tally(receipt);
    // Deferred scans are the batch's last ones, in batch order.
    const deferred =
      tally.deferred === 0
        ? []
        : decodeScans(batch.scans)
            .slice(-tally.deferred)
            .map((scan) => Number(scan.sequence));
    const unsettled = this.#o.journal.markConfirmed(
      batchId,
      {
        txHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        gasUsed: receipt.gasUsed,
      },
      [...tally.future, ...deferred],
    );
    if (unsettled.length > 0) {
      await this.#returnUnsettled(batch, unsettled, receipt.blockNumber, tally.future.length, deferred.length);
    }
    const stats = this.#o.stats;
    stats.batchesConfirmed++;
    stats.scansConfirmed += batch.scanCount - unsettled.length;
    stats.scansCharged += tally.charged;
    stats.scansSkipped += tally.skipped;
    stats.scansDeferred += deferred.length;
    stats.stolenSighted += tally.stolen;
    stats.gasUsed += receipt.gasUsed;
    stats.feesPaid += receipt.gasUsed * receipt.gasPrice;
    this.#o.logger.info("TxQueue#confirm", "batch confirmed", {
      batch: batchId,
      gantry: batch.gantryId,
      scans: batch.scanCount,
      charged: tally.charged,
      skipped: tally.skipped,
      unsettled: unsettled.length,
      gasUsed: receipt.gasUsed,
      block: receipt.blockNumber,
      tx: receipt.hash,
    });
    return true;
  }

  /**
   * A batch's transaction reverted on-chain: the chain changed after the batch was simulated, or it was sent
   * unsimulated. The revert settled nothing, so sending the batch again cannot charge twice. Every gantry is
   * simulated again until its next batch confirms; the batch goes back to the queue once (to wait, if the escrow is
   * paused) unless it no longer simulates, and fails on a second revert rather than pay for it again and again.
   */
  async #reverted(batch: BatchRecord, receipt: TransactionReceipt): Promise<void> {
    this.#proven.clear();
    // Probes answered before the revert may be what it proved wrong.
    this.#earlyProbes.clear();
    this.#gantryProbes.clear();
    this.#o.stats.txReverted++;
    const what = `transaction ${receipt.hash} reverted on-chain in block ${receipt.blockNumber}`;
    if (this.#revertedBefore.has(batch.id)) return this.#fail(batch, `${what}, again`);
    this.#revertedBefore.add(batch.id);
    const refusal = await this.#simulate(batch);
    if (refusal?.kind === "fail") return this.#fail(batch, `${what}; ${refusal.reason}`);
    const now = refusal === undefined ? "it simulates now" : "reason" in refusal ? refusal.reason : "it is split";
    this.#requeue(batch.id, `${what}; ${now}`);
  }

  /** The nonce went to a transaction without a receipt of ours: are the scans settled anyway? */
  async #settleWithoutReceipt(batchId: number): Promise<void> {
    const batch = this.#batch(batchId);
    if (!(await this.#allSettled(batch))) {
      this.#requeue(batchId, "its nonce went to another transaction");
      return;
    }
    this.#o.journal.markConfirmed(batchId, {
      txHash: null,
      blockNumber: null,
      gasUsed: null,
    });
    this.#o.stats.batchesConfirmed++;
    this.#o.stats.scansConfirmed += batch.scanCount;
    this.#o.logger.info("TxQueue#confirm", "batch found settled on-chain by another transaction", {
      batch: batchId,
      gantry: batch.gantryId,
      scans: batch.scanCount,
    });
  }

  /** Signs the same transaction with higher fees; true when the replacement was accepted. */
  async #replace(batchId: number, latest: TxRecord): Promise<boolean> {
    if (latest.from !== this.#from) return false;
    const fees = await this.#bumpedFees(latest);
    if (fees.maxFeePerGas <= latest.maxFeePerGas) {
      this.#o.logger.warn("TxQueue#replace", "transaction stuck but the fee ceiling is reached", { batch: batchId });
      return false;
    }
    const tx = await this.#resign(batchId, latest, fees);
    // A replacement takes the nonce of a transaction the node already holds: no lane, nothing ahead to wait for.
    const outcome = await this.#broadcast(tx, { epoch: this.#epoch, left: () => {}, ahead: Promise.resolve() });
    const accepted = outcome === "accepted";
    if (accepted) this.#o.stats.txReplaced++;
    this.#o.logger.warn("TxQueue#replace", accepted ? "stuck transaction replaced" : "replacement not accepted", {
      batch: batchId,
      nonce: latest.nonce,
      replaced: latest.hash,
      tx: tx.hash,
      maxFeePerGas: fees.maxFeePerGas,
      outcome: typeof outcome === "string" ? outcome : outcome.rejected,
    });
    return accepted;
  }

  // --- recovery ---------------------------------------------------------------------------------------------------

  async #initNonce(sent: readonly BatchRecord[]): Promise<void> {
    let next = await this.#pendingNonce();
    for (const batch of sent) {
      for (const tx of this.#o.journal.transactionsOf(batch.id)) {
        if (tx.from === this.#from && tx.nonce >= next) next = tx.nonce + 1;
      }
    }
    this.#nextNonce = next;
  }

  /** A batch journaled as sent when the last run ended. */
  async #recoverSent(batch: BatchRecord): Promise<void> {
    const latest = this.#o.journal.transactionsOf(batch.id).at(-1);
    if (this.#o.dryRun || latest === undefined) {
      if (!this.#o.dryRun) this.#o.journal.requeue(batch.id);
      return;
    }
    if (latest.from !== this.#from) {
      // Sent with another gas key: this key cannot replace it, so settle it here unless it is already mined.
      if ((await this.#findReceipt(batch.id)) === null) return this.#settleWithoutReceipt(batch.id);
      this.#watch(batch.id);
      return;
    }
    // The last run may have crashed before the broadcast, or the node may have dropped it: send it again, through
    // the lane as a new transaction goes, so that it leaves only after those ahead of it and not at all once one of
    // them was refused.
    this.#inLane(batch.id, this.#epoch, (turn) => this.#rebroadcast(batch.id, latest, turn));
  }

  /** Broadcasts again a transaction journaled by an earlier run; true unless the node refused it. */
  async #rebroadcast(batchId: number, latest: TxRecord, turn: LaneTurn): Promise<boolean> {
    const { outcome, tx } = await this.#broadcastBidding(batchId, latest, turn);
    // A taken nonce went to this batch's own earlier transaction on it, or to another one: the watcher tells which.
    if (outcome === "accepted" || outcome === "nonce-taken") return true;
    if (outcome === "void") {
      this.#requeue(batchId, VOID_NONCE);
      return false;
    }
    // Refused, as a new transaction can be: its nonce is free again and those signed behind it are void. Unlike a new
    // one, it was planned and signed in an earlier run, for a chain that may have changed since (its blocks shrank,
    // say): the batch is planned and signed afresh rather than failed.
    this.#signFrom(tx.nonce);
    this.#requeue(batchId, `its transaction from before the restart was refused: ${outcome.rejected}`);
    return false;
  }

  // --- helpers ----------------------------------------------------------------------------------------------------

  /** The next batch signs on `nonce`; the nonces handed out but not yet broadcast are void (see {#inLane}). */
  #signFrom(nonce: number): void {
    this.#nextNonce = nonce;
    this.#epoch++;
  }

  #requeue(batchId: number, why: string): void {
    this.#o.journal.requeue(batchId);
    this.#queue.unshift(batchId);
    this.#wake.notify();
    this.#o.logger.warn("TxQueue#requeue", "batch will be sent again", {
      batch: batchId,
      why,
    });
  }

  #fail(batch: BatchRecord, reason: string): void {
    this.#o.journal.markFailed(batch.id, reason);
    this.#o.stats.batchesFailed++;
    this.#o.logger.error("TxQueue#fail", "batch failed; it stays journaled and is retried on the next start", {
      batch: batch.id,
      gantry: batch.gantryId,
      scans: batch.scanCount,
      reason,
    });
  }

  #batch(batchId: number): BatchRecord {
    const batch = this.#o.journal.batch(batchId);
    if (batch === undefined) throw new Error(`batch ${batchId} vanished from the journal`);
    return batch;
  }

  #latestTx(batchId: number): TxRecord {
    const latest = this.#o.journal.transactionsOf(batchId).at(-1);
    if (latest === undefined) throw new Error(`batch ${batchId} is sent but has no transaction`);
    return latest;
  }

  /** The receipt of the batch's current attempt: its latest transaction or one it replaced on the same nonce.
   * Earlier attempts are over (reverted on-chain, or their nonce went elsewhere) and must not answer for it. */
  async #findReceipt(batchId: number): Promise<TransactionReceipt | null> {
    const all = this.#o.journal.transactionsOf(batchId);
    const latest = all.at(-1);
    const txs = all.filter((tx) => tx.nonce === latest?.nonce && tx.from === latest.from);
    const receipts = await Promise.all(txs.map(async (tx) => this.#receipt(tx.hash)));
    return receipts.find((receipt) => receipt !== null) ?? null;
  }

  /**
   * Broadcasts signed bytes. On a JSON-RPC provider, by the bare call (ethers' `broadcastTransaction` also asks for
   * the block number and recovers the sender from the signature, which costs more than the broadcast), in an HTTP
   * request of its own: ethers batches the calls made together, a batch is answered only when all its calls are,
   * and an automine node answers a broadcast once it has mined it. Batched, a broadcast would hold back the answer
   * to the one ahead, and with it the next broadcast, until the node sat idle.
   */
  async #sendRaw(raw: string): Promise<void> {
    const provider = this.#o.provider;
    if (!(provider instanceof JsonRpcApiProvider)) {
      await provider.broadcastTransaction(raw);
      return;
    }
    const payload: JsonRpcPayload = { method: "eth_sendRawTransaction", params: [raw], id: 1, jsonrpc: "2.0" };
    const [answer] = await provider._send(payload);
    if (answer === undefined) throw makeError("no answer to eth_sendRawTransaction", "BAD_DATA", { value: answer });
    if ("error" in answer) throw provider.getRpcError(payload, answer);
  }

  async #receipt(hash: string): Promise<TransactionReceipt | null> {
    return this.#o.rpc.call("getTransactionReceipt", () => this.#o.provider.getTransactionReceipt(hash));
  }

  async #minedNonce(account: string): Promise<number> {
    return this.#sharedAnswer("getTransactionCount", `nonce:${account}`, () =>
      this.#o.provider.getTransactionCount(account, "latest"),
    );
  }

  /** `fetch`'s answer, shared with every caller within half a poll interval (an error is not kept). */
  async #sharedAnswer(label: string, key: string, fetch: () => Promise<number>): Promise<number> {
    const now = Date.now();
    const cached = this.#shared.get(key);
    if (cached !== undefined && now - cached.at < this.#o.pollIntervalMs / 2) return cached.answer;
    const answer = this.#o.rpc.call(label, fetch);
    this.#shared.set(key, { at: now, answer });
    answer.catch(() => {
      if (this.#shared.get(key)?.answer === answer) this.#shared.delete(key);
    });
    return answer;
  }

  async #pendingNonce(): Promise<number> {
    return this.#o.rpc.call("getTransactionCount", () => this.#o.provider.getTransactionCount(this.#from, "pending"));
  }

  async #allSettled(batch: BatchRecord): Promise<boolean> {
    const sequences = decodeScans(batch.scans).map((scan) => scan.sequence);
    for (let start = 0; start < sequences.length; start += SETTLED_CHECK_PARALLELISM) {
      const chunk = sequences.slice(start, start + SETTLED_CHECK_PARALLELISM);
      const settled = await Promise.all(
        chunk.map(async (sequence) =>
          this.#o.rpc.call("isScanSettled", () => this.#o.escrow.isScanSettled(batch.gantryId, sequence)),
        ),
      );
      if (settled.includes(false)) return false;
    }
    return true;
  }

  /** The market's fees under the configured ceiling: a quote asked for at most {FEE_DATA_MAX_AGE_MS} ago, or while a
   * fresh one is on its way, the latest answered within {FEE_DATA_STALE_MS}. */
  async #currentFees(): Promise<Fees> {
    const now = Date.now();
    let requested = this.#fees;
    if (requested === undefined || now - requested.at >= FEE_DATA_MAX_AGE_MS) {
      const quote = this.#quoteFees();
      requested = { at: now, quote };
      this.#fees = requested;
      quote.then(
        (fees) => {
          if (this.#answeredFees === undefined || this.#answeredFees.at < now) this.#answeredFees = { at: now, fees };
        },
        () => {
          if (this.#fees?.quote === quote) this.#fees = undefined;
        },
      );
    }
    // A node answers the quote after the transactions it is mining: meanwhile a recent answer serves, so that the
    // next batch is signed and on its way rather than waiting behind them.
    const answered = this.#answeredFees;
    if (answered !== undefined && now - answered.at < FEE_DATA_STALE_MS) return answered.fees;
    return requested.quote;
  }

  async #quoteFees(): Promise<Fees> {
    const data = await this.#o.rpc.call("getFeeData", () => this.#o.provider.getFeeData());
    if (data.maxFeePerGas === null || data.maxPriorityFeePerGas === null) {
      throw new Error("the chain reports no EIP-1559 fees; the relayer sends type-2 transactions only");
    }
    return this.#capped({
      maxFeePerGas: data.maxFeePerGas,
      maxPriorityFeePerGas: data.maxPriorityFeePerGas,
    });
  }

  /** At least {REPLACEMENT_FEE_BUMP_PERCENT} over `previous` on both fields, and never below the market. */
  async #bumpedFees(previous: Fees): Promise<Fees> {
    const market = await this.#currentFees();
    const bump = (value: bigint) => (value * (100n + REPLACEMENT_FEE_BUMP_PERCENT)) / 100n + 1n;
    return this.#capped({
      maxFeePerGas: max(bump(previous.maxFeePerGas), market.maxFeePerGas),
      maxPriorityFeePerGas: max(bump(previous.maxPriorityFeePerGas), market.maxPriorityFeePerGas),
    });
  }

  #capped(fees: Fees): Fees {
    const ceiling = this.#o.maxFeePerGas;
    const maxFeePerGas = ceiling === undefined ? fees.maxFeePerGas : min(fees.maxFeePerGas, ceiling);
    return {
      maxFeePerGas,
      maxPriorityFeePerGas: min(fees.maxPriorityFeePerGas, maxFeePerGas),
    };
  }

  /**
   * What the escrow did with the batch's scans: the charges from its BatchSettled event, the skips from its
   * ScanSkipped events, listing the scans skipped as from the future (the one skip that leaves a scan unsettled),
   * and how many of the batch's last scans the escrow deferred for want of gas.
   */
  #tally(receipt: TransactionReceipt): {
    charged: number;
    skipped: number;
    stolen: number;
    future: number[];
    deferred: number;
  } {
    const escrow = this.#o.escrow;
    const address = escrow.target.toString();
    const tally = { charged: 0, skipped: 0, stolen: 0, future: [] as number[], deferred: 0 };
    tally.charged = settledBatchFromLogs(address, receipt.logs).charged.length;
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== address.toLowerCase()) continue;
      const parsed = escrow.interface.parseLog(log);
      if (parsed?.name === "StolenVehicleSighted") tally.stolen++;
      if (parsed?.name === "ScansDeferred") tally.deferred += Number(parsed.args.count);
      if (parsed?.name !== "ScanSkipped") continue;
      if (Number(parsed.args.reason) === SkipReason.FutureTimestamp) tally.future.push(Number(parsed.args.sequence));
      else tally.skipped++;
    }
    return tally;
  }

  async #returnUnsettled(
    batch: BatchRecord,
    readings: readonly ReadingRecord[],
    blockNumber: number,
    future: number,
    deferred: number,
  ): Promise<void> {
    const block = await this.#o.rpc.call("getBlock", () => this.#o.provider.getBlock(blockNumber));
    const chainTime = block?.timestamp ?? Math.floor(Date.now() / 1000);
    const message =
      future === 0
        ? "scans the batch's gas did not cover were deferred; they will be sent again"
        : "scans ahead of the chain's clock left unsettled; they will be sent again";
    this.#o.logger[future === 0 ? "info" : "warn"]("TxQueue#confirm", message, {
      batch: batch.id,
      gantry: batch.gantryId,
      scans: readings.length,
      aheadOfChain: future,
      deferred,
      chainTime,
    });
    this.#o.onUnsettled(readings, chainTime);
  }

  /** Runs background work so that a failure is recorded and rethrown by {run}, never lost. */
  async #guard(work: Promise<void>): Promise<void> {
    try {
      await work;
    } catch (error) {
      if (error instanceof RelayerStopped) return;
      this.#fatal ??= error;
      this.#wake.notify();
    }
  }
}

/** The name of the custom error a call reverted with, when the ABI knows it. */
export function revertName(error: unknown): string | undefined {
  const revert = (error as { revert?: { name?: unknown } } | null)?.revert;
  return typeof revert?.name === "string" ? revert.name : undefined;
}

/** The revert's custom error with its arguments when the ABI knows it, the node's message otherwise. */
export function describeRevert(error: unknown): string {
  const revert = (error as { revert?: { name?: unknown; args?: unknown } } | null)?.revert;
  if (revert !== undefined && revert !== null && typeof revert.name === "string") {
    const args = Array.isArray(revert.args) ? revert.args.map(String).join(", ") : "";
    return `${revert.name}(${args})`;
  }
  return errorMessage(error);
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
