import { expect } from "chai";
import type { ContractTransactionReceipt } from "ethers";
import { network } from "hardhat";

import { scanBatchGasLimit } from "../../scripts/lib/scans.js";
import type { Scan } from "../../scripts/lib/scans.js";
import { VehicleClass, VehicleStatus } from "../../scripts/lib/vehicle.js";
import { deployEscrow, FEES, GANTRY, now, registerVehicle, signedBatch, submit, USD } from "./escrow.fixture.js";
import type { EscrowFixture } from "./escrow.fixture.js";
import { skipGasAssertionsUnderCoverage } from "../utils/coverage.js";

const { ethers, networkHelpers } = await network.create();

/** The hot-path target: receipt gasUsed / scans, the transaction's own cost included. */
const GAS_PER_SCAN_TARGET = 10_000n;
/** The per-transaction gas cap since Osaka (EIP-7825). */
const TX_GAS_CAP = 16_777_216n;

/** The largest batch whose worst case the relayer's bound covers within the per-transaction cap: as many vehicles
 * as the fixtures hold, since no measured batch needs more. */
let maxScans = 1;
while (scanBatchGasLimit(maxScans + 1) <= TX_GAS_CAP) maxScans += 1;
/** Batch sizes measured with vehicles that have balances. */
const SIZES = [1, 10, 100, maxScans];

/** {@link maxScans} cars, each with 100 USD of balance, on a brand-new escrow: nothing settled yet. */
async function fundedFleetFixture(): Promise<EscrowFixture & { vehicleIds: bigint[] }> {
  const f = await deployEscrow(ethers);
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
 * The same fleet on a gantry in service: its readings 0 to maxScans - 1 already settled, and one in the next
 * bitmap word, so the next batch continues its sequence numbers in bitmap words that exist, as batches do day to
 * day (a fresh word every 256 readings costs about 86 gas a scan, which this leaves out).
 */
async function gantryInServiceFixture(): Promise<EscrowFixture & { vehicleIds: bigint[] }> {
  const f = await fundedFleetFixture();
  const t = await now(f);
  await submit(f, GANTRY, [
    ...consecutiveScans(f.vehicleIds, maxScans, t, 0n),
    { vehicleId: f.vehicleIds[0], timestamp: t, sequence: 511n },
  ]);
  return f;
}

/**
 * The worst case a batch can be: distinct vehicles, each flagged stolen (a sighting event), each never funded (its
 * account slot is created, and its whole fee becomes a new debt slot and an arrears event), each scan in its own
 * fresh bitmap word.
 */
async function worstCaseFixture(): Promise<EscrowFixture & { vehicleIds: bigint[] }> {
  const f = await deployEscrow(ethers);
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
      for (const size of SIZES) {
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
      for (const size of SIZES) {
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

  describe("the worst case, under the relayer's gas limit for its size", function () {
    /** Every scan of a distinct stolen vehicle never funded, in its own fresh bitmap word. */
    function worstScans(vehicleIds: readonly bigint[], t: bigint): Scan[] {
      return vehicleIds.map((vehicleId, i) => ({
        vehicleId,
        timestamp: t,
        sequence: BigInt(i + 1) * 256n + 1_000_000n,
      }));
    }

    /** Sends `scans` with submitScansWithinGas and `gasLimit`; returns the receipt and the scans it deferred. */
    async function submitWithinGas(
      f: EscrowFixture,
      scans: readonly Scan[],
      gasLimit: bigint,
    ): Promise<{ receipt: ContractTransactionReceipt; deferred: bigint }> {
      const { scansHex, signature } = await signedBatch(f, GANTRY, scans);
      const tx = await f.escrow.connect(f.relayer).submitScansWithinGas(GANTRY, scansHex, signature, { gasLimit });
      const receipt = await tx.wait();
      if (receipt === null) throw new Error("submitScansWithinGas was not mined");
      let deferred = 0n;
      for (const log of receipt.logs) {
        const parsed = f.escrow.interface.parseLog(log);
        if (parsed?.name === "ScansDeferred") deferred += parsed.args.count as bigint;
      }
      return { receipt, deferred };
    }

    it(`settles every scan of the largest batch whose bound fits the per-transaction cap (${maxScans})`, async function () {
      const f = await networkHelpers.loadFixture(worstCaseFixture);
      const limit = scanBatchGasLimit(maxScans);
      const { receipt, deferred } = await submitWithinGas(f, worstScans(f.vehicleIds, await now(f)), limit);
      const perScan = receipt.gasUsed / BigInt(maxScans);
      console.log(`      gas: worst case, ${maxScans} scans, ${receipt.gasUsed} total, ${perScan} per scan`);
      expect(deferred, "the bound leaves nothing to defer").to.equal(0n);
      expect(await f.escrow.debtOf(f.vehicleIds[0], 1n)).to.equal(2n * USD);
      expect(await f.escrow.debtOf(f.vehicleIds[maxScans - 1], 1n)).to.equal(2n * USD);
      expect(receipt.gasUsed).to.be.at.most(limit);
      expect(limit).to.be.at.most(TX_GAS_CAP);
    });

    it("keeps a lone worst-case scan, on an escrow that never settled a batch, within the relayer's gas limit", async function () {
      const f = await networkHelpers.loadFixture(worstCaseFixture);
      const { receipt, deferred } = await submitWithinGas(
        f,
        worstScans(f.vehicleIds.slice(0, 1), await now(f)),
        scanBatchGasLimit(1),
      );
      console.log(`      gas: worst case, 1 scan, ${receipt.gasUsed} total`);
      expect(deferred).to.equal(0n);
      expect(await f.escrow.debtOf(f.vehicleIds[0], 1n)).to.equal(2n * USD);
      expect(receipt.gasUsed).to.be.at.most(scanBatchGasLimit(1));
    });

    it("defers what a smaller limit does not cover, at any limit, and never runs out of gas", async function () {
      const f = await networkHelpers.loadFixture(worstCaseFixture);
      const scans = worstScans(f.vehicleIds, await now(f));
      const limit = scanBatchGasLimit(maxScans);
      for (const gasLimit of [250_000n, 400_000n, limit / 7n, limit / 3n, (limit * 9n) / 10n]) {
        const snapshot = await networkHelpers.takeSnapshot();
        const { receipt, deferred } = await submitWithinGas(f, scans, gasLimit);
        expect(receipt.status, `at ${gasLimit} gas`).to.equal(1);
        expect(deferred, `at ${gasLimit} gas`).to.be.greaterThan(0n);
        const settled = maxScans - Number(deferred);
        // The settled part is a prefix: every scan before the first deferred one, none after.
        if (settled > 0) expect(await f.escrow.isScanSettled(GANTRY, scans[settled - 1].sequence)).to.equal(true);
        expect(await f.escrow.isScanSettled(GANTRY, scans[settled].sequence)).to.equal(false);
        expect(await f.escrow.isScanSettled(GANTRY, scans[maxScans - 1].sequence)).to.equal(false);
        await snapshot.restore();
      }
    });
  });
});
