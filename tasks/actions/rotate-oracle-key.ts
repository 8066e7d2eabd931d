import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type RotateOracleKeyFlags, rotateOracleKeyCommand } from "../../scripts/lib/admin/tolls.js";

/** `platechain rotate-oracle-key`: see {@link rotateOracleKeyCommand}. */
export default async function action(
  flags: RotateOracleKeyFlags,
  hre: HardhatRuntimeEnvironment,
): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, rotateOracleKeyCommand);
}
