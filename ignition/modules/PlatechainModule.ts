import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import DrivingRecordLedgerModule from "./DrivingRecordLedgerModule.js";
import TollEscrowModule from "./TollEscrowModule.js";
import VehicleRegistryModule from "./VehicleRegistryModule.js";

/**
 * The whole suite: registry, escrow and ledger, administered by the deployer until `scripts/deploy.ts` has granted
 * the configured roles and started the handover to the configured admin.
 */
export default buildModule("PlatechainModule", (m) => {
  const { registry } = m.useModule(VehicleRegistryModule);
  const { escrow } = m.useModule(TollEscrowModule);
  const { ledger } = m.useModule(DrivingRecordLedgerModule);
  return { registry, escrow, ledger };
});
