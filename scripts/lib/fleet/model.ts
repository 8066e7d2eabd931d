import { computeAddress, keccak256, toUtf8Bytes } from "ethers";

import { vinCommitment } from "../registry.js";
import { VehicleClass } from "../vehicle.js";
import { SeededRandom } from "./random.js";

/**
 * The fleet model: a deterministic world of vehicles, operators, gantries, trips, top-ups, thefts and telematics,
 * generated from a seed and independent of any chain. The fleet driver (driver.ts) plays it against the real
 * contracts and the real relayer; tests compare the chain with the expectations computed here.
 */

export interface FleetParams {
  /** Number of vehicles, 1 to 100,000. */
  readonly vehicles: number;
  /** Simulated days, 1 to 60. */
  readonly days: number;
  readonly seed: number;
  /** Unix seconds at which day 0 starts. */
  readonly startTime: number;
  /** Toll operators, each with its own gantries and tariffs (default 3). */
  readonly operators?: number;
  /** Gantries per operator (default 4). */
  readonly gantriesPerOperator?: number;
}

export interface Operator {
  readonly index: number;
  readonly name: string;
  /** Seed of the operator's payout account key (0x, 32 bytes). */
  readonly payoutKey: string;
  readonly payout: string;
  /** The oracle key that signs its gantries' scan batches. */
  readonly oracleKey: string;
  readonly oracle: string;
  /** Pays the gas of the operator's relayer; deliberately not the oracle key. */
  readonly relayerKey: string;
}

export interface Gantry {
  readonly id: number;
  readonly operator: number;
  readonly corridor: number;
  /** Position along the corridor in km from its start. */
  readonly km: number;
  /** Fee per vehicle class in token units (6 decimals); emergency vehicles ride free. */
  readonly tariff: readonly bigint[];
}

export interface Vehicle {
  readonly index: number;
  readonly plateKey: string;
  readonly plate: string;
  /** Owner account key: each vehicle has its own owner, so balances and consent are per person. */
  readonly ownerKey: string;
  readonly owner: string;
  readonly vehicleClass: VehicleClass;
  readonly vin: string;
  /** Pays too little up front and tops up only at the end of each day: arrears happen in between. */
  readonly latePayer: boolean;
  /** Reported stolen at the start of this day (0-based), if ever. */
  readonly stolenOnDay: number | undefined;
}

/** One scanner reading, in the relayer's input format. */
export interface Reading {
  readonly gantry: number;
  readonly plate: string;
  /** Unix seconds. */
  readonly time: number;
  readonly seq: number;
}

export interface Deposit {
  readonly vehicle: number;
  readonly amount: bigint;
  /** Before the day's scans (prepaid) or after them (a late top-up). */
  readonly when: "start" | "end";
}

/** One vehicle's telematics aggregates for one day. */
export interface DailyRecord {
  readonly vehicle: number;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly distanceMeters: number;
  readonly drivingSeconds: number;
  readonly harshBrakings: number;
  readonly harshAccelerations: number;
  readonly speedingSeconds: number;
  readonly nightDistanceMeters: number;
  /** keccak256 of the raw trip log, which stays off-chain. */
  readonly tripDataHash: string;
}

export interface FleetDay {
  readonly day: number;
  readonly dayStart: number;
  readonly stolen: readonly number[];
  readonly deposits: readonly Deposit[];
  /** Sorted by gantry, then sequence number. */
  readonly readings: readonly Reading[];
  readonly records: readonly DailyRecord[];
}

export interface Fleet {
  readonly params: Required<FleetParams>;
  /** The registrar's one long-lived VIN salt: one salt for every VIN, so a VIN cannot be registered twice. */
  readonly vinSalt: string;
  readonly operators: readonly Operator[];
  readonly gantries: readonly Gantry[];
  readonly vehicles: readonly Vehicle[];
}

export const SECONDS_PER_DAY = 86_400;
const USDC = 1_000_000n;
const CORRIDORS = 3;
const GANTRY_SPACING_KM = 12;
/** Motorcycle, car, van, truck, bus, emergency: roughly a European motorway mix. */
const CLASS_WEIGHTS = [8, 66, 12, 9, 3, 2];
/** Class multipliers over the car fee, in percent; emergency rides free. */
const CLASS_FEE_PERCENT = [50, 100, 150, 300, 250, 0];
const LATE_PAYER_SHARE = 0.1;
const STOLEN_SHARE = 0.01;

