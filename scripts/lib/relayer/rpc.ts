/**
 * RPC calls with retry and back-off. A node that is down, restarting or overloaded is waited for (the relayer must
 * outlive an outage without losing anything); an answer from the node that is final (a revert, a nonce or fee
 * problem) goes straight back to the caller, which knows what it means.
 */
import { errorMessage, errorText, sleep } from "./async.js";
import type { Logger } from "./logger.js";

/** First wait after a failed call: a dropped connection usually recovers at once, so start short. */
export const RPC_BACKOFF_INITIAL_MS = 250;
/** Longest wait between attempts: during an outage the node is asked again at least this often, so the relayer
 * resumes within seconds of its return without flooding a node that is still starting. */
export const RPC_BACKOFF_MAX_MS = 4_000;
/** Doubling reaches the cap in five attempts. */
export const RPC_BACKOFF_FACTOR = 2;
/** Attempts for an error that is neither clearly transient nor clearly final (a node's internal error, say):
 * enough to ride out a hiccup, few enough that a real bug surfaces within half a minute. */
export const RPC_MAX_ATTEMPTS_UNCLEAR = 6;

export type RpcErrorKind = "transient" | "final" | "unclear";

/** Thrown by a retrying call when its stop signal fires first. */
export class RelayerStopped extends Error {
  override name = "RelayerStopped";
  constructor() {
    super("stopped");
  }
}

const TRANSIENT_CODES = new Set([
  // Node's socket errors.
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  // ethers' codes for a failed or garbled exchange.
  "NETWORK_ERROR",
  "SERVER_ERROR",
  "TIMEOUT",
  "BAD_DATA",
]);

/** Errors that are the node's final word on this request: retrying the same request cannot help. */
const FINAL_CODES = new Set([
  "CALL_EXCEPTION",
  "INSUFFICIENT_FUNDS",
  "NONCE_EXPIRED",
  "REPLACEMENT_UNDERPRICED",
  "TRANSACTION_REPLACED",
  "INVALID_ARGUMENT",
  "MISSING_ARGUMENT",
  "UNSUPPORTED_OPERATION",
  "NUMERIC_FAULT",
  "ACTION_REJECTED",
]);

const TRANSIENT_MESSAGE = /socket hang up|fetch failed|ECONNRESET|ECONNREFUSED|network|timeout|other side closed/i;
const FINAL_MESSAGE = new RegExp(
  [
    "nonce too low",
    // A nonce gap (Hardhat's automine takes none): the sender waits for the transaction ahead, then sends again.
    "nonce too high",
    "nonce has already been used",
    "already known",
    "known transaction",
    "replacement transaction underpriced",
    // A fee cap under the base fee (Hardhat, then geth): the sender bids again with a new transaction.
    "too low for the next block",
    "less than block base fee",
    "insufficient funds",
    "revert",
    // A gas limit the chain cannot take: the same transaction is refused however often it is sent.
    "exceeds block gas limit",
    "intrinsic gas too low",
    // An eth_getLogs query over an endpoint's range or result cap: asking again gets the same answer.
    "block range",
    "query returned more than",
  ].join("|"),
  "i",
);

/** Sorts an error from an RPC call. */
export function classifyRpcError(error: unknown): RpcErrorKind {
  const code = errorCode(error);
  if (code !== undefined && FINAL_CODES.has(code)) return "final";
  const message = errorText(error);
  if (FINAL_MESSAGE.test(message)) return "final";
  if (code !== undefined && TRANSIENT_CODES.has(code)) return "transient";
  if (TRANSIENT_MESSAGE.test(message)) return "transient";
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause !== undefined && cause !== error) return classifyRpcError(cause) === "transient" ? "transient" : "unclear";
  return "unclear";
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** The wait before attempt `attempt + 1`, with ±20% jitter so restarted relayers do not retry in lockstep. */
export function backoffMs(attempt: number): number {
  const base = Math.min(RPC_BACKOFF_MAX_MS, RPC_BACKOFF_INITIAL_MS * RPC_BACKOFF_FACTOR ** (attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export interface RetryOptions {
  readonly logger: Logger;
  /** Stops waiting: the call then throws {RelayerStopped}. */
  readonly signal: AbortSignal;
  /** Counted on every retry (the summary reports it). */
  readonly onRetry?: () => void;
}

/** Runs RPC calls, retrying transient failures until they succeed or the signal fires. */
export class Rpc {
  readonly #options: RetryOptions;
  #outage = false;

  constructor(options: RetryOptions) {
    this.#options = options;
  }

  get signal(): AbortSignal {
    return this.#options.signal;
  }

  /** Calls `fn` until it succeeds; `label` names the call in logs. Final errors are thrown at once. */
  async call<T>(label: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.#options.signal.aborted) throw new RelayerStopped();
      try {
        const result = await fn();
        this.#recovered(label);
        return result;
      } catch (error) {
        const kind = classifyRpcError(error);
        if (kind === "final" || (kind === "unclear" && attempt >= RPC_MAX_ATTEMPTS_UNCLEAR)) throw error;
        await this.#wait(label, attempt, error);
      }
    }
  }

  async #wait(label: string, attempt: number, error: unknown): Promise<void> {
    const delayMs = backoffMs(attempt);
    this.#outage = true;
    this.#options.onRetry?.();
    this.#options.logger.warn("Rpc#call", "RPC call failed; retrying", {
      call: label,
      attempt,
      retryInMs: delayMs,
      error: errorMessage(error),
    });
    if (!(await sleep(delayMs, this.#options.signal))) throw new RelayerStopped();
  }

  #recovered(label: string): void {
    if (!this.#outage) return;
    this.#outage = false;
    this.#options.logger.info("Rpc#call", "RPC reachable again", { call: label });
  }
}
