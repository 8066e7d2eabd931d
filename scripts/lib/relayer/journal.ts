/**
 * The durable journal: Node's built-in SQLite (`node:sqlite`), WAL with `synchronous = FULL`, so every commit is on
 * disk before the call returns and a `kill -9` loses nothing that was acknowledged.
 *
 * It holds every accepted reading (keyed by gantry and sequence: a restart that reads the input again skips what is
 * already here), every rejected line (so a restart does not report it twice), every batch with its state, and every
 * transaction signed for a batch, raw, so a restart can rebroadcast it or replace it on the same nonce.
 *
 * Batch states:  pending --(signed tx journaled, then broadcast)--> sent --(receipt + confirmations)--> confirmed
 *                   ^                                                 |
 *                   +--------- requeued (nonce taken by another tx) --+--> failed (reverted; retried on restart)
 *        pending --> split (over the gas cap: its readings moved to two new pending batches)
 *
 * One relayer per journal: the database is opened in exclusive locking mode, so a second one fails at once.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from "node:sqlite";

export type BatchState = "pending" | "sent" | "confirmed" | "failed" | "split";

export interface ReadingRecord {
  readonly gantryId: number;
  readonly sequence: number;
  readonly vehicleId: number;
  readonly timestamp: number;
  readonly lineNo: number;
  /** A hash of the raw input line, to tell a replayed line from a different reading with the same key. */
  readonly lineHash: string;
}

/** A line the validator turned down, by number and content (so a restart that reads it again recognises it). */
export interface RejectRecord {
  readonly lineNo: number;
  readonly lineHash: string;
  readonly reason: string;
}

export interface BatchRecord {
  readonly id: number;
  readonly gantryId: number;
  readonly state: BatchState;
  /** The packed scans, hex. */
  readonly scans: string;
  readonly signature: string;
  readonly scanCount: number;
  /** Nonce of the batch's current transaction; null until one is signed. */
  readonly nonce: number | null;
  /** Hash of the transaction that settled the batch (or the latest one sent). */
  readonly txHash: string | null;
  readonly gasUsed: bigint | null;
  readonly error: string | null;
}

export interface TxRecord {
  readonly hash: string;
  readonly batchId: number;
  readonly from: string;
  readonly nonce: number;
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
  /** The signed transaction, hex, ready to broadcast again. */
  readonly raw: string;
}

export interface NewBatch {
  readonly gantryId: number;
  readonly scans: string;
  readonly signature: string;
  /** The readings' sequence numbers, in the order of `scans`. */
  readonly sequences: readonly number[];
}

export interface JournalIdentity {
  readonly chainId: bigint;
  readonly escrow: string;
}

export interface JournalCounts {
  readonly readings: number;
  readonly unbatched: number;
  readonly batches: Readonly<Record<BatchState, number>>;
  /** Readings in confirmed batches. */
  readonly scansConfirmed: number;
  readonly gasUsed: bigint;
}

/** The journal belongs to another chain or escrow, or cannot be used. */
export class JournalError extends Error {
  override name = "JournalError";
}

const SCHEMA_VERSION = "1";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS batches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  gantry_id INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'confirmed', 'failed', 'split')),
  scans TEXT NOT NULL,
  signature TEXT NOT NULL,
  scan_count INTEGER NOT NULL,
  nonce INTEGER,
  tx_hash TEXT,
  block_number INTEGER,
  gas_used TEXT,
  error TEXT,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS batches_by_state ON batches (state);
