import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type ResolveDisputeFlags, resolveDisputeCommand } from "../../scripts/lib/admin/tolls.js";

/** `platechain resolve-dispute`: see {@link resolveDisputeCommand}. */
export default async function action(
  flags: ResolveDisputeFlags,
  hre: HardhatRuntimeEnvironment,
): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, resolveDisputeCommand);
}
