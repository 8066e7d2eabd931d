import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import VehicleRegistryModule from "./VehicleRegistryModule.js";

/** The driving-record ledger over the registry; same admin delay as the registry. */
export default buildModule("DrivingRecordLedgerModule", (m) => {
  const { registry } = m.useModule(VehicleRegistryModule);
  const adminDelay = m.getParameter<bigint>("adminDelay");
  const ledger = m.contract("DrivingRecordLedger", [registry, adminDelay, m.getAccount(0)]);
  return { registry, ledger };
});
