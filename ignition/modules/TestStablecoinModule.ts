import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The test stablecoin (6 decimals, EIP-2612 permit) for local networks and testnets. The deployer keeps its minter
 * role as the faucet. `scripts/deploy.ts` refuses to deploy it on a production chain.
 */
export default buildModule("TestStablecoinModule", (m) => {
  const stablecoin = m.contract("TestStablecoin", [m.getAccount(0)]);
  return { stablecoin };
});
