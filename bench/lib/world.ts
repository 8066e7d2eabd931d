/**
 * The benchmark's world: a fixed chain time, a registry and a fleet of vehicles from the seeded fleet model, so every
 * run sends byte-identical transactions and gets the same receipts.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";

import { createFleet, vinCommitmentOf } from "../../scripts/lib/fleet/model.js";
import type { Fleet, Vehicle } from "../../scripts/lib/fleet/model.js";
import { deployVehicleRegistry } from "../../scripts/lib/registry.js";
import type { VehicleRegistry } from "../../typechain-types/index.js";

/** The fleet's seed: the benchmark's issue number. */
export const BENCH_SEED = 8;
/**
 * Chain time the benchmark moves to before anything else (2096-10-02): far enough ahead of any real clock that the
 * move is always forward, so scan timestamps and the checks made on them are the same on every run.
 */
export const BENCH_START = 4_000_000_000;

/** Gas used by a transaction, from its receipt; throws when it reverted or was dropped. */
export async function gasOf(sent: Promise<ContractTransactionResponse>): Promise<number> {
  const response = await sent;
  const receipt = await response.wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`transaction ${response.hash} failed`);
  return Number(receipt.gasUsed);
}

/**
 * The benchmark's fleet: always the same {@link BENCH_FLEET_SIZE} vehicles (the model draws vehicles after sizing
 * the fleet, so a different size would give different vehicles, keys and calldata), over the two days before
 * {@link BENCH_START}, of which the benchmark registers as many as it needs.
 */
export function benchFleet(): Fleet {
  return createFleet({ vehicles: BENCH_FLEET_SIZE, days: 2, seed: BENCH_SEED, startTime: BENCH_START - 2 * 86_400 });
}

/** Enough vehicles for the largest batch a per-transaction gas cap allows at ~10,000 gas a scan. */
export const BENCH_FLEET_SIZE = 2_000;

export interface RegistryWorld {
  readonly registry: VehicleRegistry;
  readonly admin: HardhatEthersSigner;
  readonly registrar: HardhatEthersSigner;
  readonly regulator: HardhatEthersSigner;
}

/** Moves the chain to {@link BENCH_START} and deploys a registry with its roles granted. */
export async function deployRegistryWorld(ethers: HardhatEthers): Promise<RegistryWorld> {
  const [admin, registrar, regulator] = await ethers.getSigners();
  if (admin === undefined || registrar === undefined || regulator === undefined) {
    throw new Error("the benchmark needs at least 3 funded accounts");
  }
  const latest = await ethers.provider.getBlock("latest");
  if (latest === null || latest.timestamp >= BENCH_START) {
    throw new Error(`chain time must be before ${BENCH_START} for the benchmark's fixed clock`);
  }
  await ethers.provider.send("evm_setNextBlockTimestamp", [BENCH_START]);
  await ethers.provider.send("evm_mine", []);
  const registry = await deployVehicleRegistry(ethers, admin, {
    adminDelay: 0n,
    registrars: [registrar.address],
    regulators: [regulator.address],
  });
  return { registry, admin, registrar, regulator };
}

/** Registers `vehicles` in order; returns the gas of each registration. Ids come out as index + 1. */
export async function registerVehicles(
  world: RegistryWorld,
  fleet: Fleet,
  vehicles: readonly Vehicle[],
): Promise<number[]> {
  const registry = world.registry.connect(world.registrar);
  const gas: number[] = [];
  for (const vehicle of vehicles) {
    const vin = vinCommitmentOf(fleet, vehicle);
    gas.push(await gasOf(registry.registerVehicle(vehicle.owner, vehicle.plate, vin, vehicle.vehicleClass)));
  }
  return gas;
}