export function createFleet(params: FleetParams): Fleet {
  const full = validateParams(params);
  const random = new SeededRandom(full.seed);
  const vinSalt = random.bytes32();
  const operators = createOperators(full, random);
  const gantries = createGantries(full, random);
  const vehicles = createVehicles(full, random);
  return { params: full, vinSalt, operators, gantries, vehicles };
}

/**
 * Generates day `day` of the fleet. Days are generated independently (each from its own seed) so a long
 * simulation never holds more than one day in memory.
 */
export function simulateDay(fleet: Fleet, day: number): FleetDay {
  if (!Number.isInteger(day) || day < 0 || day >= fleet.params.days) {
    throw new RangeError(`day must be an integer in [0, ${fleet.params.days - 1}], got ${day}`);
  }
  const random = new SeededRandom((fleet.params.seed * 7919 + day * 104_729 + 1) % Number.MAX_SAFE_INTEGER);
  const dayStart = fleet.params.startTime + day * SECONDS_PER_DAY;
  const passes: { gantry: number; plate: string; time: number }[] = [];
  const records: DailyRecord[] = [];
  const deposits: Deposit[] = [];

  for (const vehicle of fleet.vehicles) {
    // A thief drives the car away: a stolen vehicle is on the road the day it is reported.
    const stolen = vehicle.stolenOnDay !== undefined && vehicle.stolenOnDay <= day;
    const trips = simulateTrips(fleet, dayStart, random, stolen ? 2 : 0);
    for (const trip of trips) for (const pass of trip.passes) passes.push({ ...pass, plate: vehicle.plate });
    records.push(dailyRecord(vehicle, dayStart, trips, random));
    deposits.push(...plannedDeposits(fleet, vehicle, day, trips));
  }

  const stolen = fleet.vehicles.filter((v) => v.stolenOnDay === day).map((v) => v.index);
  return { day, dayStart, stolen, deposits, readings: assignSequences(fleet, day, passes), records };
}

/** The fee a reading costs, by the gantry's tariff and the vehicle's class. */
export function feeOf(fleet: Fleet, reading: Reading, vehicleByPlate: ReadonlyMap<string, Vehicle>): bigint {
  const gantry = fleet.gantries.find((g) => g.id === reading.gantry);
  const vehicle = vehicleByPlate.get(reading.plate.toLowerCase());
  if (gantry === undefined || vehicle === undefined) throw new Error(`reading ${JSON.stringify(reading)} is not of this fleet`);
  return gantry.tariff[vehicle.vehicleClass] ?? 0n;
}

export function vehiclesByPlate(fleet: Fleet): Map<string, Vehicle> {
  return new Map(fleet.vehicles.map((v) => [v.plate.toLowerCase(), v]));
}

/** The VIN commitment the registry stores for `vehicle`. */
export function vinCommitmentOf(fleet: Fleet, vehicle: Vehicle): string {
  return vinCommitment(vehicle.vin, fleet.vinSalt);
}

function validateParams(params: FleetParams): Required<FleetParams> {
  const check = (name: string, value: number, min: number, max: number): number => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`fleet ${name} must be an integer in [${min}, ${max}], got ${value}`);
    }
    return value;
  };
  return {
    vehicles: check("vehicles", params.vehicles, 1, 100_000),
    days: check("days", params.days, 1, 60),
    seed: check("seed", params.seed, 0, 2 ** 32 - 1),
    startTime: check("startTime", params.startTime, 1, 2 ** 40 - 1),
    operators: check("operators", params.operators ?? 3, 1, 20),
    gantriesPerOperator: check("gantriesPerOperator", params.gantriesPerOperator ?? 4, 1, 50),
  };
}

const OPERATOR_NAMES = ["NorthRoads", "Ring Mobility", "CityToll", "Coastway", "AlpenPass", "Delta Lanes"];

