/**
 * The whole platechain system for the security tests: the real registry, test stablecoin, escrow and ledger, each
 * role held by its own account, and a state in which every state-changing function has something to act on
 * (a batch whose revenue can be released, revenue to claim, an open dispute, a ready withdrawal request, a consent,
 * a pending default-admin handover).
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { Wallet, id } from "ethers";

import { TrustLevel, encodeBatch, type DrivingRecord } from "../../scripts/lib/ledger.js";
import { encodeScans, signScanBatch, type Scan } from "../../scripts/lib/scans.js";
import { VehicleClass, VehicleStatus } from "../../scripts/lib/vehicle.js";
import type {
  DrivingRecordLedger,
  TestStablecoin,
  TollEscrow,
  VehicleRegistry,
} from "../../typechain-types/index.js";

import { ADMIN_DELAY, DAY, DISPUTE_WINDOW, FEES, MAX_SCAN_AGE, USD, WITHDRAWAL_NOTICE } from "../utils/constants.js";

export { ADMIN_DELAY, DAY, DISPUTE_WINDOW, FEES, MAX_SCAN_AGE, USD, WITHDRAWAL_NOTICE };

export const GANTRY = 1;
export const OTHER_GANTRY = 2;
/** What every account is minted, and allows the escrow to take. */
export const WALLET = 1_000n * USD;

/** Every named account of the fixture, in the order of the node's accounts. */
export const ACCOUNT_NAMES = [
  "admin",
  "registrar",
  "regulator",
  "tollAdmin",
  "arbiter",
  "pauser",
  "reporter",
  "owner",
  "buyer",
  "operator",
  "insurer",
  "pendingAdmin",
  "relayer",
  "stranger",
] as const;

export type AccountName = (typeof ACCOUNT_NAMES)[number];

export type Accounts = Readonly<Record<AccountName, HardhatEthersSigner>>;

export interface SystemFixture {
  readonly ethers: HardhatEthers;
  readonly accounts: Accounts;
  readonly registry: VehicleRegistry;
  readonly token: TestStablecoin;
  readonly escrow: TollEscrow;
  readonly ledger: DrivingRecordLedger;
  readonly escrowAddress: string;
  readonly chainId: bigint;
  /** Oracle key of {@link GANTRY}. */
  readonly oracle: Wallet;
  /** Oracle key of {@link OTHER_GANTRY}. */
  readonly otherOracle: Wallet;
  /** Plate keys by vehicle id. */
  readonly plates: ReadonlyMap<bigint, Wallet>;
  /** A car of `owner` with a balance, a ready withdrawal request and a consent to `insurer`. */
  readonly car: bigint;
  /** A truck of `owner`, charged in the open-dispute batch (its leaf is not disputed yet). */
  readonly truck: bigint;
  /** A car of `buyer`, whose first plate was rotated out (see {@link revokedPlate}). */
  readonly buyersCar: bigint;
  /** A car of `buyer` flagged stolen. */
  readonly stolenCar: bigint;
  /** A car of `buyer`, scrapped. */
  readonly scrappedCar: bigint;
  /** The first plate key of `buyersCar`, revoked by a rotation. */
  readonly revokedPlate: Wallet;
  /** Settled when the fixture started; released: its revenue is `operator`'s claimable. */
  readonly releasedBatch: bigint;
  /** Settled when the fixture started; its window has closed and it can be released. */
  readonly releasableBatch: bigint;
  /** Settled just now: leaf 0 (the car) is under an open dispute, leaf 1 (the truck) can be disputed. */
  readonly disputedBatch: bigint;
  readonly disputedLeaves: string;
  /** The next unused scan sequence of {@link GANTRY}. */
  readonly nextSequence: bigint;
  /** When the fixture deployed everything. */
  readonly t0: bigint;
}

