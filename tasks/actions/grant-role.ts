import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type RoleFlags, grantRoleCommand } from "../../scripts/lib/admin/roles.js";

/** `platechain grant-role`: see {@link grantRoleCommand}. */
export default async function action(flags: RoleFlags, hre: HardhatRuntimeEnvironment): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, grantRoleCommand);
}
