import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type AdminOutcome, runAdminCommand } from "../../scripts/lib/admin/command.js";
import { type RoleFlags, revokeRoleCommand } from "../../scripts/lib/admin/roles.js";

/** `platechain revoke-role`: see {@link revokeRoleCommand}. */
export default async function action(flags: RoleFlags, hre: HardhatRuntimeEnvironment): Promise<AdminOutcome> {
  return runAdminCommand(hre, flags, revokeRoleCommand);
}
