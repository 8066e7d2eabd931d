/**
 * The names operators type for the contracts' enums, roles and contracts, and the numbers they stand for on-chain.
 * Names are kebab-case; input is matched case-insensitively with `_` and spaces read as `-`.
 */
import { ZeroHash, id } from "ethers";

import { VehicleClass, VehicleStatus } from "../vehicle.js";

/** Every vehicle class by name (IVehicleRegistry.VehicleClass). */
export const VEHICLE_CLASSES: Readonly<Record<string, VehicleClass>> = {
  motorcycle: VehicleClass.Motorcycle,
  car: VehicleClass.Car,
  van: VehicleClass.Van,
  truck: VehicleClass.Truck,
  bus: VehicleClass.Bus,
  emergency: VehicleClass.Emergency,
};

/** The statuses a regulator can set (IVehicleRegistry.VehicleStatus without `None`). */
export const SETTABLE_STATUSES: Readonly<Record<string, VehicleStatus>> = {
  active: VehicleStatus.Active,
  suspended: VehicleStatus.Suspended,
  stolen: VehicleStatus.Stolen,
  scrapped: VehicleStatus.Scrapped,
};

/** The classes a tariff prices, in the order of ITollEscrow's `fees[5]`; emergency vehicles ride free. */
export const PAYING_CLASSES = ["motorcycle", "car", "van", "truck", "bus"] as const;

/** Names of IVehicleRegistry.VehicleClass, indexed by value. */
export const CLASS_NAMES = ["motorcycle", "car", "van", "truck", "bus", "emergency"] as const;
/** Names of IVehicleRegistry.VehicleStatus, indexed by value. */
export const STATUS_NAMES = ["none", "active", "suspended", "stolen", "scrapped"] as const;
/** Names of ITollEscrow.DisputeStatus, indexed by value. */
export const DISPUTE_STATUS_NAMES = ["none", "open", "upheld", "rejected"] as const;
/** Names of ITollEscrow.SkipReason, indexed by value. */
export const SKIP_REASON_NAMES = [
  "none",
  "already-settled",
  "unknown-vehicle",
  "scrapped-vehicle",
  "future-timestamp",
  "stale-timestamp",
  "retired-gantry",
] as const;

/** Enum names by the `internalType` the compiler writes into the ABI, for decoding revert arguments. */
export const ENUM_NAMES_BY_INTERNAL_TYPE: Readonly<Record<string, readonly string[]>> = {
  "enum IVehicleRegistry.VehicleClass": CLASS_NAMES,
  "enum IVehicleRegistry.VehicleStatus": STATUS_NAMES,
  "enum ITollEscrow.DisputeStatus": DISPUTE_STATUS_NAMES,
  "enum ITollEscrow.SkipReason": SKIP_REASON_NAMES,
};

/** The contracts of a deployment, by the name operators type and the name the manifest uses. */
export const CONTRACTS = {
  registry: "VehicleRegistry",
  escrow: "TollEscrow",
  ledger: "DrivingRecordLedger",
} as const;
export type ContractKey = keyof typeof CONTRACTS;
export type ContractName = (typeof CONTRACTS)[ContractKey];

/** The roles each contract grants, by the name operators type and the Solidity constant behind it. */
export const ROLES = {
  registry: { registrar: "REGISTRAR_ROLE", regulator: "REGULATOR_ROLE" },
  escrow: { "toll-admin": "TOLL_ADMIN_ROLE", arbiter: "ARBITER_ROLE", pauser: "PAUSER_ROLE" },
  ledger: { reporter: "REPORTER_ROLE" },
} as const satisfies Record<ContractKey, Record<string, string>>;

export const DEFAULT_ADMIN_ROLE = ZeroHash;

/** The role id of a Solidity role constant: `keccak256("REGISTRAR_ROLE")`, or zero for `DEFAULT_ADMIN_ROLE`. */
export function roleId(constantName: string): string {
  return constantName === "DEFAULT_ADMIN_ROLE" ? DEFAULT_ADMIN_ROLE : id(constantName);
}

/** The Solidity constant name of a role id every platechain contract may use, or undefined when unknown. */
export function roleConstantOf(role: string): string | undefined {
  const all = ["DEFAULT_ADMIN_ROLE", ...Object.values(ROLES).flatMap((roles) => Object.values(roles))];
  return all.find((name) => roleId(name) === role.toLowerCase());
}

/** Lower-case, `_` and spaces as `-`: how a typed name is compared with the names above. */
export function canonicalName(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/[_\s]+/g, "-");
}
