/**
 * Findings: behaviours of other engineers' contracts that contradict their specification, each shown by a test
 * that fails until the contract is fixed. The fix belongs in the contract, not here (see SECURITY.md, "Findings").
 */
import { expect } from "chai";
import { network } from "hardhat";

import { deploySystem } from "./system.fixture.js";

const { ethers, networkHelpers } = await network.create();

async function systemFixture() {
  return deploySystem(ethers, networkHelpers);
}

const MAX_UINT256 = (1n << 256n) - 1n;

describe("Findings", function () {
  describe("TollEscrow.deposit (contracts/toll/TollEscrow.sol, _credit)", function () {
    it("refuses an amount whose sum with the balance exceeds uint256 with TollEscrowBalanceOverflow, not a panic", async function () {
      // ITollEscrow: "Crediting `amount` would take the vehicle's balance past what an account can hold (2^96 - 1)"
      // is TollEscrowBalanceOverflow. _credit computes `(packed & UINT96_MASK) + remaining` with checked
      // arithmetic before comparing with UINT96_MASK, so for a vehicle with a balance and an amount close to
      // 2^256 the addition itself overflows and the call reverts with Panic(0x11) instead.
      // Suggested fix: `if (remaining > UINT96_MASK - balance) revert TollEscrowBalanceOverflow(...)` before adding.
      const f = await networkHelpers.loadFixture(systemFixture);
      const { balance } = await f.escrow.account(f.car);
      expect(balance).to.be.greaterThan(0n);
      await expect(f.escrow.connect(f.accounts.stranger).deposit(f.car, MAX_UINT256))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowBalanceOverflow")
        .withArgs(f.car, balance, MAX_UINT256);
    });
  });
});
