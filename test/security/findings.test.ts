/**
 * Findings: behaviours of the contracts that contradicted their specification, each shown by a test that failed
 * until the contract was fixed (the fix belongs in the contract, not here), then kept as a regression test.
 * See SECURITY.md, "Findings".
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
      // Finding 1 (fixed): ITollEscrow specifies TollEscrowBalanceOverflow when a credit would take the balance past
      // 2^96 - 1. _credit used to compute `(packed & UINT96_MASK) + remaining` with checked arithmetic before the
      // comparison, so for a vehicle with a balance and an amount close to 2^256 the addition itself overflowed
      // and the call reverted with Panic(0x11).
      const f = await networkHelpers.loadFixture(systemFixture);
      const { balance } = await f.escrow.account(f.car);
      expect(balance).to.be.greaterThan(0n);
      await expect(f.escrow.connect(f.accounts.stranger).deposit(f.car, MAX_UINT256))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowBalanceOverflow")
        .withArgs(f.car, balance, MAX_UINT256);
    });
  });
});
