/**
 * TollEscrow's figures: gas per scan by batch size for distinct and repeated vehicles, the fixed and marginal cost of
 * a batch, deposits (plain and with permit), releasing and claiming revenue, and disputing a scan.
 *
 * Every measured transaction runs in a steady state stated next to it (balances, counters and bitmap words that
 * already exist), with values fixed by the benchmark so its calldata, signatures and gas are the same on every run.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { MaxUint256, Signature, Wallet, solidityPacked } from "ethers";
import type { ContractTransactionReceipt } from "ethers";

import type { Fleet } from "../../scripts/lib/fleet/model.js";
import { signPermit } from "../../scripts/lib/permit.js";
import { encodeLeaf, encodeLeaves, encodeScans, settledBatchFromLogs, signScanBatch } from "../../scripts/lib/scans.js";
import type { Scan } from "../../scripts/lib/scans.js";
import type { TestStablecoin, TollEscrow } from "../../typechain-types/index.js";
import {
  claimFloor,
  depositFloor,
  depositWithPermitFloor,
  disputeFloor,
  releaseFloor,
  scanBatchFixedFloor,
  scanBatchFloor,
  scanMarginalFloor,
} from "./floor.js";
import type { Floor } from "./floor.js";
import type { PeerGas } from "./peers.js";
import type { Row, Target } from "./report.js";
import { BENCH_START, gasOf } from "./world.js";
import type { RegistryWorld } from "./world.js";

/** Batch sizes the issue asks for; the largest batch that fits the per-transaction gas cap is added to them. */
export const BATCH_SIZES = [1, 10, 100, 1_000] as const;
/** The per-transaction gas cap since Osaka (EIP-7825). */
export const TX_GAS_CAP = 16_777_216;

const TOKEN = 1_000_000n; // 6 decimals
const DISPUTE_WINDOW = 3n * 86_400n;
const MAX_SCAN_AGE = 86_400n;
const WITHDRAWAL_NOTICE = 86_400n;
/** Every scan is stamped ten minutes before the benchmark's clock starts: fresh, and never in the future. */
const SCAN_TIME = BigInt(BENCH_START) - 600n;
const DEPOSIT_AMOUNT = 50n * TOKEN;
const PERMIT_DEADLINE = BigInt(BENCH_START) + 30n * 86_400n;
/** Gantry ids by series, so each measured batch is signed over the same values on every run. */
const GANTRY_DISTINCT = 10_000;
const GANTRY_REPEATED = 20_000;
const GANTRY_DISPUTE = 30_000;
const GANTRY_REVENUE = 40_000;
const GANTRY_LARGEST = 50_000;
const DISPUTE_BATCH = 100;
const DISPUTED_LEAF = 50;

/** Issue 8's targets for a batch of 100 scans of distinct vehicles. */
const SCAN_TARGET: Target = { maxFloorRatio: 1.25, minPeerFactor: 20 };

export interface EscrowWorld {
  readonly escrow: TollEscrow;
  readonly token: TestStablecoin;
  readonly escrowAddress: string;
  readonly chainId: bigint;
  readonly oracle: Wallet;
  /** Tops vehicles up; holds the token and approved the escrow without limit. */
  readonly payer: HardhatEthersSigner;
  /** Pays with permits only (no standing allowance). */
  readonly permitPayer: HardhatEthersSigner;
  /** Every benchmark gantry's payee. */
  readonly payee: HardhatEthersSigner;
  readonly maxScansPerBatch: number;
}

