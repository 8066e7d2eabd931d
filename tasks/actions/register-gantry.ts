import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type RegisterGantryFlags, registerGantryCommand } from "../../scripts/lib/admin/tolls.js";

/** `platechain register-gantry`: see {@link registerGantryCommand}. */
export default async function action(
  flags: RegisterGantryFlags,
  hre: HardhatRuntimeEnvironment,
): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, registerGantryCommand);
}
