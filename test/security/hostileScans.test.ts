/**
 * Hostile scan batches, generated with fast-check and sent through ethers to the in-process network: forged,
 * malleable, cross-chain, cross-contract and cross-gantry signatures, tampered and malformed batches, unknown
 * gantries, replays, stale and future timestamps, zero and maximum values.
 *
 * Each input is either refused with the escrow's own error, the whole system state left as it was (compared
 * field by field through {@link SystemLens}), or, where the design skips rather than reverts, settled with its
 * `ScanSkipped` reason and no money moving.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  Signature,
  TypedDataEncoder,
  Wallet,
  ZeroAddress,
  concat,
  getBytes,
  hexlify,
  recoverAddress,
  toBeHex,
  type ContractTransactionReceipt,
  type TypedDataDomain,
} from "ethers";
import { network } from "hardhat";

import {
  SCAN_BATCH_TYPES,
  SCAN_BYTES,
  SkipReason,
  encodeScans,
  scanBatchDomain,
  signScanBatch,
  type Scan,
} from "../../scripts/lib/scans.js";

import { deployHostile, record, runs, snapshot, tally, type HostileFixture } from "./hostile.js";
import { GANTRY, MAX_SCAN_AGE, OTHER_GANTRY } from "./system.fixture.js";

const { ethers, networkHelpers } = await network.create();

async function hostileFixture(): Promise<HostileFixture> {
  return deployHostile(ethers, networkHelpers);
}

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const MAX_UINT40 = (1n << 40n) - 1n;
const MAX_UINT48 = (1n << 48n) - 1n;
/** Fresh sequences start here, clear of the fixture's 0..3. */
const FRESH = 1_000n;

/** What a hostile batch is built from: how many scans, which vehicles, how old, which sequences. */
const batchShape = fc.record({
  count: fc.integer({ min: 1, max: 12 }),
  vehicleSeed: fc.nat(),
  ageSeed: fc.nat(),
  sequenceBase: fc.bigInt({ min: FRESH, max: MAX_UINT40 - 64n }),
});
type BatchShape = typeof batchShape extends fc.Arbitrary<infer T> ? T : never;

async function now(): Promise<bigint> {
  return BigInt(await networkHelpers.time.latest());
}

/** A batch of valid, fresh scans of the fixture's active vehicles. */
async function freshScans(f: HostileFixture, shape: BatchShape): Promise<Scan[]> {
  const vehicles = [f.car, f.truck, f.buyersCar, f.stolenCar];
  const t = await now();
  return Array.from({ length: shape.count }, (_, i) => ({
    vehicleId: vehicles[(shape.vehicleSeed + i) % vehicles.length],
    timestamp: t - BigInt((shape.ageSeed + i * 7919) % 3_600),
    sequence: shape.sequenceBase + BigInt(i),
  }));
}

function sequencesOf(scans: readonly Scan[]): bigint[] {
  return scans.map((scan) => scan.sequence);
}

async function submit(f: HostileFixture, gantryId: number, scans: string, signature: string) {
  return f.escrow.connect(f.accounts.relayer).submitScans(gantryId, scans, signature);
}

/** Sends a hostile batch and checks it is refused with `error(args)` and changes nothing at all. */
async function expectRefused(
  f: HostileFixture,
  sequences: readonly bigint[],
  send: () => Promise<unknown>,
  error: string,
  args: readonly unknown[],
): Promise<void> {
  const before = await snapshot(f, sequences);
  await expect(send()).to.be.revertedWithCustomError(f.escrow, error).withArgs(...args);
  expect(await snapshot(f, sequences)).to.deep.equal(before);
}

/** The ScanSkipped reasons of a receipt by sequence, and whether the batch recorded a commitment. */
function skips(f: HostileFixture, receipt: ContractTransactionReceipt | null): { reasons: Map<bigint, number>; batchId: bigint } {
  if (receipt === null) throw new Error("not mined");
  const reasons = new Map<bigint, number>();
  let batchId = -1n;
  for (const log of receipt.logs) {
    const parsed = f.escrow.interface.parseLog(log);
    if (parsed?.name === "ScanSkipped") {
      reasons.set(parsed.args.getValue("sequence") as bigint, Number(parsed.args.getValue("reason")));
    } else if (parsed?.name === "BatchSettled") {
      batchId = parsed.args.getValue("batchId") as bigint;
    }
  }
  return { reasons, batchId };
}

