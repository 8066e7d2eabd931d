import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** Three days: long enough for the authority to notice and cancel a hostile admin handover. */
const DEFAULT_ADMIN_DELAY_SECONDS = 3n * 24n * 60n * 60n;

/**
 * The vehicle registry, administered at first by the deploying account so the deploy script can grant the roles;
 * `scripts/deploy.ts` then hands the admin role over to the configured admin (two-step, delayed).
 */
export default buildModule("VehicleRegistryModule", (m) => {
  const deployer = m.getAccount(0);
  const adminDelay = m.getParameter<bigint>("adminDelay", DEFAULT_ADMIN_DELAY_SECONDS);
  const registry = m.contract("VehicleRegistry", [adminDelay, deployer]);
  return { registry };
});