function createOperators(params: Required<FleetParams>, random: SeededRandom): Operator[] {
  return Array.from({ length: params.operators }, (_, index) => {
    const payoutKey = random.bytes32();
    const oracleKey = random.bytes32();
    const relayerKey = random.bytes32();
    return {
      index,
      name: OPERATOR_NAMES[index] ?? `Operator ${index + 1}`,
      payoutKey,
      payout: computeAddress(payoutKey),
      oracleKey,
      oracle: computeAddress(oracleKey),
      relayerKey,
    };
  });
}

function createGantries(params: Required<FleetParams>, random: SeededRandom): Gantry[] {
  const gantries: Gantry[] = [];
  const total = params.operators * params.gantriesPerOperator;
  for (let i = 0; i < total; i++) {
    const operator = i % params.operators;
    const corridors = Math.min(CORRIDORS, total);
    const corridor = i % corridors;
    const positionOnCorridor = Math.floor(i / corridors);
    // Car fee between 0.80 and 2.40 token units, in steps of 0.05.
    const carFee = (80n + BigInt(random.int(0, 32)) * 5n) * (USDC / 100n);
    const tariff = CLASS_FEE_PERCENT.map((percent) => (carFee * BigInt(percent)) / 100n);
    gantries.push({ id: i + 1, operator, corridor, km: positionOnCorridor * GANTRY_SPACING_KM, tariff });
  }
  return gantries;
}

function createVehicles(params: Required<FleetParams>, random: SeededRandom): Vehicle[] {
  const stolenCount = params.vehicles >= 20 ? Math.max(2, Math.round(params.vehicles * STOLEN_SHARE)) : 0;
  const stolen = new Set<number>();
  while (stolen.size < stolenCount) stolen.add(random.int(0, params.vehicles - 1));
  return Array.from({ length: params.vehicles }, (_, index) => {
    const plateKey = random.bytes32();
    const ownerKey = random.bytes32();
    return {
      index,
      plateKey,
      plate: computeAddress(plateKey),
      ownerKey,
      owner: computeAddress(ownerKey),
      vehicleClass: random.weighted(CLASS_WEIGHTS) as VehicleClass,
      vin: syntheticVin(index, random),
      latePayer: random.chance(LATE_PAYER_SHARE),
      stolenOnDay: stolen.has(index) ? random.int(0, params.days - 1) : undefined,
    };
  });
}

const VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";

function syntheticVin(index: number, random: SeededRandom): string {
  let vin = "WPC";
  for (let i = 0; i < 8; i++) vin += VIN_ALPHABET[random.int(0, VIN_ALPHABET.length - 1)];
  return vin + String(index).padStart(6, "0");
}

interface Trip {
  readonly start: number;
  readonly end: number;
  readonly distanceMeters: number;
  readonly passes: { gantry: number; time: number }[];
}

/** Rush hours weigh more; the night hours (22:00-05:00) still see some traffic. */
const HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 5, 9, 9, 6, 5, 5, 5, 5, 5, 6, 8, 9, 8, 5, 4, 3, 2, 1];

function simulateTrips(fleet: Fleet, dayStart: number, random: SeededRandom, minTrips: number): Trip[] {
  const tripCount = Math.max(minTrips, random.weighted([25, 35, 25, 10, 5]));
  const trips: Trip[] = [];
  let earliest = dayStart;
  for (let t = 0; t < tripCount; t++) {
    const hour = random.weighted(HOUR_WEIGHTS);
    const start = Math.max(earliest, dayStart + hour * 3600 + random.int(0, 3599));
    const trip = driveCorridor(fleet, start, random);
    if (trip.end >= dayStart + SECONDS_PER_DAY) break;
    trips.push(trip);
    earliest = trip.end + 600;
  }
  return trips;
}

