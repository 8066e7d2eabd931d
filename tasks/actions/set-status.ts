import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type SetStatusFlags, setStatusCommand } from "../../scripts/lib/admin/vehicles.js";

/** `platechain set-status`: see {@link setStatusCommand}. */
export default async function action(flags: SetStatusFlags, hre: HardhatRuntimeEnvironment): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, setStatusCommand);
}
