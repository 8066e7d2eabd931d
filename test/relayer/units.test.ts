import { expect } from "chai";
import { verifyTypedData, Wallet } from "ethers";

import { Limiter, readAhead, sleep } from "../../scripts/lib/relayer/async.js";
import { Batcher } from "../../scripts/lib/relayer/batcher.js";
import type { ReadingRecord } from "../../scripts/lib/relayer/journal.js";
import { createLogger, type LogEntry } from "../../scripts/lib/relayer/logger.js";
import { classifyRpcError, RelayerStopped, Rpc } from "../../scripts/lib/relayer/rpc.js";
import { decodeScans, encodeScans, SCAN_BATCH_TYPES, scanBatchDomain, signScanBatch } from "../../scripts/lib/scans.js";

function reading(gantryId: number, sequence: number): ReadingRecord {
  return { gantryId, sequence, vehicleId: 1, timestamp: 1, lineNo: sequence, lineHash: "" };
}

describe("relayer building blocks", function () {
  describe("scan wire format (scripts/lib/scans.ts, as the relayer uses it)", function () {
    it("packs vehicleId uint48 | timestamp uint40 | sequence uint40, big-endian", function () {
      const encoded = encodeScans([
        { vehicleId: 1n, timestamp: 2n, sequence: 3n },
        { vehicleId: 2n ** 48n - 1n, timestamp: 2n ** 40n - 1n, sequence: 0n },
      ]);
      expect(encoded).to.equal(
        "0x" + "000000000001" + "0000000002" + "0000000003" + "ffffffffffff" + "ffffffffff" + "0000000000",
      );
      expect(decodeScans(encoded)).to.deep.equal([
        { vehicleId: 1n, timestamp: 2n, sequence: 3n },
        { vehicleId: 2n ** 48n - 1n, timestamp: 2n ** 40n - 1n, sequence: 0n },
      ]);
    });

    it("refuses values that do not fit and bytes that are not whole scans", function () {
      expect(() => encodeScans([{ vehicleId: 2n ** 48n, timestamp: 0n, sequence: 0n }])).to.throw(RangeError);
      expect(() => encodeScans([{ vehicleId: 0n, timestamp: 0n, sequence: -1n }])).to.throw(RangeError);
      expect(() => decodeScans("0x00")).to.throw(RangeError);
    });

    it("signs ScanBatch(uint32 gantryId,bytes scans) in the escrow's domain", async function () {
      const oracle = Wallet.createRandom();
      const escrow = Wallet.createRandom().address;
      const scans = encodeScans([{ vehicleId: 5n, timestamp: 1_800_000_000n, sequence: 42n }]);
      const signature = await signScanBatch(oracle, escrow, 31337n, 7, scans);
      const signer = verifyTypedData(
        scanBatchDomain(escrow, 31337n),
        SCAN_BATCH_TYPES,
        { gantryId: 7, scans },
        signature,
      );
      expect(signer).to.equal(oracle.address);
      const otherChain = verifyTypedData(
        scanBatchDomain(escrow, 1n),
        SCAN_BATCH_TYPES,
        { gantryId: 7, scans },
        signature,
      );
      expect(otherChain).not.to.equal(oracle.address);
    });
  });

  describe("Batcher", function () {
    it("seals a gantry's batch when it is full, keeping gantries apart", async function () {
      const sealed: Array<[number, number[]]> = [];
      const batcher = new Batcher({
        maxBatchSize: 2,
        maxWaitMs: 60_000,
        seal: async (gantryId, readings) => {
          sealed.push([gantryId, readings.map((r) => r.sequence)]);
        },
        onError: (error) => {
          throw error;
        },
      });
      for (const [gantry, sequence] of [
        [1, 1],
        [2, 1],
        [1, 2],
        [1, 3],
      ])
        batcher.add(reading(gantry, sequence));
      await batcher.idle();
      expect(sealed).to.deep.equal([[1, [1, 2]]]);
      expect(batcher.waiting).to.equal(2);
      await batcher.flushAll();
      expect(sealed).to.deep.equal([
        [1, [1, 2]],
        [2, [1]],
        [1, [3]],
      ]);
    });

    it("seals a batch whose oldest reading waited maxWaitMs", async function () {
      const sealed: number[][] = [];
      let done: () => void = () => {};
      const sealedOnce = new Promise<void>((resolve) => (done = resolve));
      const batcher = new Batcher({
        maxBatchSize: 100,
        maxWaitMs: 20,
        seal: async (_gantryId, readings) => {
          sealed.push(readings.map((r) => r.sequence));
          done();
        },
        onError: () => {},
      });
      batcher.add(reading(1, 1));
      batcher.add(reading(1, 2));
      await sealedOnce;
      expect(sealed).to.deep.equal([[1, 2]]);
    });

    it("holds a reading from the future until its time has come", async function () {
      let now = 1_000;
      const sealed: number[][] = [];
      const batcher = new Batcher({
        maxBatchSize: 1,
        maxWaitMs: 60_000,
        now: () => now,
        seal: async (_gantryId, readings) => {
          sealed.push(readings.map((r) => r.sequence));
        },
        onError: () => {},
      });
      batcher.add({ ...reading(1, 1), timestamp: 999 });
      // A reading stamped this very second still waits the hold margin.
      now = 999;
      batcher.add({ ...reading(1, 2), timestamp: 999 });
      await batcher.idle();
      expect(sealed).to.deep.equal([[1]]);
      expect(batcher.held).to.equal(1);
      await batcher.flushAll();
      expect(sealed).to.deep.equal([[1], [2]]);
      expect(batcher.held).to.equal(0);
    });

    it("drops held readings on discard", function () {
      const batcher = new Batcher({
        maxBatchSize: 1,
        maxWaitMs: 60_000,
        now: () => 0,
        seal: async () => expect.fail("nothing should be sealed"),
        onError: () => {},
      });
      batcher.add({ ...reading(1, 1), timestamp: 3_600 });
      expect(batcher.held).to.equal(1);
      batcher.discard();
      expect(batcher.held).to.equal(0);
    });

    it("seals one batch at a time, and stops after a failure", async function () {
      let active = 0;
      let most = 0;
      const errors: unknown[] = [];
      const sealed: number[] = [];
      const batcher = new Batcher({
        maxBatchSize: 1,
        maxWaitMs: 60_000,
        seal: async (_gantryId, readings) => {
          active++;
          most = Math.max(most, active);
          await new Promise((resolve) => setTimeout(resolve, 2));
          active--;
          if (readings[0].sequence === 2) throw new Error("disk full");
          sealed.push(readings[0].sequence);
        },
        onError: (error) => errors.push(error),
      });
      for (const sequence of [1, 2, 3]) batcher.add(reading(1, sequence));
      await batcher.idle();
      expect(most).to.equal(1);
      expect(sealed).to.deep.equal([1]);
      expect(errors).to.have.length(1);
    });
  });

  describe("logger", function () {
    it("writes { at, message, ...fields } as JSON, bigints as strings, secrets blanked", function () {
      const lines: string[] = [];
      const logger = createLogger({ json: true, write: (text) => lines.push(text) });
      logger.info("Batcher#flush", "sealed", { gantry: 7, gasUsed: 123n, privateKey: "0xdead", oracleSecret: "s" });
      const entry = JSON.parse(lines[0]) as Record<string, unknown>;
      expect(Object.keys(entry).slice(0, 2)).to.deep.equal(["at", "message"]);
      expect(entry).to.include({ at: "Batcher#flush", message: "sealed", gantry: 7, gasUsed: "123", level: "info" });
      expect(entry.privateKey).to.equal("[redacted]");
      expect(entry.oracleSecret).to.equal("[redacted]");
    });

    it("writes one human line per entry and drops entries below its level", function () {
      const lines: string[] = [];
      const entries: LogEntry[] = [];
      const logger = createLogger({ json: false, write: (text) => lines.push(text), onEntry: (e) => entries.push(e) });
      logger.debug("A#b", "hidden");
      logger.warn("Rpc#call", "RPC call failed; retrying", { attempt: 2, error: "connect ECONNREFUSED" });
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(
        /^\d\d:\d\d:\d\d WARN \[Rpc#call\] RPC call failed; retrying {2}attempt=2 error="connect/,
      );
      expect(entries.map((e) => e.level)).to.deep.equal(["warn"]);
    });
  });

  describe("Rpc", function () {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });

    it("sorts errors into transient, final and unclear", function () {
      expect(classifyRpcError(refused)).to.equal("transient");
      expect(classifyRpcError(Object.assign(new Error("x"), { code: "TIMEOUT" }))).to.equal("transient");
      expect(classifyRpcError(Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION" }))).to.equal(
        "final",
      );
      expect(classifyRpcError(new Error("nonce too low"))).to.equal("final");
      expect(
        classifyRpcError(new Error("Transaction gas limit is 790000 and exceeds block gas limit of 550000")),
      ).to.equal("final");
      expect(classifyRpcError(new Error("intrinsic gas too low"))).to.equal("final");
      expect(
        classifyRpcError(
          new Error("Transaction maxFeePerGas (1) is too low for the next block, which has a baseFeePerGas of 4"),
        ),
      ).to.equal("final");
      expect(classifyRpcError(new Error("max fee per gas less than block base fee"))).to.equal("final");
      expect(classifyRpcError(new Error("eth_getLogs is limited to a 500 block range"))).to.equal("final");
      expect(classifyRpcError(new Error("query returned more than 10000 results"))).to.equal("final");
      expect(classifyRpcError(new Error("fetch failed", { cause: refused }))).to.equal("transient");
      expect(classifyRpcError(new Error("something odd"))).to.equal("unclear");
    });

    it("retries transient failures until the call succeeds", async function () {
      let calls = 0;
      let retries = 0;
      const rpc = new Rpc({
        logger: createLogger({ json: true, write: () => {} }),
        signal: new AbortController().signal,
        onRetry: () => retries++,
      });
      const result = await rpc.call("flaky", async () => {
        calls++;
        if (calls < 3) throw refused;
        return "ok";
      });
      expect(result).to.equal("ok");
      expect(retries).to.equal(2);
    });

    it("throws final errors at once", async function () {
      let calls = 0;
      const rpc = new Rpc({
        logger: createLogger({ json: true, write: () => {} }),
        signal: new AbortController().signal,
      });
      const reverted = Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION" });
      await rpc
        .call("reverts", async () => {
          calls++;
          throw reverted;
        })
        .then(
          () => expect.fail("expected a throw"),
          (error: unknown) => expect(error).to.equal(reverted),
        );
      expect(calls).to.equal(1);
    });

    it("gives up with RelayerStopped when its signal fires during an outage", async function () {
      const stop = new AbortController();
      const rpc = new Rpc({
        logger: createLogger({ json: true, write: () => {} }),
        signal: stop.signal,
        onRetry: () => stop.abort(),
      });
      await rpc
        .call("down", async () => Promise.reject(refused))
        .then(
          () => expect.fail("expected a throw"),
          (error: unknown) => expect(error).to.be.instanceOf(RelayerStopped),
        );
    });
  });
  describe("readAhead", function () {
    /** A source whose items are handed out by the test: each read waits until `release` lets one more through. */
    function gatedSource(items: readonly number[]) {
      let released = 0;
      let wake: () => void = () => {};
      const state = { reads: 0, closed: false };
      async function* source(): AsyncGenerator<number> {
        try {
          for (const item of items) {
            state.reads++;
            while (released < state.reads) await new Promise<void>((resolve) => (wake = resolve));
            yield item;
          }
        } finally {
          state.closed = true;
        }
      }
      const release = (count: number) => {
        released += count;
        wake();
      };
      return { source: source(), release, state };
    }

    it("yields every item in order and calls onRead on each as it arrives, at most `depth` ahead", async function () {
      const seen: number[] = [];
      const yielded: number[] = [];
      const aheadWhenYielded: number[] = [];
      async function* numbers(): AsyncGenerator<number> {
        for (let i = 1; i <= 10; i++) yield i;
      }
      for await (const item of readAhead(numbers(), 3, (arrived) => seen.push(arrived))) {
        yielded.push(item);
        aheadWhenYielded.push(seen.length - yielded.length);
        await sleep(1);
      }
      expect(yielded).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(seen).to.deep.equal(yielded);
      expect(Math.max(...aheadWhenYielded)).to.equal(2);
    });

    it("yields an item that has arrived without waiting for the read in flight", async function () {
      const { source, release, state } = gatedSource([1, 2, 3]);
      const ahead = readAhead(source, 4, () => {});
      release(2);
      expect(await ahead.next()).to.deep.equal({ value: 1, done: false });
      await sleep(10);
      // Items 1 and 2 have arrived and the third read is in flight, blocked until released.
      expect(state.reads).to.equal(3);
      expect(await ahead.next()).to.deep.equal({ value: 2, done: false });
      const third = ahead.next();
      let settled = false;
      void third.then(() => (settled = true));
      await sleep(20);
      expect(settled).to.equal(false);
      release(1);
      expect(await third).to.deep.equal({ value: 3, done: false });
      expect(await ahead.next()).to.deep.equal({ value: undefined, done: true });
      expect(state.closed).to.equal(true);
    });

    it("yields what arrived before the source failed, then throws its error", async function () {
      async function* failing(): AsyncGenerator<number> {
        yield 1;
        yield 2;
        throw new Error("disk gone");
      }
      const yielded: number[] = [];
      let error: unknown;
      try {
        for await (const item of readAhead(failing(), 8, () => {})) yielded.push(item);
      } catch (caught) {
        error = caught;
      }
      expect(yielded).to.deep.equal([1, 2]);
      expect(String(error)).to.include("disk gone");
    });

    it("closes the source when the consumer stops early", async function () {
      const { source, release, state } = gatedSource([1, 2, 3, 4]);
      release(4);
      for await (const item of readAhead(source, 2, () => {})) if (item === 2) break;
      expect(state.closed).to.equal(true);
    });
  });

  describe("Limiter", function () {
    it("runs at most `limit` tasks at once, in the order they came, and returns each task's result", async function () {
      const limiter = new Limiter(3);
      let running = 0;
      let mostAtOnce = 0;
      const started: number[] = [];
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          limiter.run(async () => {
            started.push(i);
            mostAtOnce = Math.max(mostAtOnce, ++running);
            await sleep(5);
            running--;
            return i * 2;
          }),
        ),
      );
      expect(results).to.deep.equal([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
      expect(started).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(mostAtOnce).to.equal(3);
    });

    it("frees the slot of a task that failed", async function () {
      const limiter = new Limiter(1);
      const failed = limiter.run(async () => {
        throw new Error("refused");
      });
      await failed.catch(() => undefined);
      expect(await limiter.run(async () => "next")).to.equal("next");
    });
  });
});
