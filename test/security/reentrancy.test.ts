/**
 * Re-entrancy and hostile tokens: an escrow deployed with a token that calls back into its holders on every
 * transfer (ERC-777 style), skims fees, or fails silently; and a hostile contract that receives a passport by
 * `safeTransferFrom` and re-enters the registry, the escrow and the ledger from `onERC721Received`.
 *
 * In every case the attacker ends with exactly what it was entitled to, each re-entrant attempt is refused with
 * the guard's error (or does only what its caller may do anyway), and the escrow's books balance:
 * token balance = vehicle balances + held revenue + claimable revenue.
 */
import { expect } from "chai";
import { Interface, Wallet, id } from "ethers";
import { network } from "hardhat";

import { encodeScans, signScanBatch } from "../../scripts/lib/scans.js";
import { VehicleClass } from "../../scripts/lib/vehicle.js";
import type { HostileReceiver, HostileToken, TollEscrow, VehicleRegistry } from "../../typechain-types/index.js";

import { DAY, DISPUTE_WINDOW, FEES, MAX_SCAN_AGE, USD, WITHDRAWAL_NOTICE, deploySystem } from "./system.fixture.js";

const { ethers, networkHelpers } = await network.create();

const GUARD = new Interface(["error ReentrancyGuardReentrantCall()"]);
const REENTRANT_CALL = GUARD.getError("ReentrancyGuardReentrantCall")?.selector as string;

/** An escrow whose stablecoin is {@link HostileToken}, and an attacker contract owning a vehicle and a gantry. */
async function hostileTokenFixture() {
  const [admin, registrar, tollAdmin, attackerEoa, victim] = await ethers.getSigners();
  const registry = await ethers.deployContract("VehicleRegistry", [3n * DAY, admin.address]);
  const token = await ethers.deployContract("HostileToken");
  const escrow = await ethers.deployContract("TollEscrow", [
    await registry.getAddress(),
    await token.getAddress(),
    admin.address,
    DISPUTE_WINDOW,
    WITHDRAWAL_NOTICE,
    MAX_SCAN_AGE,
  ]);
  await registry.grantRole(await registry.REGISTRAR_ROLE(), registrar.address);
  await escrow.grantRole(await escrow.TOLL_ADMIN_ROLE(), tollAdmin.address);
  const attacker = await ethers.deployContract("HostileReceiver", [], attackerEoa);
  const attackerAddress = await attacker.getAddress();
  const escrowAddress = await escrow.getAddress();

  // The attacker's contract owns a car and is the payee of gantry 1; the victim owns another car.
  await registry.connect(registrar).registerVehicle(attackerAddress, Wallet.createRandom().address, id("VIN A"), VehicleClass.Car);
  await registry.connect(registrar).registerVehicle(victim.address, Wallet.createRandom().address, id("VIN V"), VehicleClass.Car);
  const oracle = Wallet.createRandom();
  await escrow.connect(tollAdmin).registerGantry(1, attackerAddress, [oracle.address], FEES);

  await token.mint(attackerAddress, 1_000n * USD);
  await token.mint(victim.address, 1_000n * USD);
  await token.connect(victim).approve(escrowAddress, 1_000n * USD);
  await escrow.connect(victim).deposit(2, 100n * USD);
  const act = (target: string, data: string) => attacker.connect(attackerEoa).execute(target, data);
  await act(await token.getAddress(), token.interface.encodeFunctionData("approve", [escrowAddress, 1_000n * USD]));
  await act(await token.getAddress(), token.interface.encodeFunctionData("setHooked", [true]));
  await act(escrowAddress, escrow.interface.encodeFunctionData("deposit", [1, 100n * USD]));

  return { registry, token, escrow, escrowAddress, attacker, attackerAddress, attackerEoa, victim, oracle, act };
}

type HostileTokenFixture = Awaited<ReturnType<typeof hostileTokenFixture>>;

/** The escrow's accounting identity, which must hold after every transaction. */
async function expectBooksBalance(escrow: TollEscrow, token: HostileToken, payees: readonly string[]): Promise<void> {
  let owed = 0n;
  const vehicles = 2n;
  for (let vehicleId = 1n; vehicleId <= vehicles; vehicleId++) owed += (await escrow.account(vehicleId)).balance;
  const batches = await escrow.totalBatches();
  for (let batchId = 1n; batchId <= batches; batchId++) owed += (await escrow.batch(batchId)).held;
  for (const payee of payees) owed += await escrow.claimable(payee);
  expect(await token.balanceOf(await escrow.getAddress()), "escrow tokens = balances + held + claimable").to.equal(owed);
}

