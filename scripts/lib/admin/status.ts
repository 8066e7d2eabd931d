/**
 * `status`: a vehicle at a glance, by id or by plate: class, status, owner, plate, and its money in the escrow.
 * Read-only: it needs no role and signs nothing.
 */
import { type AdminCommand, type AdminOutcome, requireVehicle } from "./command.js";
import type { AdminContext, CommonFlags } from "./context.js";
import { AdminError, flagError } from "./errors.js";
import { CLASS_NAMES, STATUS_NAMES } from "./names.js";
import { formatTokenAmount, parseAddress, parseVehicleId } from "./parse.js";

export interface StatusFlags extends CommonFlags {
  readonly vehicle?: string;
  readonly plate?: string;
  readonly json?: boolean;
}

interface StatusParsed {
  readonly vehicleId?: bigint;
  readonly plate?: string;
  readonly json: boolean;
}

/** What `status` reports; amounts in the token's smallest units. */
export interface VehicleStatusReport {
  readonly vehicleId: bigint;
  readonly vehicleClass: string;
  readonly status: string;
  readonly owner: string;
  readonly plate: string;
  readonly balance: bigint;
  readonly arrears: bigint;
  readonly token: { readonly symbol: string; readonly decimals: number; readonly address: string };
}

export const statusCommand: AdminCommand<StatusFlags, StatusParsed, AdminOutcome & { report: VehicleStatusReport }> = {
  parse(flags) {
    const byId = flags.vehicle !== undefined && flags.vehicle.trim() !== "";
    const byPlate = flags.plate !== undefined && flags.plate.trim() !== "";
    if (byId === byPlate) throw new AdminError("give exactly one of --vehicle (an id) and --plate (a plate address)");
    const json = flags.json === true;
    return byId
      ? { vehicleId: parseVehicleId("vehicle", flags.vehicle), json }
      : { plate: parseAddress("plate", flags.plate), json };
  },
  async run(ctx, parsed) {
    const vehicleId = parsed.vehicleId ?? (await vehicleOfPlate(ctx, parsed.plate ?? ""));
    if (parsed.vehicleId !== undefined) await requireVehicle(ctx, "vehicle", vehicleId);
    const [info, account, token] = await Promise.all([
      ctx.registry.vehicle(vehicleId),
      ctx.escrow.account(vehicleId),
      ctx.token(),
    ]);
    const report: VehicleStatusReport = {
      vehicleId,
      vehicleClass: CLASS_NAMES[Number(info.vehicleClass)] ?? String(info.vehicleClass),
      status: STATUS_NAMES[Number(info.status)] ?? String(info.status),
      owner: info.owner,
      plate: info.plate,
      balance: account.balance,
      arrears: account.arrears,
      token: { symbol: token.symbol, decimals: token.decimals, address: token.address },
    };
    return { line: parsed.json ? reportJson(report) : reportLine(report), report };
  },
};

async function vehicleOfPlate(ctx: AdminContext, plate: string): Promise<bigint> {
  const vehicleId = await ctx.registry.vehicleIdOfPlate(plate);
  if (vehicleId !== 0n) return vehicleId;
  if (await ctx.registry.isPlateRevoked(plate)) {
    throw flagError("plate", `${plate} was revoked by a plate rotation: look the vehicle up by id`);
  }
  throw flagError("plate", `${plate}: no vehicle carries this plate in the registry at ${ctx.addressOf("registry")}`);
}

function reportLine(report: VehicleStatusReport): string {
  const money = (amount: bigint): string =>
    `${formatTokenAmount(amount, report.token.decimals)} ${report.token.symbol}`;
  return (
    `vehicle ${report.vehicleId}: ${report.vehicleClass}, ${report.status}, owner ${report.owner}, ` +
    `plate ${report.plate}, balance ${money(report.balance)}, arrears ${money(report.arrears)}`
  );
}

function reportJson(report: VehicleStatusReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}
