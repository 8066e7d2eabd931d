import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type SetTariffFlags, setTariffCommand } from "../../scripts/lib/admin/tolls.js";

/** `platechain set-tariff`: see {@link setTariffCommand}. */
export default async function action(flags: SetTariffFlags, hre: HardhatRuntimeEnvironment): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, setTariffCommand);
}
