import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type SetOracleKeyFlags, setOracleKeyCommand } from "../../scripts/lib/admin/tolls.js";

/** `platechain set-oracle-key`: see {@link setOracleKeyCommand}. */
export default async function action(flags: SetOracleKeyFlags, hre: HardhatRuntimeEnvironment): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, setOracleKeyCommand);
}