/** Deploys the stablecoin and the escrow next to `world.registry`; funds the payers. */
export async function deployEscrowWorld(
  ethers: HardhatEthers,
  world: RegistryWorld,
  fleet: Fleet,
): Promise<EscrowWorld> {
  const signers = await ethers.getSigners();
  const [payer, permitPayer, payee] = [signers[5], signers[6], signers[7]];
  const operator = fleet.operators[0];
  if (payer === undefined || permitPayer === undefined || payee === undefined || operator === undefined) {
    throw new Error("the benchmark needs 8 funded accounts and a fleet operator");
  }
  const admin = world.admin;
  const token = await ethers.deployContract("TestStablecoin", [admin.address]);
  const escrow = await ethers.deployContract("TollEscrow", [
    await world.registry.getAddress(),
    await token.getAddress(),
    admin.address,
    DISPUTE_WINDOW,
    WITHDRAWAL_NOTICE,
    MAX_SCAN_AGE,
  ]);
  const escrowAddress = await escrow.getAddress();
  await escrow.grantRole(await escrow.TOLL_ADMIN_ROLE(), admin.address);
  await token.mint(payer.address, 100_000_000n * TOKEN);
  await token.mint(permitPayer.address, 1_000n * TOKEN);
  await token.connect(payer).approve(escrowAddress, MaxUint256);
  const { chainId } = await ethers.provider.getNetwork();
  return {
    escrow,
    token,
    escrowAddress,
    chainId,
    oracle: new Wallet(operator.oracleKey),
    payer,
    permitPayer,
    payee,
    maxScansPerBatch: Number(await escrow.MAX_SCANS_PER_BATCH()),
  };
}

/** Deposits `amount` for each vehicle from the payer, so their balance slots exist. */
export async function fundVehicles(world: EscrowWorld, vehicleIds: readonly bigint[], amount: bigint): Promise<void> {
  const escrow = world.escrow.connect(world.payer);
  for (const vehicleId of vehicleIds) await gasOf(escrow.deposit(vehicleId, amount));
}

/** Registers a gantry paying the benchmark's payee, signed for by the fleet's first oracle, with `fleet`'s tariff. */
async function registerGantry(world: EscrowWorld, fleet: Fleet, gantryId: number): Promise<void> {
  const tariff = fleet.gantries[0]?.tariff;
  if (tariff === undefined) throw new Error("the fleet has no gantry");
  const fees = [0, 1, 2, 3, 4].map((c) => tariff[c] ?? 0n) as [bigint, bigint, bigint, bigint, bigint];
  await gasOf(world.escrow.registerGantry(gantryId, world.payee.address, [world.oracle.address], fees));
}

interface SubmittedBatch {
  readonly gantryId: number;
  readonly gas: number;
  readonly scans: string;
  readonly signature: string;
  readonly receipt: ContractTransactionReceipt;
}

async function submit(world: EscrowWorld, gantryId: number, scans: readonly Scan[]): Promise<SubmittedBatch> {
  const encoded = encodeScans(scans);
  const signature = await signScanBatch(world.oracle, world.escrowAddress, world.chainId, gantryId, encoded);
  const response = await world.escrow.connect(world.payer).submitScans(gantryId, encoded, signature);
  const receipt = await response.wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`submitScans failed on gantry ${gantryId}`);
  return { gantryId, gas: Number(receipt.gasUsed), scans: encoded, signature, receipt };
}

function scansOf(vehicleIds: readonly bigint[], firstSequence: bigint): Scan[] {
  return vehicleIds.map((vehicleId, i) => ({ vehicleId, timestamp: SCAN_TIME, sequence: firstSequence + BigInt(i) }));
}

/**
 * One measured batch on its own gantry: a one-scan batch first (sequence 0), so the gantry's first settled-scan
 * bitmap word and the escrow's batch counter exist, then the measured batch with sequences 1 to N. Batches of up to
 * 255 scans thus update one existing bitmap word; a steady stream of batches also creates a new word every 256
 * sequences (about 86 gas a scan), which this measurement leaves out.
 */
async function measureBatch(
  world: EscrowWorld,
  fleet: Fleet,
  gantryId: number,
  vehicleIds: readonly bigint[],
): Promise<SubmittedBatch> {
  const first = vehicleIds[0];
  if (first === undefined) throw new Error("a batch needs at least one scan");
  await registerGantry(world, fleet, gantryId);
  await submit(world, gantryId, scansOf([first], 0n));
  return submit(world, gantryId, scansOf(vehicleIds, 1n));
}

export interface ScanSeriesOptions {
  readonly sizes: readonly number[];
  readonly repeated: boolean;
  /** Also measure the largest batch of distinct vehicles that fits the per-transaction gas cap. */
  readonly fitCap: boolean;
  readonly naiveScanGas: number;
  readonly log: (message: string) => void;
}

