import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type RetireGantryFlags, retireGantryCommand } from "../../scripts/lib/admin/tolls.js";

/** `platechain retire-gantry`: see {@link retireGantryCommand}. */
export default async function action(flags: RetireGantryFlags, hre: HardhatRuntimeEnvironment): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, retireGantryCommand);
}
