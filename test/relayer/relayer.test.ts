/**
 * runRelayer in-process, as the fleet simulator runs it, against Hardhat's in-process network and the real
 * registry, stablecoin and escrow: the paths that need control over the chain (mining, pausing, clocks).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";

import { expect } from "chai";
import {
  BrowserProvider,
  JsonRpcApiProvider,
  Network,
  parseEther,
  Transaction,
  Wallet,
  type JsonRpcError,
  type JsonRpcPayload,
  type JsonRpcResult,
} from "ethers";
import { network } from "hardhat";

import { makeRelayerConfig, type RelayerConfigInput } from "../../scripts/lib/relayer/config.js";
import { Journal } from "../../scripts/lib/relayer/journal.js";
import { createLogger, type LogEntry } from "../../scripts/lib/relayer/logger.js";
import { runRelayer, type RelayerSummary } from "../../scripts/lib/relayer/relayer.js";
import { hashLine } from "../../scripts/lib/relayer/validator.js";
import { encodeScans, SCAN_BYTES, scanBatchGasLimit, signScanBatch } from "../../scripts/lib/scans.js";
import {
  chainCharges,
  deployTollWorld,
  expectedFees,
  ndjson,
  STANDARD_FLEET,
  STANDARD_GANTRIES,
  validReadings,
  type Reading,
  type TollWorld,
} from "./world.js";
import { skipGasAssertionsUnderCoverage } from "../utils/coverage.js";

const connection = await network.create();
const { networkHelpers } = connection;
// No response cache, as in the relayer's own provider: a run starting just after a fixture was restored must not be
// handed the account nonce that the previous test's run was told a moment before.
const provider = new BrowserProvider(connection.provider, undefined, { cacheTimeout: -1 });

interface Request {
  readonly method: string;
  readonly params?: unknown[] | object;
}

/** A way to the in-process network, like `provider`, that shows `watch` each request before passing it on. */
function watchedProvider(watch: (request: Request) => void | Promise<void>): BrowserProvider {
  const request = async (request: Request) => {
    await watch(request);
    return connection.provider.request(request);
  };
  return new BrowserProvider({ request }, undefined, { cacheTimeout: -1 });
}

/** The scans of `request` if it simulates a `submitScansWithinGas` batch (an eth_call to the escrow). */
function simulatedScans(world: TollWorld, escrow: string, request: Request): string | undefined {
  const [call] = Array.isArray(request.params) ? (request.params as Array<{ to?: string; data?: string }>) : [];
  if (request.method !== "eth_call" || call?.to?.toLowerCase() !== escrow.toLowerCase() || call.data === undefined) {
    return undefined;
  }
  const parsed = world.escrow.interface.parseTransaction({ data: call.data });
  return parsed?.name === "submitScansWithinGas" ? String(parsed.args[1]) : undefined;
}

async function tollWorldFixture() {
  const admin = await provider.getSigner(0);
  const world = await deployTollWorld(admin, STANDARD_GANTRIES, STANDARD_FLEET);
  const gasWallet = Wallet.createRandom();
  await (await admin.sendTransaction({ to: gasWallet.address, value: parseEther("10") })).wait();
  return { world, gasWallet: new Wallet(gasWallet.privateKey) };
}

interface Run {
  readonly summary: RelayerSummary;
  readonly entries: LogEntry[];
}

/** Readings of one gantry only, so they make whole batches. */
function gantryReadings(world: TollWorld, count: number): Reading[] {
  return validReadings(world, count * world.gantries.length)
    .filter((reading) => reading.gantry === world.gantries[0].id)
    .slice(0, count);
}

/** `--simulate first`, batches of four sealed when full, one transaction in flight at a time. */
const SIMULATE_FIRST_ONE_AT_A_TIME = {
  batchSize: 4,
  maxWaitMs: 60_000,
  maxInFlight: 1,
  simulate: "first",
  gasLimit: "bound",
} as const;

/** `count` readings of each of the first two gantries, the first gantry's first: two batches of different gantries. */
function twoGantriesReadings(world: TollWorld, count: number): Reading[] {
  const [first, second] = world.gantries;
  const all = validReadings(world, count * world.gantries.length);
  return [
    ...all.filter((reading) => reading.gantry === first.id).slice(0, count),
    ...all.filter((reading) => reading.gantry === second.id).slice(0, count),
  ];
}