/** The scan rows: per-scan gas at each size, distinct and repeated, and the fixed and marginal cost of a batch. */
export async function measureScans(
  world: EscrowWorld,
  fleet: Fleet,
  payingVehicles: readonly bigint[],
  options: ScanSeriesOptions,
): Promise<Row[]> {
  const rows: Row[] = [];
  const peer: Row["peer"] = { name: "naive toll", value: options.naiveScanGas };
  const points: { size: number; gas: number }[] = [];
  let largest: SubmittedBatch | undefined;
  for (const size of options.sizes) {
    const id = `scan.distinct.${size}`;
    const figure = `Scan, batch of ${size.toLocaleString("en-US")}, distinct vehicles`;
    if (size > world.maxScansPerBatch) {
      rows.push(tooLarge(id, figure, size, world.maxScansPerBatch, peer));
      continue;
    }
    if (size > payingVehicles.length) throw new Error(`a batch of ${size} needs ${size} registered vehicles`);
    options.log(`scan batch of ${size}, distinct vehicles`);
    const batch = await measureBatch(world, fleet, GANTRY_DISTINCT + size, payingVehicles.slice(0, size));
    points.push({ size, gas: batch.gas });
    largest = batch;
    rows.push(scanRow(id, figure, size, batch, size, peer, size === 100 ? SCAN_TARGET : null));
  }
  if (options.repeated) {
    const vehicle = payingVehicles[0];
    if (vehicle === undefined) throw new Error("no toll-paying vehicle");
    for (const size of options.sizes) {
      const id = `scan.repeated.${size}`;
      const figure = `Scan, batch of ${size.toLocaleString("en-US")}, one vehicle repeated`;
      if (size > world.maxScansPerBatch) {
        rows.push(tooLarge(id, figure, size, world.maxScansPerBatch, peer));
        continue;
      }
      options.log(`scan batch of ${size}, one vehicle repeated`);
      const batch = await measureBatch(world, fleet, GANTRY_REPEATED + size, new Array<bigint>(size).fill(vehicle));
      rows.push(scanRow(id, figure, size, batch, 1, peer, null));
    }
  }
  if (options.fitCap && points.length >= 2) {
    const fitting = await measureLargestFitting(world, fleet, payingVehicles, points, options.log);
    points.push({ size: fitting.size, gas: fitting.batch.gas });
    largest = fitting.batch;
    const figure = `Scan, largest batch under the gas cap (${fitting.size.toLocaleString("en-US")}), distinct vehicles`;
    rows.push(scanRow("scan.distinct.largest", figure, fitting.size, fitting.batch, fitting.size, peer, null));
  }
  if (points.length >= 2 && largest !== undefined) rows.push(...fixedAndMarginal(points, largest));
  return rows;
}

/**
 * The largest batch of distinct vehicles whose transaction fits {@link TX_GAS_CAP}: sized from the line through the
 * batches measured so far, then measured; one scan fewer at a time while the node refuses it as over the cap.
 */
async function measureLargestFitting(
  world: EscrowWorld,
  fleet: Fleet,
  payingVehicles: readonly bigint[],
  points: readonly { size: number; gas: number }[],
  log: (message: string) => void,
): Promise<{ size: number; batch: SubmittedBatch }> {
  const { slope, intercept } = leastSquares(points);
  let size = Math.min(Math.floor((TX_GAS_CAP - intercept) / slope), payingVehicles.length);
  for (let attempt = 0; attempt < 20; attempt++, size--) {
    log(`scan batch of ${size}, distinct vehicles: the largest under the gas cap?`);
    try {
      return { size, batch: await measureBatch(world, fleet, GANTRY_LARGEST + attempt, payingVehicles.slice(0, size)) };
    } catch (error) {
      if (!/gas/i.test(String(error))) throw error;
    }
  }
  throw new Error(`no batch near ${size} scans fits the ${TX_GAS_CAP} gas cap`);
}

function leastSquares(points: readonly { size: number; gas: number }[]): { slope: number; intercept: number } {
  const n = points.length;
  const meanX = points.reduce((s, p) => s + p.size, 0) / n;
  const meanY = points.reduce((s, p) => s + p.gas, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.size - meanX) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.size - meanX) * (p.gas - meanY), 0);
  const slope = sxy / sxx;
  return { slope, intercept: meanY - slope * meanX };
}

