/**
 * Typed helpers around the VehicleRegistry that tests, the demo and scripts share: deploying it with its roles,
 * registering vehicles, rotating plates, setting statuses, reading vehicles back, committing to VINs and signing
 * digests with a plate key.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import {
  type AddressLike,
  type BigNumberish,
  type BytesLike,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Signer,
  type SigningKey,
  type TransactionReceipt,
  hexlify,
  isHexString,
  randomBytes,
  resolveAddress,
  solidityPackedKeccak256,
} from "ethers";

import type { VehicleRegistry } from "../../typechain-types/index.js";
import type { VehicleRegisteredEvent } from "../../typechain-types/vehicle/VehicleRegistry.js";

import { VehicleClass, VehicleStatus } from "./vehicle.js";

export { VehicleClass, VehicleStatus };

/** Three days: long enough for the authority to notice and cancel a default-admin handover it did not intend. */
export const DEFAULT_ADMIN_DELAY = 3n * 24n * 60n * 60n;

export interface DeployVehicleRegistryOptions {
  /** Seconds a new default admin waits before accepting the role; {@link DEFAULT_ADMIN_DELAY} when omitted. */
  adminDelay?: bigint;
  /** Accounts granted `REGISTRAR_ROLE` right after deployment. */
  registrars?: readonly AddressLike[];
  /** Accounts granted `REGULATOR_ROLE` right after deployment. */
  regulators?: readonly AddressLike[];
}

export interface RegisterVehicleParams {
  owner: AddressLike;
  /** The address of the key inside the plate's chip. */
  plate: AddressLike;
  /** A salted VIN hash, see {@link vinCommitment}. */
  vinCommitment: BytesLike;
  vehicleClass: VehicleClass;
}

/** What `vehicle(id)` / `vehicleByPlate(plate)` return, with the enums as TypeScript enums. */
export interface VehicleView {
  vehicleId: bigint;
  owner: string;
  plate: string;
  vehicleClass: VehicleClass;
  status: VehicleStatus;
}

/**
 * Deploys a VehicleRegistry whose default admin is `admin` and grants the registrar and regulator roles.
 * Each grant is awaited, so the registry is ready to use when the promise resolves.
 */
export async function deployVehicleRegistry(
  ethers: HardhatEthers,
  admin: Signer,
  options: DeployVehicleRegistryOptions = {},
): Promise<VehicleRegistry> {
  const adminDelay = options.adminDelay ?? DEFAULT_ADMIN_DELAY;
  const registry = await ethers.deployContract("VehicleRegistry", [adminDelay, await admin.getAddress()], admin);
  await registry.waitForDeployment();
  const registrarRole = await registry.REGISTRAR_ROLE();
  const regulatorRole = await registry.REGULATOR_ROLE();
  for (const account of options.registrars ?? []) {
    await confirmed(registry.connect(admin).grantRole(registrarRole, account));
  }
  for (const account of options.regulators ?? []) {
    await confirmed(registry.connect(admin).grantRole(regulatorRole, account));
  }
  return registry;
}

/**
 * Registers a vehicle as `registrar` (who must hold `REGISTRAR_ROLE`) and returns its id, read from the
 * {VehicleRegistered} event of the mined transaction.
 */
export async function registerVehicle(
  registry: VehicleRegistry,
  registrar: Signer,
  params: RegisterVehicleParams,
): Promise<bigint> {
  const receipt = await confirmed(
    registry
      .connect(registrar)
      .registerVehicle(params.owner, params.plate, params.vinCommitment, params.vehicleClass),
  );
  return vehicleIdFromReceipt(registry, receipt);
}

/** The id of the vehicle registered by the transaction behind `receipt`; throws when it registered none. */
export async function vehicleIdFromReceipt(registry: VehicleRegistry, receipt: TransactionReceipt): Promise<bigint> {
  const registryAddress = await registry.getAddress();
  const topic = registry.interface.getEvent("VehicleRegistered").topicHash;
  for (const log of receipt.logs) {
    if (log.address !== registryAddress || log.topics[0] !== topic) continue;
    const parsed = registry.interface.parseLog(log) as VehicleRegisteredEvent.LogDescription | null;
    if (parsed !== null) return parsed.args.vehicleId;
  }
  throw new Error(`transaction ${receipt.hash} registered no vehicle in the registry at ${registryAddress}`);
}

