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