async function arm(f: HostileTokenFixture, calls: readonly [string, string][]): Promise<void> {
  await f.attacker.connect(f.attackerEoa).arm(
    calls.map(([target]) => target),
    calls.map(([, data]) => data),
  );
}

async function attempts(attacker: HostileReceiver): Promise<{ success: boolean; returnData: string }[]> {
  const count = await attacker.attemptCount();
  const result = [];
  for (let i = 0n; i < count; i++) {
    const attempt = await attacker.attempt(i);
    result.push({ success: attempt.success, returnData: attempt.returnData });
  }
  return result;
}

async function readyWithdrawal(f: HostileTokenFixture): Promise<void> {
  await f.act(f.escrowAddress, f.escrow.interface.encodeFunctionData("requestWithdrawal", [1]));
  await networkHelpers.time.increase(WITHDRAWAL_NOTICE);
}

describe("Re-entrancy and hostile tokens", function () {
  describe("an escrow whose token calls back into its holders", function () {
    it("a withdrawal re-entered from the token's receive hook pays out once", async function () {
      const f = await networkHelpers.loadFixture(hostileTokenFixture);
      await readyWithdrawal(f);
      const withdrawAgain = f.escrow.interface.encodeFunctionData("withdraw", [1, 50n * USD, f.attackerAddress]);
      await arm(f, [
        [f.escrowAddress, withdrawAgain],
        [f.escrowAddress, f.escrow.interface.encodeFunctionData("claimRevenue", [f.attackerAddress])],
        [f.escrowAddress, f.escrow.interface.encodeFunctionData("deposit", [1, USD])],
        [f.escrowAddress, f.escrow.interface.encodeFunctionData("withdraw", [2, USD, f.attackerAddress])],
      ]);
      const before = await f.token.balanceOf(f.attackerAddress);

      await f.act(f.escrowAddress, f.escrow.interface.encodeFunctionData("withdraw", [1, 50n * USD, f.attackerAddress]));

      const tried = await attempts(f.attacker);
      expect(tried.map((a) => a.success)).to.deep.equal([false, false, false, false]);
      for (const attempt of tried) expect(attempt.returnData).to.equal(REENTRANT_CALL);
      expect(await f.token.balanceOf(f.attackerAddress)).to.equal(before + 50n * USD);
      expect((await f.escrow.account(1)).balance).to.equal(50n * USD);
      expect((await f.escrow.account(2)).balance, "the victim's balance").to.equal(100n * USD);
      await expectBooksBalance(f.escrow, f.token, [f.attackerAddress]);
    });

    it("the request is consumed before the token moves: a new request from inside the hook starts a new notice", async function () {
      const f = await networkHelpers.loadFixture(hostileTokenFixture);
      await readyWithdrawal(f);
      await arm(f, [[f.escrowAddress, f.escrow.interface.encodeFunctionData("requestWithdrawal", [1])]]);
      await f.act(f.escrowAddress, f.escrow.interface.encodeFunctionData("withdraw", [1, 10n * USD, f.attackerAddress]));

      const [request] = await attempts(f.attacker);
      expect(request.success, "asking again is what any owner may do").to.equal(true);
      const { requestedAt } = await f.escrow.withdrawalRequest(1);
      await expect(f.act(f.escrowAddress, f.escrow.interface.encodeFunctionData("withdraw", [1, 10n * USD, f.attackerAddress])))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowWithdrawalNotReady")
        .withArgs(1, requestedAt + WITHDRAWAL_NOTICE);
      await expectBooksBalance(f.escrow, f.token, [f.attackerAddress]);
    });

    it("a deposit re-entered from the token's send hook cannot withdraw the credit before it arrives", async function () {
      const f = await networkHelpers.loadFixture(hostileTokenFixture);
      await readyWithdrawal(f);
      await arm(f, [
        [f.escrowAddress, f.escrow.interface.encodeFunctionData("withdraw", [1, 120n * USD, f.attackerAddress])],
        [f.escrowAddress, f.escrow.interface.encodeFunctionData("deposit", [1, 20n * USD])],
      ]);
      const before = await f.token.balanceOf(f.attackerAddress);

      await f.act(f.escrowAddress, f.escrow.interface.encodeFunctionData("deposit", [1, 20n * USD]));

      const tried = await attempts(f.attacker);
      expect(tried.map((a) => [a.success, a.returnData])).to.deep.equal([
        [false, REENTRANT_CALL],
        [false, REENTRANT_CALL],
      ]);
      expect(await f.token.balanceOf(f.attackerAddress)).to.equal(before - 20n * USD);
      expect((await f.escrow.account(1)).balance).to.equal(120n * USD);
      await expectBooksBalance(f.escrow, f.token, [f.attackerAddress]);
    });

    it("an operator re-entering its claim from the receive hook is paid its revenue once", async function () {
      const f = await networkHelpers.loadFixture(hostileTokenFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const t = BigInt(await networkHelpers.time.latest());
      const scans = encodeScans([
        { vehicleId: 2n, timestamp: t - 10n, sequence: 1n },
        { vehicleId: 2n, timestamp: t - 5n, sequence: 2n },
      ]);
      await f.escrow.submitScans(1, scans, await signScanBatch(f.oracle, f.escrowAddress, chainId, 1, scans));
      await networkHelpers.time.increase(DISPUTE_WINDOW);
      await f.escrow.releaseRevenue([1]);
      const owed = await f.escrow.claimable(f.attackerAddress);
      expect(owed).to.equal(2n * FEES[1]);
      await arm(f, [
        [f.escrowAddress, f.escrow.interface.encodeFunctionData("claimRevenue", [f.attackerAddress])],
        [f.escrowAddress, f.escrow.interface.encodeFunctionData("releaseRevenue", [[1]])],
      ]);
      const before = await f.token.balanceOf(f.attackerAddress);

      await f.act(f.escrowAddress, f.escrow.interface.encodeFunctionData("claimRevenue", [f.attackerAddress]));

      const [claim, release] = await attempts(f.attacker);
      expect([claim.success, claim.returnData]).to.deep.equal([false, REENTRANT_CALL]);
      expect(release.success, "a released batch cannot be released again").to.equal(false);
      expect(f.escrow.interface.parseError(release.returnData)?.name).to.equal("TollEscrowBatchReleased");
      expect(await f.token.balanceOf(f.attackerAddress)).to.equal(before + owed);
      expect(await f.escrow.claimable(f.attackerAddress)).to.equal(0n);
      await expectBooksBalance(f.escrow, f.token, [f.attackerAddress]);
    });

    it("a token that delivers less than asked (fee on transfer) is refused at deposit", async function () {
      const f = await networkHelpers.loadFixture(hostileTokenFixture);
      await f.token.configure(100, false); // 1% skimmed
      const amount = 10n * USD;
      await f.token.connect(f.victim).approve(f.escrowAddress, amount);
      await expect(f.escrow.connect(f.victim).deposit(2, amount))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowTransferMismatch")
        .withArgs(amount, amount - amount / 100n);
      expect((await f.escrow.account(2)).balance).to.equal(100n * USD);
      await expectBooksBalance(f.escrow, f.token, [f.attackerAddress]);
    });

    it("a token whose transfers fail silently (return false) cannot fake a deposit nor swallow a withdrawal", async function () {
      const f = await networkHelpers.loadFixture(hostileTokenFixture);
      await readyWithdrawal(f);
      await f.token.configure(0, true);
      const tokenAddress = await f.token.getAddress();
      await expect(f.escrow.connect(f.victim).deposit(2, USD))
        .to.be.revertedWithCustomError(f.escrow, "SafeERC20FailedOperation")
        .withArgs(tokenAddress);
      await expect(f.act(f.escrowAddress, f.escrow.interface.encodeFunctionData("withdraw", [1, USD, f.attackerAddress])))
        .to.be.revertedWithCustomError(f.escrow, "SafeERC20FailedOperation")
        .withArgs(tokenAddress);
      expect((await f.escrow.account(1)).balance, "the balance was not debited").to.equal(100n * USD);
      expect((await f.escrow.withdrawalRequest(1)).requester, "nor the request consumed").to.equal(f.attackerAddress);
      await expectBooksBalance(f.escrow, f.token, [f.attackerAddress]);
    });
  });

  describe("a hostile contract receiving a passport by safeTransferFrom", function () {
    async function saleFixture() {
      const f = await deploySystem(ethers, networkHelpers);
      const buyer = await ethers.deployContract("HostileReceiver", [], f.accounts.stranger);
      return { ...f, buyer, buyerAddress: await buyer.getAddress() };
    }

    async function buy(
      f: Awaited<ReturnType<typeof saleFixture>>,
      calls: readonly [string, string][],
    ): Promise<{ success: boolean; returnData: string }[]> {
      await f.buyer.connect(f.accounts.stranger).arm(
        calls.map(([target]) => target),
        calls.map(([, data]) => data),
      );
      const registry = f.registry.connect(f.accounts.owner) as VehicleRegistry;
      await registry["safeTransferFrom(address,address,uint256)"](f.accounts.owner.address, f.buyerAddress, f.car);
      return attempts(f.buyer);
    }

    it("cannot use the seller's withdrawal request, nor skip the notice with its own", async function () {
      const f = await networkHelpers.loadFixture(saleFixture);
      const balance = (await f.escrow.account(f.car)).balance;
      const escrowAddress = f.escrowAddress;
      const withdraw = f.escrow.interface.encodeFunctionData("withdraw", [f.car, balance, f.buyerAddress]);
      const tried = await buy(f, [
        [escrowAddress, withdraw],
        [escrowAddress, f.escrow.interface.encodeFunctionData("requestWithdrawal", [f.car])],
        [escrowAddress, withdraw],
      ]);

      expect(tried.map((a) => a.success)).to.deep.equal([false, true, false]);
      expect(f.escrow.interface.parseError(tried[0].returnData)?.name).to.equal("TollEscrowWithdrawalRequestVoid");
      expect(f.escrow.interface.parseError(tried[2].returnData)?.name).to.equal("TollEscrowWithdrawalNotReady");
      expect(await f.registry.ownerOf(f.car)).to.equal(f.buyerAddress);
      expect((await f.escrow.account(f.car)).balance, "the car's balance moved with it, untouched").to.equal(balance);
      expect(await f.token.balanceOf(f.buyerAddress)).to.equal(0n);
    });

    it("cannot move the passport a second time from the seller, nor touch the registry's roles", async function () {
      const f = await networkHelpers.loadFixture(saleFixture);
      const registryAddress = await f.registry.getAddress();
      const tried = await buy(f, [
        [registryAddress, f.registry.interface.encodeFunctionData("transferFrom", [f.accounts.owner.address, f.buyerAddress, f.car])],
        [registryAddress, f.registry.interface.encodeFunctionData("setStatus", [f.car, 1, 0])],
        [registryAddress, f.registry.interface.encodeFunctionData("rotatePlate", [f.car, Wallet.createRandom().address])],
      ]);

      expect(tried.map((a) => a.success)).to.deep.equal([false, false, false]);
      expect(f.registry.interface.parseError(tried[0].returnData)?.name).to.equal("ERC721IncorrectOwner");
      for (const attempt of tried.slice(1)) {
        expect(f.registry.interface.parseError(attempt.returnData)?.name).to.equal("AccessControlUnauthorizedAccount");
      }
      expect(await f.registry.ownerOf(f.car)).to.equal(f.buyerAddress);
    });

    it("the seller's consent to an insurer ends with the sale; the buyer may only grant its own", async function () {
      const f = await networkHelpers.loadFixture(saleFixture);
      const ledgerAddress = await f.ledger.getAddress();
      const expiry = BigInt(await networkHelpers.time.latest()) + 30n * DAY;
      expect(await f.ledger.hasConsent(f.car, f.accounts.insurer.address)).to.equal(true);
      const tried = await buy(f, [
        [ledgerAddress, f.ledger.interface.encodeFunctionData("grantConsent", [f.car, f.accounts.stranger.address, expiry])],
        [ledgerAddress, f.ledger.interface.encodeFunctionData("appendRecords", ["0x"])],
      ]);

      expect(tried.map((a) => a.success)).to.deep.equal([true, false]);
      expect(f.ledger.interface.parseError(tried[1].returnData)?.name).to.equal("AccessControlUnauthorizedAccount");
      expect(await f.ledger.hasConsent(f.car, f.accounts.insurer.address), "the seller's grant").to.equal(false);
      expect(await f.ledger.hasConsent(f.car, f.accounts.stranger.address), "the buyer's own grant").to.equal(true);
    });
  });
});