function scanRow(
  id: string,
  figure: string,
  size: number,
  batch: SubmittedBatch,
  distinctVehicles: number,
  peer: Row["peer"],
  target: Target | null,
): Row {
  return {
    id,
    section: "Toll scans",
    figure,
    unit: "gas/scan",
    measured: batch.gas / size,
    receiptGas: batch.gas,
    floor: scanBatchFloor({
      scans: batch.scans,
      distinctVehicles,
      signature: batch.signature,
      gantryId: batch.gantryId,
    }),
    peer,
    target,
  };
}

function tooLarge(id: string, figure: string, size: number, max: number, peer: Row["peer"]): Row {
  return {
    id,
    section: "Toll scans",
    figure,
    unit: "gas/scan",
    measured: null,
    floor: null,
    peer,
    target: null,
    note: `${size.toLocaleString("en-US")} exceeds MAX_SCANS_PER_BATCH = ${max}`,
  };
}

/**
 * Least-squares line through (size, gas) of the distinct-vehicle batches: the intercept is the fixed cost of a
 * batch, the slope the cost of one more scan of a new vehicle.
 */
function fixedAndMarginal(points: readonly { size: number; gas: number }[], largest: SubmittedBatch): Row[] {
  const { slope, intercept } = leastSquares(points);
  const records: string[] = [];
  for (let offset = 2; offset < largest.scans.length; offset += SCAN_HEX_CHARS) {
    records.push(`0x${largest.scans.slice(offset, offset + SCAN_HEX_CHARS)}`);
  }
  const row = (id: string, figure: string, unit: string, measured: number, floor: Floor): Row => ({
    id,
    section: "Toll scans",
    figure,
    unit,
    measured,
    floor,
    peer: null,
    target: null,
  });
  return [
    row(
      "scan.fixed",
      "Fixed cost per batch (intercept, distinct vehicles)",
      "gas/batch",
      intercept,
      scanBatchFixedFloor(largest.signature, largest.gantryId),
    ),
    row(
      "scan.marginal",
      "Marginal cost per scan (slope, distinct vehicles)",
      "gas/scan",
      slope,
      scanMarginalFloor(records),
    ),
  ];
}

const SCAN_HEX_CHARS = 32;

/**
 * Deposits: a top-up by a payer with an unlimited allowance, and one paid with an EIP-2612 permit for exactly the
 * amount by a payer who has used permits before. Both credit a vehicle that already has a balance and no arrears.
 */
export async function measureDeposits(world: EscrowWorld, vehicleId: bigint, peers: PeerGas): Promise<Row[]> {
  const peer: Row["peer"] = { name: "OZ ERC-20 transfer", value: peers.erc20Transfer };
  const depositGas = await gasOf(world.escrow.connect(world.payer).deposit(vehicleId, DEPOSIT_AMOUNT));
  const values = solidityPacked(["uint48", "uint96"], [vehicleId, DEPOSIT_AMOUNT]);

  await depositWithPermit(world, vehicleId); // the payer's permit nonce goes 0 -> 1: its slot now exists
  const { gas: permitGas, signature } = await depositWithPermit(world, vehicleId);
  const permit = solidityPacked(
    ["uint40", "uint8", "bytes32", "bytes32"],
    [PERMIT_DEADLINE, signature.v, signature.r, signature.s],
  );
  return [
    {
      id: "deposit",
      section: "Vehicle money",
      figure: "Deposit (unlimited allowance)",
      unit: "gas",
      measured: depositGas,
      receiptGas: depositGas,
      floor: depositFloor({ values }),
      peer,
      target: null,
    },
    {
      id: "deposit.permit",
      section: "Vehicle money",
      figure: "Deposit with permit",
      unit: "gas",
      measured: permitGas,
      receiptGas: permitGas,
      floor: depositWithPermitFloor({ values, permit }),
      peer,
      target: null,
    },
  ];
}

async function depositWithPermit(
  world: EscrowWorld,
  vehicleId: bigint,
): Promise<{ gas: number; signature: Signature }> {
  const owner = world.permitPayer;
  const { token, chainId, escrowAddress } = world;
  const signature = await signPermit(token, chainId, owner, escrowAddress, DEPOSIT_AMOUNT, PERMIT_DEADLINE);
  const gas = await gasOf(
    world.escrow
      .connect(owner)
      .depositWithPermit(vehicleId, DEPOSIT_AMOUNT, PERMIT_DEADLINE, signature.v, signature.r, signature.s),
  );
  return { gas, signature };
}

