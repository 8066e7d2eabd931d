import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type RotatePlateFlags, rotatePlateCommand } from "../../scripts/lib/admin/vehicles.js";

/** `platechain rotate-plate`: see {@link rotatePlateCommand}. */
export default async function action(flags: RotatePlateFlags, hre: HardhatRuntimeEnvironment): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, rotatePlateCommand);
}
