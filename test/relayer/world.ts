/**
 * A small toll world for the relayer's tests, deployed with plain ethers through any signer (so over a spawned
 * `hardhat node` as well as in-process): the real VehicleRegistry, TestStablecoin and TollEscrow, gantries with
 * oracle keys and tariffs, vehicles with plates and deposits. Also what a file of readings should cost, and what
 * the chain says it cost.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { id, Wallet, type Provider, type Signer } from "ethers";

import {
  DrivingRecordLedger__factory,
  TestStablecoin__factory,
  TollEscrow__factory,
  VehicleRegistry__factory,
  type TestStablecoin,
  type TollEscrow,
  type VehicleRegistry,
} from "../../typechain-types/index.js";
import { decodeLeaves } from "../../scripts/lib/scans.js";
import { VehicleClass, VehicleStatus } from "../../scripts/lib/vehicle.js";

import { ADMIN_DELAY, DISPUTE_WINDOW, MAX_SCAN_AGE, USD, WITHDRAWAL_NOTICE } from "../utils/constants.js";

export { USD };

export type Fees = readonly [bigint, bigint, bigint, bigint, bigint];

export interface GantrySpec {
  readonly id: number;
  /** Fee per paying class: motorcycle, car, van, truck, bus. */
  readonly fees: Fees;
}

export interface VehicleSpec {
  readonly vehicleClass: VehicleClass;
  /** Paid in before any scan. */
  readonly deposit: bigint;
  readonly status?: VehicleStatus;
}

export interface WorldVehicle extends VehicleSpec {
  readonly id: bigint;
  readonly plate: string;
}

export interface WorldGantry extends GantrySpec {
  readonly oracle: Wallet;
}

export interface TollWorld {
  readonly registry: VehicleRegistry;
  readonly token: TestStablecoin;
  readonly escrow: TollEscrow;
  /** Deployed only because the shared manifest lists it. */
  readonly ledgerAddress: string;
  readonly chainId: bigint;
  readonly deployBlock: number;
  readonly gantries: readonly WorldGantry[];
  readonly vehicles: readonly WorldVehicle[];
  /** A plate that was rotated away: reading it is a cloned plate. */
  readonly revokedPlate: string;
}

/** Deploys and populates the world; `admin` must be funded (it pays for everything and holds every role). */
export async function deployTollWorld(
  admin: Signer,
  gantries: readonly GantrySpec[],
  vehicles: readonly VehicleSpec[],
): Promise<TollWorld> {
  const adminAddress = await admin.getAddress();
  const registry = await new VehicleRegistry__factory(admin).deploy(ADMIN_DELAY, adminAddress);
  const deployBlock = (await registry.deploymentTransaction()?.wait())?.blockNumber ?? 0;
  const token = await new TestStablecoin__factory(admin).deploy(adminAddress);
  const escrow = await new TollEscrow__factory(admin).deploy(
    await registry.getAddress(),
    await token.getAddress(),
    adminAddress,
    DISPUTE_WINDOW,
    WITHDRAWAL_NOTICE,
    MAX_SCAN_AGE,
  );
  await escrow.waitForDeployment();
  const ledger = await new DrivingRecordLedger__factory(admin).deploy(
    await registry.getAddress(),
    ADMIN_DELAY,
    adminAddress,
  );
  await ledger.waitForDeployment();
  await (await registry.grantRole(await registry.REGISTRAR_ROLE(), adminAddress)).wait();
  await (await registry.grantRole(await registry.REGULATOR_ROLE(), adminAddress)).wait();
  await (await escrow.grantRole(await escrow.TOLL_ADMIN_ROLE(), adminAddress)).wait();
  await (await escrow.grantRole(await escrow.PAUSER_ROLE(), adminAddress)).wait();

  const worldGantries: WorldGantry[] = [];
  for (const gantry of gantries) {
    const oracle = Wallet.createRandom();
    await (await escrow.registerGantry(gantry.id, adminAddress, [oracle.address], [...gantry.fees])).wait();
    worldGantries.push({ ...gantry, oracle: new Wallet(oracle.privateKey) });
  }

  const total = vehicles.reduce((sum, vehicle) => sum + vehicle.deposit, 0n);
  await (await token.mint(adminAddress, total)).wait();
  await (await token.approve(await escrow.getAddress(), total)).wait();
  const worldVehicles: WorldVehicle[] = [];
  for (const [index, vehicle] of vehicles.entries()) {
    const plate = Wallet.createRandom().address;
    await (
      await registry.registerVehicle(adminAddress, plate, id(`VIN-${index}-${plate}`), vehicle.vehicleClass)
    ).wait();
    const vehicleId = await registry.totalVehicles();
    if (vehicle.deposit > 0n) await (await escrow.deposit(vehicleId, vehicle.deposit)).wait();
    if (vehicle.status !== undefined && vehicle.status !== VehicleStatus.Active) {
      await (await registry.setStatus(vehicleId, vehicle.status, 1)).wait();
    }
    worldVehicles.push({ ...vehicle, id: vehicleId, plate });
  }

  // One more vehicle whose first plate was rotated away.
  const revokedPlate = Wallet.createRandom().address;
  await (await registry.registerVehicle(adminAddress, revokedPlate, id(`VIN-rotated-${revokedPlate}`), 1)).wait();
  await (await registry.rotatePlate(await registry.totalVehicles(), Wallet.createRandom().address)).wait();

  const { chainId } = await (admin.provider as Provider).getNetwork();
  return {
    registry,
    token,
    escrow,
    ledgerAddress: await ledger.getAddress(),
    chainId,
    deployBlock,
    gantries: worldGantries,
    vehicles: worldVehicles,
    revokedPlate,
  };
}

