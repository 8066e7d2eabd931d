import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { Interface, Signature, Wallet, ZeroAddress, id, toBeHex } from "ethers";
import hre, { network } from "hardhat";

import {
  DisputeStatus,
  SkipReason,
  batchCommitment,
  decodeScans,
  encodeLeaves,
  encodeScans,
  scanBatchDigest,
  settledBatchFromLogs,
  signScanBatch,
} from "../../scripts/lib/scans.js";
import type { Scan, SettledBatch } from "../../scripts/lib/scans.js";
import { VehicleClass, VehicleStatus } from "../../scripts/lib/vehicle.js";
import {
  ADMIN_DELAY,
  DAY,
  DISPUTE_WINDOW,
  FEES,
  GANTRY,
  HOUR,
  MAX_SCAN_AGE,
  OTHER_FEES,
  OTHER_GANTRY,
  USD,
  WITHDRAWAL_NOTICE,
  deployEscrow,
  fund,
  now,
  registerVehicle,
  signedBatch,
  submit,
} from "./escrow.fixture.js";
import type { EscrowFixture } from "./escrow.fixture.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const CAR_FEE = FEES[VehicleClass.Car];
const TRUCK_FEE = FEES[VehicleClass.Truck];

interface FleetFixture extends EscrowFixture {
  /** A car of `owner` with 10 USD. */
  car: bigint;
  /** A truck of `owner` with 50 USD. */
  truck: bigint;
  /** An ambulance of `owner` with no balance. */
  ambulance: bigint;
  /** A car of `owner` never funded. */
  emptyCar: bigint;
}

async function fleetFixture(): Promise<FleetFixture> {
  const f = await deployEscrow(ethers);
  const car = await registerVehicle(f, f.owner, VehicleClass.Car);
  const truck = await registerVehicle(f, f.owner, VehicleClass.Truck);
  const ambulance = await registerVehicle(f, f.owner, VehicleClass.Emergency);
  const emptyCar = await registerVehicle(f, f.owner, VehicleClass.Car);
  await fund(f, car, 10n * USD);
  await fund(f, truck, 50n * USD);
  return { ...f, car, truck, ambulance, emptyCar };
}

function scan(vehicleId: bigint, timestamp: bigint, sequence: bigint): Scan {
  return { vehicleId, timestamp, sequence };
}

async function settled(f: EscrowFixture, gantryId: number, scans: readonly Scan[]): Promise<SettledBatch> {
  const receipt = await submit(f, gantryId, scans);
  return settledBatchFromLogs(f.escrowAddress, receipt.logs);
}

async function balanceOf(f: EscrowFixture, vehicleId: bigint): Promise<bigint> {
  return (await f.escrow.account(vehicleId)).balance;
}

async function arrearsOf(f: EscrowFixture, vehicleId: bigint): Promise<bigint> {
  return (await f.escrow.account(vehicleId)).arrears;
}

/**
 * The accounting identity: the escrow's token balance is exactly the vehicles' balances + the batches' held revenue +
 * the operators' claimable revenue, summed over every vehicle, batch and payee there is.
 */
async function expectBalanced(f: EscrowFixture): Promise<void> {
  const payees = [f.operator.address, f.otherOperator.address];
  let owed = 0n;
  const vehicles = await f.registry.totalVehicles();
  for (let vehicleId = 1n; vehicleId <= vehicles; vehicleId += 1n) owed += await balanceOf(f, vehicleId);
  const batches = await f.escrow.totalBatches();
  for (let batchId = 1n; batchId <= batches; batchId += 1n) owed += (await f.escrow.batch(batchId)).held;
  for (const payee of payees) owed += await f.escrow.claimable(payee);
  expect(await f.token.balanceOf(f.escrowAddress)).to.equal(owed);
}

async function requestAndWait(f: EscrowFixture, vehicleId: bigint, owner: HardhatEthersSigner): Promise<void> {
  await f.escrow.connect(owner).requestWithdrawal(vehicleId);
  await time.increase(WITHDRAWAL_NOTICE);
}