/**
 * Sends a batch the design skips: every scan must be skipped with `reason`, no batch recorded, no money moved;
 * the scans' sequences end settled or not as the reason says, and nothing else changes.
 */
async function expectSkipped(f: HostileFixture, scans: readonly Scan[], reason: SkipReason): Promise<void> {
  const sequences = sequencesOf(scans);
  const encoded = encodeScans(scans);
  const signature = await signScanBatch(f.oracle, f.escrowAddress, f.chainId, GANTRY, encoded);
  const settledBefore = await Promise.all(sequences.map((s) => f.escrow.isScanSettled(GANTRY, s)));
  const before = await snapshot(f);
  const receipt = await (await submit(f, GANTRY, encoded, signature)).wait();
  const { reasons, batchId } = skips(f, receipt);
  expect(batchId, "no batch is recorded when nothing was charged").to.equal(0n);
  for (const sequence of new Set(sequences)) expect(reasons.get(sequence), `reason for ${sequence}`).to.equal(reason);
  expect(await snapshot(f), "state other than the skipped scans' own bits").to.deep.equal(before);
  const settledAfter = await Promise.all(sequences.map((s) => f.escrow.isScanSettled(GANTRY, s)));
  const staysUnsettled = reason === SkipReason.FutureTimestamp;
  sequences.forEach((_, i) => {
    const expected = reason === SkipReason.AlreadySettled ? settledBefore[i] : !staysUnsettled;
    expect(settledAfter[i], `sequence ${sequences[i]} settled`).to.equal(expected);
  });
}

async function property<T>(group: string, arbitrary: fc.Arbitrary<T>, asked: number, check: (f: HostileFixture, input: T) => Promise<void>): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => {
      const f = await networkHelpers.loadFixture(hostileFixture);
      await check(f, input);
    }),
    { numRuns: runs(asked) },
  );
  record(group, runs(asked));
}

/** The digest the escrow would verify for this batch (its own domain). */
function realDigest(f: HostileFixture, gantryId: number, scans: string): string {
  return TypedDataEncoder.hash(scanBatchDomain(f.escrowAddress, f.chainId), SCAN_BATCH_TYPES, { gantryId, scans });
}

async function signIn(key: Wallet, domain: TypedDataDomain, gantryId: number, scans: string): Promise<string> {
  return key.signTypedData(domain, SCAN_BATCH_TYPES, { gantryId, scans });
}

