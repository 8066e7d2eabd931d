import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type StatusFlags, statusCommand } from "../../scripts/lib/admin/status.js";

/** `platechain status`: see {@link statusCommand}. */
export default async function action(flags: StatusFlags, hre: HardhatRuntimeEnvironment): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, statusCommand);
}
