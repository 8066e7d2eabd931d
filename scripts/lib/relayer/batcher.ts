/**
 * Groups journaled readings per gantry into batches: a batch is sealed when it is full or when its oldest reading
 * has waited `maxWaitMs`. Sealing is handed to `seal`, one call at a time, in order: flushes never overlap.
 */
import type { ReadingRecord } from "./journal.js";

export interface BatcherOptions {
  /** Most readings per batch. */
  readonly maxBatchSize: number;
  /** Longest a reading waits for its batch to fill. */
  readonly maxWaitMs: number;
  /** Seals one batch: signs it and journals it. Called one at a time. */
  readonly seal: (gantryId: number, readings: readonly ReadingRecord[]) => Promise<void>;
  /** Told when `seal` throws; sealing then stops (the readings stay journaled for the next run). */
  readonly onError: (error: unknown) => void;
}

interface OpenBatch {
  readonly readings: ReadingRecord[];
  timer: NodeJS.Timeout | undefined;
}

export class Batcher {
  readonly #options: BatcherOptions;
  readonly #open = new Map<number, OpenBatch>();
  #chain: Promise<void> = Promise.resolve();
  #failed = false;

  constructor(options: BatcherOptions) {
    this.#options = options;
  }

  /** Readings waiting in open batches. */
  get waiting(): number {
    let count = 0;
    for (const batch of this.#open.values()) count += batch.readings.length;
    return count;
  }

  /** Adds a journaled reading; seals its gantry's batch when full. */
  add(reading: ReadingRecord): void {
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

  /** Seals every open batch, whatever its size, and waits until all sealing is done. */
  async flushAll(): Promise<void> {
    for (const gantryId of [...this.#open.keys()]) this.#flush(gantryId);
    await this.idle();
  }

  /** Waits until the sealing queued so far is done. */
  async idle(): Promise<void> {
    await this.#chain;
  }

  /** Drops open batches without sealing them (their readings are journaled and come back on restart). */
  discard(): void {
    for (const batch of this.#open.values()) clearTimeout(batch.timer);
    this.#open.clear();
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
