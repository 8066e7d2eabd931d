/**
 * Groups journaled readings per gantry into batches: a batch is sealed when it is full or when its oldest reading
 * has waited `maxWaitMs`. Sealing is handed to `seal`, one call at a time, in order: flushes never overlap.
 *
 * A reading whose time has not come yet (a gantry clock a little ahead, within the accepted skew) is held back
 * until it has: the escrow leaves a scan from the future unsettled, so sending it early would only cost gas.
 */
import { Signal } from "./async.js";
import type { ReadingRecord } from "./journal.js";

/** Margin past a held reading's time before it is batched: a block mined in that same second may carry an earlier
 * timestamp, and L2 sequencers stamp blocks a second or two behind wall time. */
export const HOLD_MARGIN_MS = 2_000;

export interface BatcherOptions {
  /** Most readings per batch. */
  readonly maxBatchSize: number;
  /** Longest a reading waits for its batch to fill. */
  readonly maxWaitMs: number;
  /** Seals one batch: signs it and journals it. Called one at a time. */
  readonly seal: (gantryId: number, readings: readonly ReadingRecord[]) => Promise<void>;
  /** Told when `seal` throws; sealing then stops (the readings stay journaled for the next run). */
  readonly onError: (error: unknown) => void;
  /** Current unix time in seconds; injectable for tests. */
  readonly now?: () => number;
}

interface OpenBatch {
  readonly readings: ReadingRecord[];
  timer: NodeJS.Timeout | undefined;
}

export class Batcher {
  readonly #options: BatcherOptions;
  readonly #now: () => number;
  readonly #open = new Map<number, OpenBatch>();
  readonly #held = new Set<NodeJS.Timeout>();
  readonly #released = new Signal();
  #chain: Promise<void> = Promise.resolve();
  #failed = false;

  constructor(options: BatcherOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Readings waiting in open batches. */
  get waiting(): number {
    let count = 0;
    for (const batch of this.#open.values()) count += batch.readings.length;
    return count;
  }

  /** Readings held back until their time has come. */
  get held(): number {
    return this.#held.size;
  }

  /**
   * Adds a journaled reading; seals its gantry's batch when full. A reading is held back until `notBefore`
   * (unix seconds; its own time by default) has passed.
   */
  add(reading: ReadingRecord, notBefore: number = reading.timestamp): void {
    const waitSeconds = notBefore - this.#now();
    if (waitSeconds < 0) {
      this.#admit(reading);
      return;
    }
    const timer = setTimeout(
      () => {
        this.#held.delete(timer);
        this.#admit(reading);
        this.#released.notify();
      },
      waitSeconds * 1000 + HOLD_MARGIN_MS,
    );
    this.#held.add(timer);
  }

  /** Waits for held readings (unless `signal` fires), seals every open batch whatever its size, and waits until
   * sealing is done. */
  async flushAll(signal?: AbortSignal): Promise<void> {
    while (this.#held.size > 0 && signal?.aborted !== true) await this.#released.wait(signal);
    for (const gantryId of [...this.#open.keys()]) this.#flush(gantryId);
    await this.idle();
  }

  /** Waits until the sealing queued so far is done. */
  async idle(): Promise<void> {
    await this.#chain;
  }

  /** Drops open batches and held readings without sealing them (they are journaled and come back on restart). */
  discard(): void {
    for (const batch of this.#open.values()) clearTimeout(batch.timer);
    this.#open.clear();
    for (const timer of this.#held) clearTimeout(timer);
    this.#held.clear();
    this.#released.notify();
  }

  #admit(reading: ReadingRecord): void {
    let batch = this.#open.get(reading.gantryId);
    if (batch === undefined) {
      batch = { readings: [], timer: undefined };
      this.#open.set(reading.gantryId, batch);
    }
    batch.readings.push(reading);
    if (batch.readings.length >= this.#options.maxBatchSize) {
      this.#flush(reading.gantryId);
    } else if (batch.timer === undefined) {
      batch.timer = setTimeout(() => this.#flush(reading.gantryId), this.#options.maxWaitMs);
    }
  }

  #flush(gantryId: number): void {
    const batch = this.#open.get(gantryId);
    if (batch === undefined) return;
    this.#open.delete(gantryId);
    clearTimeout(batch.timer);
    const readings = batch.readings;
    this.#chain = this.#chain.then(async () => {
      if (this.#failed) return;
      try {
        await this.#options.seal(gantryId, readings);
      } catch (error) {
        this.#failed = true;
        this.#options.onError(error);
      }
    });
  }
}