describe("runRelayer (in-process)", function () {
  let dir: string;
  /** Runs still going when a test ends (it failed): stopped so the next test has the chain to itself. */
  const running: Array<{ stop: AbortController; done: Promise<unknown> }> = [];

  beforeEach(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "relayer-run-"));
  });

  afterEach(async function () {
    for (const run of running.splice(0)) {
      run.stop.abort();
      await run.done.catch(() => {});
    }
    await connection.provider.request({ method: "evm_setAutomine", params: [true] });
    await rm(dir, { recursive: true, force: true });
  });

  function start(
    world: TollWorld,
    gasWallet: Wallet,
    readings: readonly Reading[],
    overrides: Partial<RelayerConfigInput> & {
      clock?: () => number;
      signal?: AbortSignal;
      oracleSigners?: ReadonlyMap<number, Wallet>;
      /** The input as a stream of these chunks (by default, the readings in one chunk). */
      chunks?: readonly string[];
      /** The relayer's way to the chain (by default, straight to the in-process network). */
      provider?: JsonRpcApiProvider;
    } = {},
  ): { done: Promise<Run>; entries: LogEntry[]; waitFor: (message: string) => Promise<LogEntry> } {
    const entries: LogEntry[] = [];
    const waiters: Array<{ message: string; resolve: (entry: LogEntry) => void }> = [];
    const logger = createLogger({
      json: true,
      write: () => {},
      onEntry: (entry) => {
        entries.push(entry);
        for (const waiter of waiters.filter((w) => w.message === entry.message)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(entry);
        }
      },
    });
    const { clock, signal, oracleSigners, chunks, provider: via, ...settings } = overrides;
    const stop = new AbortController();
    signal?.addEventListener("abort", () => stop.abort(), { once: true });
    const config = makeRelayerConfig({
      network: "hardhat",
      input: "-",
      journalPath: path.join(dir, "journal.sqlite"),
      rejectsPath: path.join(dir, "rejects.ndjson"),
      batchSize: 10,
      maxWaitMs: 50,
      pollIntervalMs: 20,
      stuckAfterMs: 60_000,
      ...settings,
    });
    const done = (async () => {
      const summary = await runRelayer({
        config,
        provider: via ?? provider,
        gasSigner: gasWallet,
        oracleSigners: oracleSigners ?? new Map(world.gantries.map((g) => [g.id, g.oracle])),
        contracts: {
          chainId: world.chainId,
          registry: await world.registry.getAddress(),
          escrow: await world.escrow.getAddress(),
        },
        // A file named in the settings is read (and followed) as the CLI would; otherwise the readings stream in.
        input:
          settings.input === undefined
            ? { kind: "stream", stream: Readable.from(chunks ?? [ndjson(readings)]) }
            : undefined,
        logger,
        clock,
        signal: stop.signal,
      });
      return { summary, entries };
    })();
    running.push({ stop, done });
    const waitFor = (message: string) => {
      const seen = entries.find((entry) => entry.message === message);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<LogEntry>((resolve) => waiters.push({ message, resolve }));
    };
    return { done, entries, waitFor };
  }

  async function expectExactlySettled(world: TollWorld, readings: readonly Reading[]) {
    const charges = await chainCharges(world);
    for (const reading of readings) {
      expect(await world.escrow.isScanSettled(reading.gantry, reading.seq)).to.equal(true);
      expect(charges.chargesPerScan.get(`${reading.gantry}/${reading.seq}`) ?? 0).to.be.at.most(1);
    }
    const expected = expectedFees(world, readings);
    const actual = new Map([...charges.feesPerVehicle].filter(([, fee]) => fee > 0n));
    expect(actual).to.deep.equal(expected);
  }

  it("settles a stream of readings and reports what it did", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = validReadings(world, 45);
    const { summary } = await start(world, gasWallet, readings).done;
    expect(summary).to.include({
      accepted: 45,
      rejected: 0,
      batchesFailed: 0,
      scansConfirmed: 45,
      stoppedBy: "end-of-input",
    });
    expect(summary.batchesConfirmed).to.equal(summary.batchesSent);
    expect(summary.gasUsed > 0n).to.equal(true);
    expect(summary.unfinished).to.deep.equal({ readings: 0, batches: 0 });
    await expectExactlySettled(world, readings);
  });

  it("journals each chunk of input in one commit", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = validReadings(world, 45);
    const chunks = [ndjson(readings.slice(0, 10)), ndjson(readings.slice(10, 30)) + "\n\n", ndjson(readings.slice(30))];
    const { summary } = await start(world, gasWallet, readings, { chunks }).done;
    expect(summary).to.include({ linesRead: 47, inputGroups: 3, accepted: 45, scansConfirmed: 45 });
    await expectExactlySettled(world, readings);
  });

  it("rejects a duplicate within one chunk as across chunks, journaling rejects with their group", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = validReadings(world, 20);
    const lines = readings.map((reading) => JSON.stringify(reading));
    // Line 6 repeats line 3's key in the same chunk; line 24, in the next chunk, repeats line 4's.
    const retimed = (reading: Reading) => JSON.stringify({ ...reading, time: Number(reading.time) - 1 });
    lines.splice(5, 0, retimed(readings[2]), "{not json");
    const later = ["", retimed(readings[3])];
    const chunks = [lines.join("\n") + "\n", later.join("\n") + "\n"];
    const settings = { chunks, batchSize: 5 };
    const { summary } = await start(world, gasWallet, [], settings).done;
    expect(summary).to.deep.include({ inputGroups: 2, accepted: 20, rejected: 3, scansConfirmed: 20 });
    expect(summary.rejectsByReason).to.deep.equal({ duplicate: 2, "malformed-json": 1 });
    const rejectsFile = path.join(dir, "rejects.ndjson");
    const rejects = (await readFile(rejectsFile, "utf-8")).trim().split("\n");
    const reported = rejects.map((reject) => JSON.parse(reject) as { line: number; reason: string });
    expect(reported.map(({ line, reason }) => ({ line, reason }))).to.deep.equal([
      { line: 6, reason: "duplicate" },
      { line: 7, reason: "malformed-json" },
      { line: 24, reason: "duplicate" },
    ]);
    await expectExactlySettled(world, readings);

    // The same input again: every line was journaled, rejects included; nothing is taken or reported twice.
    const { summary: again } = await start(world, gasWallet, [], settings).done;
    expect(again).to.include({ accepted: 0, rejected: 0, replayed: 23, batchesSent: 0 });
    expect((await readFile(rejectsFile, "utf-8")).trim().split("\n")).to.deep.equal(rejects);
  });

  it("writes a reject that a stopped run journaled but never wrote to the rejects file on restart, once", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = validReadings(world, 4);
    const chunks = [[...readings.map((reading) => JSON.stringify(reading)), "{not json"].join("\n") + "\n"];
    // What a run killed between journaling its group and appending the group's rejects to the file leaves behind.
    const identity = { chainId: world.chainId, escrow: await world.escrow.getAddress() };
    const stopped = Journal.open(path.join(dir, "journal.sqlite"), identity);
    stopped.recordLines([], [{ lineNo: 5, lineHash: hashLine("{not json"), reason: "malformed-json" }]);
    stopped.close();

    const { summary } = await start(world, gasWallet, [], { chunks }).done;
    expect(summary).to.deep.include({ accepted: 4, rejected: 1, replayed: 0, scansConfirmed: 4 });
    const rejectsFile = path.join(dir, "rejects.ndjson");
    const reported = (await readFile(rejectsFile, "utf-8"))
      .trim()
      .split("\n")
      .map((text) => JSON.parse(text) as { line: number; reason: string; raw: string });
    expect(reported.map(({ line, reason, raw }) => ({ line, reason, raw }))).to.deep.equal([
      { line: 5, reason: "malformed-json", raw: "{not json" },
    ]);
    await expectExactlySettled(world, readings);

    const { summary: again } = await start(world, gasWallet, [], { chunks }).done;
    expect(again).to.include({ accepted: 0, rejected: 0, replayed: 5 });
    expect((await readFile(rejectsFile, "utf-8")).trim().split("\n")).to.have.length(1);
  });

  it("replaces a transaction stuck in the mempool with a higher fee", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = gantryReadings(world, 4);
    await connection.provider.request({ method: "evm_setAutomine", params: [false] });
    {
      const run = start(world, gasWallet, readings, {
        batchSize: 4,
        maxWaitMs: 60_000,
        stuckAfterMs: 200,
        maxInFlight: 1,
      });
      await run.waitFor("stuck transaction replaced");
      await connection.provider.request({ method: "evm_mine", params: [] });
      const { summary, entries } = await run.done;
      expect(summary.txReplaced).to.be.at.least(1);
      expect(summary.batchesConfirmed).to.equal(1);
      const sent = entries.find((entry) => entry.message === "batch sent");
      const confirmed = entries.find((entry) => entry.message === "batch confirmed");
      // The transaction mined is a replacement, on the same nonce, paying more.
      expect(confirmed?.tx).not.to.equal(sent?.tx);
      const original = await provider.getTransaction(String(sent?.tx));
      const mined = await provider.getTransaction(String(confirmed?.tx));
      expect(original).to.equal(null);
      expect(mined?.nonce).to.equal(sent?.nonce);
      const journal = Journal.open(path.join(dir, "journal.sqlite"), {
        chainId: world.chainId,
        escrow: await world.escrow.getAddress(),
      });
      const txs = journal.transactionsOf(1);
      journal.close();
      const first = Transaction.from(txs[0].raw);
      expect((mined?.maxFeePerGas ?? 0n) > (first.maxFeePerGas ?? 0n)).to.equal(true);
      await expectExactlySettled(world, readings);
    }
  });

  for (const broadcastDepth of [1, 2]) {
    it(`sends the next batch on the nonce of a transaction the node refused, leaving no gap (--broadcast-depth ${broadcastDepth})`, async function () {
      const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
      const [first, second] = world.gantries;
      const all = validReadings(world, 10 * world.gantries.length);
      const big = all.filter((reading) => reading.gantry === first.id).slice(0, 8);
      const small = all.filter((reading) => reading.gantry === second.id).slice(0, 2);
      // Blocks that hold the bound of two scans but not of eight: the node refuses the big batch's transaction.
      const blockGasLimit = (scanBatchGasLimit(2) + scanBatchGasLimit(8)) / 2n;
      await connection.provider.request({
        method: "evm_setBlockGasLimit",
        params: [`0x${blockGasLimit.toString(16)}`],
      });
      const settings = { batchSize: 8, maxWaitMs: 60_000, gasLimit: "bound" as const, broadcastDepth };
      const { summary, entries } = await start(world, gasWallet, [...big, ...small], settings).done;
      expect(summary).to.include({ batchesFailed: 1, batchesConfirmed: 1, scansConfirmed: 2 });
      const failed = entries.find(
        (entry) => entry.message === "batch failed; it stays journaled and is retried on the next start",
      );
      expect(String(failed?.reason)).to.match(/^transaction refused/);
      const journal = Journal.open(path.join(dir, "journal.sqlite"), {
        chainId: world.chainId,
        escrow: await world.escrow.getAddress(),
      });
      const refusedNonce = journal.transactionsOf(Number(failed?.batch)).at(-1)?.nonce;
      journal.close();
      const confirmed = entries.find((entry) => entry.message === "batch confirmed");
      expect((await provider.getTransaction(String(confirmed?.tx)))?.nonce).to.equal(refusedNonce);

      // Blocks large enough again: the next start sends the refused batch.
      await connection.provider.request({ method: "evm_setBlockGasLimit", params: ["0x3938700"] });
      const { summary: retried } = await start(world, gasWallet, [...big, ...small], settings).done;
      expect(retried).to.include({ batchesFailed: 0, batchesConfirmed: 1, scansConfirmed: 8 });
      await expectExactlySettled(world, [...big, ...small]);
    });
  }

  it("with --broadcast-depth 2, sends again a transaction that reached the node before the one ahead of it", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = twoGantriesReadings(world, 4);
    // A slow way to the node for the first broadcast only: the second, sent behind it, overtakes it, and the node
    // (automine takes no nonce gap) refuses it as "nonce too high".
    let held = false;
    const slowFirstBroadcast = watchedProvider(async (request) => {
      if (request.method === "eth_sendRawTransaction" && !held) {
        held = true;
        await sleep(300);
      }
    });
    const run = start(world, gasWallet, readings, {
      batchSize: 4,
      maxWaitMs: 60_000,
      gasLimit: "bound",
      broadcastDepth: 2,
      provider: slowFirstBroadcast,
    });
    const { summary, entries } = await run.done;
    expect(summary).to.include({ batchesFailed: 0, batchesConfirmed: 2, scansConfirmed: 8, txReplaced: 0 });
    const overtaken = entries.filter(
      (entry) => entry.message === "transaction reached the node before the one ahead; waiting for it",
    );
    expect(overtaken).to.have.length(1);
    // The same transaction went again, on the nonce after the first one's: nothing was signed twice.
    const sent = entries.filter((entry) => entry.message === "batch sent");
    expect(sent.map((entry) => entry.nonce)).to.have.members([Number(overtaken[0].nonce) - 1, overtaken[0].nonce]);
    expect(sent.map((entry) => entry.tx)).to.include(overtaken[0].tx);
    await expectExactlySettled(world, readings);
  });

  it("broadcasts each transaction in a JSON-RPC request of its own, while its other calls share batches", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = validReadings(world, 6 * world.gantries.length);
    const requests: string[][] = [];
    // A JSON-RPC provider, which batches the calls made together as the relayer's own does, that reaches the
    // in-process network call by call and records each request's calls.
    class RecordingProvider extends JsonRpcApiProvider {
      override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<Array<JsonRpcResult | JsonRpcError>> {
        const payloads = Array.isArray(payload) ? payload : [payload];
        requests.push(payloads.map((call) => call.method));
        return Promise.all(payloads.map(answer));
      }
    }
    const answer = async (call: JsonRpcPayload): Promise<JsonRpcResult | JsonRpcError> => {
      try {
        const params = Array.isArray(call.params) ? call.params : [];
        return { id: call.id, result: await connection.provider.request({ method: call.method, params }) };
      } catch (error) {
        const { code, message, data } = error as { code?: number; message?: string; data?: unknown };
        return { id: call.id, error: { code: code ?? -32603, message, data } };
      }
    };
    const recording = new RecordingProvider(Network.from(world.chainId), {
      staticNetwork: true,
      cacheTimeout: -1,
      batchStallTime: 0,
    });
    const { summary } = await start(world, gasWallet, readings, { batchSize: 4, provider: recording }).done;
    expect(summary).to.include({ batchesFailed: 0, scansConfirmed: readings.length });
    const broadcasts = requests.filter((methods) => methods.includes("eth_sendRawTransaction"));
    expect(broadcasts).to.have.length(summary.batchesConfirmed);
    for (const methods of broadcasts) expect(methods).to.deep.equal(["eth_sendRawTransaction"]);
    expect(
      requests.some((methods) => methods.length > 1),
      "no calls were batched",
    ).to.equal(true);
    await expectExactlySettled(world, readings);
  });

  /** The journal the runs of this test use. */
  async function openJournal(world: TollWorld): Promise<Journal> {
    return Journal.open(path.join(dir, "journal.sqlite"), {
      chainId: world.chainId,
      escrow: await world.escrow.getAddress(),
    });
  }

  /**
   * What a run leaves behind when it dies after journaling its transactions and before broadcasting any: each group
   * of readings journaled (as lines 1, 2, ... of the input, in order) and sealed into a batch signed by its gantry's
   * oracle key, each batch's transaction signed by the gas key on the account's next nonces, in order, and journaled
   * as sent. Nothing reaches the node.
   */
  async function crashBeforeBroadcast(world: TollWorld, gasWallet: Wallet, groups: readonly Reading[][]) {
    const escrow = await world.escrow.getAddress();
    const journal = await openJournal(world);
    try {
      const { maxFeePerGas, maxPriorityFeePerGas } = await provider.getFeeData();
      let nonce = await provider.getTransactionCount(gasWallet.address, "pending");
      let lineNo = 0;
      for (const group of groups) {
        const readings = group.map((reading) => ({
          gantryId: reading.gantry,
          sequence: reading.seq,
          vehicleId: Number(world.vehicles.find((vehicle) => vehicle.plate === reading.plate)?.id),
          timestamp: Number(reading.time),
          lineNo: ++lineNo,
          lineHash: hashLine(JSON.stringify(reading)),
        }));
        journal.recordLines(readings, []);
        const gantry = world.gantries.find((g) => g.id === group[0].gantry);
        if (gantry === undefined) throw new Error(`no gantry ${group[0].gantry}`);
        const scans = encodeScans(
          readings.map((r) => ({
            vehicleId: BigInt(r.vehicleId),
            timestamp: BigInt(r.timestamp),
            sequence: BigInt(r.sequence),
          })),
        );
        const signature = await signScanBatch(gantry.oracle, escrow, world.chainId, gantry.id, scans);
        const sequences = readings.map((reading) => reading.sequence);
        const batchId = journal.createBatch({ gantryId: gantry.id, scans, signature, sequences });
        const raw = await gasWallet.signTransaction({
          type: 2,
          chainId: world.chainId,
          to: escrow,
          data: world.escrow.interface.encodeFunctionData("submitScans", [gantry.id, scans, signature]),
          nonce: nonce++,
          gasLimit: scanBatchGasLimit(readings.length),
          maxFeePerGas,
          maxPriorityFeePerGas,
        });
        const tx = Transaction.from(raw);
        journal.recordTransaction({
          hash: tx.hash ?? "",
          batchId,
          from: gasWallet.address,
          nonce: tx.nonce,
          maxFeePerGas: tx.maxFeePerGas ?? 0n,
          maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? 0n,
          raw,
        });
      }
    } finally {
      journal.close();
    }
  }

  it("after a crash, signs again the batches journaled behind a transaction the node now refuses", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const all = validReadings(world, 10 * world.gantries.length);
    const [big, ...small] = world.gantries.map((gantry, index) =>
      all.filter((reading) => reading.gantry === gantry.id).slice(0, index === 0 ? 8 : 2),
    );
    const readings = [big, ...small].flat();
    // Three transactions on nonces 0, 1 and 2, journaled as sent; the run died before the node saw any of them.
    await crashBeforeBroadcast(world, gasWallet, [big, ...small]);
    // Meanwhile the chain's blocks shrank: they hold the bound of four scans but no longer that of eight, so the node
    // refuses the first transaction, and the two behind it would wait forever on its nonce.
    const setBlockGasLimit = (gas: bigint) =>
      connection.provider.request({ method: "evm_setBlockGasLimit", params: [`0x${gas.toString(16)}`] });
    const blockGasLimit = (await provider.getBlock("latest"))?.gasLimit ?? 0n;
    await setBlockGasLimit(scanBatchGasLimit(5));
    try {
      // The operator restarts the relayer with a per-transaction cap that fits the new blocks.
      const maxGasPerTx = Number(scanBatchGasLimit(4));
      const settings = { batchSize: 8, maxWaitMs: 60_000, gasLimit: "bound" as const, maxGasPerTx };
      const { summary, entries } = await start(world, gasWallet, readings, settings).done;

      // The refused batch is planned afresh; the two behind it are not broadcast but signed again.
      const requeued = entries.filter((entry) => entry.message === "batch will be sent again");
      const why = new Map(requeued.map((entry) => [entry.batch, String(entry.why)]));
      expect(why.get(1)).to.match(/from before the restart was refused: .*exceeds block gas limit/);
      expect(why.get(2)).to.match(/ahead of it was refused/);
      expect(why.get(3)).to.match(/ahead of it was refused/);
      expect(summary).to.include({ replayed: 12, batchesFailed: 0, txReverted: 0, scansConfirmed: 12 });
      expect(summary.unfinished).to.deep.equal({ readings: 0, batches: 0 });
      // The big batch went out under the new cap (what it did not cover came back deferred, in a batch of its own);
      // every nonce from 0 went to a confirmed batch, none was left unused.
      const confirmed = summary.batchesConfirmed;
      expect(confirmed).to.be.at.least(3);
      expect(await provider.getTransactionCount(gasWallet.address, "latest")).to.equal(confirmed);
      const journal = await openJournal(world);
      const counts = journal.counts();
      journal.close();
      expect(counts.batches).to.deep.equal({ pending: 0, sent: 0, confirmed, failed: 0, split: 0 });
      expect(counts.scansConfirmed).to.equal(12);
      await expectExactlySettled(world, readings);
    } finally {
      await setBlockGasLimit(blockGasLimit);
    }
  });

  it("after a crash, bids again, in nonce order, on journaled transactions the base fee has outgrown", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = gantryReadings(world, 6);
    const { maxFeePerGas } = await provider.getFeeData();
    await crashBeforeBroadcast(world, gasWallet, [readings.slice(0, 2), readings.slice(2, 4), readings.slice(4)]);
    // While the relayer was down the base fee rose to four times the fee cap the three transactions were signed with.
    await networkHelpers.setNextBlockBaseFeePerGas(4n * (maxFeePerGas ?? 0n));
    const { summary } = await start(world, gasWallet, readings, { batchSize: 2, maxWaitMs: 60_000 }).done;
    expect(summary).to.include({ replayed: 6, batchesFailed: 0, batchesConfirmed: 3, scansConfirmed: 6 });
    // Each batch settled on the nonce it was journaled with, at a higher bid.
    expect(await provider.getTransactionCount(gasWallet.address, "latest")).to.equal(3);
    const journal = await openJournal(world);
    const batches = [1, 2, 3].map((batchId) => ({
      journaled: journal.transactionsOf(batchId)[0],
      settledBy: String(journal.batch(batchId)?.txHash),
    }));
    journal.close();
    for (const { journaled, settledBy } of batches) {
      const mined = await provider.getTransaction(settledBy);
      expect(mined?.nonce).to.equal(journaled.nonce);
      expect((mined?.maxFeePerGas ?? 0n) > journaled.maxFeePerGas).to.equal(true);
    }
    await expectExactlySettled(world, readings);
  });

  it("with --simulate first, sends a gantry's batches unsimulated once one of them has confirmed", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = gantryReadings(world, 12);
    const escrow = await world.escrow.getAddress();
    const probes: string[] = [];
    const recording = watchedProvider((request) => {
      const scans = simulatedScans(world, escrow, request);
      if (scans !== undefined) probes.push(scans);
    });
    const settings = { ...SIMULATE_FIRST_ONE_AT_A_TIME, provider: recording };
    const { summary, entries } = await start(world, gasWallet, readings, settings).done;
    // The one simulation was a probe: the first batch's first scan, not its four.
    const firstBatch = await provider.getTransaction(
      String(entries.find((entry) => entry.message === "batch sent")?.tx),
    );
    const firstScans = String(world.escrow.interface.parseTransaction({ data: firstBatch?.data ?? "0x" })?.args[1]);
    expect(probes).to.deep.equal([firstScans.slice(0, 2 + 2 * SCAN_BYTES)]);
    expect(summary).to.include({
      batchesSent: 3,
      batchesConfirmed: 3,
      batchesFailed: 0,
      txReverted: 0,
      batchesSimulated: 1,
    });
    const sent = entries.filter((entry) => entry.message === "batch sent").map((entry) => entry.simulated);
    expect(sent).to.deep.equal([true, false, false]);
    await expectExactlySettled(world, readings);
  });

  /**
   * With --simulate first, on a followed file: a first batch confirms (its gantry is proven), the escrow is paused,
   * a second batch arrives and must wait; once it waits the escrow is unpaused, and the run stops when both batches
   * are confirmed.
   */
  async function runIntoPause(gasLimit: "bound" | "estimate") {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = gantryReadings(world, 8);
    const file = path.join(dir, "readings.ndjson");
    await writeFile(file, ndjson(readings.slice(0, 4)));
    const stop = new AbortController();
    const run = start(world, gasWallet, [], {
      input: file,
      follow: true,
      batchSize: 4,
      maxWaitMs: 60_000,
      pollIntervalMs: 10,
      maxInFlight: 1,
      simulate: "first",
      gasLimit,
      signal: stop.signal,
    });
    await run.waitFor("batch confirmed");
    await (await world.escrow.pause()).wait();
    await writeFile(file, ndjson(readings));
    await run.waitFor("escrow paused; batch waits");
    await (await world.escrow.unpause()).wait();
    while (run.entries.filter((entry) => entry.message === "batch confirmed").length < 2) await sleep(20);
    stop.abort();
    return { world, readings, ...(await run.done) };
  }

  it("with --simulate first, survives a pause: the unsimulated batch reverts, waits, and settles after it", async function () {
    // With the bound gas limit nothing calls the node before sending: the paused escrow is met on-chain.
    const { world, readings, summary, entries } = await runIntoPause("bound");
    const requeued = entries.find((entry) => entry.message === "batch will be sent again");
    expect(String(requeued?.why)).to.match(/reverted on-chain in block \d+; TollEscrowPaused/);
    expect(summary).to.include({ txReverted: 1, batchesFailed: 0, batchesConfirmed: 2, scansConfirmed: 8 });
    // Sent blind once proven, then simulated again after the revert.
    const sent = entries.filter((entry) => entry.message === "batch sent").map((entry) => entry.simulated);
    expect(sent).to.deep.equal([true, false, true]);
    await expectExactlySettled(world, readings);
  });

  it("with --simulate first and an estimated gas limit, meets a pause in the estimate, not on-chain", async function () {
    const { world, readings, summary } = await runIntoPause("estimate");
    expect(summary).to.include({ txReverted: 0, batchesFailed: 0, batchesConfirmed: 2, scansConfirmed: 8 });
    await expectExactlySettled(world, readings);
  });

  it("waits while the escrow is paused and settles once it is not", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = gantryReadings(world, 6);
    await (await world.escrow.pause()).wait();
    const run = start(world, gasWallet, readings, { batchSize: 6, maxWaitMs: 60_000, pollIntervalMs: 10 });
    await run.waitFor("escrow paused; batch waits");
    expect(await world.escrow.isScanSettled(readings[0].gantry, readings[0].seq)).to.equal(false);
    await (await world.escrow.unpause()).wait();
    const { summary } = await run.done;
    expect(summary).to.include({ batchesFailed: 0, scansConfirmed: 6 });
    await expectExactlySettled(world, readings);
  });

  it("sends scans the chain found to be from the future again once their time has come", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const latest = await provider.getBlock("latest");
    const chainNow = Math.max((latest?.timestamp ?? 0) + 1, Math.floor(Date.now() / 1000));
    // The relayer's first transaction is mined at chainNow, a few seconds before the readings' times...
    await networkHelpers.time.setNextBlockTimestamp(chainNow);
    const readings = gantryReadings(world, 3).map((reading, index) => ({ ...reading, time: chainNow + 2 + index }));
    // ...while the relayer's own clock runs ahead: it sees nothing wrong with them.
    const clock = () => Math.floor(Date.now() / 1000) + 30;
    const { summary, entries } = await start(world, gasWallet, readings, { batchSize: 3, maxWaitMs: 60_000, clock })
      .done;
    expect(entries.some((entry) => entry.message.startsWith("scans ahead of the chain's clock"))).to.equal(true);
    expect(summary.batchesConfirmed).to.be.at.least(2);
    expect(summary.scansConfirmed).to.equal(3);
    await expectExactlySettled(world, readings);
  });

  /**
   * A run whose oracle key for the first gantry is one the escrow does not take: its three readings end journaled,
   * sealed in a batch that failed in simulation.
   */
  async function runUnderUnknownKey(settings: Partial<RelayerConfigInput> = {}) {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = gantryReadings(world, 3);
    const gantry = world.gantries[0];
    const unknownKey = new Wallet(Wallet.createRandom().privateKey);
    const oracleSigners = new Map([[gantry.id, unknownKey]]);
    const run = await start(world, gasWallet, readings, { batchSize: 3, maxWaitMs: 60_000, ...settings, oracleSigners })
      .done;
    return { world, gasWallet, readings, gantry, unknownKey, ...run };
  }

  it("fails a batch the escrow refuses, naming the revert, and retries it on the next start", async function () {
    const { world, gasWallet, readings, gantry, unknownKey, summary, entries } = await runUnderUnknownKey();
    const settings = { batchSize: 3, maxWaitMs: 60_000, oracleSigners: new Map([[gantry.id, unknownKey]]) };
    expect(entries.some((entry) => entry.message.startsWith("the escrow does not accept"))).to.equal(true);
    expect(summary).to.include({ accepted: 3, batchesFailed: 1, batchesSent: 0, scansConfirmed: 0 });
    const failure = entries.find((entry) => entry.message.startsWith("batch failed"));
    expect(String(failure?.reason)).to.match(/^simulation reverted: TollEscrowInvalidSignature\(7, 0x/);
    expect(summary.unfinished).to.deep.equal({ readings: 0, batches: 1 });

    // The operator authorizes the key; the next start sends the failed batch again.
    await (await world.escrow.setOracleKey(gantry.id, unknownKey.address, true)).wait();
    const { summary: retried } = await start(world, gasWallet, readings, settings).done;
    expect(retried).to.include({ replayed: 3, batchesFailed: 0, batchesConfirmed: 1, scansConfirmed: 3 });
    await expectExactlySettled(world, readings);
  });

  it("with --simulate first, probes the gantries of queued batches as they join the queue, not at their turn", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = twoGantriesReadings(world, 4);
    const escrow = await world.escrow.getAddress();
    const seen: string[] = [];
    const recording = watchedProvider((request) => {
      if (request.method === "eth_sendRawTransaction") seen.push("send");
      if (simulatedScans(world, escrow, request) !== undefined) seen.push("probe");
    });
    const settings = { ...SIMULATE_FIRST_ONE_AT_A_TIME, provider: recording };
    const { summary } = await start(world, gasWallet, readings, settings).done;
    expect(summary).to.include({ batchesConfirmed: 2, batchesSimulated: 2, batchesFailed: 0 });
    // Both probes went out before the first broadcast, though one transaction at a time was allowed in flight.
    const firstSend = seen.indexOf("send");
    expect(seen.slice(0, firstSend)).to.deep.equal(["probe", "probe"]);
    await expectExactlySettled(world, readings);
  });

  it("with --simulate first, simulates in full a batch signed by a key other than the gantry's current one", async function () {
    const settings = { batchSize: 3, maxWaitMs: 60_000, simulate: "first" as const, gasLimit: "bound" as const };
    // A first run seals and journals the batch under a key the escrow does not take.
    const { world, gasWallet, readings, summary: first } = await runUnderUnknownKey(settings);
    expect(first).to.include({ batchesFailed: 1, batchesSent: 0 });
    // Restarted with the gantry's real key: a probe signed by it would pass, the journaled batch would revert.
    const { summary, entries } = await start(world, gasWallet, readings, settings).done;
    expect(summary).to.include({ replayed: 3, batchesFailed: 1, batchesSent: 0, txReverted: 0 });
    const failure = entries.find((entry) => entry.message.startsWith("batch failed"));
    expect(String(failure?.reason)).to.match(/^simulation reverted: TollEscrowInvalidSignature\(7, 0x/);
  });

  it("sends a batch whose gas bound would pass the per-transaction cap at the cap, and sends again what the escrow deferred", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = gantryReadings(world, 8);
    // Room for the worst case of two scans: the first of these cheap scans are settled, the rest deferred.
    const cap = scanBatchGasLimit(2);
    const settings = { batchSize: 8, maxWaitMs: 60_000, maxGasPerTx: Number(cap), gasLimit: "bound" as const };
    const { summary, entries } = await start(world, gasWallet, readings, settings).done;
    expect(entries.filter((entry) => entry.message === "batch over the gas cap split in two")).to.be.empty;
    const deferrals = entries.filter((entry) => String(entry.message).includes("were deferred"));
    expect(deferrals, "the first batch's gas did not cover all eight").not.to.be.empty;
    expect(summary).to.include({ batchesFailed: 0, scansConfirmed: 8 });
    expect(summary.scansCharged + summary.scansSkipped).to.equal(8);
    expect(summary.scansDeferred).to.equal(deferrals.reduce((sum, entry) => sum + Number(entry.deferred), 0));
    expect(summary.batchesConfirmed).to.equal(deferrals.length + 1);
    for (const entry of entries.filter((e) => e.message === "batch confirmed")) {
      const tx = await provider.getTransaction(String(entry.tx));
      expect(tx?.gasLimit).to.be.at.most(cap);
      expect(tx?.data.startsWith(world.escrow.interface.getFunction("submitScansWithinGas").selector)).to.equal(true);
    }
    await expectExactlySettled(world, readings);
  });

  it("splits a batch that needs more than the per-transaction cap (its simulation, given the cap, runs out of gas), with --gas-limit estimate", async function () {
    skipGasAssertionsUnderCoverage(this);
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = gantryReadings(world, 8);
    // A cap a batch of eight cannot meet (a lone scan costs about 110,000 gas, each further one 20,000 to 45,000).
    const settings = { batchSize: 8, maxWaitMs: 60_000, maxGasPerTx: 200_000, gasLimit: "estimate" as const };
    const { summary, entries } = await start(world, gasWallet, readings, settings).done;
    expect(entries.filter((entry) => entry.message === "batch over the gas cap split in two")).not.to.be.empty;
    expect(summary).to.include({ batchesSealed: 1, batchesFailed: 0, scansConfirmed: 8 });
    const confirmed = entries.filter((entry) => entry.message === "batch confirmed");
    expect(confirmed.length).to.be.at.least(2);
    for (const entry of confirmed) {
      const tx = await provider.getTransaction(String(entry.tx));
      expect(tx?.gasLimit).to.be.at.most(200_000n);
    }
    await expectExactlySettled(world, readings);
  });

  it("simulates without sending or journaling in a dry run", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = validReadings(world, 12);
    const { summary } = await start(world, gasWallet, readings, { dryRun: true, batchSize: 5, maxWaitMs: 60_000 }).done;
    expect(summary).to.include({ accepted: 12, batchesSimulated: 3, batchesSent: 0, scansConfirmed: 0 });
    expect(await world.escrow.isScanSettled(readings[0].gantry, readings[0].seq)).to.equal(false);
    const journalExists = await import("node:fs").then((fs) => fs.existsSync(path.join(dir, "journal.sqlite")));
    expect(journalExists).to.equal(false);
  });

  it("stops reading on its signal and leaves the rest journaled for the next run", async function () {
    const { world, gasWallet } = await networkHelpers.loadFixture(tollWorldFixture);
    const readings = validReadings(world, 30);
    const file = path.join(dir, "readings.ndjson");
    await writeFile(file, ndjson(readings.slice(0, 10)));
    const stop = new AbortController();
    const first = start(world, gasWallet, [], { input: file, follow: true, batchSize: 5, signal: stop.signal });
    await first.waitFor("batch confirmed");
    stop.abort();
    const { summary } = await first.done;
    expect(summary.stoppedBy).to.equal("signal");
    await writeFile(file, ndjson(readings));
    const { summary: second } = await start(world, gasWallet, [], { input: file, batchSize: 5 }).done;
    expect(second.accepted + second.replayed).to.equal(30);
    await expectExactlySettled(world, readings);
  });
});