/**
 * A dispute by a vehicle's owner of one scan in a batch of {@link DISPUTE_BATCH} scans of distinct vehicles, proving
 * it with all the batch's leaves as TollEscrow requires. Runs while the batch's dispute window is open.
 */
export async function measureDispute(
  ethers: HardhatEthers,
  world: EscrowWorld,
  fleet: Fleet,
  payingVehicles: readonly bigint[],
): Promise<Row> {
  const vehicles = payingVehicles.slice(0, DISPUTE_BATCH);
  const batch = await measureBatch(world, fleet, GANTRY_DISPUTE, vehicles);
  const settled = settledBatchFromLogs(world.escrowAddress, batch.receipt.logs);
  const disputed = settled.charged[DISPUTED_LEAF];
  if (disputed === undefined) throw new Error(`the dispute batch charged fewer than ${DISPUTED_LEAF + 1} scans`);
  const vehicle = fleet.vehicles[Number(disputed.vehicleId) - 1];
  if (vehicle === undefined) throw new Error(`vehicle ${disputed.vehicleId} is not in the fleet`);
  const owner = new Wallet(vehicle.ownerKey, ethers.provider);
  await ethers.provider.send("hardhat_setBalance", [owner.address, "0x56bc75e2d63100000"]); // 100 ETH
  const gas = await gasOf(
    world.escrow.connect(owner).openDispute(settled.batchId, encodeLeaves(settled.charged), DISPUTED_LEAF),
  );
  return {
    id: "dispute",
    section: "Operators and disputes",
    figure: `Dispute a scan (batch of ${DISPUTE_BATCH}, all leaves as proof)`,
    unit: "gas",
    measured: gas,
    receiptGas: gas,
    floor: disputeFloor({
      reference: solidityPacked(["uint64", "uint16"], [settled.batchId, DISPUTED_LEAF]),
      leaf: encodeLeaf(disputed),
    }),
    peer: null,
    target: null,
  };
}

/**
 * Releasing a batch's revenue and claiming it. Moves the chain past the dispute window, so it runs last. The payee
 * has claimed before (its token balance exists) and already has claimable revenue when the measured release runs.
 */
export async function measureRevenue(
  ethers: HardhatEthers,
  world: EscrowWorld,
  fleet: Fleet,
  vehicleId: bigint,
  peers: PeerGas,
): Promise<Row[]> {
  await registerGantry(world, fleet, GANTRY_REVENUE);
  const batchIds: bigint[] = [];
  for (let sequence = 0n; sequence < 3n; sequence++) {
    const batch = await submit(world, GANTRY_REVENUE, scansOf([vehicleId], sequence));
    batchIds.push(settledBatchFromLogs(world.escrowAddress, batch.receipt.logs).batchId);
  }
  const [first, second, third] = batchIds as [bigint, bigint, bigint];
  await ethers.provider.send("evm_increaseTime", [Number(DISPUTE_WINDOW) + 1]);
  const escrow = world.escrow.connect(world.payee);
  await gasOf(escrow.releaseRevenue([first]));
  await gasOf(escrow.claimRevenue(world.payee.address)); // the payee's token balance now exists
  await gasOf(escrow.releaseRevenue([second])); // claimable 0 -> non-zero
  const releaseGas = await gasOf(escrow.releaseRevenue([third]));
  const claimGas = await gasOf(escrow.claimRevenue(world.payee.address));
  const peer: Row["peer"] = { name: "OZ ERC-20 transfer", value: peers.erc20Transfer };
  return [
    {
      id: "release",
      section: "Operators and disputes",
      figure: "Release a batch's revenue (after the dispute window)",
      unit: "gas",
      measured: releaseGas,
      receiptGas: releaseGas,
      floor: releaseFloor(solidityPacked(["uint64"], [third])),
      peer: null,
      target: null,
    },
    {
      id: "claim",
      section: "Operators and disputes",
      figure: "Claim revenue",
      unit: "gas",
      measured: claimGas,
      receiptGas: claimGas,
      floor: claimFloor(world.payee.address),
      peer,
      target: null,
    },
  ];
}
