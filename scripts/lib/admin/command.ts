/**
 * The shape of an administration command and the one way every task runs one: parse every flag (no network), open
 * the network and manifest, run (role check, chain-side checks, send), print one line.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminContext, type CommonFlags, openAdminContext } from "./context.js";
import { flagError } from "./errors.js";

/** What a command reports: the line it prints and, for a command that sent one, the transaction's hash. */
export interface AdminOutcome {
  readonly line: string;
  readonly txHash?: string;
}

export interface AdminCommand<Flags extends CommonFlags, Parsed, Outcome extends AdminOutcome> {
  /** Checks and converts every flag without touching the network; throws an AdminError naming the bad flag. */
  readonly parse: (flags: Flags) => Parsed;
  /** Checks what only the chain knows (roles first), then sends or reads. */
  readonly run: (ctx: AdminContext, parsed: Parsed) => Promise<Outcome>;
}

/** Runs `command` as a Hardhat task: validates, connects, runs, prints the outcome's line and returns the outcome. */
export async function runAdminCommand<Flags extends CommonFlags, Parsed, Outcome extends AdminOutcome>(
  hre: HardhatRuntimeEnvironment,
  flags: Flags,
  command: AdminCommand<Flags, Parsed, Outcome>,
  print: (line: string) => void = (line) => console.log(line),
): Promise<Outcome> {
  const parsed = command.parse(flags);
  const ctx = await openAdminContext(hre, flags);
  const outcome = await command.run(ctx, parsed);
  print(outcome.line);
  return outcome;
}

/** The vehicle must exist: a clear error with the registry's id range instead of a revert. */
export async function requireVehicle(ctx: AdminContext, flag: string, vehicleId: bigint): Promise<void> {
  const [, status] = await ctx.registry.classAndStatus(vehicleId);
  if (status !== 0n) return;
  const total = await ctx.registry.totalVehicles();
  const range = total === 0n ? "the registry has no vehicles yet" : `ids run from 1 to ${total}`;
  throw flagError(flag, `${vehicleId}: no such vehicle in the registry at ${ctx.addressOf("registry")} (${range})`);
}

/** Appends the transaction hash the way every command's line ends. */
export function withTx(line: string, hash: string): string {
  return `${line} (tx ${hash})`;
}
