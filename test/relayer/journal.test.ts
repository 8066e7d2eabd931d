import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

import { expect } from "chai";

import { Journal, JournalError, type ReadingRecord } from "../../scripts/lib/relayer/journal.js";

const IDENTITY = { chainId: 31337n, escrow: "0x00000000000000000000000000000000000000E5" };

function reading(gantryId: number, sequence: number, lineNo = sequence): ReadingRecord {
  return {
    gantryId,
    sequence,
    vehicleId: 100 + sequence,
    timestamp: 1_800_000_000 + sequence,
    lineNo,
    lineHash: `h${lineNo}`,
  };
}

describe("relayer journal", function () {
  let dir: string;
  let file: string;
  const open: Journal[] = [];

  const openJournal = (identity = IDENTITY) => {
    const journal = Journal.open(file, identity);
    open.push(journal);
    return journal;
  };

  beforeEach(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "relayer-journal-"));
    file = path.join(dir, "nested", "journal.sqlite");
  });

  afterEach(async function () {
    for (const journal of open.splice(0)) journal.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps readings, batches and transactions across a reopen", function () {
    const first = openJournal();
    first.recordReading(reading(7, 1));
    first.recordReading(reading(7, 2));
    const batchId = first.createBatch({ gantryId: 7, scans: "0xaa", signature: "0xbb", sequences: [1, 2] });
    first.recordTransaction({
      hash: "0x01",
      batchId,
      from: "0xf",
      nonce: 4,
      maxFeePerGas: 10n,
      maxPriorityFeePerGas: 1n,
      raw: "0xraw",
    });
    first.recordReading(reading(7, 3));
    first.close();

    const second = openJournal();
    expect(second.findReading(7, 2)).to.deep.equal(reading(7, 2));
    expect(second.unbatchedReadings()).to.deep.equal([reading(7, 3)]);
    expect(second.batch(batchId)).to.include({ state: "sent", nonce: 4, txHash: "0x01", scanCount: 2 });
    expect(second.transactionsOf(batchId)).to.have.length(1);
    expect(second.transactionsOf(batchId)[0].maxFeePerGas).to.equal(10n);
  });

  it("refuses a second reading with the same gantry and sequence", function () {
    const journal = openJournal();
    journal.recordReading(reading(7, 1));
    expect(() => journal.recordReading(reading(7, 1, 99))).to.throw(/UNIQUE/);
  });

  it("moves a batch through its states", function () {
    const journal = openJournal();
    journal.recordReading(reading(3, 1));
    const batchId = journal.createBatch({ gantryId: 3, scans: "0xaa", signature: "0xbb", sequences: [1] });
    expect(journal.batchesInState("pending").map((batch) => batch.id)).to.deep.equal([batchId]);
    journal.markFailed(batchId, "reverted");
    expect(journal.batch(batchId)).to.include({ state: "failed", error: "reverted" });
    journal.requeue(batchId);
    expect(journal.batch(batchId)).to.include({ state: "pending" });
    journal.markConfirmed(batchId, { txHash: "0x02", blockNumber: 5, gasUsed: 21_000n });
    expect(journal.batch(batchId)).to.include({ state: "confirmed", txHash: "0x02", error: null });
    expect(journal.counts()).to.deep.include({ readings: 1, unbatched: 0, scansConfirmed: 1, gasUsed: 21_000n });
  });

  it("refuses to batch a reading twice, and leaves nothing behind when it does", function () {
    const journal = openJournal();
    journal.recordReading(reading(3, 1));
    journal.createBatch({ gantryId: 3, scans: "0xaa", signature: "0xbb", sequences: [1] });
    expect(() => journal.createBatch({ gantryId: 3, scans: "0xaa", signature: "0xbb", sequences: [1] })).to.throw(
      JournalError,
    );
    expect(journal.counts().batches.pending).to.equal(1);
  });

  it("splits a pending batch into parts atomically", function () {
    const journal = openJournal();
    for (const sequence of [1, 2, 3]) journal.recordReading(reading(3, sequence));
    const whole = journal.createBatch({ gantryId: 3, scans: "0xaa", signature: "0xbb", sequences: [1, 2, 3] });
    const parts = journal.splitBatch(whole, [
      { gantryId: 3, scans: "0x01", signature: "0xs1", sequences: [1, 2] },
      { gantryId: 3, scans: "0x02", signature: "0xs2", sequences: [3] },
    ]);
    expect(journal.batch(whole)?.state).to.equal("split");
    expect(parts[0]).to.be.greaterThan(whole);
    expect(journal.readingsOf(whole)).to.deep.equal([]);
    expect(journal.readingsOf(parts[0]).map((r) => r.sequence)).to.deep.equal([1, 2]);
    expect(journal.readingsOf(parts[1]).map((r) => r.sequence)).to.deep.equal([3]);
  });

  describe("recordLines", function () {
    const rejectedLine = (lineNo: number) => ({ lineNo, lineHash: `h${lineNo}`, reason: "malformed-json" });

    it("records a group's readings and rejects together, durably", function () {
      const first = openJournal();
      first.recordLines([reading(7, 1), reading(7, 3)], [rejectedLine(2), rejectedLine(4)]);
      first.close();

      const second = openJournal();
      expect(second.unbatchedReadings()).to.deep.equal([reading(7, 1), reading(7, 3)]);
      expect([2, 4].map((lineNo) => second.rejectOf(lineNo, `h${lineNo}`) !== undefined)).to.deep.equal([true, true]);
    });

    it("records none of the group when one reading's key is journaled already", function () {
      const journal = openJournal();
      journal.recordReading(reading(7, 2));
      const group = [reading(7, 1), reading(7, 2, 99), reading(7, 3)];
      expect(() => journal.recordLines(group, [rejectedLine(4)])).to.throw(/UNIQUE/);
      expect(journal.unbatchedReadings()).to.deep.equal([reading(7, 2)]);
      expect(journal.rejectOf(4, "h4") !== undefined).to.equal(false);
    });

    it("records none of the group when two of its readings share a key", function () {
      const journal = openJournal();
      expect(() => journal.recordLines([reading(7, 1), reading(7, 1, 2)], [rejectedLine(3)])).to.throw(/UNIQUE/);
      expect(journal.counts().readings).to.equal(0);
      expect(journal.rejectOf(3, "h3") !== undefined).to.equal(false);
      // The journal is usable again at once: the failed group left no transaction open.
      journal.recordLines([reading(7, 1)], []);
      expect(journal.counts().readings).to.equal(1);
    });

    it("records a line rejected before only once, as recordReject does", function () {
      const journal = openJournal();
      journal.recordReject(2, "h2", "malformed-json");
      journal.recordLines([reading(7, 1)], [rejectedLine(2), rejectedLine(2)]);
      expect(journal.rejectOf(2, "h2") !== undefined).to.equal(true);
      expect(journal.counts().readings).to.equal(1);
    });

    it("lets the batcher's transactions run between groups", function () {
      const journal = openJournal();
      journal.recordLines([reading(3, 1), reading(3, 2)], []);
      const batchId = journal.createBatch({ gantryId: 3, scans: "0xaa", signature: "0xbb", sequences: [1, 2] });
      journal.recordLines([reading(3, 3)], []);
      expect(journal.readingsOf(batchId).map((r) => r.sequence)).to.deep.equal([1, 2]);
      expect(journal.unbatchedReadings()).to.deep.equal([reading(3, 3)]);
    });
  });

  describe("rejects and the rejects file", function () {
    it("holds a reject as unreported, with its reason, until it is marked reported", function () {
      const journal = openJournal();
      journal.recordLines([], [{ lineNo: 2, lineHash: "h2", reason: "unknown-plate" }]);
      expect(journal.rejectOf(2, "h2")).to.deep.equal({ reason: "unknown-plate", reported: false });
      journal.markReported([{ lineNo: 2, lineHash: "h2" }]);
      journal.close();
      expect(openJournal().rejectOf(2, "h2")).to.deep.equal({ reason: "unknown-plate", reported: true });
    });

    it("counts the rejects of a journal written before it tracked reporting as reported", function () {
      openJournal().close();
      // The journal as the previous release wrote it: no `reported` column, one reject.
      const db = new DatabaseSync(file);
      db.exec("ALTER TABLE rejects DROP COLUMN reported");
      db.exec("INSERT INTO rejects (line_no, line_hash, reason) VALUES (5, 'h5', 'duplicate')");
      db.close();
      const journal = openJournal();
      expect(journal.rejectOf(5, "h5")).to.deep.equal({ reason: "duplicate", reported: true });
      journal.recordReject(6, "h6", "malformed-json");
      expect(journal.rejectOf(6, "h6")).to.deep.equal({ reason: "malformed-json", reported: false });
    });
  });

  it("remembers rejected lines by number and content", function () {
    const journal = openJournal();
    journal.recordReject(4, "abc", "malformed-json");
    journal.recordReject(4, "abc", "malformed-json");
    expect(journal.rejectOf(4, "abc") !== undefined).to.equal(true);
    expect(journal.rejectOf(4, "abd") !== undefined).to.equal(false);
    expect(journal.rejectOf(5, "abc") !== undefined).to.equal(false);
  });

  it("belongs to one chain and escrow", function () {
    openJournal().close();
    expect(() => openJournal({ ...IDENTITY, chainId: 1n })).to.throw(JournalError, /chain_id 31337/);
    expect(() => openJournal({ ...IDENTITY, escrow: "0x00000000000000000000000000000000000000E6" })).to.throw(
      JournalError,
      /escrow/,
    );
    // The escrow address is compared without regard to checksum case.
    expect(() => openJournal({ ...IDENTITY, escrow: IDENTITY.escrow.toLowerCase() })).not.to.throw();
  });

  it("admits one relayer at a time", function () {
    openJournal();
    expect(() => Journal.open(file, IDENTITY)).to.throw(JournalError, /in use by another relayer/);
  });

  it("runs in memory for dry runs", function () {
    const journal = Journal.open(":memory:", IDENTITY);
    journal.recordReading(reading(1, 1));
    expect(journal.counts().readings).to.equal(1);
    journal.close();
  });
});