describe("TollEscrow", function () {
  describe("deployment", function () {
    it("stores its parameters and hands the default admin role over with a delay", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      expect(await f.escrow.registry()).to.equal(await f.registry.getAddress());
      expect(await f.escrow.token()).to.equal(await f.token.getAddress());
      expect(await f.escrow.disputeWindow()).to.equal(DISPUTE_WINDOW);
      expect(await f.escrow.withdrawalNotice()).to.equal(WITHDRAWAL_NOTICE);
      expect(await f.escrow.maxScanAge()).to.equal(MAX_SCAN_AGE);
      expect(await f.escrow.defaultAdmin()).to.equal(f.admin.address);
      expect(await f.escrow.defaultAdminDelay()).to.equal(ADMIN_DELAY);
      expect(await f.escrow.totalBatches()).to.equal(0n);
      expect(await f.escrow.MAX_SCANS_PER_BATCH()).to.equal(2048n);
      expect(await f.escrow.SCAN_BATCH_TYPEHASH()).to.equal(id("ScanBatch(uint32 gantryId,bytes scans)"));
    });

    it("supports the ITollEscrow interface id", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const artifact = await hre.artifacts.readArtifact("ITollEscrow");
      let interfaceId = 0n;
      new Interface(artifact.abi).forEachFunction((fn) => {
        interfaceId ^= BigInt(fn.selector);
      });
      expect(await f.escrow.supportsInterface(toBeHex(interfaceId, 4))).to.equal(true);
      expect(await f.escrow.supportsInterface("0xffffffff")).to.equal(false);
    });

    describe("refuses", function () {
      async function deploy(f: EscrowFixture, overrides: Partial<Record<string, string | bigint>>) {
        const args = {
          registry: await f.registry.getAddress(),
          token: await f.token.getAddress(),
          admin: f.admin.address,
          disputeWindow: DISPUTE_WINDOW,
          withdrawalNotice: WITHDRAWAL_NOTICE,
          maxScanAge: MAX_SCAN_AGE,
          ...overrides,
        };
        return ethers.deployContract("TollEscrow", [
          args.registry,
          args.token,
          args.admin,
          args.disputeWindow,
          args.withdrawalNotice,
          args.maxScanAge,
        ]);
      }

      it("a zero or code-less registry or token", async function () {
        const f = await networkHelpers.loadFixture(fleetFixture);
        await expect(deploy(f, { registry: ZeroAddress }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidRegistry")
          .withArgs(ZeroAddress);
        await expect(deploy(f, { registry: f.stranger.address }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidRegistry")
          .withArgs(f.stranger.address);
        await expect(deploy(f, { token: ZeroAddress }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidToken")
          .withArgs(ZeroAddress);
      });

      it("a zero admin", async function () {
        const f = await networkHelpers.loadFixture(fleetFixture);
        await expect(deploy(f, { admin: ZeroAddress }))
          .to.be.revertedWithCustomError(f.escrow, "AccessControlInvalidDefaultAdmin")
          .withArgs(ZeroAddress);
      });

      it("zero and absurd durations", async function () {
        const f = await networkHelpers.loadFixture(fleetFixture);
        await expect(deploy(f, { disputeWindow: 0n }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidDisputeWindow")
          .withArgs(0n);
        await expect(deploy(f, { disputeWindow: 91n * DAY }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidDisputeWindow")
          .withArgs(91n * DAY);
        await expect(deploy(f, { maxScanAge: 0n }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidMaxScanAge")
          .withArgs(0n);
        await expect(deploy(f, { maxScanAge: 31n * DAY, withdrawalNotice: 31n * DAY }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidMaxScanAge")
          .withArgs(31n * DAY);
        await expect(deploy(f, { withdrawalNotice: 0n }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidWithdrawalNotice")
          .withArgs(0n, MAX_SCAN_AGE);
        await expect(deploy(f, { withdrawalNotice: 91n * DAY }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidWithdrawalNotice")
          .withArgs(91n * DAY, MAX_SCAN_AGE);
      });

      it("a withdrawal notice shorter than the maximum scan age", async function () {
        const f = await networkHelpers.loadFixture(fleetFixture);
        await expect(deploy(f, { withdrawalNotice: MAX_SCAN_AGE - 1n }))
          .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidWithdrawalNotice")
          .withArgs(MAX_SCAN_AGE - 1n, MAX_SCAN_AGE);
      });
    });
  });

  describe("TestStablecoin", function () {
    it("has 6 decimals and mints only for MINTER_ROLE", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      expect(await f.token.decimals()).to.equal(6n);
      await expect(f.token.connect(f.stranger).mint(f.stranger.address, 1n))
        .to.be.revertedWithCustomError(f.token, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, await f.token.MINTER_ROLE());
      await f.token.grantRole(await f.token.MINTER_ROLE(), f.stranger.address);
      await expect(f.token.connect(f.stranger).mint(f.stranger.address, 5n)).to.changeTokenBalance(
        ethers,
        f.token,
        f.stranger,
        5n,
      );
    });
  });

  describe("gantries", function () {
    it("registers a gantry with its payee, keys and tariff", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const key = Wallet.createRandom().address;
      await expect(f.escrow.connect(f.tollAdmin).registerGantry(99, f.operator.address, [key], OTHER_FEES))
        .to.emit(f.escrow, "GantryRegistered")
        .withArgs(99, f.operator.address)
        .and.to.emit(f.escrow, "OracleKeySet")
        .withArgs(99, key, true)
        .and.to.emit(f.escrow, "TariffScheduled")
        .withArgs(99, OTHER_FEES, anyValue);
      const info = await f.escrow.gantry(99);
      expect(info.payee).to.equal(f.operator.address);
      expect(info.retiredAt).to.equal(0n);
      expect(info.currentFees).to.deep.equal(OTHER_FEES);
      expect(await f.escrow.isOracleKey(99, key)).to.equal(true);
    });

    it("refuses registrations from anyone without TOLL_ADMIN_ROLE", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await expect(f.escrow.connect(f.stranger).registerGantry(99, f.operator.address, [f.oracle.address], FEES))
        .to.be.revertedWithCustomError(f.escrow, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, await f.escrow.TOLL_ADMIN_ROLE());
    });

    it("refuses a taken id, a zero payee, no keys, a zero key and a fee above MAX_FEE", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const admin = f.escrow.connect(f.tollAdmin);
      await expect(admin.registerGantry(GANTRY, f.operator.address, [f.oracle.address], FEES))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowGantryExists")
        .withArgs(GANTRY);
      await expect(admin.registerGantry(99, ZeroAddress, [f.oracle.address], FEES))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidPayee")
        .withArgs(ZeroAddress);
      await expect(admin.registerGantry(99, f.operator.address, [], FEES))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNoOracleKeys")
        .withArgs(99);
      await expect(admin.registerGantry(99, f.operator.address, [ZeroAddress], FEES))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidOracleKey")
        .withArgs(ZeroAddress);
      const maxFee = await f.escrow.MAX_FEE();
      await expect(admin.registerGantry(99, f.operator.address, [f.oracle.address], [1n, 1n, maxFee + 1n, 1n, 1n]))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowFeeTooHigh")
        .withArgs(2n, maxFee + 1n);
    });

    it("rotates an oracle key: the old key is refused, the new one accepted", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const fresh = new Wallet(id("rotated oracle"));
      await expect(f.escrow.connect(f.tollAdmin).rotateOracleKey(GANTRY, f.oracle.address, fresh.address))
        .to.emit(f.escrow, "OracleKeySet")
        .withArgs(GANTRY, f.oracle.address, false)
        .and.to.emit(f.escrow, "OracleKeySet")
        .withArgs(GANTRY, fresh.address, true);
      const t = await now(f);
      const old = await signedBatch(f, GANTRY, [scan(f.car, t, 1n)], f.oracle);
      await expect(f.escrow.submitScans(GANTRY, old.scansHex, old.signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidSignature")
        .withArgs(GANTRY, f.oracle.address);
      await submit(f, GANTRY, [scan(f.car, t, 1n)], fresh);
      expect(await f.escrow.isScanSettled(GANTRY, 1n)).to.equal(true);
    });

    it("allows several keys per gantry and refuses a change that changes nothing", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const second = new Wallet(id("second oracle"));
      await f.escrow.connect(f.tollAdmin).setOracleKey(GANTRY, second.address, true);
      const t = await now(f);
      await submit(f, GANTRY, [scan(f.car, t, 1n)], f.oracle);
      await submit(f, GANTRY, [scan(f.car, t, 2n)], second);
      await expect(f.escrow.connect(f.tollAdmin).setOracleKey(GANTRY, second.address, true))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowOracleKeyUnchanged")
        .withArgs(GANTRY, second.address, true);
      await expect(f.escrow.connect(f.tollAdmin).setOracleKey(1234, second.address, true))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowUnknownGantry")
        .withArgs(1234);
    });

    it("retires a gantry once; a retired gantry takes no tariff change", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await expect(f.escrow.connect(f.tollAdmin).retireGantry(GANTRY)).to.emit(f.escrow, "GantryRetired");
      const retiredAt = (await f.escrow.gantry(GANTRY)).retiredAt;
      expect(retiredAt).to.equal(await now(f));
      await expect(f.escrow.connect(f.tollAdmin).retireGantry(GANTRY))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowGantryRetired")
        .withArgs(GANTRY, retiredAt);
      await expect(f.escrow.connect(f.tollAdmin).scheduleTariff(GANTRY, FEES, (await now(f)) + DAY))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowGantryRetired")
        .withArgs(GANTRY, retiredAt);
    });
  });

  describe("tariffs", function () {
    it("prices each scan by the tariff in force at its own timestamp, at the boundary", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const boundary = (await now(f)) + HOUR;
      await expect(f.escrow.connect(f.tollAdmin).scheduleTariff(GANTRY, OTHER_FEES, boundary))
        .to.emit(f.escrow, "TariffScheduled")
        .withArgs(GANTRY, OTHER_FEES, boundary);
      await time.increaseTo(boundary + 10n);
      const batch = await settled(f, GANTRY, [
        scan(f.car, boundary - 1n, 1n),
        scan(f.car, boundary, 2n),
        scan(f.truck, boundary + 5n, 3n),
      ]);
      expect(batch.charged.map((c) => c.fee)).to.deep.equal([
        CAR_FEE,
        OTHER_FEES[VehicleClass.Car],
        OTHER_FEES[VehicleClass.Truck],
      ]);
      expect(await f.escrow.feeAt(GANTRY, VehicleClass.Car, boundary - 1n)).to.equal(CAR_FEE);
      expect(await f.escrow.feeAt(GANTRY, VehicleClass.Car, boundary)).to.equal(OTHER_FEES[VehicleClass.Car]);
    });

    it("lets emergency vehicles ride free: charged, at zero, touching no balance", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const batch = await settled(f, GANTRY, [scan(f.ambulance, await now(f), 1n)]);
      expect(batch.charged.map((c) => [c.vehicleId, c.sequence, c.fee])).to.deep.equal([[f.ambulance, 1n, 0n]]);
      expect(await f.escrow.account(f.ambulance)).to.deep.equal([0n, 0n]);
      expect(await f.escrow.feeAt(GANTRY, VehicleClass.Emergency, await now(f))).to.equal(0n);
    });

    it("is never retroactive: a change must take effect after the current block", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      await time.setNextBlockTimestamp(t + 10n);
      await expect(f.escrow.connect(f.tollAdmin).scheduleTariff(GANTRY, OTHER_FEES, t + 10n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidTariffTime")
        .withArgs(t + 10n, t + 10n);
    });

    it("replaces a change that has not taken effect yet", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      await f.escrow.connect(f.tollAdmin).scheduleTariff(GANTRY, OTHER_FEES, t + HOUR);
      await f.escrow.connect(f.tollAdmin).scheduleTariff(GANTRY, [7n, 7n, 7n, 7n, 7n], t + 2n * HOUR);
      const info = await f.escrow.gantry(GANTRY);
      expect(info.currentFees).to.deep.equal(FEES);
      expect(info.nextFees).to.deep.equal([7n, 7n, 7n, 7n, 7n]);
      expect(info.nextFeesFrom).to.equal(t + 2n * HOUR);
    });

    it("waits until no late scan can predate a change in force before scheduling the next", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const boundary = (await now(f)) + HOUR;
      await f.escrow.connect(f.tollAdmin).scheduleTariff(GANTRY, OTHER_FEES, boundary);
      await time.increaseTo(boundary + 1n);
      await expect(f.escrow.connect(f.tollAdmin).scheduleTariff(GANTRY, FEES, boundary + DAY))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowTariffChangeTooSoon")
        .withArgs(GANTRY, boundary + MAX_SCAN_AGE);
      // A late scan from before the change is still priced by the old tariff meanwhile.
      const late = await settled(f, GANTRY, [scan(f.car, boundary - 1n, 1n)]);
      expect(late.charged[0].fee).to.equal(CAR_FEE);

      await time.increaseTo(boundary + MAX_SCAN_AGE);
      const next = (await now(f)) + DAY;
      await f.escrow.connect(f.tollAdmin).scheduleTariff(GANTRY, FEES, next);
      const info = await f.escrow.gantry(GANTRY);
      expect(info.currentFees).to.deep.equal(OTHER_FEES);
      expect(info.nextFees).to.deep.equal(FEES);
      expect(info.nextFeesFrom).to.equal(next);
    });
  });

  describe("submitScans: who may report", function () {
    it("accepts a batch signed by the gantry's oracle key from any submitter", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const scans = [scan(f.car, await now(f), 1n)];
      const { scansHex, signature } = await signedBatch(f, GANTRY, scans);
      expect(await f.escrow.scanBatchDigest(GANTRY, scansHex)).to.equal(
        scanBatchDigest(f.escrowAddress, f.chainId, GANTRY, scansHex),
      );
      await expect(f.escrow.connect(f.stranger).submitScans(GANTRY, scansHex, signature)).to.emit(
        f.escrow,
        "BatchSettled",
      );
    });

    it("refuses a forged signature", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const forger = new Wallet(id("forger"));
      const { scansHex, signature } = await signedBatch(f, GANTRY, [scan(f.car, await now(f), 1n)], forger);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidSignature")
        .withArgs(GANTRY, forger.address);
    });

    it("refuses a signature over other scans", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      const { signature } = await signedBatch(f, GANTRY, [scan(f.car, t, 1n)]);
      const tampered = encodeScans([scan(f.truck, t, 1n)]);
      await expect(f.escrow.submitScans(GANTRY, tampered, signature)).to.be.revertedWithCustomError(
        f.escrow,
        "TollEscrowInvalidSignature",
      );
    });

    it("refuses a signature made for another chain", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const scansHex = encodeScans([scan(f.car, await now(f), 1n)]);
      const signature = await signScanBatch(f.oracle, f.escrowAddress, f.chainId + 1n, GANTRY, scansHex);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidSignature")
        .withArgs(GANTRY, anyValue);
    });

    it("refuses a signature made for another escrow", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const other = await ethers.deployContract("TollEscrow", [
        await f.registry.getAddress(),
        await f.token.getAddress(),
        f.admin.address,
        DISPUTE_WINDOW,
        WITHDRAWAL_NOTICE,
        MAX_SCAN_AGE,
      ]);
      const scansHex = encodeScans([scan(f.car, await now(f), 1n)]);
      const signature = await signScanBatch(f.oracle, await other.getAddress(), f.chainId, GANTRY, scansHex);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidSignature")
        .withArgs(GANTRY, anyValue);
    });

    it("refuses the key of another gantry", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const { scansHex, signature } = await signedBatch(f, GANTRY, [scan(f.car, await now(f), 1n)], f.otherOracle);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidSignature")
        .withArgs(GANTRY, f.otherOracle.address);
    });

    it("refuses malformed and malleable (high-s) signatures", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const { scansHex, signature } = await signedBatch(f, GANTRY, [scan(f.car, await now(f), 1n)]);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature.slice(0, 130)))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidSignature")
        .withArgs(GANTRY, ZeroAddress);
      const sig = Signature.from(signature);
      const n = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
      const highS = toBeHex(n - BigInt(sig.s), 32);
      const malleable = sig.r + highS.slice(2) + (sig.v === 27 ? "1c" : "1b");
      await expect(f.escrow.submitScans(GANTRY, scansHex, malleable)).to.be.revertedWithCustomError(
        f.escrow,
        "TollEscrowInvalidSignature",
      );
    });

    it("refuses an unknown gantry and batches of the wrong size", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      const unknown = await signedBatch(f, 1234, [scan(f.car, t, 1n)]);
      await expect(f.escrow.submitScans(1234, unknown.scansHex, unknown.signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowUnknownGantry")
        .withArgs(1234);
      const signature = (await signedBatch(f, GANTRY, [scan(f.car, t, 1n)])).signature;
      await expect(f.escrow.submitScans(GANTRY, "0x", signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidBatchLength")
        .withArgs(0n);
      await expect(f.escrow.submitScans(GANTRY, "0x" + "00".repeat(17), signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidBatchLength")
        .withArgs(17n);
      const overMax = (await f.escrow.MAX_SCANS_PER_BATCH()) + 1n;
      const tooMany = Array.from({ length: Number(overMax) }, (_, i) => scan(f.car, t, BigInt(i)));
      const big = await signedBatch(f, GANTRY, tooMany);
      await expect(f.escrow.submitScans(GANTRY, big.scansHex, big.signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidBatchLength")
        .withArgs(overMax * 16n);
    });
  });

  describe("submitScans: settlement", function () {
    it("debits each vehicle its class's fee, holds the revenue and commits to the leaves", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      const scans = [scan(f.car, t - 60n, 10n), scan(f.truck, t - 30n, 11n)];
      const receipt = await submit(f, GANTRY, scans);
      const batch = settledBatchFromLogs(f.escrowAddress, receipt.logs);
      expect(batch.batchId).to.equal(1n);
      expect(batch.charged).to.deep.equal([
        { ...scans[0], fee: CAR_FEE },
        { ...scans[1], fee: TRUCK_FEE },
      ]);
      expect(batch.commitment).to.equal(batchCommitment(batch.charged));
      expect(batch.held).to.equal(CAR_FEE + TRUCK_FEE);
      expect(batch.skipped).to.equal(0n);

      expect(await balanceOf(f, f.car)).to.equal(10n * USD - CAR_FEE);
      expect(await balanceOf(f, f.truck)).to.equal(50n * USD - TRUCK_FEE);
      const record = await f.escrow.batch(1n);
      expect(record.commitment).to.equal(batch.commitment);
      expect(record.gantryId).to.equal(BigInt(GANTRY));
      expect(record.held).to.equal(CAR_FEE + TRUCK_FEE);
      expect(record.settledAt).to.equal(await now(f));
      expect(record.released).to.equal(false);
      expect(await f.escrow.isScanSettled(GANTRY, 10n)).to.equal(true);
      expect(await f.escrow.isScanSettled(GANTRY, 12n)).to.equal(false);
      await expectBalanced(f);
    });

    it("charges nothing twice when a batch is sent again, and does not revert", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const scans = [scan(f.car, await now(f), 1n), scan(f.truck, await now(f), 2n)];
      await submit(f, GANTRY, scans);
      const balances = [await balanceOf(f, f.car), await balanceOf(f, f.truck)];
      const { scansHex, signature } = await signedBatch(f, GANTRY, scans);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.emit(f.escrow, "ScanSkipped")
        .withArgs(GANTRY, 1n, f.car, SkipReason.AlreadySettled)
        .and.to.emit(f.escrow, "ScanSkipped")
        .withArgs(GANTRY, 2n, f.truck, SkipReason.AlreadySettled)
        .and.to.emit(f.escrow, "BatchSettled")
        .withArgs(0n, GANTRY, ethers.ZeroHash, 2n, 0n, "0x");
      expect([await balanceOf(f, f.car), await balanceOf(f, f.truck)]).to.deep.equal(balances);
      expect(await f.escrow.totalBatches()).to.equal(1n);
    });

    it("settles only the new scans of a partly replayed batch", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      await submit(f, GANTRY, [scan(f.car, t, 1n), scan(f.car, t, 2n)]);
      const batch = await settled(f, GANTRY, [scan(f.car, t, 2n), scan(f.car, t, 3n), scan(f.car, t, 1n)]);
      expect(batch.charged.map((c) => c.sequence)).to.deep.equal([3n]);
      expect(batch.skipped).to.equal(2n);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD - 3n * CAR_FEE);
    });

    it("charges a sequence repeated inside one batch once", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      const batch = await settled(f, GANTRY, [scan(f.car, t, 5n), scan(f.truck, t, 5n)]);
      expect(batch.charged.map((c) => c.vehicleId)).to.deep.equal([f.car]);
      expect(await balanceOf(f, f.truck)).to.equal(50n * USD);
    });

    it("tolerates gaps and batches out of order, across bitmap words", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      await submit(f, GANTRY, [scan(f.truck, t, 1_000_000n), scan(f.truck, t, 3n)]);
      await submit(f, GANTRY, [
        scan(f.truck, t, 257n),
        scan(f.truck, t, 2n),
        scan(f.truck, t, 256n),
        scan(f.truck, t, 255n),
      ]);
      for (const sequence of [2n, 3n, 255n, 256n, 257n, 1_000_000n]) {
        expect(await f.escrow.isScanSettled(GANTRY, sequence)).to.equal(true);
      }
      for (const sequence of [0n, 1n, 4n, 258n, 999_999n]) {
        expect(await f.escrow.isScanSettled(GANTRY, sequence)).to.equal(false);
      }
      expect(await balanceOf(f, f.truck)).to.equal(50n * USD - 6n * TRUCK_FEE);
    });

    it("keeps sequences of different gantries apart", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      await submit(f, GANTRY, [scan(f.car, t, 1n)]);
      await submit(f, OTHER_GANTRY, [scan(f.car, t, 1n)], f.otherOracle);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD - CAR_FEE - OTHER_FEES[VehicleClass.Car]);
    });

    it("skips an unknown vehicle for good and settles the rest of the batch", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      const { scansHex, signature } = await signedBatch(f, GANTRY, [scan(999n, t, 1n), scan(f.car, t, 2n)]);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.emit(f.escrow, "ScanSkipped")
        .withArgs(GANTRY, 1n, 999n, SkipReason.UnknownVehicle);
      expect(await f.escrow.isScanSettled(GANTRY, 1n)).to.equal(true);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD - CAR_FEE);
    });

    it("skips a scrapped vehicle for good", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await f.registry.setStatus(f.car, VehicleStatus.Scrapped, 7);
      const { scansHex, signature } = await signedBatch(f, GANTRY, [scan(f.car, await now(f), 1n)]);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.emit(f.escrow, "ScanSkipped")
        .withArgs(GANTRY, 1n, f.car, SkipReason.ScrappedVehicle);
      expect(await f.escrow.isScanSettled(GANTRY, 1n)).to.equal(true);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD);
    });

    it("skips a future scan without settling it, so it lands when sent again later", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const future = (await now(f)) + 600n;
      const { scansHex, signature } = await signedBatch(f, GANTRY, [scan(f.car, future, 1n)]);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.emit(f.escrow, "ScanSkipped")
        .withArgs(GANTRY, 1n, f.car, SkipReason.FutureTimestamp);
      expect(await f.escrow.isScanSettled(GANTRY, 1n)).to.equal(false);
      await time.increaseTo(future);
      await f.escrow.submitScans(GANTRY, scansHex, signature);
      expect(await f.escrow.isScanSettled(GANTRY, 1n)).to.equal(true);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD - CAR_FEE);
    });

    it("skips a scan older than the maximum age for good", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      await time.setNextBlockTimestamp(t + 10n);
      const stale = scan(f.car, t + 10n - MAX_SCAN_AGE - 1n, 1n);
      const oldest = scan(f.car, t + 10n - MAX_SCAN_AGE, 2n);
      const { scansHex, signature } = await signedBatch(f, GANTRY, [stale, oldest]);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.emit(f.escrow, "ScanSkipped")
        .withArgs(GANTRY, 1n, f.car, SkipReason.StaleTimestamp);
      expect(await f.escrow.isScanSettled(GANTRY, 1n)).to.equal(true);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD - CAR_FEE);
    });

    it("settles a retired gantry's scans from before its retirement and skips later ones", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await f.escrow.connect(f.tollAdmin).retireGantry(GANTRY);
      const retiredAt = await now(f);
      await time.increase(60n);
      const { scansHex, signature } = await signedBatch(f, GANTRY, [
        scan(f.car, retiredAt - 1n, 1n),
        scan(f.car, retiredAt, 2n),
      ]);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.emit(f.escrow, "ScanSkipped")
        .withArgs(GANTRY, 2n, f.car, SkipReason.RetiredGantry);
      expect(await f.escrow.isScanSettled(GANTRY, 2n)).to.equal(true);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD - CAR_FEE);
    });

    it("reports a stolen vehicle's sighting and still charges it", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await f.registry.setStatus(f.car, VehicleStatus.Stolen, 3);
      const t = await now(f);
      const { scansHex, signature } = await signedBatch(f, GANTRY, [scan(f.car, t - 5n, 1n)]);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.emit(f.escrow, "StolenVehicleSighted")
        .withArgs(f.car, GANTRY, t - 5n);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD - CAR_FEE);
    });

    it("charges a suspended vehicle like any other", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await f.registry.setStatus(f.car, VehicleStatus.Suspended, 4);
      await submit(f, GANTRY, [scan(f.car, await now(f), 1n)]);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD - CAR_FEE);
    });
  });

  describe("arrears", function () {
    it("turns what the balance cannot cover into arrears owed to the batch", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      // 10 USD covers five car passages (2 USD each); the sixth and seventh run into arrears.
      const scans = Array.from({ length: 7 }, (_, i) => scan(f.car, t, BigInt(i)));
      const { scansHex, signature } = await signedBatch(f, GANTRY, scans);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.emit(f.escrow, "ArrearsIncurred")
        .withArgs(f.car, 1n, 5n, 0n, CAR_FEE)
        .and.to.emit(f.escrow, "ArrearsIncurred")
        .withArgs(f.car, 1n, 6n, 0n, CAR_FEE);
      expect(await f.escrow.account(f.car)).to.deep.equal([0n, 2n * CAR_FEE]);
      expect(await f.escrow.debtOf(f.car, 1n)).to.equal(2n * CAR_FEE);
      expect((await f.escrow.batch(1n)).held).to.equal(10n * USD);
      await expectBalanced(f);
    });

    it("takes a partial payment from a short balance", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      // Five passages empty the 10 USD; a 1 USD top-up then covers half of the next one.
      await submit(f, GANTRY, Array.from({ length: 5 }, (_, i) => scan(f.car, t, BigInt(i))));
      await fund(f, f.car, USD);
      const { scansHex, signature } = await signedBatch(f, GANTRY, [scan(f.car, t, 9n)]);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.emit(f.escrow, "ArrearsIncurred")
        .withArgs(f.car, 2n, 9n, USD, CAR_FEE - USD);
      expect(await f.escrow.account(f.car)).to.deep.equal([0n, CAR_FEE - USD]);
      expect((await f.escrow.batch(2n)).held).to.equal(USD);
    });

    it("settles arrears first from a later deposit, into the batches that charged them", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const t = await now(f);
      await submit(f, GANTRY, [scan(f.emptyCar, t, 1n)]);
      await submit(f, OTHER_GANTRY, [scan(f.emptyCar, t, 1n)], f.otherOracle);
      const owed = CAR_FEE + OTHER_FEES[VehicleClass.Car];
      expect(await arrearsOf(f, f.emptyCar)).to.equal(owed);

      await f.token.mint(f.payer.address, 10n * USD);
      await f.token.connect(f.payer).approve(f.escrowAddress, 10n * USD);
      await expect(f.escrow.connect(f.payer).deposit(f.emptyCar, 10n * USD))
        .to.emit(f.escrow, "ArrearsSettled")
        .withArgs(f.emptyCar, 2n, OTHER_FEES[VehicleClass.Car])
        .and.to.emit(f.escrow, "ArrearsSettled")
        .withArgs(f.emptyCar, 1n, CAR_FEE)
        .and.to.emit(f.escrow, "Deposited")
        .withArgs(f.emptyCar, f.payer.address, 10n * USD, owed);
      expect(await f.escrow.account(f.emptyCar)).to.deep.equal([10n * USD - owed, 0n]);
      expect((await f.escrow.batch(1n)).held).to.equal(CAR_FEE);
      expect((await f.escrow.batch(2n)).held).to.equal(OTHER_FEES[VehicleClass.Car]);
      await expectBalanced(f);
    });

    it("keeps the rest of the arrears when a deposit does not cover them", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await submit(f, GANTRY, [scan(f.emptyCar, await now(f), 1n)]);
      await fund(f, f.emptyCar, USD / 2n);
      expect(await f.escrow.account(f.emptyCar)).to.deep.equal([0n, CAR_FEE - USD / 2n]);
      expect((await f.escrow.batch(1n)).held).to.equal(USD / 2n);
    });

    it("pays arrears owed to a released batch straight to its operator", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await submit(f, GANTRY, [scan(f.emptyCar, await now(f), 1n)]);
      await time.increase(DISPUTE_WINDOW);
      await f.escrow.releaseRevenue([1n]);
      await fund(f, f.emptyCar, CAR_FEE);
      expect(await f.escrow.claimable(f.operator.address)).to.equal(CAR_FEE);
      await expectBalanced(f);
    });

    it("settles at most MAX_DEBTS_PER_SETTLEMENT debts per deposit; settleArrears does the rest", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const cap = await f.escrow.MAX_DEBTS_PER_SETTLEMENT();
      const t = await now(f);
      for (let i = 0n; i <= cap; i += 1n) await submit(f, GANTRY, [scan(f.emptyCar, t, i)]);
      const owed = (cap + 1n) * CAR_FEE;
      expect(await arrearsOf(f, f.emptyCar)).to.equal(owed);
      await fund(f, f.emptyCar, owed + USD);
      expect(await f.escrow.account(f.emptyCar)).to.deep.equal([CAR_FEE + USD, CAR_FEE]);
      // The balance cannot leave while arrears remain, but anyone can finish the settlement.
      await expect(f.escrow.connect(f.stranger).settleArrears(f.emptyCar))
        .to.emit(f.escrow, "ArrearsSettled")
        .withArgs(f.emptyCar, 1n, CAR_FEE);
      expect(await f.escrow.account(f.emptyCar)).to.deep.equal([USD, 0n]);
      await expectBalanced(f);
    });
  });

  describe("deposits", function () {
    it("lets anyone top up any vehicle", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await f.token.mint(f.stranger.address, 3n * USD);
      await f.token.connect(f.stranger).approve(f.escrowAddress, 3n * USD);
      const tx = f.escrow.connect(f.stranger).deposit(f.car, 3n * USD);
      await expect(tx).to.emit(f.escrow, "Deposited").withArgs(f.car, f.stranger.address, 3n * USD, 0n);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.stranger, f.escrow], [-3n * USD, 3n * USD]);
      expect(await balanceOf(f, f.car)).to.equal(13n * USD);
    });

    it("takes a permit and the deposit in one transaction", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await f.token.mint(f.payer.address, 5n * USD);
      const deadline = (await now(f)) + HOUR;
      const signature = await f.payer.signTypedData(
        {
          name: "platechain Test USD",
          version: "1",
          chainId: f.chainId,
          verifyingContract: await f.token.getAddress(),
        },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: f.payer.address, spender: f.escrowAddress, value: 5n * USD, nonce: 0n, deadline },
      );
      const { v, r, s } = Signature.from(signature);
      await expect(f.escrow.connect(f.payer).depositWithPermit(f.car, 5n * USD, deadline, v, r, s))
        .to.emit(f.escrow, "Deposited")
        .withArgs(f.car, f.payer.address, 5n * USD, 0n);
      expect(await balanceOf(f, f.car)).to.equal(15n * USD);

      // The same permit, already used (as by a front-runner), does not stop a deposit the allowance covers.
      await f.token.mint(f.payer.address, USD);
      await f.token.connect(f.payer).approve(f.escrowAddress, USD);
      await f.escrow.connect(f.payer).depositWithPermit(f.car, USD, deadline, v, r, s);
      expect(await balanceOf(f, f.car)).to.equal(16n * USD);
    });

    it("refuses nothing and unknown vehicles", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await expect(f.escrow.deposit(f.car, 0n)).to.be.revertedWithCustomError(f.escrow, "TollEscrowZeroAmount");
      await expect(f.escrow.deposit(999n, USD))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowUnknownVehicle")
        .withArgs(999n);
    });
  });

  describe("withdrawals", function () {
    it("pays the owner out after the notice, once per request", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const requestedAt = (await now(f)) + 1n;
      await time.setNextBlockTimestamp(requestedAt);
      await expect(f.escrow.connect(f.owner).requestWithdrawal(f.car))
        .to.emit(f.escrow, "WithdrawalRequested")
        .withArgs(f.car, f.owner.address, requestedAt + WITHDRAWAL_NOTICE, requestedAt + WITHDRAWAL_NOTICE + 3n * DAY);
      expect(await f.escrow.withdrawalRequest(f.car)).to.deep.equal([f.owner.address, requestedAt]);

      await time.setNextBlockTimestamp(requestedAt + WITHDRAWAL_NOTICE - 1n);
      await expect(f.escrow.connect(f.owner).withdraw(f.car, USD, f.owner.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowWithdrawalNotReady")
        .withArgs(f.car, requestedAt + WITHDRAWAL_NOTICE);

      await time.setNextBlockTimestamp(requestedAt + WITHDRAWAL_NOTICE);
      const tx = f.escrow.connect(f.owner).withdraw(f.car, 4n * USD, f.stranger.address);
      await expect(tx).to.emit(f.escrow, "Withdrawn").withArgs(f.car, f.owner.address, f.stranger.address, 4n * USD);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.escrow, f.stranger], [-4n * USD, 4n * USD]);
      expect(await balanceOf(f, f.car)).to.equal(6n * USD);
      await expect(f.escrow.connect(f.owner).withdraw(f.car, USD, f.owner.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNoWithdrawalRequest")
        .withArgs(f.car);
    });

    it("lets scans made before the request land during the notice", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      const before = await now(f);
      await f.escrow.connect(f.owner).requestWithdrawal(f.car);
      await time.increase(DAY);
      await submit(f, GANTRY, [scan(f.car, before, 1n)]);
      await time.increase(WITHDRAWAL_NOTICE - DAY);
      await f.escrow.connect(f.owner).withdraw(f.car, ethers.MaxUint256, f.owner.address);
      expect(await balanceOf(f, f.car)).to.equal(0n);
      expect((await f.escrow.batch(1n)).held).to.equal(CAR_FEE);
    });

    it("withdraws the whole balance with type(uint256).max", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await requestAndWait(f, f.car, f.owner);
      await expect(f.escrow.connect(f.owner).withdraw(f.car, ethers.MaxUint256, f.owner.address))
        .to.emit(f.escrow, "Withdrawn")
        .withArgs(f.car, f.owner.address, f.owner.address, 10n * USD);
    });

    it("lets only the owner request, and refuses expired requests", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await expect(f.escrow.connect(f.stranger).requestWithdrawal(f.car))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNotVehicleOwner")
        .withArgs(f.car, f.stranger.address);
      await expect(f.escrow.connect(f.owner).requestWithdrawal(999n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowUnknownVehicle")
        .withArgs(999n);
      await f.escrow.connect(f.owner).requestWithdrawal(f.car);
      const requestedAt = await now(f);
      const expiresAt = requestedAt + WITHDRAWAL_NOTICE + (await f.escrow.WITHDRAWAL_WINDOW());
      await time.setNextBlockTimestamp(expiresAt + 1n);
      await expect(f.escrow.connect(f.owner).withdraw(f.car, USD, f.owner.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowWithdrawalExpired")
        .withArgs(f.car, expiresAt);
    });

    it("refuses an amount above the balance, zero, a zero recipient, and outstanding arrears", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await requestAndWait(f, f.car, f.owner);
      const withdraw = f.escrow.connect(f.owner);
      await expect(withdraw.withdraw(f.car, 11n * USD, f.owner.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInsufficientBalance")
        .withArgs(f.car, 10n * USD, 11n * USD);
      await expect(withdraw.withdraw(f.car, 0n, f.owner.address)).to.be.revertedWithCustomError(
        f.escrow,
        "TollEscrowZeroAmount",
      );
      await expect(withdraw.withdraw(f.car, USD, ZeroAddress))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidRecipient")
        .withArgs(ZeroAddress);

      await submit(f, GANTRY, [scan(f.emptyCar, await now(f), 1n)]);
      await requestAndWait(f, f.emptyCar, f.owner);
      await expect(withdraw.withdraw(f.emptyCar, ethers.MaxUint256, f.owner.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowArrearsOutstanding")
        .withArgs(f.emptyCar, CAR_FEE);
    });

    it("cancels a pending request", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await f.escrow.connect(f.owner).requestWithdrawal(f.car);
      await expect(f.escrow.connect(f.stranger).cancelWithdrawal(f.car))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNotVehicleOwner")
        .withArgs(f.car, f.stranger.address);
      await expect(f.escrow.connect(f.owner).cancelWithdrawal(f.car))
        .to.emit(f.escrow, "WithdrawalCancelled")
        .withArgs(f.car, f.owner.address);
      await time.increase(WITHDRAWAL_NOTICE);
      await expect(f.escrow.connect(f.owner).withdraw(f.car, USD, f.owner.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNoWithdrawalRequest")
        .withArgs(f.car);
    });
  });

  describe("sale of the vehicle", function () {
    async function soldFixture() {
      const f = await fleetFixture();
      await f.escrow.connect(f.owner).requestWithdrawal(f.car);
      await f.registry.connect(f.owner).transferFrom(f.owner.address, f.buyer.address, f.car);
      return f;
    }

    it("voids the seller's pending request: neither seller nor buyer can use it", async function () {
      const f = await networkHelpers.loadFixture(soldFixture);
      await time.increase(WITHDRAWAL_NOTICE);
      await expect(f.escrow.connect(f.owner).withdraw(f.car, USD, f.owner.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNotVehicleOwner")
        .withArgs(f.car, f.owner.address);
      await expect(f.escrow.connect(f.buyer).withdraw(f.car, USD, f.buyer.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowWithdrawalRequestVoid")
        .withArgs(f.car, f.owner.address);
    });

    it("keeps the balance with the vehicle: it pays the buyer's tolls, the buyer withdraws it", async function () {
      const f = await networkHelpers.loadFixture(soldFixture);
      await submit(f, GANTRY, [scan(f.car, await now(f), 1n)]);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD - CAR_FEE);
      await f.escrow.connect(f.buyer).requestWithdrawal(f.car);
      await time.increase(WITHDRAWAL_NOTICE);
      await expect(f.escrow.connect(f.buyer).withdraw(f.car, ethers.MaxUint256, f.buyer.address)).to.changeTokenBalance(
        ethers,
        f.token,
        f.buyer,
        10n * USD - CAR_FEE,
      );
    });

    it("lets a seller who withdrew in time keep the money", async function () {
      const f = await networkHelpers.loadFixture(fleetFixture);
      await requestAndWait(f, f.car, f.owner);
      await f.escrow.connect(f.owner).withdraw(f.car, ethers.MaxUint256, f.owner.address);
      await f.registry.connect(f.owner).transferFrom(f.owner.address, f.buyer.address, f.car);
      expect(await f.token.balanceOf(f.owner.address)).to.equal(10n * USD);
      expect(await balanceOf(f, f.car)).to.equal(0n);
    });

    it("lets the new owner dispute the vehicle's charges", async function () {
      const f = await networkHelpers.loadFixture(soldFixture);
      const batch = await settled(f, GANTRY, [scan(f.car, await now(f), 1n)]);
      await expect(f.escrow.connect(f.owner).openDispute(batch.batchId, batch.leaves, 0n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNotVehicleOwner")
        .withArgs(f.car, f.owner.address);
      await expect(f.escrow.connect(f.buyer).openDispute(batch.batchId, batch.leaves, 0n))
        .to.emit(f.escrow, "DisputeOpened")
        .withArgs(batch.batchId, 0n, f.car, f.buyer.address, CAR_FEE);
    });
  });

  describe("disputes", function () {
    async function chargedFixture() {
      const f = await fleetFixture();
      const t = await now(f);
      const receipt = await submit(f, GANTRY, [
        scan(f.truck, t, 1n),
        scan(f.car, t, 2n),
        scan(f.ambulance, t, 3n),
        scan(f.emptyCar, t, 4n),
      ]);
      return { ...f, batch: settledBatchFromLogs(f.escrowAddress, receipt.logs) };
    }

    it("refunds an upheld charge to the vehicle's balance out of the batch's held revenue", async function () {
      const f = await networkHelpers.loadFixture(chargedFixture);
      const { batchId, leaves } = f.batch;
      await expect(f.escrow.connect(f.owner).openDispute(batchId, leaves, 1n))
        .to.emit(f.escrow, "DisputeOpened")
        .withArgs(batchId, 1n, f.car, f.owner.address, CAR_FEE);
      expect(await f.escrow.dispute(batchId, 1n)).to.deep.equal([f.car, CAR_FEE, BigInt(DisputeStatus.Open)]);
      expect((await f.escrow.batch(batchId)).openDisputes).to.equal(1n);

      await expect(f.escrow.connect(f.arbiter).resolveDispute(batchId, 1n, true))
        .to.emit(f.escrow, "DisputeResolved")
        .withArgs(batchId, 1n, f.car, true, 0n, CAR_FEE);
      expect(await balanceOf(f, f.car)).to.equal(10n * USD);
      expect((await f.escrow.batch(batchId)).held).to.equal(TRUCK_FEE);
      expect((await f.escrow.dispute(batchId, 1n)).status).to.equal(BigInt(DisputeStatus.Upheld));
      await expectBalanced(f);
    });

    it("forgives the arrears an upheld charge left instead of refunding money never paid", async function () {
      const f = await networkHelpers.loadFixture(chargedFixture);
      const { batchId, leaves } = f.batch;
      await f.escrow.connect(f.owner).openDispute(batchId, leaves, 3n);
      await expect(f.escrow.connect(f.arbiter).resolveDispute(batchId, 3n, true))
        .to.emit(f.escrow, "DisputeResolved")
        .withArgs(batchId, 3n, f.emptyCar, true, CAR_FEE, 0n);
      expect(await f.escrow.account(f.emptyCar)).to.deep.equal([0n, 0n]);
      expect(await f.escrow.debtOf(f.emptyCar, batchId)).to.equal(0n);
    });

    it("refunds arrears the vehicle paid into the batch since", async function () {
      const f = await networkHelpers.loadFixture(chargedFixture);
      const { batchId, leaves } = f.batch;
      await fund(f, f.emptyCar, CAR_FEE);
      await f.escrow.connect(f.owner).openDispute(batchId, leaves, 3n);
      await f.escrow.connect(f.arbiter).resolveDispute(batchId, 3n, true);
      expect(await f.escrow.account(f.emptyCar)).to.deep.equal([CAR_FEE, 0n]);
      await expectBalanced(f);
    });

    it("moves nothing when the arbiter rejects, and a charge is disputed once", async function () {
      const f = await networkHelpers.loadFixture(chargedFixture);
      const { batchId, leaves } = f.batch;
      await f.escrow.connect(f.owner).openDispute(batchId, leaves, 0n);
      await expect(f.escrow.connect(f.arbiter).resolveDispute(batchId, 0n, false))
        .to.emit(f.escrow, "DisputeResolved")
        .withArgs(batchId, 0n, f.truck, false, 0n, 0n);
      expect(await balanceOf(f, f.truck)).to.equal(50n * USD - TRUCK_FEE);
      await expect(f.escrow.connect(f.owner).openDispute(batchId, leaves, 0n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowAlreadyDisputed")
        .withArgs(batchId, 0n, DisputeStatus.Rejected);
      await expect(f.escrow.connect(f.arbiter).resolveDispute(batchId, 0n, true))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowDisputeNotOpen")
        .withArgs(batchId, 0n);
    });

    it("accepts disputes only inside the window", async function () {
      const f = await networkHelpers.loadFixture(chargedFixture);
      const { batchId, leaves } = f.batch;
      const closesAt = (await f.escrow.batch(batchId)).settledAt + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(closesAt - 1n);
      await f.escrow.connect(f.owner).openDispute(batchId, leaves, 0n);
      await expect(f.escrow.connect(f.owner).openDispute(batchId, leaves, 1n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowDisputeWindowClosed")
        .withArgs(batchId, closesAt);
    });

    it("refuses a proof that does not match the commitment, a missing leaf, and a free charge", async function () {
      const f = await networkHelpers.loadFixture(chargedFixture);
      const { batchId, leaves, charged } = f.batch;
      const inflated = encodeLeaves(charged.map((c, i) => (i === 1 ? { ...c, fee: 100n * USD } : c)));
      await expect(f.escrow.connect(f.owner).openDispute(batchId, inflated, 1n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidProof")
        .withArgs(batchId);
      await expect(f.escrow.connect(f.owner).openDispute(batchId, leaves, 4n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidLeafIndex")
        .withArgs(batchId, 4n);
      await expect(f.escrow.connect(f.owner).openDispute(batchId, leaves, 2n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNothingToDispute")
        .withArgs(batchId, 2n);
      await expect(f.escrow.connect(f.owner).openDispute(77n, leaves, 0n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowUnknownBatch")
        .withArgs(77n);
      await expect(f.escrow.connect(f.stranger).openDispute(batchId, leaves, 0n))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNotVehicleOwner")
        .withArgs(f.truck, f.stranger.address);
    });

    it("lets only the arbiter resolve", async function () {
      const f = await networkHelpers.loadFixture(chargedFixture);
      await f.escrow.connect(f.owner).openDispute(f.batch.batchId, f.batch.leaves, 0n);
      await expect(f.escrow.connect(f.owner).resolveDispute(f.batch.batchId, 0n, true))
        .to.be.revertedWithCustomError(f.escrow, "AccessControlUnauthorizedAccount")
        .withArgs(f.owner.address, await f.escrow.ARBITER_ROLE());
    });

    it("holds the batch's revenue while a dispute is open, and releases it once resolved", async function () {
      const f = await networkHelpers.loadFixture(chargedFixture);
      const { batchId, leaves } = f.batch;
      await f.escrow.connect(f.owner).openDispute(batchId, leaves, 0n);
      await time.increase(DISPUTE_WINDOW);
      await expect(f.escrow.releaseRevenue([batchId]))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowBatchDisputed")
        .withArgs(batchId, 1n);
      await f.escrow.connect(f.arbiter).resolveDispute(batchId, 0n, true);
      await expect(f.escrow.releaseRevenue([batchId]))
        .to.emit(f.escrow, "RevenueReleased")
        .withArgs(batchId, f.operator.address, CAR_FEE);
    });
  });

  describe("operators' revenue", function () {
    async function heldFixture() {
      const f = await fleetFixture();
      const t = await now(f);
      await submit(f, GANTRY, [scan(f.car, t, 1n), scan(f.truck, t, 2n)]);
      await submit(f, OTHER_GANTRY, [scan(f.car, t, 1n)], f.otherOracle);
      return f;
    }

    it("holds revenue through the dispute window, then pays its operator on claim", async function () {
      const f = await networkHelpers.loadFixture(heldFixture);
      const closesAt = (await f.escrow.batch(1n)).settledAt + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(closesAt - 1n);
      await expect(f.escrow.connect(f.stranger).releaseRevenue([1n]))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowDisputeWindowOpen")
        .withArgs(1n, closesAt);
      await time.increase(DISPUTE_WINDOW);
      await expect(f.escrow.connect(f.stranger).releaseRevenue([1n, 2n]))
        .to.emit(f.escrow, "RevenueReleased")
        .withArgs(1n, f.operator.address, CAR_FEE + TRUCK_FEE)
        .and.to.emit(f.escrow, "RevenueReleased")
        .withArgs(2n, f.otherOperator.address, OTHER_FEES[VehicleClass.Car]);
      await expectBalanced(f);
      const revenue = CAR_FEE + TRUCK_FEE;
      const tx = f.escrow.connect(f.operator).claimRevenue(f.operator.address);
      await expect(tx).to.emit(f.escrow, "RevenueClaimed").withArgs(f.operator.address, f.operator.address, revenue);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.escrow, f.operator], [-revenue, revenue]);
      await expectBalanced(f);
    });

    it("refuses releasing twice, unknown batches, empty claims and a zero recipient", async function () {
      const f = await networkHelpers.loadFixture(heldFixture);
      await time.increase(DISPUTE_WINDOW);
      await f.escrow.releaseRevenue([1n]);
      await expect(f.escrow.releaseRevenue([1n]))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowBatchReleased")
        .withArgs(1n);
      await expect(f.escrow.releaseRevenue([9n]))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowUnknownBatch")
        .withArgs(9n);
      await expect(f.escrow.connect(f.stranger).claimRevenue(f.stranger.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowNothingToClaim")
        .withArgs(f.stranger.address);
      await expect(f.escrow.connect(f.operator).claimRevenue(ZeroAddress))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowInvalidRecipient")
        .withArgs(ZeroAddress);
    });
  });

  describe("pause", function () {
    async function pausedFixture() {
      const f = await fleetFixture();
      const t = await now(f);
      await submit(f, GANTRY, [scan(f.car, t, 1n)]);
      await time.increase(DISPUTE_WINDOW);
      await f.escrow.releaseRevenue([1n]);
      await submit(f, GANTRY, [scan(f.car, t + DISPUTE_WINDOW, 2n)]);
      await f.escrow.connect(f.owner).requestWithdrawal(f.car);
      await f.escrow.connect(f.pauser).pause();
      return { ...f, pausedAt: await now(f) };
    }

    it("stops scans, releases and claims", async function () {
      const f = await networkHelpers.loadFixture(pausedFixture);
      const until = f.pausedAt + (await f.escrow.MAX_PAUSE_DURATION());
      expect(await f.escrow.paused()).to.equal(true);
      expect(await f.escrow.pausedUntil()).to.equal(until);
      const { scansHex, signature } = await signedBatch(f, GANTRY, [scan(f.car, f.pausedAt, 3n)]);
      await expect(f.escrow.submitScans(GANTRY, scansHex, signature))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowPaused")
        .withArgs(until);
      await expect(f.escrow.releaseRevenue([2n]))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowPaused")
        .withArgs(until);
      await expect(f.escrow.connect(f.operator).claimRevenue(f.operator.address))
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowPaused")
        .withArgs(until);
      await expect(f.escrow.connect(f.pauser).pause())
        .to.be.revertedWithCustomError(f.escrow, "TollEscrowPaused")
        .withArgs(until);
    });

    it("never traps owners' money: deposits, withdrawals and disputes stay open", async function () {
      const f = await networkHelpers.loadFixture(pausedFixture);
      await fund(f, f.truck, USD);
      const receipt = await f.ethers.provider.getTransactionReceipt(
        (await f.escrow.queryFilter(f.escrow.filters.BatchSettled(2n)))[0].transactionHash,
      );
      if (receipt === null) throw new Error("batch 2 receipt missing");
      const batch = settledBatchFromLogs(f.escrowAddress, receipt.logs);
      await f.escrow.connect(f.owner).openDispute(2n, batch.leaves, 0n);
      await time.increase(WITHDRAWAL_NOTICE);
      await expect(f.escrow.connect(f.owner).withdraw(f.car, ethers.MaxUint256, f.owner.address)).to.emit(
        f.escrow,
        "Withdrawn",
      );
    });

    it("lapses by itself after MAX_PAUSE_DURATION", async function () {
      const f = await networkHelpers.loadFixture(pausedFixture);
      await time.increaseTo(await f.escrow.pausedUntil());
      expect(await f.escrow.paused()).to.equal(false);
      await f.escrow.connect(f.operator).claimRevenue(f.operator.address);
      await expect(f.escrow.connect(f.pauser).unpause()).to.be.revertedWithCustomError(f.escrow, "TollEscrowNotPaused");
    });

    it("can be lifted early by the pauser only", async function () {
      const f = await networkHelpers.loadFixture(pausedFixture);
      await expect(f.escrow.connect(f.stranger).unpause())
        .to.be.revertedWithCustomError(f.escrow, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, await f.escrow.PAUSER_ROLE());
      await expect(f.escrow.connect(f.pauser).unpause()).to.emit(f.escrow, "Unpaused").withArgs(f.pauser.address);
      await submit(f, GANTRY, [scan(f.car, await now(f), 3n)]);
    });
  });

  describe("scripts/lib/scans.ts", function () {
    it("round-trips scans through the wire format and refuses values that do not fit", function () {
      const scans: Scan[] = [
        { vehicleId: (1n << 48n) - 1n, timestamp: (1n << 40n) - 1n, sequence: (1n << 40n) - 1n },
        { vehicleId: 1n, timestamp: 1_700_000_000n, sequence: 0n },
      ];
      const hex = encodeScans(scans);
      expect(hex.length).to.equal(2 + 2 * 16 * scans.length);
      expect(decodeScans(hex)).to.deep.equal(scans);
      expect(() => encodeScans([{ vehicleId: 1n << 48n, timestamp: 0n, sequence: 0n }])).to.throw(RangeError);
      expect(() => decodeScans("0x00")).to.throw(RangeError);
    });
  });
});
