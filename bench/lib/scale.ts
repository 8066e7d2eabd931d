/**
 * `npm run bench:scale`: the fleet at 10,000 vehicles and 1,000,000 scans through the real relayer into a
 * `hardhat node` over JSON-RPC. Readings are generated on the fly from the fleet model, as NDJSON in the relayer's
 * input format, and streamed into the relayer's in-process API; the node runs as a child process whose peak memory
 * is read from /proc. Reports wall time, scans per second, the peak memory of both processes, and whether every
 * reading was charged for exactly the fee the model expects.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { HDNodeWallet, JsonRpcProvider, MaxUint256, Wallet } from "ethers";
import { network } from "hardhat";

import { createFleet, feeOf, simulateDay, vehiclesByPlate, vinCommitmentOf } from "../../scripts/lib/fleet/model.js";
import type { Fleet, Reading } from "../../scripts/lib/fleet/model.js";
import { CHAIN_THREAD, ownPeakRss, startHardhatNode } from "../../scripts/lib/hardhatNode.js";
import type { HardhatNodeProcess } from "../../scripts/lib/hardhatNode.js";
import { makeRelayerConfig } from "../../scripts/lib/relayer/config.js";
import { createProvider } from "../../scripts/lib/relayer/network.js";
import { createLogger } from "../../scripts/lib/relayer/logger.js";
import { runRelayer } from "../../scripts/lib/relayer/relayer.js";
import type { RelayerSummary } from "../../scripts/lib/relayer/relayer.js";
import type { TestStablecoin, TollEscrow, VehicleRegistry } from "../../typechain-types/index.js";
import type { Row } from "./report.js";
import { BENCH_SEED } from "./world.js";

export interface ScaleOptions {
  readonly vehicles?: number;
  readonly scans?: number;
  readonly log?: (message: string) => void;
}

const DEFAULT_VEHICLES = 10_000;
const DEFAULT_SCANS = 1_000_000;
/** The targets: three minutes, 4 GB for both processes together, nothing lost. */
const MAX_SECONDS = 180;
const MAX_MEMORY_MB = 4_096;
/** 20 gantries per operator (60 in all) give the fleet about 37,000 readings a day: 1,000,000 in 28 days. */
const GANTRIES_PER_OPERATOR = 20;
/** Days of readings, all before today: the oldest is under 29 days old, inside the escrow's 30-day scan age. */
const DAYS = 28;
const DAY = 86_400;
const TOKEN = 1_000_000n;
/** Each vehicle's prepaid balance: more than four weeks of tolls for the heaviest truck. */
const DEPOSIT = 2_000n * TOKEN;
/** Setup transactions per block, each with {@link SETUP_GAS_PER_TX} of gas limit: 30 million, half the node's
 * default block gas limit, so every block takes them all. */
const SETUP_TXS_PER_BLOCK = 120;
/** A fixed gas limit spares an estimate per call: a registration uses about 148,000, a deposit less. */
const SETUP_GAS_PER_TX = "0x3d090";
/** Hardhat's default accounts (the node funds and unlocks them). */
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
/** The relayer's receipt polling. A local node mines on arrival, but every poll is a request the node serves
 * between two transactions: 200 ms measured faster than 50 ms (fewer requests) and than 500 ms (batches wait). */
const POLL_INTERVAL_MS = 200;
/** Transactions awaiting confirmation: the node mines four or so batches a second, each confirmed within a poll
 * interval or two. More in flight holds more readings in the relayer's memory (its backlog scales with this) and
 * gives the node more polls to serve: 16 measured 253 s against 233 to 242 s for 8. */
const MAX_IN_FLIGHT = 8;
/** Broadcasts on their way at once: the node answers one only after mining it, so with one at a time it would sit
 * idle while the answer travels back and the next request travels in; two keep the next one waiting at the node. */
const BROADCAST_DEPTH = 2;
/** The longest a reading waits for its batch to fill. */
const MAX_WAIT_MS = 2_000;
/** Scans per batch: 1,700 typical scans (about 9,000 gas each) fill a transaction under the 16,777,216 gas cap,
 * with room for the reserve the escrow keeps back before it defers scans (a batch that needs more defers its tail,
 * which is batched again); fewer transactions are what the node spends its time on. */
const BATCH_SIZE = 1_700;
/** NDJSON lines per chunk handed to the relayer's reader. */
const LINES_PER_CHUNK = 2_000;

