import { expect } from "chai";
import { network } from "hardhat";

import { scanBatchGasLimit } from "../../scripts/lib/scans.js";
import type { Scan } from "../../scripts/lib/scans.js";
import { VehicleClass, VehicleStatus } from "../../scripts/lib/vehicle.js";
import { deployEscrow, FEES, GANTRY, now, registerVehicle, submit, USD } from "./escrow.fixture.js";
import type { EscrowFixture } from "./escrow.fixture.js";
import { skipGasAssertionsUnderCoverage } from "../utils/coverage.js";

const { ethers, networkHelpers } = await network.create();

/** The hot-path target: receipt gasUsed / scans, the transaction's own cost included. */
const GAS_PER_SCAN_TARGET = 10_000n;
/** The per-transaction gas cap since Osaka (EIP-7825). */
const TX_GAS_CAP = 16_777_216n;

let maxScans = 0;

/** MAX_SCANS_PER_BATCH cars, each with 100 USD of balance, on a brand-new escrow: nothing settled yet. */
async function fundedFleetFixture(): Promise<EscrowFixture & { vehicleIds: bigint[] }> {
  const f = await deployEscrow(ethers);
  maxScans = Number(await f.escrow.MAX_SCANS_PER_BATCH());
  const perVehicle = 100n * USD;
  await f.token.mint(f.payer.address, perVehicle * BigInt(maxScans));
  await f.token.connect(f.payer).approve(f.escrowAddress, perVehicle * BigInt(maxScans));
  const vehicleIds: bigint[] = [];
  for (let i = 0; i < maxScans; i += 1) {
    const vehicleId = await registerVehicle(f, f.owner);
    await f.escrow.connect(f.payer).deposit(vehicleId, perVehicle);
    vehicleIds.push(vehicleId);
  }
  return { ...f, vehicleIds };
}

/**
 * The same fleet on a gantry in service: its readings 0 to MAX_SCANS_PER_BATCH - 1 already settled, so the next
 * batch continues its sequence numbers in a bitmap word that exists, as batches do day to day.
 */
async function gantryInServiceFixture(): Promise<EscrowFixture & { vehicleIds: bigint[] }> {
  const f = await fundedFleetFixture();
  await submit(f, GANTRY, consecutiveScans(f.vehicleIds, maxScans, await now(f), 0n));
  return f;
}

/**
 * The worst case a batch can be: MAX_SCANS_PER_BATCH distinct vehicles, each flagged stolen (a sighting event), each
 * never funded (its account slot is created, and its whole fee becomes a new debt slot and an arrears event), each
 * scan in its own fresh bitmap word.
 */
async function worstCaseFixture(): Promise<EscrowFixture & { vehicleIds: bigint[] }> {
  const f = await deployEscrow(ethers);
  maxScans = Number(await f.escrow.MAX_SCANS_PER_BATCH());
  const vehicleIds: bigint[] = [];
  for (let i = 0; i < maxScans; i += 1) {
    const vehicleId = await registerVehicle(f, f.owner);
    await f.registry.setStatus(vehicleId, VehicleStatus.Stolen, 1);
    vehicleIds.push(vehicleId);
  }
  return { ...f, vehicleIds };
}

function consecutiveScans(vehicleIds: readonly bigint[], count: number, timestamp: bigint, first: bigint): Scan[] {
  return vehicleIds.slice(0, count).map((vehicleId, i) => ({
    vehicleId,
    timestamp,
    sequence: first + BigInt(i),
  }));
}

describe("TollEscrow gas", function () {
  // Registering and funding a full batch's worth of vehicles takes a while on the in-process network.
  this.timeout(300_000);
  before(function () {
    skipGasAssertionsUnderCoverage(this);
  });

  describe("a batch of scans of distinct vehicles that already have balances", function () {
    describe("on a gantry in service", function () {
      for (const size of [1, 10, 100, 160]) {
        it(`settles ${size} scan(s)${size >= 100 ? " within 10,000 gas per scan" : ""}`, async function () {
          const f = await networkHelpers.loadFixture(gantryInServiceFixture);
          const first = BigInt(maxScans);
          const receipt = await submit(f, GANTRY, consecutiveScans(f.vehicleIds, size, await now(f), first));
          const perScan = receipt.gasUsed / BigInt(size);
          console.log(`      gas, gantry in service: ${size} scans, ${receipt.gasUsed} total, ${perScan} per scan`);
          expect(await f.escrow.isScanSettled(GANTRY, first + BigInt(size - 1))).to.equal(true);
          expect((await f.escrow.batch(2n)).held).to.equal(BigInt(size) * FEES[VehicleClass.Car]);
          if (size >= 100) expect(perScan).to.be.at.most(GAS_PER_SCAN_TARGET);
        });
      }
    });

    describe("as the first batch a new escrow ever settles (a fresh bitmap word)", function () {
      for (const size of [1, 10, 100, 160]) {
        it(`settles ${size} scan(s)${size >= 100 ? " within 10,000 gas per scan" : ""}`, async function () {
          const f = await networkHelpers.loadFixture(fundedFleetFixture);
          const receipt = await submit(f, GANTRY, consecutiveScans(f.vehicleIds, size, await now(f), 0n));
          const perScan = receipt.gasUsed / BigInt(size);
          console.log(`      gas, first batch ever: ${size} scans, ${receipt.gasUsed} total, ${perScan} per scan`);
          if (size >= 100) expect(perScan).to.be.at.most(GAS_PER_SCAN_TARGET);
        });
      }
    });
  });

  describe("the worst case of the largest batch", function () {
    /** Every scan of a distinct stolen vehicle never funded, in its own fresh bitmap word. */
    function worstScans(vehicleIds: readonly bigint[], t: bigint): Scan[] {
      return vehicleIds.map((vehicleId, i) => ({
        vehicleId,
        timestamp: t,
        sequence: BigInt(i + 1) * 256n + 1_000_000n,
      }));
    }

    it("stays well under the per-transaction gas cap, and within the relayer's gas limit for its size", async function () {
      const f = await networkHelpers.loadFixture(worstCaseFixture);
      const receipt = await submit(f, GANTRY, worstScans(f.vehicleIds, await now(f)));
      const perScan = receipt.gasUsed / BigInt(maxScans);
      console.log(`      gas: worst case, ${maxScans} scans, ${receipt.gasUsed} total, ${perScan} per scan`);
      expect(await f.escrow.debtOf(f.vehicleIds[0], 1n)).to.equal(2n * USD);
      expect(receipt.gasUsed).to.be.below((TX_GAS_CAP * 3n) / 4n);
      // The relayer sends with this limit and no estimate: a batch that needed more would revert out of gas.
      expect(receipt.gasUsed).to.be.at.most(scanBatchGasLimit(maxScans));
      expect(scanBatchGasLimit(maxScans)).to.be.below(TX_GAS_CAP);
    });

    it("keeps a lone worst-case scan, on an escrow that never settled a batch, within the relayer's gas limit", async function () {
      const f = await networkHelpers.loadFixture(worstCaseFixture);
      const receipt = await submit(f, GANTRY, worstScans(f.vehicleIds.slice(0, 1), await now(f)));
      console.log(`      gas: worst case, 1 scan, ${receipt.gasUsed} total`);
      expect(await f.escrow.debtOf(f.vehicleIds[0], 1n)).to.equal(2n * USD);
      expect(receipt.gasUsed).to.be.at.most(scanBatchGasLimit(1));
    });
  });
});