CREATE TABLE IF NOT EXISTS readings (
  gantry_id INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  vehicle_id INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  line_hash TEXT NOT NULL,
  batch_id INTEGER REFERENCES batches (id),
  PRIMARY KEY (gantry_id, sequence)
) STRICT;
CREATE INDEX IF NOT EXISTS readings_by_batch ON readings (batch_id);
CREATE TABLE IF NOT EXISTS transactions (
  hash TEXT PRIMARY KEY,
  batch_id INTEGER NOT NULL REFERENCES batches (id),
  sender TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  max_fee_per_gas TEXT NOT NULL,
  max_priority_fee_per_gas TEXT NOT NULL,
  raw TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS transactions_by_batch ON transactions (batch_id);
CREATE TABLE IF NOT EXISTS rejects (
  line_no INTEGER NOT NULL,
  line_hash TEXT NOT NULL,
  reason TEXT NOT NULL,
  reported INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (line_no, line_hash)
) STRICT;
`;

/** Added to the rejects of a journal written before the column existed. Their lines were written to the rejects
 * file then (or lost to a crash, as could happen then): counted as reported, so an upgrade repeats none of them. */
const REPORTED_COLUMN = "ALTER TABLE rejects ADD COLUMN reported INTEGER NOT NULL DEFAULT 1";

type Row = Record<string, SQLOutputValue>;

export class Journal {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /**
   * Opens (or creates) the journal at `file` (":memory:" for a throwaway one) for `identity`'s chain and escrow.
   * Throws {JournalError} when it belongs to another deployment or another relayer holds it.
   */
  static open(file: string, identity: JournalIdentity): Journal {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new DatabaseSync(file, { timeout: 0 });
    try {
      db.exec("PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
      db.exec("PRAGMA foreign_keys = ON;");
      // Takes the exclusive lock now rather than at the first write.
      db.exec("BEGIN IMMEDIATE; COMMIT;");
      db.exec(SCHEMA);
      const columns = db.prepare("PRAGMA table_info(rejects)").all();
      if (!columns.some((column) => column.name === "reported")) db.exec(REPORTED_COLUMN);
    } catch (error) {
      db.close();
      const busy = error instanceof Error && /locked|busy/i.test(error.message);
      throw new JournalError(
        busy ? `journal ${file} is in use by another relayer` : `journal ${file}: ${String(error)}`,
      );
    }
    const journal = new Journal(db);
    try {
      journal.#bindIdentity(file, identity);
    } catch (error) {
      db.close();
      throw error;
    }
    return journal;
  }

  get isOpen(): boolean {
    return this.#db.isOpen;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  // --- readings ---------------------------------------------------------------------------------------------------

  /** The journaled reading of `gantryId` with `sequence`, if any. */
  findReading(gantryId: number, sequence: number): ReadingRecord | undefined {
    const row = this.#get("SELECT * FROM readings WHERE gantry_id = ? AND sequence = ?", gantryId, sequence);
    return row === undefined ? undefined : toReading(row);
  }

  /** Durably records an accepted reading. Throws if its (gantry, sequence) is already journaled. */
  recordReading(reading: ReadingRecord): void {
    this.#insertReading(reading);
  }

  /**
   * Durably records what became of a group of input lines, its accepted readings and its rejected lines, in one
   * transaction: one fsync for the group instead of one per line, which is what lets the input keep up. All or
   * nothing: throws, recording none of the group, if a reading's (gantry, sequence) is already journaled. A line
   * rejected before is recorded once, as {recordReject} does.
   */
  recordLines(readings: readonly ReadingRecord[], rejects: readonly RejectRecord[]): void {
    if (readings.length === 0 && rejects.length === 0) return;
    this.#transaction(() => {
      for (const reading of readings) this.#insertReading(reading);
      for (const reject of rejects) this.recordReject(reject.lineNo, reject.lineHash, reject.reason);
    });
  }

  /** Readings not yet in any batch, in the order they were accepted. */
  unbatchedReadings(): ReadingRecord[] {
    return this.#all("SELECT * FROM readings WHERE batch_id IS NULL ORDER BY rowid").map(toReading);
  }

  /** The readings of a batch, by sequence. */
  readingsOf(batchId: number): ReadingRecord[] {
    return this.#all("SELECT * FROM readings WHERE batch_id = ? ORDER BY sequence", batchId).map(toReading);
  }

  // --- rejects ----------------------------------------------------------------------------------------------------

  /** This very line's reject, if it was rejected before: its reason, and whether it is in the rejects file yet. */
  rejectOf(lineNo: number, lineHash: string): { readonly reason: string; readonly reported: boolean } | undefined {
    const row = this.#get("SELECT reason, reported FROM rejects WHERE line_no = ? AND line_hash = ?", lineNo, lineHash);
    return row === undefined ? undefined : { reason: String(row.reason), reported: row.reported !== 0 };
  }

  /** Records a rejected line, not yet reported (see {markReported}); a line recorded before is left as it is. */
  recordReject(lineNo: number, lineHash: string, reason: string): void {
    this.#run(
      "INSERT OR IGNORE INTO rejects (line_no, line_hash, reason, reported) VALUES (?, ?, ?, 0)",
      lineNo,
      lineHash,
      reason,
    );
  }

  /** Notes, in one commit, that these rejected lines are durably in the rejects file: a restart reports them no more. */
  markReported(lines: ReadonlyArray<{ readonly lineNo: number; readonly lineHash: string }>): void {
    if (lines.length === 0) return;
    this.#transaction(() => {
      for (const { lineNo, lineHash } of lines) {
        this.#run("UPDATE rejects SET reported = 1 WHERE line_no = ? AND line_hash = ?", lineNo, lineHash);
      }
    });
  }

  // --- batches ----------------------------------------------------------------------------------------------------

  /** Creates a pending batch and assigns its readings to it, atomically. */
  createBatch(batch: NewBatch): number {
    return this.#transaction(() => this.#insertBatch(batch));
  }

  /** Replaces a pending batch by smaller ones (it was over the gas cap), atomically; returns the new ids. The old
   * batch stays, in state `split`, with any transactions it had. */
  splitBatch(batchId: number, parts: readonly NewBatch[]): number[] {
    return this.#transaction(() => {
      this.#run("UPDATE readings SET batch_id = NULL WHERE batch_id = ?", batchId);
      this.#setState(batchId, "split", {});
      return parts.map((part) => this.#insertBatch(part));
    });
  }

  /** Records a signed transaction for a batch and marks the batch sent, before the transaction is broadcast. */
  recordTransaction(tx: TxRecord): void {
    this.#transaction(() => {
      this.#run(
        // The same signed bytes twice (re-signed with unchanged fees) are one transaction.
        `INSERT OR IGNORE INTO transactions
           (hash, batch_id, sender, nonce, max_fee_per_gas, max_priority_fee_per_gas, raw, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        tx.hash,
        tx.batchId,
        tx.from,
        tx.nonce,
        tx.maxFeePerGas.toString(),
        tx.maxPriorityFeePerGas.toString(),
        tx.raw,
        Date.now(),
      );
      this.#setState(tx.batchId, "sent", { nonce: tx.nonce, tx_hash: tx.hash, error: null });
    });
  }

  /**
   * Marks a batch confirmed. Readings whose scans the escrow left unsettled (`unsettled` sequences: skipped as
   * from the future) leave the batch in the same transaction and wait, unbatched, to be sent again; they are
   * returned.
   */
  markConfirmed(
    batchId: number,
    receipt: { txHash: string | null; blockNumber: number | null; gasUsed: bigint | null },
    unsettled: readonly number[] = [],
  ): ReadingRecord[] {
    return this.#transaction(() => {
      this.#setState(batchId, "confirmed", {
        tx_hash: receipt.txHash,
        block_number: receipt.blockNumber,
        gas_used: receipt.gasUsed === null ? null : receipt.gasUsed.toString(),
        error: null,
      });
      const detached: ReadingRecord[] = [];
      for (const sequence of unsettled) {
        const row = this.#get("SELECT * FROM readings WHERE batch_id = ? AND sequence = ?", batchId, sequence);
        if (row === undefined) continue;
        this.#run("UPDATE readings SET batch_id = NULL WHERE batch_id = ? AND sequence = ?", batchId, sequence);
        detached.push(toReading(row));
      }
      return detached;
    });
  }

  markFailed(batchId: number, error: string): void {
    this.#setState(batchId, "failed", { error });
  }

  /** Puts a batch back to pending: it will be sent again with a new nonce. */
  requeue(batchId: number): void {
    this.#setState(batchId, "pending", { nonce: null });
  }

  batch(batchId: number): BatchRecord | undefined {
    const row = this.#get("SELECT * FROM batches WHERE id = ?", batchId);
    return row === undefined ? undefined : toBatch(row);
  }

  batchesInState(state: BatchState): BatchRecord[] {
    return this.#all("SELECT * FROM batches WHERE state = ? ORDER BY id", state).map(toBatch);
  }

  /** The transactions signed for a batch, oldest first. */
  transactionsOf(batchId: number): TxRecord[] {
    return this.#all("SELECT * FROM transactions WHERE batch_id = ? ORDER BY rowid", batchId).map(toTx);
  }

  counts(): JournalCounts {
    const batches: Record<BatchState, number> = { pending: 0, sent: 0, confirmed: 0, failed: 0, split: 0 };
    for (const row of this.#all("SELECT state, COUNT(*) AS n FROM batches GROUP BY state")) {
      batches[String(row.state) as BatchState] = Number(row.n);
    }
    const readings = this.#get("SELECT COUNT(*) AS n, COUNT(*) - COUNT(batch_id) AS unbatched FROM readings");
    const gas = this.#all("SELECT gas_used FROM batches WHERE state = 'confirmed' AND gas_used IS NOT NULL");
    const settled = this.#get(
      `SELECT COUNT(*) AS n FROM readings JOIN batches ON readings.batch_id = batches.id
       WHERE batches.state = 'confirmed'`,
    );
    return {
      readings: Number(readings?.n ?? 0),
      unbatched: Number(readings?.unbatched ?? 0),
      batches,
      scansConfirmed: Number(settled?.n ?? 0),
      gasUsed: gas.reduce((sum, row) => sum + BigInt(String(row.gas_used)), 0n),
    };
  }

  // --- internals --------------------------------------------------------------------------------------------------

  #bindIdentity(file: string, identity: JournalIdentity): void {
    const wanted: Record<string, string> = {
      schema_version: SCHEMA_VERSION,
      chain_id: identity.chainId.toString(),
      escrow: identity.escrow.toLowerCase(),
    };
    for (const [key, value] of Object.entries(wanted)) {
      const row = this.#get("SELECT value FROM meta WHERE key = ?", key);
      if (row === undefined) {
        this.#run("INSERT INTO meta (key, value) VALUES (?, ?)", key, value);
      } else if (row.value !== value) {
        throw new JournalError(`journal ${file} belongs to ${key} ${String(row.value)}, not ${value}`);
      }
    }
  }

  #insertReading(reading: ReadingRecord): void {
    this.#run(
      "INSERT INTO readings (gantry_id, sequence, vehicle_id, timestamp, line_no, line_hash) VALUES (?, ?, ?, ?, ?, ?)",
      reading.gantryId,
      reading.sequence,
      reading.vehicleId,
      reading.timestamp,
      reading.lineNo,
      reading.lineHash,
    );
  }

  #insertBatch(batch: NewBatch): number {
    const result = this.#run(
      `INSERT INTO batches (gantry_id, state, scans, signature, scan_count, updated_at)
       VALUES (?, 'pending', ?, ?, ?, ?)`,
      batch.gantryId,
      batch.scans,
      batch.signature,
      batch.sequences.length,
      Date.now(),
    );
    const batchId = Number(result.lastInsertRowid);
    const assign = "UPDATE readings SET batch_id = ? WHERE gantry_id = ? AND sequence = ? AND batch_id IS NULL";
    for (const sequence of batch.sequences) {
      if (Number(this.#run(assign, batchId, batch.gantryId, sequence).changes) !== 1) {
        throw new JournalError(`reading ${batch.gantryId}/${sequence} is not journaled or already batched`);
      }
    }
    return batchId;
  }

  #setState(batchId: number, state: BatchState, fields: Record<string, SQLInputValue>): void {
    const names = Object.keys(fields);
    const assignments = names.map((name) => `${name} = ?`).join(", ");
    const set = names.length > 0 ? `, ${assignments}` : "";
    const sql = `UPDATE batches SET state = ?, updated_at = ?${set} WHERE id = ?`;
    const changes = this.#run(sql, state, Date.now(), ...Object.values(fields), batchId).changes;
    if (Number(changes) !== 1) throw new JournalError(`no batch ${batchId}`);
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #run(sql: string, ...params: SQLInputValue[]) {
    return this.#statement(sql).run(...params);
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#statement(sql).get(...params);
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#statement(sql).all(...params);
  }
}