describe("Hostile scan batches", function () {
  const groupsHere = new Set<string>();
  const tried = (group: string) => {
    groupsHere.add(group);
    return group;
  };

  after(function () {
    const total = [...groupsHere].reduce((sum, group) => sum + (tally.get(group) ?? 0), 0);
    console.log(`      (${total} hostile scan batches tried in ${groupsHere.size} groups)`);
  });

  describe("refused with their own error, state unchanged", function () {
    it("signatures by keys that are not the gantry's oracle key", async function () {
      const key = fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }).map((k) => new Wallet(toBeHex(k, 32)));
      await property(tried("forged signatures"), fc.tuple(key, batchShape), 150, async (f, [wallet, shape]) => {
        const scans = await freshScans(f, shape);
        const encoded = encodeScans(scans);
        const signature = await signScanBatch(wallet, f.escrowAddress, f.chainId, GANTRY, encoded);
        await expectRefused(f, sequencesOf(scans), () => submit(f, GANTRY, encoded, signature), "TollEscrowInvalidSignature", [GANTRY, wallet.address]);
      });
    });

    it("malleable signatures: the oracle's own signature with s flipped to the upper half", async function () {
      await property(tried("malleable signatures"), batchShape, 60, async (f, shape) => {
        const scans = await freshScans(f, shape);
        const encoded = encodeScans(scans);
        const good = Signature.from(await signScanBatch(f.oracle, f.escrowAddress, f.chainId, GANTRY, encoded));
        // (r, n - s) with the other recovery byte is the same signature to ecrecover: only the low-s rule refuses it.
        const flipped = concat([good.r, toBeHex(SECP256K1_N - BigInt(good.s), 32), toBeHex(good.v === 27 ? 28 : 27, 1)]);
        await expectRefused(f, sequencesOf(scans), () => submit(f, GANTRY, encoded, flipped), "TollEscrowInvalidSignature", [GANTRY, ZeroAddress]);
      });
    });

    it("the oracle's signatures made for another chain id", async function () {
      const chainId = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n });
      await property(tried("wrong chain id"), fc.tuple(chainId, batchShape), 60, async (f, [otherChain, shape]) => {
        fc.pre(otherChain !== f.chainId);
        const scans = await freshScans(f, shape);
        const encoded = encodeScans(scans);
        const signature = await signIn(f.oracle, scanBatchDomain(f.escrowAddress, otherChain), GANTRY, encoded);
        const signer = recoverAddress(realDigest(f, GANTRY, encoded), signature);
        expect(signer).not.to.equal(f.oracle.address);
        await expectRefused(f, sequencesOf(scans), () => submit(f, GANTRY, encoded, signature), "TollEscrowInvalidSignature", [GANTRY, signer]);
      });
    });

    it("the oracle's signatures made for another verifying contract (another escrow)", async function () {
      const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => ethers.getAddress(hexlify(bytes)));
      await property(tried("wrong verifying contract"), fc.tuple(address, batchShape), 60, async (f, [other, shape]) => {
        fc.pre(other !== f.escrowAddress);
        const scans = await freshScans(f, shape);
        const encoded = encodeScans(scans);
        const signature = await signIn(f.oracle, scanBatchDomain(other, f.chainId), GANTRY, encoded);
        const signer = recoverAddress(realDigest(f, GANTRY, encoded), signature);
        await expectRefused(f, sequencesOf(scans), () => submit(f, GANTRY, encoded, signature), "TollEscrowInvalidSignature", [GANTRY, signer]);
      });
    });

    it("batches of the other gantry, or signed by the other gantry's key", async function () {
      await property(tried("cross-gantry signatures"), fc.tuple(fc.boolean(), batchShape), 60, async (f, [replayOther, shape]) => {
        const scans = await freshScans(f, shape);
        const encoded = encodeScans(scans);
        // Either a genuine batch of the other gantry replayed as this one, or the other key signing for this one.
        const signature = replayOther
          ? await signScanBatch(f.otherOracle, f.escrowAddress, f.chainId, OTHER_GANTRY, encoded)
          : await signScanBatch(f.otherOracle, f.escrowAddress, f.chainId, GANTRY, encoded);
        const signer = recoverAddress(realDigest(f, GANTRY, encoded), signature);
        if (!replayOther) expect(signer).to.equal(f.otherOracle.address);
        await expectRefused(f, sequencesOf(scans), () => submit(f, GANTRY, encoded, signature), "TollEscrowInvalidSignature", [GANTRY, signer]);
      });
    });

    it("batches altered after signing (any single bit)", async function () {
      await property(tried("tampered batches"), fc.tuple(batchShape, fc.nat()), 60, async (f, [shape, bitSeed]) => {
        const scans = await freshScans(f, shape);
        const signed = encodeScans(scans);
        const signature = await signScanBatch(f.oracle, f.escrowAddress, f.chainId, GANTRY, signed);
        const bytes = getBytes(signed);
        const bit = bitSeed % (bytes.length * 8);
        bytes[bit >> 3] ^= 1 << (bit & 7);
        const tampered = hexlify(bytes);
        const signer = recoverAddress(realDigest(f, GANTRY, tampered), signature);
        await expectRefused(f, sequencesOf(scans), () => submit(f, GANTRY, tampered, signature), "TollEscrowInvalidSignature", [GANTRY, signer]);
      });
    });

    it("malformed signatures: wrong lengths, zero bytes, a recovery byte other than 27 or 28", async function () {
      const malformed = fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 200 }).filter((bytes) => bytes.length !== 65),
        fc.constant(new Uint8Array(65)),
        fc.tuple(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.integer({ min: 0, max: 255 }))
          .filter(([, v]) => v !== 27 && v !== 28)
          .map(([rs, v]) => Uint8Array.from([...rs, v])),
      );
      await property(tried("malformed signatures"), fc.tuple(malformed, batchShape), 80, async (f, [signature, shape]) => {
        const scans = await freshScans(f, shape);
        const encoded = encodeScans(scans);
        await expectRefused(f, sequencesOf(scans), () => submit(f, GANTRY, encoded, hexlify(signature)), "TollEscrowInvalidSignature", [GANTRY, ZeroAddress]);
      });
    });

    it("signatures by an oracle key the toll admin rotated out", async function () {
      await property(tried("revoked oracle keys"), batchShape, 25, async (f, shape) => {
        const replacement = Wallet.createRandom();
        await f.escrow.connect(f.accounts.tollAdmin).rotateOracleKey(GANTRY, f.oracle.address, replacement.address);
        const scans = await freshScans(f, shape);
        const encoded = encodeScans(scans);
        const signature = await signScanBatch(f.oracle, f.escrowAddress, f.chainId, GANTRY, encoded);
        await expectRefused(f, sequencesOf(scans), () => submit(f, GANTRY, encoded, signature), "TollEscrowInvalidSignature", [GANTRY, f.oracle.address]);
      });
    });

    it("batches that are empty, not whole 16-byte records, or longer than MAX_SCANS_PER_BATCH", async function () {
      // Lengths as (whole records, spare bytes); `oversized` records are added past the maximum.
      const shape = fc.oneof(
        fc.constant({ records: 0, spare: 0, oversized: false }),
        fc.record({ records: fc.integer({ min: 0, max: 2_048 }), spare: fc.integer({ min: 1, max: 15 }), oversized: fc.constant(false) }),
        fc.record({ records: fc.integer({ min: 1, max: 200 }), spare: fc.constant(0), oversized: fc.constant(true) }),
      );
      await property(tried("bad batch lengths"), fc.tuple(shape, fc.nat()), 60, async (f, [{ records, spare, oversized }, fill]) => {
        const max = Number(await f.escrow.MAX_SCANS_PER_BATCH());
        const bytes = ((oversized ? max : 0) + Math.min(records, oversized ? records : max)) * SCAN_BYTES + spare;
        const scans = hexlify(Uint8Array.from({ length: bytes }, (_, i) => (fill + i) & 0xff));
        const signature = await signScanBatch(f.oracle, f.escrowAddress, f.chainId, GANTRY, scans);
        await expectRefused(f, [], () => submit(f, GANTRY, scans, signature), "TollEscrowInvalidBatchLength", [bytes]);
      });
    });

    it("gantries that were never registered (zero and maximum ids included)", async function () {
      const gantryId = fc.oneof(fc.constant(0), fc.constant(0xffffffff), fc.integer({ min: 3, max: 0xffffffff }));
      await property(tried("unknown gantries"), fc.tuple(gantryId, batchShape), 50, async (f, [unknown, shape]) => {
        const scans = await freshScans(f, shape);
        const encoded = encodeScans(scans);
        const signature = await signScanBatch(f.oracle, f.escrowAddress, f.chainId, unknown, encoded);
        await expectRefused(f, sequencesOf(scans), () => submit(f, unknown, encoded, signature), "TollEscrowUnknownGantry", [unknown]);
      });
    });

    it("genuine batches while the escrow is paused", async function () {
      await property(tried("paused"), batchShape, 25, async (f, shape) => {
        await f.escrow.connect(f.accounts.pauser).pause();
        const until = await f.escrow.pausedUntil();
        const scans = await freshScans(f, shape);
        const encoded = encodeScans(scans);
        const signature = await signScanBatch(f.oracle, f.escrowAddress, f.chainId, GANTRY, encoded);
        await expectRefused(f, sequencesOf(scans), () => submit(f, GANTRY, encoded, signature), "TollEscrowPaused", [until]);
      });
    });
  });

  describe("skipped with their reason, no money moving", function () {
    it("replays of settled scans, whatever they now claim (vehicle, time), in any order", async function () {
      const replay = fc.record({
        order: fc.shuffledSubarray([0n, 1n, 2n, 3n], { minLength: 1 }),
        vehicleSeed: fc.nat(),
        ageSeed: fc.nat({ max: 3_600 }),
      });
      await property(tried("replays"), replay, 60, async (f, { order, vehicleSeed, ageSeed }) => {
        const t = await now();
        const vehicles = [f.car, f.truck, f.buyersCar];
        const scans = order.map((sequence, i) => ({
          vehicleId: vehicles[(vehicleSeed + i) % vehicles.length],
          timestamp: t - BigInt(ageSeed),
          sequence,
        }));
        await expectSkipped(f, scans, SkipReason.AlreadySettled);
      });
    });

    it("stale scans, older than maxScanAge, down to timestamp zero", async function () {
      await property(tried("stale timestamps"), fc.tuple(batchShape, fc.bigInt({ min: 0n, max: 1n << 32n })), 60, async (f, [shape, extra]) => {
        const t = await now();
        const newestStale = t - MAX_SCAN_AGE - 60n;
        const scans = (await freshScans(f, shape)).map((scan, i) => ({
          ...scan,
          timestamp: i === 0 ? 0n : newestStale - ((extra + BigInt(i)) % newestStale),
        }));
        await expectSkipped(f, scans, SkipReason.StaleTimestamp);
      });
    });

    it("future scans, up to the largest uint40 timestamp: skipped and left unsettled", async function () {
      await property(tried("future timestamps"), fc.tuple(batchShape, fc.bigInt({ min: 0n, max: MAX_UINT40 })), 60, async (f, [shape, ahead]) => {
        const t = await now();
        // A day ahead: the next block's time follows the wall clock, which moves on while the tests run.
        const earliest = t + 86_400n;
        const scans = (await freshScans(f, shape)).map((scan, i) => ({
          ...scan,
          timestamp: i === 0 ? MAX_UINT40 : earliest + ((ahead + BigInt(i)) % (MAX_UINT40 - earliest)),
        }));
        await expectSkipped(f, scans, SkipReason.FutureTimestamp);
      });
    });

    it("vehicles that do not exist: id zero, just past the last, up to the largest uint48", async function () {
      const unknown = fc.oneof(fc.constant(0n), fc.constant(MAX_UINT48), fc.bigInt({ min: 6n, max: MAX_UINT48 }));
      await property(tried("unknown vehicles"), fc.tuple(fc.array(unknown, { minLength: 1, maxLength: 8 }), batchShape), 60, async (f, [ids, shape]) => {
        const total = await f.registry.totalVehicles();
        const scans = (await freshScans(f, { ...shape, count: ids.length })).map((scan, i) => ({
          ...scan,
          vehicleId: ids[i] === 6n ? total + 1n : ids[i],
        }));
        for (const scan of scans) expect(scan.vehicleId === 0n || scan.vehicleId > total).to.equal(true);
        await expectSkipped(f, scans, SkipReason.UnknownVehicle);
      });
    });

    it("a scrapped vehicle, whatever the time and sequence", async function () {
      await property(tried("scrapped vehicles"), batchShape, 25, async (f, shape) => {
        const scans = (await freshScans(f, shape)).map((scan) => ({ ...scan, vehicleId: f.scrappedCar }));
        await expectSkipped(f, scans, SkipReason.ScrappedVehicle);
      });
    });

    it("the largest sequence numbers behave like any other", async function () {
      await property(tried("maximum sequences"), fc.integer({ min: 1, max: 8 }), 20, async (f, count) => {
        const t = await now();
        const scans = Array.from({ length: count }, (_, i) => ({
          vehicleId: 0n,
          timestamp: t,
          sequence: MAX_UINT40 - BigInt(i),
        }));
        await expectSkipped(f, scans, SkipReason.UnknownVehicle);
      });
    });
  });
});
