import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type RegisterVehicleFlags, registerVehicleCommand } from "../../scripts/lib/admin/vehicles.js";

/** `platechain register-vehicle`: see {@link registerVehicleCommand}. */
export default async function action(
  flags: RegisterVehicleFlags,
  hre: HardhatRuntimeEnvironment,
): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, registerVehicleCommand());
}