/** Writes the deployment manifest the CLI reads. */
export async function writeManifest(world: TollWorld, file: string, network = "localhost"): Promise<void> {
  const entry = async (contract: { getAddress(): Promise<string> }) => ({
    address: await contract.getAddress(),
    blockNumber: world.deployBlock,
  });
  const manifest = {
    chainId: Number(world.chainId),
    network,
    contracts: {
      VehicleRegistry: await entry(world.registry),
      TestStablecoin: await entry(world.token),
      TollEscrow: await entry(world.escrow),
      DrivingRecordLedger: { address: world.ledgerAddress, blockNumber: world.deployBlock },
    },
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(manifest, null, 2));
}

/** `ORACLE_KEYS` for the world's gantries. */
export function oracleKeysEnv(world: TollWorld): string {
  return world.gantries.map((gantry) => `${gantry.id}:${gantry.oracle.privateKey}`).join(",");
}

export interface Reading {
  readonly gantry: number;
  readonly plate: string;
  readonly time: number | string;
  readonly seq: number;
}

/** The fee a valid reading costs: the gantry's tariff for the class; emergency vehicles and scrapped ones pay 0. */
export function feeOf(world: TollWorld, reading: Reading): bigint {
  const vehicle = world.vehicles.find((v) => v.plate === reading.plate);
  const gantry = world.gantries.find((g) => g.id === reading.gantry);
  if (vehicle === undefined || gantry === undefined) throw new Error("not a valid reading of this world");
  if (vehicle.vehicleClass === VehicleClass.Emergency || vehicle.status === VehicleStatus.Scrapped) return 0n;
  return gantry.fees[vehicle.vehicleClass];
}

/** Generates `count` valid readings round-robin over gantries and vehicles, times in the recent past. */
export function validReadings(world: TollWorld, count: number, firstSeq = 1): Reading[] {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, index) => {
    const gantry = world.gantries[index % world.gantries.length];
    const vehicle = world.vehicles[(index * 7 + 3) % world.vehicles.length];
    return { gantry: gantry.id, plate: vehicle.plate, time: now - 3_600 + index, seq: firstSeq + index };
  });
}

export interface ChainCharges {
  /** Charges per "gantry/sequence" key: exactly one for every settled reading. */
  readonly chargesPerScan: ReadonlyMap<string, number>;
  /** paid + unpaid per vehicle id. */
  readonly feesPerVehicle: ReadonlyMap<bigint, bigint>;
  readonly stolenSightings: number;
}

/** Reads every charge the escrow made: the leaves of its BatchSettled events, and its StolenVehicleSighted events. */
export async function chainCharges(world: TollWorld): Promise<ChainCharges> {
  const settled = await world.escrow.queryFilter(world.escrow.filters.BatchSettled(), world.deployBlock);
  const stolen = await world.escrow.queryFilter(world.escrow.filters.StolenVehicleSighted(), world.deployBlock);
  const chargesPerScan = new Map<string, number>();
  const feesPerVehicle = new Map<bigint, bigint>();
  for (const event of settled) {
    for (const { vehicleId, sequence, fee } of decodeLeaves(event.args.leaves)) {
      const key = `${event.args.gantryId}/${sequence}`;
      chargesPerScan.set(key, (chargesPerScan.get(key) ?? 0) + 1);
      feesPerVehicle.set(vehicleId, (feesPerVehicle.get(vehicleId) ?? 0n) + fee);
    }
  }
  return { chargesPerScan, feesPerVehicle, stolenSightings: stolen.length };
}

/** Total fee per vehicle id that `readings` (all valid) imply. */
export function expectedFees(world: TollWorld, readings: readonly Reading[]): Map<bigint, bigint> {
  const fees = new Map<bigint, bigint>();
  for (const reading of readings) {
    const vehicle = world.vehicles.find((v) => v.plate === reading.plate);
    if (vehicle === undefined) throw new Error("unknown plate");
    const fee = feeOf(world, reading);
    if (fee > 0n) fees.set(vehicle.id, (fees.get(vehicle.id) ?? 0n) + fee);
  }
  return fees;
}

/** Standard tariffs and a fleet mixing classes, balances (some too small: arrears), a stolen and a scrapped car. */
export const STANDARD_GANTRIES: readonly GantrySpec[] = [
  { id: 7, fees: [USD, 2n * USD, 3n * USD, 5n * USD, 4n * USD] },
  { id: 8, fees: [USD / 2n, USD, USD, 2n * USD, 2n * USD] },
  { id: 9, fees: [USD, USD, USD, USD, USD] },
];

export const STANDARD_FLEET: readonly VehicleSpec[] = [
  { vehicleClass: VehicleClass.Car, deposit: 100n * USD },
  { vehicleClass: VehicleClass.Truck, deposit: 7n * USD },
  { vehicleClass: VehicleClass.Motorcycle, deposit: 0n },
  { vehicleClass: VehicleClass.Van, deposit: 50n * USD },
  { vehicleClass: VehicleClass.Bus, deposit: 3n * USD },
  { vehicleClass: VehicleClass.Emergency, deposit: 0n },
  { vehicleClass: VehicleClass.Car, deposit: 20n * USD, status: VehicleStatus.Stolen },
  { vehicleClass: VehicleClass.Car, deposit: 5n * USD, status: VehicleStatus.Scrapped },
];

/** NDJSON text of readings. */
export function ndjson(readings: readonly Reading[]): string {
  return readings.map((reading) => JSON.stringify(reading)).join("\n") + "\n";
}