/** The escrow's BatchSettled leaves of a submitted batch, read from the receipt. */
async function settle(
  escrow: TollEscrow,
  relayer: HardhatEthersSigner,
  oracle: Wallet,
  escrowAddress: string,
  chainId: bigint,
  gantryId: number,
  scans: readonly Scan[],
): Promise<{ batchId: bigint; leaves: string }> {
  const encoded = encodeScans(scans);
  const signature = await signScanBatch(oracle, escrowAddress, chainId, gantryId, encoded);
  const receipt = await (await escrow.connect(relayer).submitScans(gantryId, encoded, signature)).wait();
  if (receipt === null) throw new Error("submitScans was not mined");
  for (const log of receipt.logs) {
    const parsed = escrow.interface.parseLog(log);
    if (parsed?.name === "BatchSettled") {
      return { batchId: parsed.args.getValue("batchId") as bigint, leaves: parsed.args.getValue("leaves") as string };
    }
  }
  throw new Error("no BatchSettled event");
}

/** A one-day driving record ending at `end`. */
export function dayRecord(end: bigint, seed = "day"): DrivingRecord {
  return {
    periodStart: Number(end - DAY),
    periodEnd: Number(end),
    distanceMeters: 84_250,
    drivingSeconds: 5_400,
    harshBrakingCount: 2,
    harshAccelerationCount: 1,
    speedingSeconds: 240,
    nightDistanceMeters: 12_000,
    dataHash: id(`raw trips ${seed} ${end}`),
    corrects: 0,
  };
}

/** Deterministic plate keys, so tests can sign as a vehicle's plate. */
export function plateWallet(seed: string | number): Wallet {
  return new Wallet(id(`platechain security test plate ${seed}`));
}

