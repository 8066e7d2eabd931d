/**
 * The traffic authority's vehicle commands on the VehicleRegistry: register a vehicle, rotate its plate, set its
 * status.
 */
import { normalizeVin, vehicleIdFromReceipt, vinCommitment } from "../registry.js";
import type { VehicleClass, VehicleStatus } from "../vehicle.js";

import { type AdminCommand, type AdminOutcome, requireVehicle, withTx } from "./command.js";
import type { CommonFlags } from "./context.js";
import { flagError } from "./errors.js";
import { CLASS_NAMES, SETTABLE_STATUSES, STATUS_NAMES, VEHICLE_CLASSES } from "./names.js";
import {
  UINT32_MAX,
  parseAddress,
  parseChoice,
  parseInteger,
  parseSecret32,
  parseVehicleId,
  required,
} from "./parse.js";

/** The environment variable the registrar's VIN salt is read from when `--vin-salt` is not given. */
export const VIN_SALT_ENV = "VIN_SALT";

export interface RegisterVehicleFlags extends CommonFlags {
  readonly owner?: string;
  readonly plate?: string;
  readonly vin?: string;
  readonly vinSalt?: string;
  readonly class?: string;
}

export interface RegisterVehicleOutcome extends AdminOutcome {
  readonly vehicleId: bigint;
  readonly txHash: string;
}

interface RegisterVehicleParsed {
  readonly owner: string;
  readonly plate: string;
  readonly vinCommitment: string;
  readonly vehicleClass: VehicleClass;
}

/**
 * `register-vehicle`: mints a passport to `--owner` bound to `--plate`, committing to the VIN with the registrar's
 * salt (`--vin-salt`, else the `VIN_SALT` environment variable; never printed). Needs REGISTRAR_ROLE.
 */
export function registerVehicleCommand(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AdminCommand<RegisterVehicleFlags, RegisterVehicleParsed, RegisterVehicleOutcome> {
  return {
    parse(flags) {
      const owner = parseAddress("owner", flags.owner);
      const plate = parseAddress("plate", flags.plate);
      const vehicleClass = parseChoice("class", flags.class, VEHICLE_CLASSES);
      const vinText = required("vin", flags.vin);
      let vin: string;
      try {
        vin = normalizeVin(vinText);
      } catch {
        throw flagError("vin", `must be 1 to 17 letters and digits (ISO 3779 VINs have 17), got "${vinText}"`);
      }
      const salt = parseSecret32("vinSalt", flags.vinSalt ?? env[VIN_SALT_ENV], VIN_SALT_ENV);
      return { owner, plate, vehicleClass, vinCommitment: vinCommitment(vin, salt) };
    },
    async run(ctx, parsed) {
      await ctx.requireRole("registry", "REGISTRAR_ROLE");
      const sent = await ctx.send("registry", "registerVehicle", () =>
        ctx.registry.registerVehicle.populateTransaction(
          parsed.owner,
          parsed.plate,
          parsed.vinCommitment,
          parsed.vehicleClass,
        ),
      );
      const vehicleId = await vehicleIdFromReceipt(ctx.registry, sent.receipt);
      const className = CLASS_NAMES[parsed.vehicleClass];
      const line =
        `registered vehicle ${vehicleId} (${className}) for owner ${parsed.owner} ` + `with plate ${parsed.plate}`;
      return { line: withTx(line, sent.hash), txHash: sent.hash, vehicleId };
    },
  };
}

export interface RotatePlateFlags extends CommonFlags {
  readonly vehicle?: string;
  readonly plate?: string;
}

interface RotatePlateParsed {
  readonly vehicleId: bigint;
  readonly plate: string;
}

/** `rotate-plate`: binds `--vehicle` to the new `--plate`; the old plate key is revoked for good. REGISTRAR_ROLE. */
export const rotatePlateCommand: AdminCommand<RotatePlateFlags, RotatePlateParsed, AdminOutcome & { txHash: string }> =
  {
    parse(flags) {
      return { vehicleId: parseVehicleId("vehicle", flags.vehicle), plate: parseAddress("plate", flags.plate) };
    },
    async run(ctx, parsed) {
      await ctx.requireRole("registry", "REGISTRAR_ROLE");
      await requireVehicle(ctx, "vehicle", parsed.vehicleId);
      const { plate: oldPlate } = await ctx.registry.vehicle(parsed.vehicleId);
      const sent = await ctx.send("registry", "rotatePlate", () =>
        ctx.registry.rotatePlate.populateTransaction(parsed.vehicleId, parsed.plate),
      );
      const line =
        `rotated the plate of vehicle ${parsed.vehicleId} from ${oldPlate} to ${parsed.plate} ` + "(old plate revoked)";
      return { line: withTx(line, sent.hash), txHash: sent.hash };
    },
  };

export interface SetStatusFlags extends CommonFlags {
  readonly vehicle?: string;
  readonly status?: string;
  readonly reasonCode?: string;
}

interface SetStatusParsed {
  readonly vehicleId: bigint;
  readonly status: VehicleStatus;
  readonly reasonCode: bigint;
}

/** `set-status`: sets `--vehicle`'s status by name with the authority's `--reason-code`. Needs REGULATOR_ROLE. */
export const setStatusCommand: AdminCommand<SetStatusFlags, SetStatusParsed, AdminOutcome & { txHash: string }> = {
  parse(flags) {
    return {
      vehicleId: parseVehicleId("vehicle", flags.vehicle),
      status: parseChoice("status", flags.status, SETTABLE_STATUSES),
      reasonCode: parseInteger("reasonCode", flags.reasonCode, 0n, UINT32_MAX),
    };
  },
  async run(ctx, parsed) {
    await ctx.requireRole("registry", "REGULATOR_ROLE");
    await requireVehicle(ctx, "vehicle", parsed.vehicleId);
    const [, current] = await ctx.registry.classAndStatus(parsed.vehicleId);
    const sent = await ctx.send("registry", "setStatus", () =>
      ctx.registry.setStatus.populateTransaction(parsed.vehicleId, parsed.status, parsed.reasonCode),
    );
    const from = STATUS_NAMES[Number(current)] ?? String(current);
    const to = STATUS_NAMES[parsed.status] ?? String(parsed.status);
    const line = `set vehicle ${parsed.vehicleId} from ${from} to ${to} (reason code ${parsed.reasonCode})`;
    return { line: withTx(line, sent.hash), txHash: sent.hash };
  },
};
