import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import VehicleRegistryModule from "./VehicleRegistryModule.js";

/**
 * The toll escrow over the registry, paying in the ERC-20 at `token`. Durations have no defaults on purpose: an
 * uninitialised parameter must fail the deployment, not silently become zero.
 */
export default buildModule("TollEscrowModule", (m) => {
  const { registry } = m.useModule(VehicleRegistryModule);
  const token = m.getParameter<string>("token");
  const disputeWindow = m.getParameter<bigint>("disputeWindow");
  const withdrawalNotice = m.getParameter<bigint>("withdrawalNotice");
  const maxScanAge = m.getParameter<bigint>("maxScanAge");
  const escrow = m.contract("TollEscrow", [
    registry,
    token,
    m.getAccount(0),
    disputeWindow,
    withdrawalNotice,
    maxScanAge,
  ]);
  return { registry, escrow };
});