/** How the scale run is made, for the notes under its table: written from the settings it uses. */
export const SCALE_NOTES: readonly string[] = [
  `Readings from the seeded fleet model (${GANTRIES_PER_OPERATOR} gantries per toll operator), written as an NDJSON file before ` +
    "the clock starts; the relayer (runRelayer, in-process, the code behind `npm run oracle`) reads that file and " +
    "sends to a `hardhat node` child over JSON-RPC on 127.0.0.1.",
  `Relayer settings: batches of up to ${BATCH_SIZE.toLocaleString("en-US")} scans, \`--simulate first\` (a gantry's ` +
    "batches are simulated, as one-scan probes, until one confirms), `--gas-limit bound` (the worst case per batch size capped at the " +
    "per-transaction cap, sent as `submitScansWithinGas`, which defers what the gas does not cover; no estimate " +
    `call; the default is \`estimate\`), ${MAX_IN_FLIGHT} transactions in flight, ` +
    `\`--broadcast-depth ${BROADCAST_DEPTH}\`, ${POLL_INTERVAL_MS} ms receipt polling, ` +
    `${MAX_WAIT_MS / 1000} s longest wait per batch; its journal (SQLite, synchronous=FULL) in a fresh directory ` +
    "under the OS temp dir.",
  "The node mines each transaction on arrival (automine), with its request log off; the setup's transactions " +
    `(deploy, register, fund) are mined ${SETUP_TXS_PER_BLOCK} to a block and are not timed.`,
  "Peak memory is VmHWM from /proc: this process (benchmark, fleet model and relayer) and the node's process tree. " +
    "CPU is user + system time while relaying: the node's threads from /proc (the chain thread by its name), this " +
    "process from process.cpuUsage().",
  "Scans lost: generated minus confirmed-and-not-skipped; the fees charged on chain must also equal the model's.",
];

interface ScaleWorld {
  readonly fleet: Fleet;
  readonly registry: VehicleRegistry;
  readonly escrow: TollEscrow;
  readonly token: TestStablecoin;
  readonly chainId: bigint;
}