export async function deploySystem(ethers: HardhatEthers, helpers: NetworkHelpers): Promise<SystemFixture> {
  const signers = await ethers.getSigners();
  if (signers.length < ACCOUNT_NAMES.length) {
    throw new Error(`the system fixture needs ${ACCOUNT_NAMES.length} accounts, the network has ${signers.length}`);
  }
  const accounts = Object.fromEntries(ACCOUNT_NAMES.map((name, index) => [name, signers[index]])) as Accounts;
  const { admin } = accounts;

  const registry = await ethers.deployContract("VehicleRegistry", [ADMIN_DELAY, admin.address]);
  const token = await ethers.deployContract("TestStablecoin", [admin.address]);
  const escrow = await ethers.deployContract("TollEscrow", [
    await registry.getAddress(),
    await token.getAddress(),
    admin.address,
    DISPUTE_WINDOW,
    WITHDRAWAL_NOTICE,
    MAX_SCAN_AGE,
  ]);
  const ledger = await ethers.deployContract("DrivingRecordLedger", [
    await registry.getAddress(),
    ADMIN_DELAY,
    admin.address,
  ]);
  const escrowAddress = await escrow.getAddress();
  const { chainId } = await ethers.provider.getNetwork();
  const t0 = BigInt(await helpers.time.latest());

  await registry.grantRole(await registry.REGISTRAR_ROLE(), accounts.registrar.address);
  await registry.grantRole(await registry.REGULATOR_ROLE(), accounts.regulator.address);
  await escrow.grantRole(await escrow.TOLL_ADMIN_ROLE(), accounts.tollAdmin.address);
  await escrow.grantRole(await escrow.ARBITER_ROLE(), accounts.arbiter.address);
  await escrow.grantRole(await escrow.PAUSER_ROLE(), accounts.pauser.address);
  await ledger.grantRole(await ledger.REPORTER_ROLE(), accounts.reporter.address);
  for (const contract of [registry, escrow, ledger]) {
    await contract.beginDefaultAdminTransfer(accounts.pendingAdmin.address);
  }

  const plates = new Map<bigint, Wallet>();
  const register = async (owner: HardhatEthersSigner, vehicleClass: VehicleClass): Promise<bigint> => {
    const vehicleId = (await registry.totalVehicles()) + 1n;
    const plate = plateWallet(vehicleId.toString());
    await registry
      .connect(accounts.registrar)
      .registerVehicle(owner.address, plate.address, id(`VIN ${vehicleId}`), vehicleClass);
    plates.set(vehicleId, plate);
    return vehicleId;
  };
  const car = await register(accounts.owner, VehicleClass.Car);
  const truck = await register(accounts.owner, VehicleClass.Truck);
  const buyersCar = await register(accounts.buyer, VehicleClass.Car);
  const stolenCar = await register(accounts.buyer, VehicleClass.Car);
  const scrappedCar = await register(accounts.buyer, VehicleClass.Car);
  await registry.connect(accounts.regulator).setStatus(stolenCar, VehicleStatus.Stolen, 1);
  await registry.connect(accounts.regulator).setStatus(scrappedCar, VehicleStatus.Scrapped, 2);
  const revokedPlate = plates.get(buyersCar) as Wallet;
  const newPlate = plateWallet(`${buyersCar} rotated`);
  await registry.connect(accounts.registrar).rotatePlate(buyersCar, newPlate.address);
  plates.set(buyersCar, newPlate);

  for (const signer of Object.values(accounts)) {
    await token.mint(signer.address, WALLET);
    await token.connect(signer).approve(escrowAddress, WALLET);
  }
  await escrow.connect(accounts.owner).deposit(car, 100n * USD);
  await escrow.connect(accounts.owner).deposit(truck, 100n * USD);

  const oracle = new Wallet(id("platechain security oracle 1"));
  const otherOracle = new Wallet(id("platechain security oracle 2"));
  await escrow.connect(accounts.tollAdmin).registerGantry(GANTRY, accounts.operator.address, [oracle.address], FEES);
  await escrow
    .connect(accounts.tollAdmin)
    .registerGantry(OTHER_GANTRY, accounts.operator.address, [otherOracle.address], FEES);

  const { relayer } = accounts;
  const now0 = BigInt(await helpers.time.latest());
  const released = await settle(escrow, relayer, oracle, escrowAddress, chainId, GANTRY, [
    { vehicleId: car, timestamp: now0 - 60n, sequence: 0n },
  ]);
  const releasable = await settle(escrow, relayer, oracle, escrowAddress, chainId, GANTRY, [
    { vehicleId: car, timestamp: now0 - 50n, sequence: 1n },
  ]);

  await helpers.time.increase(4n * DAY);
  await escrow.connect(accounts.owner).requestWithdrawal(car);
  await helpers.time.increase(WITHDRAWAL_NOTICE + 60n * 60n);
  await escrow.releaseRevenue([released.batchId]);

  const now1 = BigInt(await helpers.time.latest());
  const disputed = await settle(escrow, relayer, oracle, escrowAddress, chainId, GANTRY, [
    { vehicleId: car, timestamp: now1 - 30n, sequence: 2n },
    { vehicleId: truck, timestamp: now1 - 20n, sequence: 3n },
  ]);
  await escrow.connect(accounts.owner).openDispute(disputed.batchId, disputed.leaves, 0);

  await ledger
    .connect(accounts.reporter)
    .appendRecords(encodeBatch([{ vehicleId: car, record: dayRecord(now1 - DAY, "fixture"), trust: TrustLevel.ReporterAsserted }]));
  await ledger.connect(accounts.owner).grantConsent(car, accounts.insurer.address, Number(now1 + 365n * DAY));

  return {
    ethers,
    accounts,
    registry,
    token,
    escrow,
    ledger,
    escrowAddress,
    chainId,
    oracle,
    otherOracle,
    plates,
    car,
    truck,
    buyersCar,
    stolenCar,
    scrappedCar,
    revokedPlate,
    releasedBatch: released.batchId,
    releasableBatch: releasable.batchId,
    disputedBatch: disputed.batchId,
    disputedLeaves: disputed.leaves,
    nextSequence: 4n,
    t0,
  };
}
