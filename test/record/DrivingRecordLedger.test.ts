import { expect } from "chai";
import { TypedDataEncoder, ZeroAddress, ZeroHash, concat, dataSlice, id, toBeHex } from "ethers";
import { network } from "hardhat";

import {
  DRIVING_RECORD_TYPES,
  GENESIS_HEAD,
  RECORD_SIZE,
  TrustLevel,
  encodeBatch,
  encodeLink,
  encodeRecord,
  ledgerDomain,
  nextHead,
  signRecord,
} from "../../scripts/lib/ledger.js";
import { VehicleStatus } from "../../scripts/lib/vehicle.js";
import {
  ADMIN_DELAY,
  DAY,
  appendBatch,
  asserted,
  deployLedger,
  makeRecord,
  plateSigned,
  loggedLinks,
  plateWallet,
  recordLogs,
} from "./ledgerSetup.js";
import { skipGasAssertionsUnderCoverage } from "../utils/coverage.js";

const { ethers, networkHelpers } = await network.create();

/** Periods in these tests start 60 days before the fixture's deployment, so they are all in the past. */
async function ledgerFixture() {
  const setup = await deployLedger(ethers, 3);
  const t0 = (await networkHelpers.time.latest()) - 60 * DAY;
  return { ...setup, t0 };
}

/** 100 vehicles that each already have one record: the state the gas target is measured in. */
async function hundredVehiclesWithRecordsFixture() {
  const setup = await deployLedger(ethers, 100);
  const t0 = (await networkHelpers.time.latest()) - 60 * DAY;
  await appendBatch(
    setup.ledger,
    setup.reporter,
    setup.vehicleIds.map((vehicleId) => asserted(vehicleId, makeRecord(t0))),
  );
  return { ...setup, t0 };
}

