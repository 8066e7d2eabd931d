/** Small promise helpers shared by the relayer's modules. */

/** Resolves after `ms`, or at once (without throwing) when `signal` aborts. Returns whether the full time elapsed. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A promise with its resolve function exposed, for waking a waiting loop. */
export class Signal {
  #waiters: Array<() => void> = [];

  /** Resolves on the next {notify}, or when `abort` fires. */
  wait(abort?: AbortSignal): Promise<void> {
    if (abort?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        abort?.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.push(done);
      abort?.addEventListener("abort", done, { once: true });
    });
  }

  /** Wakes everyone waiting. */
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Runs tasks at most `limit` at a time; the rest wait their turn, first come first served. */
export class Limiter {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the first waiter, so the count only moves when nobody waits.
    if (this.#running < this.#limit) this.#running++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#running--;
    }
  }
}

/**
 * Yields `source`'s items in order while reading up to `depth` items ahead of the consumer, calling `onRead` on each
 * as it arrives: work for items not yet reached can start early. An item that has arrived is yielded without waiting
 * for the read in flight, so a source that blocks (a live stream) delays nothing already read.
 */
export async function* readAhead<T>(
  source: AsyncIterable<T>,
  depth: number,
  onRead: (item: T) => void,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const arrived: T[] = [];
  const progress = new Signal();
  let reading = false;
  let ended = false;
  let failed: { readonly error: unknown } | undefined;
  const pump = (): void => {
    if (reading || ended || arrived.length >= depth) return;
    reading = true;
    iterator.next().then(
      (result) => {
        reading = false;
        if (result.done === true) ended = true;
        else {
          arrived.push(result.value);
          try {
            onRead(result.value);
          } catch (error) {
            fail(error);
          }
        }
        progress.notify();
        pump();
      },
      (error: unknown) => {
        reading = false;
        fail(error);
        progress.notify();
      },
    );
  };
  const fail = (error: unknown): void => {
    ended = true;
    failed ??= { error };
  };
  try {
    for (;;) {
      pump();
      if (arrived.length > 0) {
        yield arrived.shift() as T;
        continue;
      }
      if (failed !== undefined) throw failed.error;
      if (ended) return;
      await progress.wait();
    }
  } finally {
    // A read still in flight ends when its source is stopped (a destroyed stream, an aborted signal); closing the
    // source waits for it, so it is not awaited here.
    const closing = iterator.return?.();
    if (!reading) await closing;
    else closing?.catch(() => undefined);
  }
}

/** A one-line description of anything thrown, without its stack: ethers' short message plus the node's own words. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const short = (error as { shortMessage?: unknown }).shortMessage;
  const head = typeof short === "string" ? short : error.message;
  const nodeSaid = nestedRpcMessage(error);
  return nodeSaid === undefined || head.includes(nodeSaid) ? head : `${head}: ${nodeSaid}`;
}

/** Everything an error says, nested causes included, for matching against known phrases. */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message, nestedRpcMessage(error) ?? ""];
  if (error.cause !== undefined && error.cause !== error) parts.push(errorText(error.cause));
  return parts.join(" | ");
}

/** The JSON-RPC error message a node returned, where ethers keeps it (`error.error` or `error.info.error`). */
function nestedRpcMessage(error: Error): string | undefined {
  const holder = error as { error?: { message?: unknown }; info?: { error?: { message?: unknown } } };
  const message = holder.error?.message ?? holder.info?.error?.message;
  return typeof message === "string" ? message : undefined;
}