function driveCorridor(fleet: Fleet, start: number, random: SeededRandom): Trip {
  const corridor = random.int(0, Math.min(CORRIDORS, fleet.gantries.length) - 1);
  const onCorridor = fleet.gantries.filter((g) => g.corridor === corridor);
  const from = random.int(0, onCorridor.length - 1);
  const span = random.int(0, Math.min(4, onCorridor.length - 1));
  const forward = random.chance(0.5);
  const route: Gantry[] = [];
  for (let i = 0; i <= span; i++) {
    const position = forward ? from + i : from - i;
    const gantry = onCorridor[position];
    if (gantry !== undefined) route.push(gantry);
  }
  const passes: { gantry: number; time: number }[] = [];
  // Approach to the first gantry, then 7 to 12 minutes between gantries 12 km apart.
  let time = start + random.int(120, 900);
  for (const gantry of route) {
    passes.push({ gantry: gantry.id, time });
    time += random.int(420, 720);
  }
  const end = time + random.int(60, 900);
  const distanceMeters = route.length * GANTRY_SPACING_KM * 1000 + random.int(1_000, 15_000);
  return { start, end, distanceMeters, passes };
}

function dailyRecord(vehicle: Vehicle, dayStart: number, trips: readonly Trip[], random: SeededRandom): DailyRecord {
  let distanceMeters = 0;
  let drivingSeconds = 0;
  let nightDistanceMeters = 0;
  for (const trip of trips) {
    distanceMeters += trip.distanceMeters;
    drivingSeconds += trip.end - trip.start;
    const hour = Math.floor((trip.start - dayStart) / 3600);
    if (hour >= 22 || hour < 5) nightDistanceMeters += trip.distanceMeters;
  }
  const aggressive = random.chance(0.15);
  const harshBrakings = trips.length === 0 ? 0 : random.int(0, aggressive ? 8 : 2);
  const harshAccelerations = trips.length === 0 ? 0 : random.int(0, aggressive ? 6 : 2);
  const speedingSeconds = Math.floor(drivingSeconds * (aggressive ? random.int(5, 20) : random.int(0, 4)) / 100);
  const rawLog = JSON.stringify({ plate: vehicle.plate, dayStart, trips });
  return {
    vehicle: vehicle.index,
    periodStart: dayStart,
    periodEnd: dayStart + SECONDS_PER_DAY,
    distanceMeters,
    drivingSeconds,
    harshBrakings,
    harshAccelerations,
    speedingSeconds,
    nightDistanceMeters,
    tripDataHash: keccak256(toUtf8Bytes(rawLog)),
  };
}

/**
 * Prepaid owners top up once, before day 0, with weeks of typical tolls. Late payers put in a token amount, drive
 * into arrears during the day and settle in the evening what the day cost; every third of them forgets on the last
 * day, so some arrears are still open when the simulation ends.
 */
function plannedDeposits(fleet: Fleet, vehicle: Vehicle, day: number, trips: readonly Trip[]): Deposit[] {
  const deposits: Deposit[] = [];
  if (day === 0) {
    deposits.push({ vehicle: vehicle.index, amount: vehicle.latePayer ? USDC : 60n * USDC, when: "start" });
  }
  const forgets = day === fleet.params.days - 1 && vehicle.index % 3 === 0;
  if (vehicle.latePayer && !forgets) {
    let owed = 0n;
    for (const trip of trips) {
      for (const pass of trip.passes) {
        const gantry = fleet.gantries[pass.gantry - 1];
        owed += gantry?.tariff[vehicle.vehicleClass] ?? 0n;
      }
    }
    if (owed > 0n) deposits.push({ vehicle: vehicle.index, amount: owed, when: "end" });
  }
  return deposits;
}

/** Each gantry numbers its reads in time order; sequence numbers continue across days. */
function assignSequences(
  fleet: Fleet,
  day: number,
  passes: readonly { gantry: number; plate: string; time: number }[],
): Reading[] {
  const byGantry = new Map<number, { plate: string; time: number }[]>();
  for (const pass of passes) {
    const list = byGantry.get(pass.gantry) ?? [];
    list.push(pass);
    byGantry.set(pass.gantry, list);
  }
  const readings: Reading[] = [];
  for (const gantry of fleet.gantries) {
    const list = (byGantry.get(gantry.id) ?? []).sort((a, b) => a.time - b.time || a.plate.localeCompare(b.plate));
    // Leave room for a day's reads per gantry so sequence numbers never collide across days.
    const base = day * 10_000_000 + 1;
    list.forEach((pass, i) => readings.push({ gantry: gantry.id, plate: pass.plate, time: pass.time, seq: base + i }));
  }
  return readings;
}
