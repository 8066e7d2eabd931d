/** The counters a run keeps, reported in progress lines and the final summary. */
import type { RejectReason } from "./validator.js";

export interface RelayerStats {
  /** Input lines read (blank lines included). */
  linesRead: number;
  /** Groups of input lines taken: each group's readings and rejects are journaled in one commit. */
  inputGroups: number;
  /** Readings validated and journaled in this run. */
  accepted: number;
  /** Lines skipped because a previous run already took or rejected them. */
  replayed: number;
  rejected: number;
  rejectsByReason: Partial<Record<RejectReason, number>>;
  /** Batches signed and journaled in this run. */
  batchesSealed: number;
  /** Simulations run (eth_call before a batch is sent, or instead of sending it in a dry run): of the whole batch,
   * or with `--simulate first` of a one-scan probe of its gantry. */
  batchesSimulated: number;
  /** Transactions broadcast for the first time for a batch. */
  batchesSent: number;
  batchesConfirmed: number;
  batchesFailed: number;
  /** Transactions replaced by one with a higher fee. */
  txReplaced: number;
  /** Transactions mined but reverted (their batches are simulated and sent again once, or fail). */
  txReverted: number;
  /** Scans of confirmed batches, and what the escrow did with them. */
  scansConfirmed: number;
  scansCharged: number;
  scansSkipped: number;
  /** Scans the escrow deferred for want of gas (`--gas-limit bound`): batched and sent again. */
  scansDeferred: number;
  stolenSighted: number;
  /** Gas of the confirmed transactions, and what it cost in wei. */
  gasUsed: bigint;
  feesPaid: bigint;
  /** RPC calls retried after a failure. */
  rpcRetries: number;
}

export function newStats(): RelayerStats {
  return {
    linesRead: 0,
    inputGroups: 0,
    accepted: 0,
    replayed: 0,
    rejected: 0,
    rejectsByReason: {},
    batchesSealed: 0,
    batchesSimulated: 0,
    batchesSent: 0,
    batchesConfirmed: 0,
    batchesFailed: 0,
    txReplaced: 0,
    txReverted: 0,
    scansConfirmed: 0,
    scansCharged: 0,
    scansSkipped: 0,
    scansDeferred: 0,
    stolenSighted: 0,
    gasUsed: 0n,
    feesPaid: 0n,
    rpcRetries: 0,
  };
}