function toReading(row: Row): ReadingRecord {
  return {
    gantryId: Number(row.gantry_id),
    sequence: Number(row.sequence),
    vehicleId: Number(row.vehicle_id),
    timestamp: Number(row.timestamp),
    lineNo: Number(row.line_no),
    lineHash: String(row.line_hash),
  };
}

function toBatch(row: Row): BatchRecord {
  return {
    id: Number(row.id),
    gantryId: Number(row.gantry_id),
    state: String(row.state) as BatchState,
    scans: String(row.scans),
    signature: String(row.signature),
    scanCount: Number(row.scan_count),
    nonce: row.nonce === null ? null : Number(row.nonce),
    txHash: row.tx_hash === null ? null : String(row.tx_hash),
    gasUsed: row.gas_used === null ? null : BigInt(String(row.gas_used)),
    error: row.error === null ? null : String(row.error),
  };
}

function toTx(row: Row): TxRecord {
  return {
    hash: String(row.hash),
    batchId: Number(row.batch_id),
    from: String(row.sender),
    nonce: Number(row.nonce),
    maxFeePerGas: BigInt(String(row.max_fee_per_gas)),
    maxPriorityFeePerGas: BigInt(String(row.max_priority_fee_per_gas)),
    raw: String(row.raw),
  };
}