export async function runScale(options: ScaleOptions = {}): Promise<Row[]> {
  const log = options.log ?? (() => undefined);
  const vehicles = options.vehicles ?? DEFAULT_VEHICLES;
  const scans = options.scans ?? DEFAULT_SCANS;
  log(`starting hardhat node`);
  // The node's request log would cost the node time that the benchmark means to measure as the chain's.
  const node = await startHardhatNode({ quiet: true });
  const workDir = await mkdtemp(path.join(os.tmpdir(), "platechain-bench-scale-"));
  try {
    const setupStarted = performance.now();
    const world = await setUp(node, vehicles, log);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    log(`setup took ${setupSeconds.toFixed(0)} s; relaying ${scans.toLocaleString("en-US")} scans`);
    const tally = { readings: 0, fees: 0n };
    // Written before the clock starts, as gantries would have written it: the relayer reads a file, and the
    // benchmark's core is not spent on the fleet model while it does.
    const readingsFile = path.join(workDir, "readings.ndjson");
    await writeFile(readingsFile, readingsAsNdjson(world.fleet, scans, tally));
    log(`wrote ${tally.readings.toLocaleString("en-US")} readings to ${readingsFile}`);
    const nodeCpuBefore = node.cpuSecondsByThread();
    const ownCpuBefore = process.cpuUsage();
    const started = performance.now();
    const summary = await relay(node, world, workDir, readingsFile, log);
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuDuring(nodeCpuBefore, node.cpuSecondsByThread(), process.cpuUsage(ownCpuBefore));
    log(`relayed in ${seconds.toFixed(1)} s; checking the chain`);
    const charged = await chargedOnChain(world, vehicles);
    const nodePeak = node.peakRssBytes();
    return rows({
      summary,
      tally,
      charged,
      seconds,
      setupSeconds,
      nodePeak,
      ownPeak: ownPeakRss(),
      cpu,
      vehicles,
      scans,
    });
  } finally {
    await node.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

// --- setup ------------------------------------------------------------------------------------------------------

async function setUp(node: HardhatNodeProcess, vehicles: number, log: (m: string) => void): Promise<ScaleWorld> {
  const today = Math.floor(Date.now() / 1000 / DAY) * DAY;
  log(`creating a fleet of ${vehicles.toLocaleString("en-US")} vehicles`);
  const fleet = createFleet({
    vehicles,
    days: DAYS,
    seed: BENCH_SEED,
    startTime: today - DAYS * DAY,
    gantriesPerOperator: GANTRIES_PER_OPERATOR,
  });
  const { ethers } = await network.create({ network: "localhost", override: { url: node.url } });
  const [admin, payer] = await ethers.getSigners();
  if (admin === undefined || payer === undefined) throw new Error("the node has no unlocked accounts");
  const registry = await ethers.deployContract("VehicleRegistry", [0n, admin.address]);
  const token = await ethers.deployContract("TestStablecoin", [admin.address]);
  const escrow = await ethers.deployContract("TollEscrow", [
    await registry.getAddress(),
    await token.getAddress(),
    admin.address,
    3n * BigInt(DAY),
    30n * BigInt(DAY),
    30n * BigInt(DAY),
  ]);
  await (await registry.grantRole(await registry.REGISTRAR_ROLE(), admin.address)).wait();
  await (await escrow.grantRole(await escrow.TOLL_ADMIN_ROLE(), admin.address)).wait();
  for (const gantry of fleet.gantries) {
    const operator = fleet.operators[gantry.operator];
    if (operator === undefined) throw new Error(`gantry ${gantry.id} has no operator`);
    const fees = [0, 1, 2, 3, 4].map((c) => gantry.tariff[c] ?? 0n) as [bigint, bigint, bigint, bigint, bigint];
    await (await escrow.registerGantry(gantry.id, operator.payout, [operator.oracle], fees)).wait();
  }
  await (await token.mint(payer.address, DEPOSIT * BigInt(vehicles))).wait();
  await (await token.connect(payer).approve(await escrow.getAddress(), MaxUint256)).wait();

  const rpc = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
  log(`registering ${vehicles.toLocaleString("en-US")} vehicles`);
  await sendAll(
    rpc,
    admin.address,
    await registry.getAddress(),
    fleet.vehicles.map((v) =>
      registry.interface.encodeFunctionData("registerVehicle", [
        v.owner,
        v.plate,
        vinCommitmentOf(fleet, v),
        v.vehicleClass,
      ]),
    ),
  );
  log(`depositing for ${vehicles.toLocaleString("en-US")} vehicles`);
  await sendAll(
    rpc,
    payer.address,
    await escrow.getAddress(),
    fleet.vehicles.map((v) => escrow.interface.encodeFunctionData("deposit", [v.index + 1, DEPOSIT])),
  );
  rpc.destroy();
  const { chainId } = await ethers.provider.getNetwork();
  return { fleet, registry, escrow, token, chainId };
}

/**
 * Sends `calls` from an account the node unlocked, {@link SETUP_TXS_PER_BLOCK} to a block: the setup's twenty
 * thousand transactions in a few hundred blocks rather than one block each, since the node keeps every block in
 * memory. Throws if any of them reverted.
 */
async function sendAll(rpc: JsonRpcProvider, from: string, to: string, calls: readonly string[]): Promise<void> {
  await rpc.send("evm_setAutomine", [false]);
  try {
    for (let start = 0; start < calls.length; start += SETUP_TXS_PER_BLOCK) {
      const chunk = calls.slice(start, start + SETUP_TXS_PER_BLOCK);
      const hashes = (await Promise.all(
        chunk.map(async (data) => rpc.send("eth_sendTransaction", [{ from, to, data, gas: SETUP_GAS_PER_TX }])),
      )) as string[];
      await rpc.send("evm_mine", []);
      const receipts = await Promise.all(hashes.map(async (hash) => rpc.getTransactionReceipt(hash)));
      const failed = receipts.findIndex((receipt) => receipt?.status !== 1);
      if (failed >= 0) throw new Error(`setup transaction ${hashes[failed]} was not mined or reverted`);
    }
  } finally {
    await rpc.send("evm_setAutomine", [true]);
  }
}

// --- the run ----------------------------------------------------------------------------------------------------

interface Tally {
  readings: number;
  fees: bigint;
}

/**
 * The fleet's readings, day by day, as NDJSON in the relayer's input format, until `total` have been produced;
 * counts them and the fees the model expects for them as it goes. One day is in memory at a time.
 */
async function* readingsAsNdjson(fleet: Fleet, total: number, tally: Tally): AsyncGenerator<string> {
  const byPlate = vehiclesByPlate(fleet);
  for (let day = 0; day < fleet.params.days && tally.readings < total; day++) {
    const readings = simulateDay(fleet, day).readings;
    for (let start = 0; start < readings.length && tally.readings < total; start += LINES_PER_CHUNK) {
      const take = Math.min(LINES_PER_CHUNK, total - tally.readings);
      const chunk: Reading[] = readings.slice(start, start + take);
      let text = "";
      for (const reading of chunk) {
        text += JSON.stringify({ gantry: reading.gantry, plate: reading.plate, time: reading.time, seq: reading.seq });
        text += "\n";
        tally.fees += feeOf(fleet, reading, byPlate);
      }
      tally.readings += chunk.length;
      yield text;
    }
  }
  if (tally.readings < total) throw new Error(`the fleet model produced only ${tally.readings} readings`);
}

async function relay(
  node: HardhatNodeProcess,
  world: ScaleWorld,
  workDir: string,
  readingsFile: string,
  log: (message: string) => void,
): Promise<RelayerSummary> {
  const provider = createProvider(node.url, world.chainId, POLL_INTERVAL_MS);
  const gasSigner = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/0'/0/9").connect(provider);
  const oracleSigners = new Map<number, Wallet>();
  for (const gantry of world.fleet.gantries) {
    const operator = world.fleet.operators[gantry.operator];
    if (operator !== undefined) oracleSigners.set(gantry.id, new Wallet(operator.oracleKey));
  }
  const config = makeRelayerConfig({
    network: "localhost",
    input: readingsFile,
    batchSize: BATCH_SIZE,
    maxWaitMs: MAX_WAIT_MS,
    journalPath: path.join(workDir, "journal.sqlite"),
    rejectsPath: path.join(workDir, "rejects.ndjson"),
    maxInFlight: MAX_IN_FLIGHT,
    broadcastDepth: BROADCAST_DEPTH,
    simulate: "first",
    // One transaction a block on this node: block space is no constraint, so the bound spares an estimate call.
    gasLimit: "bound",
    pollIntervalMs: POLL_INTERVAL_MS,
    progressIntervalMs: 15_000,
  });
  const logger = createLogger({
    json: false,
    level: "info",
    write: (line) => {
      if (line.includes("progress") || line.includes("summary") || line.includes("rror")) log(`relayer: ${line}`);
    },
  });
  try {
    return await runRelayer({
      config,
      provider,
      gasSigner,
      oracleSigners,
      contracts: {
        chainId: world.chainId,
        registry: await world.registry.getAddress(),
        escrow: await world.escrow.getAddress(),
      },
      logger,
    });
  } finally {
    provider.destroy();
  }
}

/** CPU seconds spent while relaying: the node's chain thread and its other threads (null where /proc did not show
 * the chain thread), and this process. */
interface CpuDuring {
  readonly chain: number | null;
  readonly nodeOther: number | null;
  readonly own: number;
}

function cpuDuring(before: Map<string, number>, after: Map<string, number>, own: NodeJS.CpuUsage): CpuDuring {
  const ownSeconds = (own.user + own.system) / 1e6;
  if (!after.has(CHAIN_THREAD)) return { chain: null, nodeOther: null, own: ownSeconds };
  const spent = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  let nodeTotal = 0;
  for (const name of after.keys()) nodeTotal += spent(name);
  const chain = spent(CHAIN_THREAD);
  return { chain, nodeOther: nodeTotal - chain, own: ownSeconds };
}

/** What the escrow charged in all: per vehicle, the deposit less the balance left, plus the arrears. */
async function chargedOnChain(world: ScaleWorld, vehicles: number): Promise<bigint> {
  let charged = 0n;
  const ids = Array.from({ length: vehicles }, (_, i) => BigInt(i + 1));
  for (let start = 0; start < ids.length; start += 100) {
    const accounts = await Promise.all(ids.slice(start, start + 100).map((id) => world.escrow.account(id)));
    for (const account of accounts) charged += DEPOSIT - account.balance + account.arrears;
  }
  return charged;
}

// --- the table --------------------------------------------------------------------------------------------------

interface Measured {
  readonly summary: RelayerSummary;
  readonly tally: Tally;
  readonly charged: bigint;
  readonly seconds: number;
  readonly setupSeconds: number;
  readonly nodePeak: number;
  readonly ownPeak: number;
  readonly cpu: CpuDuring;
  readonly vehicles: number;
  readonly scans: number;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

function rows(m: Measured): Row[] {
  const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
  // Settled for good and charged: the relayer confirmed them and the escrow skipped none.
  const lost = m.tally.readings - (m.summary.scansConfirmed - m.summary.scansSkipped);
  const feesMatch = m.charged === m.tally.fees;
  const lostNote = [
    `${m.summary.accepted} accepted, ${m.summary.rejected} rejected, ${m.summary.scansConfirmed} confirmed, ` +
      `${m.summary.scansSkipped} skipped`,
    `unfinished ${m.summary.unfinished.readings} readings / ${m.summary.unfinished.batches} batches`,
    feesMatch ? "fees on chain = model" : `fees on chain ${m.charged} != model ${m.tally.fees}`,
  ].join("; ");
  const row = (
    id: string,
    figure: string,
    unit: string,
    measured: number | null,
    max?: number,
    note?: string,
  ): Row => ({
    id,
    section: `Scale: ${m.vehicles.toLocaleString("en-US")} vehicles, ${m.scans.toLocaleString("en-US")} scans`,
    figure,
    unit,
    measured,
    floor: null,
    peer: null,
    target: max === undefined ? null : { max },
    ...(note === undefined ? {} : { note }),
  });
  const gasPerScan = m.summary.scansConfirmed === 0 ? 0 : Number(m.summary.gasUsed) / m.summary.scansConfirmed;
  // The targets are the 1,000,000-scan run's: a shorter trial is held to the time its rate projects to 1,000,000,
  // and its memory is only a lower bound (the node keeps the whole chain in memory, so it grows with the run).
  const full = m.scans >= DEFAULT_SCANS;
  const trial = full ? undefined : "trial run: the node's memory grows with the chain, the full run is the real test";
  const projected = (m.seconds * DEFAULT_SCANS) / m.scans;
  return [
    row(
      "scale.wall",
      "Wall time, relayer start to last batch confirmed",
      "s",
      m.seconds,
      full ? MAX_SECONDS : undefined,
    ),
    ...(full
      ? []
      : [row("scale.projected", "Projected wall time for 1,000,000 scans at this rate", "s", projected, MAX_SECONDS)]),
    row("scale.rate", "Scans per second", "scans/s", m.tally.readings / m.seconds),
    row("scale.memory.total", "Peak memory, both processes", "MB", mb(m.ownPeak + m.nodePeak), MAX_MEMORY_MB, trial),
    row("scale.memory.bench", "Peak memory, benchmark + relayer process", "MB", mb(m.ownPeak)),
    row("scale.memory.node", "Peak memory, hardhat node", "MB", mb(m.nodePeak)),
    row("scale.lost", "Scans lost (generated - charged)", "scans", feesMatch ? lost : Math.max(lost, 1), 0, lostNote),
    row(
      "scale.batches",
      "Batches confirmed",
      "batches",
      m.summary.batchesConfirmed,
      undefined,
      `${m.summary.batchesSimulated} probed first (eth_call of a batch's first scan); ` +
        `${m.summary.scansDeferred} scans deferred by the escrow for want of gas, and sent again`,
    ),
    row("scale.gas", "Gas per scan, as relayed", "gas/scan", gasPerScan),
    row(
      "scale.cpu.chain",
      `CPU, hardhat node's chain thread (${CHAIN_THREAD})`,
      "s",
      m.cpu.chain,
      undefined,
      m.cpu.chain === null
        ? `no thread named ${CHAIN_THREAD} in /proc: not measured`
        : `busy ${percent(m.cpu.chain / m.seconds)} of the wall time; it runs every request against the chain, one at a time`,
    ),
    row(
      "scale.cpu.chainPerScan",
      "CPU, chain thread per scan",
      "us/scan",
      m.cpu.chain === null ? null : (m.cpu.chain * 1e6) / m.tally.readings,
      undefined,
      // The wall-time target spread over the scans: a chain thread that needs more than this per scan cannot meet
      // it whatever the relayer does, and one that needs less meets it only if it never waits for work.
      `the ${MAX_SECONDS} s target allows ${((MAX_SECONDS * 1e6) / DEFAULT_SCANS).toFixed(0)} us a scan in all`,
    ),
    row("scale.cpu.nodeOther", "CPU, hardhat node's other threads (HTTP, JSON, GC)", "s", m.cpu.nodeOther),
    row(
      "scale.cpu.bench",
      "CPU, benchmark + relayer process",
      "s",
      m.cpu.own,
      undefined,
      `${percent(m.cpu.own / m.seconds)} of a core`,
    ),
    row("scale.setup", "Setup: deploy, register and fund the fleet (not timed above)", "s", m.setupSeconds),
  ];
}
