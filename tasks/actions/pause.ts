import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import type { CommonFlags } from "../../scripts/lib/admin/context.js";
import { pauseCommand } from "../../scripts/lib/admin/tolls.js";

/** `platechain pause`: see {@link pauseCommand}. */
export default async function action(flags: CommonFlags, hre: HardhatRuntimeEnvironment): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, pauseCommand);
}