describe("DrivingRecordLedger", function () {
  describe("constructor", function () {
    it("binds the registry and makes the given account the delayed default admin", async function () {
      const { ledger, registry, admin } = await networkHelpers.loadFixture(ledgerFixture);
      expect(await ledger.registry()).to.equal(await registry.getAddress());
      expect(await ledger.defaultAdmin()).to.equal(admin.address);
      expect(await ledger.defaultAdminDelay()).to.equal(ADMIN_DELAY);
      expect(await ledger.RECORD_SIZE()).to.equal(BigInt(RECORD_SIZE));
      expect(await ledger.SIGNATURE_SIZE()).to.equal(65n);
    });

    it("refuses a registry that is not a contract implementing IVehicleRegistry", async function () {
      const { ledger, admin } = await networkHelpers.loadFixture(ledgerFixture);
      const factory = await ethers.getContractFactory("DrivingRecordLedger");
      for (const notARegistry of [ZeroAddress, admin.address, await ledger.getAddress()]) {
        await expect(factory.deploy(notARegistry, ADMIN_DELAY, admin.address))
          .to.be.revertedWithCustomError(factory, "DrivingRecordLedgerInvalidRegistry")
          .withArgs(notARegistry);
      }
    });

    it("refuses a zero default admin", async function () {
      const { registry } = await networkHelpers.loadFixture(ledgerFixture);
      const factory = await ethers.getContractFactory("DrivingRecordLedger");
      await expect(factory.deploy(await registry.getAddress(), ADMIN_DELAY, ZeroAddress))
        .to.be.revertedWithCustomError(factory, "AccessControlInvalidDefaultAdmin")
        .withArgs(ZeroAddress);
    });

    it("advertises IDrivingRecordLedger and AccessControl through ERC-165", async function () {
      const { ledger } = await networkHelpers.loadFixture(ledgerFixture);
      const ledgerInterface = await ethers.getContractAt("IDrivingRecordLedger", ZeroAddress);
      let interfaceId = 0n;
      ledgerInterface.interface.forEachFunction((fn) => {
        interfaceId ^= BigInt(fn.selector);
      });
      expect(await ledger.supportsInterface(toBeHex(interfaceId, 4))).to.equal(true);
      expect(await ledger.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await ledger.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("appendRecords", function () {
    describe("hash chain", function () {
      it("starts a vehicle's chain: logs the record and stores head, count and period end", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const record = makeRecord(t0);
        const link = [GENESIS_HEAD, 1, reporter.address, vehicleIds[0], record, TrustLevel.ReporterAsserted] as const;
        const head = nextHead(...link);
        const receipt = await appendBatch(ledger, reporter, [asserted(vehicleIds[0], record)]);
        const [log, ...others] = recordLogs(ledger, receipt);
        expect(others).to.have.length(0);
        // Anonymous: the one topic is the vehicle id; the data is the link's preimage, padded to 4 words.
        expect(log.topics).to.deep.equal([toBeHex(vehicleIds[0], 32)]);
        expect(log.data).to.equal(concat(encodeLink(...link)));
        expect(loggedLinks(ledger, receipt)).to.deep.equal([
          {
            previousHead: GENESIS_HEAD,
            index: 1,
            reporter: reporter.address,
            vehicleId: vehicleIds[0],
            record,
            trust: TrustLevel.ReporterAsserted,
            head,
          },
        ]);
        expect(await ledger.chainOf(vehicleIds[0])).to.deep.equal([head, 1n, BigInt(record.periodEnd)]);
      });

      it("links each record to the one before it", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const first = makeRecord(t0);
        const second = makeRecord(t0 + DAY, { distanceMeters: 10_000, nightDistanceMeters: 0 });
        await appendBatch(ledger, reporter, [asserted(vehicleIds[0], first)]);
        await appendBatch(ledger, reporter, [asserted(vehicleIds[0], second)]);
        const head1 = nextHead(GENESIS_HEAD, 1, reporter.address, vehicleIds[0], first, TrustLevel.ReporterAsserted);
        const head2 = nextHead(head1, 2, reporter.address, vehicleIds[0], second, TrustLevel.ReporterAsserted);
        // The link spelled out once by hand, so the library cannot drift from the contract unnoticed.
        const byHand = dataSlice(
          ethers.keccak256(
            concat([
              head1,
              toBeHex(2, 3),
              reporter.address,
              encodeRecord(vehicleIds[0], second, TrustLevel.ReporterAsserted),
            ]),
          ),
          0,
          24,
        );
        expect(head2).to.equal(byHand);
        expect(await ledger.chainOf(vehicleIds[0])).to.deep.equal([head2, 2n, BigInt(second.periodEnd)]);
      });

      it("keeps one chain per vehicle in a batch mixing vehicles, including one vehicle twice", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const [a, b] = vehicleIds;
        const recordsOfA = [makeRecord(t0), makeRecord(t0 + DAY)];
        const recordOfB = makeRecord(t0 + 5 * DAY);
        await appendBatch(ledger, reporter, [
          asserted(a, recordsOfA[0]),
          asserted(b, recordOfB),
          asserted(a, recordsOfA[1]),
        ]);
        const headA1 = nextHead(GENESIS_HEAD, 1, reporter.address, a, recordsOfA[0], TrustLevel.ReporterAsserted);
        const headA2 = nextHead(headA1, 2, reporter.address, a, recordsOfA[1], TrustLevel.ReporterAsserted);
        const headB1 = nextHead(GENESIS_HEAD, 1, reporter.address, b, recordOfB, TrustLevel.ReporterAsserted);
        expect(await ledger.chainOf(a)).to.deep.equal([headA2, 2n, BigInt(recordsOfA[1].periodEnd)]);
        expect(await ledger.chainOf(b)).to.deep.equal([headB1, 1n, BigInt(recordOfB.periodEnd)]);
      });

      it("appends, in order, a batch that moves between vehicles with and without chains and trust levels", async function () {
        // Records of vehicles that have a chain, reporter-asserted, take the ledger's fast path; a first record or a
        // plate-signed one takes the general path. The chains and logs must not tell which path a record took.
        const setup = await networkHelpers.loadFixture(ledgerFixture);
        const { ledger, reporter, plates, vehicleIds, t0 } = setup;
        const [a, b, c] = vehicleIds;
        await appendBatch(ledger, reporter, [asserted(a, makeRecord(t0)), asserted(b, makeRecord(t0))]);
        const day = (n: number) => makeRecord(t0 + n * DAY);
        const batch = [
          asserted(a, day(1)),
          await plateSigned(setup, plates[1], b, day(1)),
          asserted(c, day(0)),
          asserted(a, day(2)),
          asserted(b, day(2)),
          asserted(c, day(1)),
        ];
        const links = loggedLinks(ledger, await appendBatch(ledger, reporter, batch));

        const firstHead = (vehicleId: bigint) =>
          nextHead(GENESIS_HEAD, 1, reporter.address, vehicleId, makeRecord(t0), TrustLevel.ReporterAsserted);
        const heads = new Map<bigint, string>([
          [a, firstHead(a)],
          [b, firstHead(b)],
          [c, GENESIS_HEAD],
        ]);
        const counts = new Map<bigint, number>([
          [a, 1],
          [b, 1],
          [c, 0],
        ]);
        const expected = batch.map(({ vehicleId, record, trust }) => {
          const index = (counts.get(vehicleId) ?? 0) + 1;
          const previousHead = heads.get(vehicleId) ?? GENESIS_HEAD;
          const head = nextHead(previousHead, index, reporter.address, vehicleId, record, trust);
          counts.set(vehicleId, index);
          heads.set(vehicleId, head);
          return { previousHead, index, reporter: reporter.address, vehicleId, record, trust, head };
        });
        expect(links).to.deep.equal(expected);
        for (const vehicleId of [a, b, c]) {
          const lastEnd = BigInt(batch.filter((s) => s.vehicleId === vehicleId).at(-1)?.record.periodEnd ?? 0);
          expect(await ledger.chainOf(vehicleId)).to.deep.equal([
            heads.get(vehicleId),
            BigInt(counts.get(vehicleId) ?? 0),
            lastEnd,
          ]);
        }
      });

      it("binds the head to the reporter that appended the record", async function () {
        const { ledger, admin, reporter, stranger, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        await ledger.connect(admin).grantRole(await ledger.REPORTER_ROLE(), stranger.address);
        const record = makeRecord(t0);
        await appendBatch(ledger, stranger, [asserted(vehicleIds[0], record)]);
        const [head] = await ledger.chainOf(vehicleIds[0]);
        expect(head).to.equal(nextHead(GENESIS_HEAD, 1, stranger.address, vehicleIds[0], record, 0));
        expect(head).to.not.equal(nextHead(GENESIS_HEAD, 1, reporter.address, vehicleIds[0], record, 0));
      });
    });

    describe("periods", function () {
      it("accepts a period that starts exactly where the last one ended, and gaps", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        await appendBatch(ledger, reporter, [
          asserted(vehicleIds[0], makeRecord(t0)),
          asserted(vehicleIds[0], makeRecord(t0 + DAY)),
          asserted(vehicleIds[0], makeRecord(t0 + 10 * DAY)),
        ]);
        expect((await ledger.chainOf(vehicleIds[0])).count).to.equal(3n);
      });

      it("refuses a period that overlaps the last one", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        await appendBatch(ledger, reporter, [asserted(vehicleIds[0], makeRecord(t0))]);
        const overlapping = makeRecord(t0 + DAY - 1);
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], overlapping)])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerPeriodOverlap")
          .withArgs(vehicleIds[0], overlapping.periodStart, t0 + DAY);
      });

      it("refuses a period that goes back in time", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        await appendBatch(ledger, reporter, [asserted(vehicleIds[0], makeRecord(t0 + 10 * DAY))]);
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], makeRecord(t0))])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerPeriodOverlap")
          .withArgs(vehicleIds[0], t0, t0 + 11 * DAY);
      });

      it("refuses an empty or inverted period", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        for (const periodEnd of [t0, t0 - 1]) {
          const record = makeRecord(t0, { periodEnd, drivingSeconds: 0, speedingSeconds: 0 });
          await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], record)])))
            .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerInvalidPeriod")
            .withArgs(vehicleIds[0], t0, periodEnd);
        }
      });

      it("refuses a period that ends after the block appending it", async function () {
        const { ledger, reporter, vehicleIds } = await networkHelpers.loadFixture(ledgerFixture);
        const now = await networkHelpers.time.latest();
        const record = makeRecord(now - DAY / 2);
        await networkHelpers.time.setNextBlockTimestamp(now + 10);
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], record)])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerFuturePeriod")
          .withArgs(vehicleIds[0], record.periodEnd, now + 10);
      });
    });

    describe("aggregates", function () {
      it("refuses more driving time than the period lasts", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const record = makeRecord(t0, { drivingSeconds: DAY + 1 });
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], record)])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerDrivingTimeExceedsPeriod")
          .withArgs(vehicleIds[0], DAY + 1, DAY);
      });

      it("refuses more speeding time than driving time", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const record = makeRecord(t0, { drivingSeconds: 100, speedingSeconds: 101 });
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], record)])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerSpeedingExceedsDrivingTime")
          .withArgs(vehicleIds[0], 101, 100);
      });

      it("refuses more night-time distance than distance", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const record = makeRecord(t0, { distanceMeters: 5_000, nightDistanceMeters: 5_001 });
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], record)])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerNightDistanceExceedsDistance")
          .withArgs(vehicleIds[0], 5_001, 5_000);
      });

      it("refuses a zero data hash", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const record = makeRecord(t0, { dataHash: ZeroHash });
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], record)])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerInvalidDataHash")
          .withArgs(vehicleIds[0]);
      });

      it("accepts the extremes: a whole period of driving, all of it speeding, all distance at night", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const record = makeRecord(t0, {
          drivingSeconds: DAY,
          speedingSeconds: DAY,
          distanceMeters: 2 ** 40 - 1,
          nightDistanceMeters: 2 ** 40 - 1,
          harshBrakingCount: 65_535,
          harshAccelerationCount: 65_535,
        });
        const receipt = await appendBatch(ledger, reporter, [asserted(vehicleIds[0], record)]);
        expect(loggedLinks(ledger, receipt).map((link) => link.record)).to.deep.equal([record]);
      });
    });

    describe("bad input", function () {
      it("refuses a caller without REPORTER_ROLE", async function () {
        const { ledger, stranger, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        await expect(ledger.connect(stranger).appendRecords(encodeBatch([asserted(vehicleIds[0], makeRecord(t0))])))
          .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
          .withArgs(stranger.address, await ledger.REPORTER_ROLE());
      });

      it("refuses a vehicle the registry does not know", async function () {
        const { ledger, reporter, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        for (const unknown of [0n, 4n, 2n ** 48n - 1n]) {
          await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(unknown, makeRecord(t0))])))
            .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerUnknownVehicle")
            .withArgs(unknown);
        }
      });

      it("refuses an empty batch and one that does not split into whole records", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const one = encodeBatch([asserted(vehicleIds[0], makeRecord(t0))]);
        await expect(ledger.connect(reporter).appendRecords("0x"))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerMalformedRecords")
          .withArgs(0, 0);
        await expect(ledger.connect(reporter).appendRecords(dataSlice(one, 0, RECORD_SIZE - 1)))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerMalformedRecords")
          .withArgs(0, RECORD_SIZE - 1);
        await expect(ledger.connect(reporter).appendRecords(concat([one, "0x00"])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerMalformedRecords")
          .withArgs(RECORD_SIZE, RECORD_SIZE + 1);
      });

      it("refuses a batch whose last record is cut short after records of vehicles that have chains", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        await appendBatch(ledger, reporter, [asserted(vehicleIds[0], makeRecord(t0))]);
        const next = encodeBatch([
          asserted(vehicleIds[0], makeRecord(t0 + DAY)),
          asserted(vehicleIds[0], makeRecord(t0 + 2 * DAY)),
        ]);
        const [headBefore] = await ledger.chainOf(vehicleIds[0]);
        await expect(ledger.connect(reporter).appendRecords(dataSlice(next, 0, 2 * RECORD_SIZE - 1)))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerMalformedRecords")
          .withArgs(RECORD_SIZE, 2 * RECORD_SIZE - 1);
        expect((await ledger.chainOf(vehicleIds[0])).head).to.equal(headBefore);
      });

      it("refuses a plate-signed record whose signature is cut short", async function () {
        const setup = await networkHelpers.loadFixture(ledgerFixture);
        const signed = await plateSigned(setup, setup.plates[0], setup.vehicleIds[0], makeRecord(setup.t0));
        const batch = encodeBatch([signed]);
        await expect(setup.ledger.connect(setup.reporter).appendRecords(dataSlice(batch, 0, RECORD_SIZE + 64)))
          .to.be.revertedWithCustomError(setup.ledger, "DrivingRecordLedgerMalformedRecords")
          .withArgs(0, RECORD_SIZE + 64);
      });

      it("refuses a trust byte other than 0 and 1", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const wire = encodeRecord(vehicleIds[0], makeRecord(t0), 2 as TrustLevel);
        await expect(ledger.connect(reporter).appendRecords(wire))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerInvalidTrustLevel")
          .withArgs(vehicleIds[0], 2);
      });

      it("reverts the whole batch when one record is bad", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const batch = encodeBatch([
          asserted(vehicleIds[0], makeRecord(t0)),
          asserted(vehicleIds[1], makeRecord(t0, { dataHash: ZeroHash })),
        ]);
        await expect(ledger.connect(reporter).appendRecords(batch)).to.be.revertedWithCustomError(
          ledger,
          "DrivingRecordLedgerInvalidDataHash",
        );
        expect(await ledger.chainOf(vehicleIds[0])).to.deep.equal([GENESIS_HEAD, 0n, 0n]);
      });
    });

    describe("trust levels", function () {
      it("ranks a record signed by the vehicle's plate key as PlateSigned", async function () {
        const setup = await networkHelpers.loadFixture(ledgerFixture);
        const { ledger, reporter, plates, vehicleIds, t0 } = setup;
        const record = makeRecord(t0);
        const head = nextHead(GENESIS_HEAD, 1, reporter.address, vehicleIds[0], record, TrustLevel.PlateSigned);
        const signed = await plateSigned(setup, plates[0], vehicleIds[0], record);
        const [link] = loggedLinks(ledger, await appendBatch(ledger, reporter, [signed]));
        expect(link).to.deep.include({ index: 1, head, trust: TrustLevel.PlateSigned, reporter: reporter.address });
        expect(link.record).to.deep.equal(record);
      });

      it("logs a record a reporter only asserts as ReporterAsserted, next to plate-signed ones", async function () {
        const setup = await networkHelpers.loadFixture(ledgerFixture);
        const { ledger, reporter, plates, vehicleIds, t0 } = setup;
        const receipt = await appendBatch(ledger, reporter, [
          await plateSigned(setup, plates[0], vehicleIds[0], makeRecord(t0)),
          asserted(vehicleIds[0], makeRecord(t0 + DAY)),
          await plateSigned(setup, plates[1], vehicleIds[1], makeRecord(t0)),
        ]);
        const trusts = loggedLinks(ledger, receipt).map((link) => link.trust);
        expect(trusts).to.deep.equal([TrustLevel.PlateSigned, TrustLevel.ReporterAsserted, TrustLevel.PlateSigned]);
      });

      it("matches the digest plate keys sign with the library's EIP-712 hash", async function () {
        const { ledger, vehicleIds, chainId, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const record = makeRecord(t0, { corrects: 0 });
        const domain = ledgerDomain(chainId, await ledger.getAddress());
        const expected = TypedDataEncoder.hash(domain, DRIVING_RECORD_TYPES, { vehicleId: vehicleIds[0], ...record });
        expect(await ledger.recordDigest(vehicleIds[0], record)).to.equal(expected);
      });

      it("refuses a record signed by another key, naming the signer and the plate", async function () {
        const setup = await networkHelpers.loadFixture(ledgerFixture);
        const { ledger, reporter, plates, vehicleIds, t0 } = setup;
        const impostor = plateWallet("impostor");
        const forged = await plateSigned(setup, impostor, vehicleIds[0], makeRecord(t0));
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([forged])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerWrongSigner")
          .withArgs(vehicleIds[0], impostor.address, plates[0].address);
      });

      it("refuses another vehicle's plate, a signature for another ledger, and a revoked plate", async function () {
        const setup = await networkHelpers.loadFixture(ledgerFixture);
        const { ledger, registry, registrar, reporter, plates, vehicleIds, chainId, t0 } = setup;
        const record = makeRecord(t0);
        const otherVehiclesPlate = await plateSigned(setup, plates[1], vehicleIds[0], record);
        const otherDomain = ledgerDomain(chainId, await registry.getAddress());
        const otherLedger = {
          ...asserted(vehicleIds[0], record),
          trust: TrustLevel.PlateSigned,
          signature: await signRecord(plates[0], otherDomain, vehicleIds[0], record),
        };
        for (const bad of [otherVehiclesPlate, otherLedger]) {
          await expect(ledger.connect(reporter).appendRecords(encodeBatch([bad]))).to.be.revertedWithCustomError(
            ledger,
            "DrivingRecordLedgerWrongSigner",
          );
        }
        const signedByOldPlate = await plateSigned(setup, plates[0], vehicleIds[0], record);
        const newPlate = plateWallet("replacement");
        await registry.connect(registrar).rotatePlate(vehicleIds[0], newPlate.address);
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([signedByOldPlate])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerWrongSigner")
          .withArgs(vehicleIds[0], plates[0].address, newPlate.address);
        await appendBatch(ledger, reporter, [await plateSigned(setup, newPlate, vehicleIds[0], record)]);
      });

      it("refuses a signature whose record was altered after signing", async function () {
        const setup = await networkHelpers.loadFixture(ledgerFixture);
        const signed = await plateSigned(setup, setup.plates[0], setup.vehicleIds[0], makeRecord(setup.t0));
        const altered = { ...signed, record: { ...signed.record, harshBrakingCount: 0 } };
        await expect(
          setup.ledger.connect(setup.reporter).appendRecords(encodeBatch([altered])),
        ).to.be.revertedWithCustomError(setup.ledger, "DrivingRecordLedgerWrongSigner");
      });
    });

    describe("corrections", function () {
      it("appends a correction as a new record naming the corrected one, leaving time where it was", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const original = makeRecord(t0);
        const next = makeRecord(t0 + DAY);
        await appendBatch(ledger, reporter, [asserted(vehicleIds[0], original), asserted(vehicleIds[0], next)]);
        const [head2] = await ledger.chainOf(vehicleIds[0]);
        const correction = makeRecord(t0, { distanceMeters: 80_000, dataHash: id("re-processed trips"), corrects: 1 });
        const head3 = nextHead(head2, 3, reporter.address, vehicleIds[0], correction, TrustLevel.ReporterAsserted);
        const receipt = await appendBatch(ledger, reporter, [asserted(vehicleIds[0], correction)]);
        const [link] = loggedLinks(ledger, receipt);
        expect(link).to.deep.include({
          previousHead: head2,
          index: 3,
          head: head3,
          trust: TrustLevel.ReporterAsserted,
        });
        expect(link.record).to.deep.equal(correction);
        expect(await ledger.chainOf(vehicleIds[0])).to.deep.equal([head3, 3n, BigInt(next.periodEnd)]);
        // Time did not move back: the next regular record still starts after the second period.
        await expect(
          ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], makeRecord(t0 + DAY))])),
        ).to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerPeriodOverlap");
      });

      it("accepts a correction of a correction, plate-signed", async function () {
        const setup = await networkHelpers.loadFixture(ledgerFixture);
        const { ledger, reporter, plates, vehicleIds, t0 } = setup;
        await appendBatch(ledger, reporter, [
          asserted(vehicleIds[0], makeRecord(t0)),
          asserted(vehicleIds[0], makeRecord(t0, { distanceMeters: 1_000, nightDistanceMeters: 0, corrects: 1 })),
          await plateSigned(setup, plates[0], vehicleIds[0], makeRecord(t0, { corrects: 2 })),
        ]);
        expect((await ledger.chainOf(vehicleIds[0])).count).to.equal(3n);
      });

      it("refuses a correction naming a record the chain does not hold", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        const first = makeRecord(t0, { corrects: 1 });
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], first)])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerInvalidCorrection")
          .withArgs(vehicleIds[0], 1, 0);
        await appendBatch(ledger, reporter, [asserted(vehicleIds[0], makeRecord(t0))]);
        const ahead = makeRecord(t0, { corrects: 2 });
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], ahead)])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerInvalidCorrection")
          .withArgs(vehicleIds[0], 2, 1);
      });

      it("refuses a correction reaching past the last recorded period", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(ledgerFixture);
        await appendBatch(ledger, reporter, [asserted(vehicleIds[0], makeRecord(t0))]);
        const correction = makeRecord(t0 + 1, { corrects: 1 });
        await expect(ledger.connect(reporter).appendRecords(encodeBatch([asserted(vehicleIds[0], correction)])))
          .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerCorrectionOutsideHistory")
          .withArgs(vehicleIds[0], t0 + DAY + 1, t0 + DAY);
      });
    });

    describe("gas", function () {
      before(function () {
        skipGasAssertionsUnderCoverage(this);
      });

      it("costs at most 9,000 gas per record in a batch of 100 vehicles that already have records", async function () {
        const { ledger, reporter, vehicleIds, t0 } = await networkHelpers.loadFixture(hundredVehiclesWithRecordsFixture);
        const receipt = await appendBatch(
          ledger,
          reporter,
          vehicleIds.map((vehicleId, i) =>
            asserted(vehicleId, makeRecord(t0 + DAY, { distanceMeters: 50_000 + i * 137, dataHash: id(`day 2 ${i}`) })),
          ),
        );
        const perRecord = receipt.gasUsed / 100n;
        console.log(`        appendRecords, 100 reporter-asserted records of known vehicles: ${perRecord} gas/record`);
        expect(perRecord).to.be.at.most(9_000n);
        expect(receipt.logs).to.have.length(100);
      });

      it("reports the cost of first records and of plate-signed records", async function () {
        const setup = await networkHelpers.loadFixture(hundredVehiclesWithRecordsFixture);
        const { ledger, reporter, plates, vehicleIds, t0 } = setup;
        const signed = await Promise.all(
          vehicleIds.map((vehicleId, i) => plateSigned(setup, plates[i], vehicleId, makeRecord(t0 + DAY))),
        );
        const signedReceipt = await appendBatch(ledger, reporter, signed);
        console.log(`        appendRecords, 100 plate-signed records of known vehicles: ${signedReceipt.gasUsed / 100n} gas/record`);
        const fresh = await deployLedger(ethers, 100);
        const firstReceipt = await appendBatch(
          fresh.ledger,
          fresh.reporter,
          fresh.vehicleIds.map((vehicleId) => asserted(vehicleId, makeRecord(t0))),
        );
        console.log(`        appendRecords, 100 first records (registry check): ${firstReceipt.gasUsed / 100n} gas/record`);
        // Bounds that catch a regression without pinning exact figures.
        expect(signedReceipt.gasUsed / 100n).to.be.below(21_000n);
        expect(firstReceipt.gasUsed / 100n).to.be.below(31_000n);
      });
    });
  });

  describe("consent", function () {
    async function consentFixture() {
      const setup = await ledgerFixture();
      const expiry = (await networkHelpers.time.latest()) + 365 * DAY;
      return { ...setup, expiry };
    }

    it("lets the owner grant an insurer consent until an expiry", async function () {
      const { ledger, owner, insurer, vehicleIds, expiry } = await networkHelpers.loadFixture(consentFixture);
      await expect(ledger.connect(owner).grantConsent(vehicleIds[0], insurer.address, expiry))
        .to.emit(ledger, "ConsentGranted")
        .withArgs(vehicleIds[0], insurer.address, owner.address, expiry);
      expect(await ledger.hasConsent(vehicleIds[0], insurer.address)).to.equal(true);
      expect(await ledger.consentOf(vehicleIds[0], insurer.address)).to.deep.equal([owner.address, BigInt(expiry), true]);
      expect(await ledger.hasConsent(vehicleIds[1], insurer.address)).to.equal(false);
    });

    it("ends by itself at the expiry", async function () {
      const { ledger, owner, insurer, vehicleIds, expiry } = await networkHelpers.loadFixture(consentFixture);
      await ledger.connect(owner).grantConsent(vehicleIds[0], insurer.address, expiry);
      await networkHelpers.time.increaseTo(expiry - 1);
      expect(await ledger.hasConsent(vehicleIds[0], insurer.address)).to.equal(true);
      await networkHelpers.time.increaseTo(expiry);
      expect(await ledger.hasConsent(vehicleIds[0], insurer.address)).to.equal(false);
      expect(await ledger.consentOf(vehicleIds[0], insurer.address)).to.deep.equal([owner.address, BigInt(expiry), false]);
    });

    it("lets the owner revoke it", async function () {
      const { ledger, owner, insurer, vehicleIds, expiry } = await networkHelpers.loadFixture(consentFixture);
      await ledger.connect(owner).grantConsent(vehicleIds[0], insurer.address, expiry);
      await expect(ledger.connect(owner).revokeConsent(vehicleIds[0], insurer.address))
        .to.emit(ledger, "ConsentRevoked")
        .withArgs(vehicleIds[0], insurer.address, owner.address);
      expect(await ledger.consentOf(vehicleIds[0], insurer.address)).to.deep.equal([ZeroAddress, 0n, false]);
      await expect(ledger.connect(owner).revokeConsent(vehicleIds[0], insurer.address))
        .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerNoConsent")
        .withArgs(vehicleIds[0], insurer.address);
    });

    it("ends when the vehicle is sold, and the buyer may grant afresh or clear the stale grant", async function () {
      const { ledger, registry, owner, buyer, insurer, vehicleIds, expiry } =
        await networkHelpers.loadFixture(consentFixture);
      await ledger.connect(owner).grantConsent(vehicleIds[0], insurer.address, expiry);
      await registry.connect(owner).transferFrom(owner.address, buyer.address, vehicleIds[0]);
      expect(await ledger.hasConsent(vehicleIds[0], insurer.address)).to.equal(false);
      expect(await ledger.consentOf(vehicleIds[0], insurer.address)).to.deep.equal([owner.address, BigInt(expiry), false]);
      await expect(ledger.connect(owner).revokeConsent(vehicleIds[0], insurer.address))
        .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerNotVehicleOwner")
        .withArgs(vehicleIds[0], owner.address, buyer.address);
      await expect(ledger.connect(buyer).revokeConsent(vehicleIds[0], insurer.address))
        .to.emit(ledger, "ConsentRevoked")
        .withArgs(vehicleIds[0], insurer.address, buyer.address);
      await ledger.connect(buyer).grantConsent(vehicleIds[0], insurer.address, expiry);
      expect(await ledger.hasConsent(vehicleIds[0], insurer.address)).to.equal(true);
    });

    it("refuses a grant from anyone but the owner, for an unknown vehicle, to nobody, or already expired", async function () {
      const { ledger, owner, stranger, insurer, vehicleIds, expiry } = await networkHelpers.loadFixture(consentFixture);
      await expect(ledger.connect(stranger).grantConsent(vehicleIds[0], insurer.address, expiry))
        .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerNotVehicleOwner")
        .withArgs(vehicleIds[0], stranger.address, owner.address);
      await expect(ledger.connect(owner).grantConsent(99n, insurer.address, expiry))
        .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerUnknownVehicle")
        .withArgs(99n);
      await expect(ledger.connect(owner).grantConsent(vehicleIds[0], ZeroAddress, expiry))
        .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerInvalidInsurer")
        .withArgs(ZeroAddress);
      const now = await networkHelpers.time.latest();
      await networkHelpers.time.setNextBlockTimestamp(now + 5);
      await expect(ledger.connect(owner).grantConsent(vehicleIds[0], insurer.address, now + 5))
        .to.be.revertedWithCustomError(ledger, "DrivingRecordLedgerInvalidConsentExpiry")
        .withArgs(now + 5, now + 5);
    });

    it("reads as no consent for an unknown vehicle, and survives a status change", async function () {
      const { ledger, registry, admin, owner, insurer, vehicleIds, expiry } =
        await networkHelpers.loadFixture(consentFixture);
      expect(await ledger.hasConsent(99n, insurer.address)).to.equal(false);
      await ledger.connect(owner).grantConsent(vehicleIds[0], insurer.address, expiry);
      await registry.connect(admin).grantRole(await registry.REGULATOR_ROLE(), admin.address);
      await registry.connect(admin).setStatus(vehicleIds[0], VehicleStatus.Stolen, 7);
      expect(await ledger.hasConsent(vehicleIds[0], insurer.address)).to.equal(true);
    });
  });
});