/** Gives `vehicleId` a new plate key as `registrar`; the old key is revoked for good. */
export async function rotatePlate(
  registry: VehicleRegistry,
  registrar: Signer,
  vehicleId: BigNumberish,
  newPlate: AddressLike,
): Promise<ContractTransactionReceipt> {
  return confirmed(registry.connect(registrar).rotatePlate(vehicleId, newPlate));
}

/** Sets a vehicle's status as `regulator` (who must hold `REGULATOR_ROLE`), with the authority's reason code. */
export async function setVehicleStatus(
  registry: VehicleRegistry,
  regulator: Signer,
  vehicleId: BigNumberish,
  status: VehicleStatus,
  reasonCode: number,
): Promise<ContractTransactionReceipt> {
  return confirmed(registry.connect(regulator).setStatus(vehicleId, status, reasonCode));
}

/** A vehicle by id; rejects with `VehicleRegistryUnknownVehicle` for an unknown id. */
export async function readVehicle(registry: VehicleRegistry, vehicleId: BigNumberish): Promise<VehicleView> {
  const info = await registry.vehicle(vehicleId);
  return toVehicleView(BigInt(vehicleId), info);
}

/** The vehicle carrying `plate`; rejects with `VehicleRegistryPlateRevoked` or `VehicleRegistryUnknownPlate`. */
export async function readVehicleByPlate(registry: VehicleRegistry, plate: AddressLike): Promise<VehicleView> {
  const [vehicleId, info] = await registry.vehicleByPlate(await resolveAddress(plate));
  return toVehicleView(vehicleId, info);
}

/**
 * Canonical form of a VIN before hashing: surrounding spaces dropped, letters upper-cased. Throws for anything but
 * letters and digits, so a typo never silently yields a different commitment. (ISO 3779 VINs have 17 characters;
 * shorter legacy ones are accepted.)
 */
export function normalizeVin(vin: string): string {
  const normalized = vin.trim().toUpperCase();
  if (!/^[A-Z0-9]{1,17}$/.test(normalized)) {
    throw new Error(`not a VIN: ${JSON.stringify(vin)} (expected 1 to 17 letters and digits)`);
  }
  return normalized;
}

/**
 * The commitment the registry stores instead of the VIN: `keccak256(abi.encodePacked(bytes32 salt, string vin))`
 * of the {@link normalizeVin normalized} VIN.
 *
 * Why a salt: a VIN carries little entropy (a manufacturer code, a model year, a check digit and a mostly
 * sequential serial), so an unsalted hash could be reversed by trying every plausible VIN. Hashing a secret 32-byte
 * salt with it makes that search hopeless for anyone without the salt.
 *
 * Which salt: the registry enforces "one vehicle per VIN" by refusing a commitment it has seen, so the same VIN
 * must always produce the same commitment. The salt is therefore the registrar's long-lived secret (see
 * {@link newVinSalt}), used for every VIN, not a fresh random value per registration; with a fresh salt each time,
 * a VIN could be registered twice. Keep it like a private key: if it leaks, every commitment can be brute-forced;
 * if it is replaced, uniqueness no longer holds across the change.
 *
 * @param vin The vehicle identification number; normalized first.
 * @param salt The registrar's secret, 32 bytes as a 0x-prefixed hex string.
 */
export function vinCommitment(vin: string, salt: string): string {
  if (!isHexString(salt, 32)) {
    throw new Error("VIN salt must be 32 bytes as a 0x-prefixed hex string (see newVinSalt)");
  }
  return solidityPackedKeccak256(["bytes32", "string"], [salt, normalizeVin(vin)]);
}

/** A fresh 32-byte random salt for {@link vinCommitment}: generate it once per registrar and keep it secret. */
export function newVinSalt(): string {
  return hexlify(randomBytes(32));
}

/**
 * Signs a 32-byte digest (an EIP-712 digest of the caller's own domain) with a plate key, as the plate's chip does,
 * returning the 65-byte `r ‖ s ‖ v` signature that `isPlateSignature` accepts.
 */
export function signWithPlate(plateKey: SigningKey, digest: BytesLike): string {
  return plateKey.sign(digest).serialized;
}

async function confirmed(pending: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const tx = await pending;
  const receipt = await tx.wait();
  if (receipt === null) throw new Error(`transaction ${tx.hash} was dropped before it was mined`);
  return receipt;
}

function toVehicleView(
  vehicleId: bigint,
  info: { owner: string; plate: string; vehicleClass: bigint; status: bigint },
): VehicleView {
  return {
    vehicleId,
    owner: info.owner,
    plate: info.plate,
    vehicleClass: Number(info.vehicleClass) as VehicleClass,
    status: Number(info.status) as VehicleStatus,
  };
}
