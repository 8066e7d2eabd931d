import { expect } from "chai";
import { ZeroAddress, getAddress, id, toBeHex } from "ethers";
import type { Filter } from "ethers";
import { network } from "hardhat";

import {
  InsurerClient,
  InsurerError,
  resolveCorrections,
  summarize,
  verifyChain,
  type ChainIssueKind,
  type LedgerRecord,
} from "../../scripts/lib/insurer.js";
import { GENESIS_HEAD, TrustLevel, decodeLink, encodeLink, nextHead } from "../../scripts/lib/ledger.js";
import { parseManifest } from "../../scripts/lib/manifest.js";
import { DAY, appendBatch, asserted, deployLedger, makeRecord, plateSigned, plateWallet } from "./ledgerSetup.js";
import { expectRejection } from "../utils/rejection.js";

const { ethers, networkHelpers } = await network.create();

/**
 * Vehicle 1 gets five records over five transactions (a plate-signed one and a correction among them), vehicle 2
 * gets records in between, so vehicle 1's logs are spread over several blocks and interleaved with others.
 */
async function readerFixture() {
  const setup = await deployLedger(ethers, 2);
  const { ledger, reporter, plates, vehicleIds } = setup;
  const deployBlock = (await ledger.deploymentTransaction()?.wait())?.blockNumber ?? 0;
  const t0 = (await networkHelpers.time.latest()) - 30 * DAY;
  const [car, other] = vehicleIds;
  const day1 = makeRecord(t0, {
    distanceMeters: 100_000,
    drivingSeconds: 7_200,
    harshBrakingCount: 2,
    harshAccelerationCount: 1,
    speedingSeconds: 720,
    nightDistanceMeters: 20_000,
  });
  const day2 = makeRecord(t0 + DAY, {
    distanceMeters: 50_000,
    drivingSeconds: 3_600,
    harshBrakingCount: 0,
    harshAccelerationCount: 1,
    speedingSeconds: 0,
    nightDistanceMeters: 0,
  });
  const day5 = makeRecord(t0 + 4 * DAY, { distanceMeters: 30_000, nightDistanceMeters: 30_000 });
  // Record 4 corrects record 2: the reprocessed trips found 10 km more and a harsh braking event.
  const day2Corrected = {
    ...day2,
    distanceMeters: 60_000,
    harshBrakingCount: 1,
    dataHash: id("day 2 v2"),
    corrects: 2,
  };

  await appendBatch(ledger, reporter, [asserted(car, day1), asserted(other, makeRecord(t0))]);
  await appendBatch(ledger, reporter, [await plateSigned(setup, plates[0], car, day2)]);
  await appendBatch(ledger, reporter, [asserted(other, makeRecord(t0 + DAY))]);
  await appendBatch(ledger, reporter, [asserted(car, day5)]);
  await appendBatch(ledger, reporter, [asserted(car, day2Corrected)]);
  await appendBatch(ledger, reporter, [asserted(car, makeRecord(t0 + 5 * DAY))]);

  const client = new InsurerClient(ethers.provider, {
    ledgerAddress: await ledger.getAddress(),
    registryAddress: await setup.registry.getAddress(),
    startBlock: deployBlock,
    maxBlockSpan: 2,
  });
  const latest = await ethers.provider.getBlockNumber();
  const records = await client.fetchRecords(car, latest);
  const [head, count] = await ledger.chainOf(car);
  return { ...setup, client, records, head, count, t0, car, other, deployBlock, day1, day2, day2Corrected, day5 };
}

function kinds(issues: readonly { kind: ChainIssueKind }[]): ChainIssueKind[] {
  return issues.map((issue) => issue.kind);
}

describe("insurer reader", function () {
  describe("fetchRecords", function () {
    it("pages through log ranges and returns the vehicle's whole chain in order", async function () {
      const { records, count, car } = await networkHelpers.loadFixture(readerFixture);
      expect(records.map((r) => r.index)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(BigInt(records.length)).to.equal(count);
      expect(records.every((r) => r.vehicleId === car)).to.equal(true);
      expect(records.map((r) => r.trust)).to.deep.equal([0, 1, 0, 0, 0]);
    });

    it("returns the same records whatever the block span per getLogs call", async function () {
      const { client, records, car, ledger, registry, deployBlock } = await networkHelpers.loadFixture(readerFixture);
      const latest = await ethers.provider.getBlockNumber();
      for (const maxBlockSpan of [1, 3, 10_000]) {
        const paged = new InsurerClient(ethers.provider, {
          ledgerAddress: await ledger.getAddress(),
          registryAddress: await registry.getAddress(),
          startBlock: deployBlock,
          maxBlockSpan,
        });
        expect(await paged.fetchRecords(car, latest)).to.deep.equal(records);
      }
      expect(client.maxBlockSpan).to.equal(2);
    });

    it("decodes each record exactly as it was appended", async function () {
      const { records, reporter, day1, day2, day2Corrected } = await networkHelpers.loadFixture(readerFixture);
      expect(records[0].record).to.deep.equal(day1);
      expect(records[1].record).to.deep.equal(day2);
      expect(records[3].record).to.deep.equal(day2Corrected);
      expect(records[0].reporter).to.equal(reporter.address);
      expect(records[0].head).to.equal(nextHead(GENESIS_HEAD, 1, reporter.address, records[0].vehicleId, day1, 0));
    });

    it("refuses, naming the log, a record log an RPC endpoint returned out of shape", async function () {
      const { ledger, registry, deployBlock, car } = await networkHelpers.loadFixture(readerFixture);
      // The endpoint sets the last byte of the first log's data, which a link keeps zero.
      const hostile = new Proxy(ethers.provider, {
        get(target, property, receiver) {
          if (property !== "getLogs") return Reflect.get(target, property, receiver) as unknown;
          return async (filter: Filter) => {
            const logs = await target.getLogs(filter);
            return logs.map((log, i) => (i === 0 ? { ...log, data: `${log.data.slice(0, -2)}01` } : log));
          };
        },
      });
      const client = new InsurerClient(hostile, {
        ledgerAddress: await ledger.getAddress(),
        registryAddress: await registry.getAddress(),
        startBlock: deployBlock,
      });
      const [first] = await ethers.provider.getLogs({
        address: await ledger.getAddress(),
        topics: [toBeHex(car, 32)],
        fromBlock: deployBlock,
      });
      const error = await expectRejection(
        client.fetchRecords(car, await ethers.provider.getBlockNumber()),
        /is not a driving record link/,
      );
      expect(error).to.be.instanceOf(InsurerError);
      expect(error.message).to.equal(
        `log ${first.index} of transaction ${first.transactionHash} is not a driving record link: ` +
          "a link's last 7 bytes must be zero",
      );
    });
  });

  describe("decodeLink", function () {
    const record = makeRecord(1_700_000_000);
    const reporter = getAddress(`0x${"ab".repeat(20)}`);
    const words = encodeLink(GENESIS_HEAD, 1, reporter, 7n, record, TrustLevel.PlateSigned);

    it("reads back what encodeLink wrote, and the head the ledger would store", function () {
      expect(decodeLink(words)).to.deep.equal({
        previousHead: GENESIS_HEAD,
        index: 1,
        reporter,
        vehicleId: 7n,
        record,
        trust: TrustLevel.PlateSigned,
        head: nextHead(GENESIS_HEAD, 1, reporter, 7n, record, TrustLevel.PlateSigned),
      });
    });

    it("refuses a link of another size, with padding set, or with a trust byte other than 0 or 1", function () {
      expect(() => decodeLink(words.slice(0, 3))).to.throw(RangeError, "a link is 4 words, got 3");
      expect(() => decodeLink([...words.slice(0, 3), "0x01"])).to.throw(RangeError, "a link word must be 32 bytes");
      const padded = [...words.slice(0, 3), `${words[3].slice(0, -2)}01`];
      expect(() => decodeLink(padded)).to.throw(RangeError, "a link's last 7 bytes must be zero");
      // The trust byte is the preimage's byte 120: the last word's byte 24.
      const trustAt = 2 + 2 * 24;
      const badTrust = [...words.slice(0, 3), `${words[3].slice(0, trustAt)}02${words[3].slice(trustAt + 2)}`];
      expect(() => decodeLink(badTrust)).to.throw(RangeError, "record of vehicle 7: trust byte 2 is neither 0 nor 1");
    });
  });

  describe("verifyChain", function () {
    it("verifies the chain as fetched against the on-chain head and count", async function () {
      const { records, head, count } = await networkHelpers.loadFixture(readerFixture);
      const verification = verifyChain(records, head, count);
      expect(verification.issues).to.deep.equal([]);
      expect(verification.valid).to.equal(true);
      expect(verification.recomputedHead).to.equal(head);
    });

    it("verifies an empty copy of a vehicle without records", function () {
      expect(verifyChain([], GENESIS_HEAD, 0).valid).to.equal(true);
    });

    it("detects a tampered record and names it", async function () {
      const { records, head, count } = await networkHelpers.loadFixture(readerFixture);
      const tampered = records.map((r) =>
        r.index === 3 ? { ...r, record: { ...r.record, harshBrakingCount: 0, speedingSeconds: 0 } } : r,
      );
      const verification = verifyChain(tampered, head, count);
      expect(verification.valid).to.equal(false);
      expect(kinds(verification.issues)).to.deep.equal(["altered", "head-mismatch"]);
      expect(verification.issues[0].index).to.equal(3);
    });

    it("detects a tampered copy whose logged links were recomputed to match", async function () {
      const { records, head, count } = await networkHelpers.loadFixture(readerFixture);
      let previous = GENESIS_HEAD;
      const forged: LedgerRecord[] = records.map((r) => {
        const record = r.index === 1 ? { ...r.record, distanceMeters: 1 } : r.record;
        previous = nextHead(previous, r.index, r.reporter, r.vehicleId, record, r.trust);
        return { ...r, record, head: previous };
      });
      const verification = verifyChain(forged, head, count);
      expect(kinds(verification.issues)).to.deep.equal(["head-mismatch"]);
    });

    it("detects a downgraded or upgraded trust level and a changed reporter", async function () {
      const { records, head, count, stranger } = await networkHelpers.loadFixture(readerFixture);
      const upgraded = records.map((r) => (r.index === 1 ? { ...r, trust: TrustLevel.PlateSigned } : r));
      const reattributed = records.map((r) => (r.index === 1 ? { ...r, reporter: stranger.address } : r));
      expect(kinds(verifyChain(upgraded, head, count).issues)).to.deep.equal(["altered", "head-mismatch"]);
      expect(kinds(verifyChain(reattributed, head, count).issues)).to.deep.equal(["altered", "head-mismatch"]);
    });

    it("detects a missing record and names it", async function () {
      const { records, head, count } = await networkHelpers.loadFixture(readerFixture);
      const verification = verifyChain(
        records.filter((r) => r.index !== 2),
        head,
        count,
      );
      expect(kinds(verification.issues)).to.deep.equal(["missing", "count-mismatch", "head-mismatch"]);
      expect(verification.issues[0].index).to.equal(2);
    });

    it("detects a copy cut short at the end", async function () {
      const { records, head, count } = await networkHelpers.loadFixture(readerFixture);
      const verification = verifyChain(records.slice(0, 4), head, count);
      expect(kinds(verification.issues)).to.deep.equal(["missing", "count-mismatch", "head-mismatch"]);
      expect(verification.issues[0].index).to.equal(5);
    });

    it("detects a reordered copy", async function () {
      const { records, head, count } = await networkHelpers.loadFixture(readerFixture);
      const reordered = [records[0], records[2], records[1], records[3], records[4]];
      const verification = verifyChain(reordered, head, count);
      expect(kinds(verification.issues)).to.deep.equal(["reordered", "head-mismatch"]);
      expect(verification.issues[0].index).to.equal(2);
    });

    it("detects a duplicated record and one of another vehicle", async function () {
      const { records, head, count, client, other } = await networkHelpers.loadFixture(readerFixture);
      const duplicated = [...records.slice(0, 3), records[2], ...records.slice(3)];
      expect(kinds(verifyChain(duplicated, head, count).issues)).to.deep.equal([
        "duplicate",
        "count-mismatch",
        "head-mismatch",
      ]);
      const [foreign] = await client.fetchRecords(other, await ethers.provider.getBlockNumber());
      const mixed = [...records.slice(0, 4), { ...foreign, index: 5 }];
      expect(kinds(verifyChain(mixed, head, count).issues)).to.include.members(["foreign", "head-mismatch"]);
    });

    it("detects records the ledger does not count", async function () {
      const { records, head, count } = await networkHelpers.loadFixture(readerFixture);
      const extra = { ...records[4], index: 6 };
      expect(kinds(verifyChain([...records, extra], head, count).issues)).to.deep.equal([
        "unexpected",
        "altered",
        "count-mismatch",
        "head-mismatch",
      ]);
    });

    it("cannot verify a time range without the chain's earlier records", async function () {
      const { records, head, count } = await networkHelpers.loadFixture(readerFixture);
      const lastTwo = records.slice(3);
      const verification = verifyChain(lastTwo, head, count);
      expect(verification.valid).to.equal(false);
      expect(kinds(verification.issues)).to.include("missing");
    });
  });

  describe("corrections", function () {
    it("puts a correction in force in place of the record it corrects", async function () {
      const { records, day2Corrected } = await networkHelpers.loadFixture(readerFixture);
      const { effective, warnings } = resolveCorrections(records);
      expect(warnings).to.deep.equal([]);
      expect(effective.map((e) => e.original.index)).to.deep.equal([1, 2, 3, 5]);
      expect(effective[1].current.record).to.deep.equal(day2Corrected);
      expect(effective[1].corrections).to.deep.equal([4]);
    });

    it("follows a correction of a correction, and ignores a replayed one", async function () {
      const { records } = await networkHelpers.loadFixture(readerFixture);
      const base = records[3];
      const second = { ...base, index: 6, record: { ...base.record, distanceMeters: 70_000, corrects: 4 } };
      const replay = { ...base, index: 7, record: { ...base.record, corrects: 6 } };
      const { effective, warnings } = resolveCorrections([...records, second, replay]);
      expect(effective[1].corrections).to.deep.equal([4, 6]);
      expect(effective[1].current.record.distanceMeters).to.equal(70_000);
      expect(warnings).to.deep.equal(["correction #7 repeats #4 word for word: ignored as a replay"]);
    });

    it("ignores a correction that covers another period than the record it corrects", async function () {
      const { records } = await networkHelpers.loadFixture(readerFixture);
      const base = records[3];
      const shifted = {
        ...base,
        index: 6,
        record: { ...base.record, periodEnd: base.record.periodEnd - 1, corrects: 4 },
      };
      const { effective, warnings } = resolveCorrections([...records, shifted]);
      expect(effective[1].corrections).to.deep.equal([4]);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/^correction #6 of #4 covers .* not the corrected period/);
    });
  });

  describe("summary", function () {
    it("sums the records in force and derives the insurer's ratios", async function () {
      const { records } = await networkHelpers.loadFixture(readerFixture);
      const { effective } = resolveCorrections(records);
      const firstTwo = summarize(effective.slice(0, 2));
      // Day 1: 100 km, 2 h, 2 + 1 harsh, 12 min speeding, 20 km at night; day 2 as corrected: 60 km, 1 h, 1 + 1.
      expect(firstTwo.distanceKm).to.equal(160);
      expect(firstTwo.drivingHours).to.equal(3);
      expect(firstTwo.harshBraking).to.equal(3);
      expect(firstTwo.harshAcceleration).to.equal(2);
      expect(firstTwo.harshEventsPer100Km).to.equal(5 / 1.6);
      expect(firstTwo.speedingShare).to.equal(720 / 10_800);
      expect(firstTwo.nightShare).to.equal(20 / 160);
      expect(firstTwo.plateSigned).to.equal(0);
      expect(firstTwo.corrected).to.equal(1);
      expect(firstTwo.uncoveredSeconds).to.equal(0);
      // Days 3 and 4 have no record.
      expect(summarize(effective.slice(1, 3)).uncoveredSeconds).to.equal(2 * DAY);
    });

    it("reports no ratios without distance or driving time", function () {
      const empty = summarize([]);
      expect(empty.harshEventsPer100Km).to.equal(null);
      expect(empty.speedingShare).to.equal(null);
      expect(empty.nightShare).to.equal(null);
    });
  });

  describe("report", function () {
    it("reads a vehicle by id: verified chain, records in force in the range, summary", async function () {
      const { client, insurer, car, t0, head } = await networkHelpers.loadFixture(readerFixture);
      const report = await client.report(car.toString(), {
        range: { from: t0 + DAY, to: t0 + 4 * DAY },
        insurer: insurer.address,
      });
      expect(report.verification.valid).to.equal(true);
      expect(report.chain.head).to.equal(head);
      expect(report.records).to.have.length(5);
      // Only day 2 (as corrected) overlaps [day 2, day 4): day 1 ends where the range starts.
      expect(report.inRange.map((e) => e.original.index)).to.deep.equal([2]);
      expect(report.summary.distanceKm).to.equal(60);
      expect(report.consent.state).to.equal("none");
    });

    it("reads a vehicle by its plate key, and refuses revoked, unknown and unregistered ones", async function () {
      const { client, registry, registrar, insurer, plates, car } = await networkHelpers.loadFixture(readerFixture);
      const report = await client.report(plates[0].address, { insurer: insurer.address });
      expect(report.vehicle.vehicleId).to.equal(car);
      expect(report.inRange).to.have.length(4);
      await registry.connect(registrar).rotatePlate(car, plateWallet("new plate").address);
      await expectRejection(client.report(plates[0].address, { insurer: insurer.address }), /was revoked/);
      await expectRejection(
        client.report(plateWallet("nobody").address, { insurer: insurer.address }),
        /no vehicle carries/,
      );
      await expectRejection(client.report("42", { insurer: insurer.address }), /vehicle 42 is not registered/);
    });

    it("reports the insurer's consent: granted, expired, void after a sale, revoked", async function () {
      const { client, ledger, registry, owner, buyer, insurer, car } = await networkHelpers.loadFixture(readerFixture);
      const expiry = (await networkHelpers.time.latest()) + 30 * DAY;
      await ledger.connect(owner).grantConsent(car, insurer.address, expiry);
      const granted = await client.report(car.toString(), { insurer: insurer.address });
      expect(granted.consent).to.deep.include({ state: "active", active: true, grantor: owner.address, expiry });

      const snapshot = await networkHelpers.takeSnapshot();
      await networkHelpers.time.increaseTo(expiry);
      expect((await client.report(car.toString(), { insurer: insurer.address })).consent.state).to.equal("expired");
      await snapshot.restore();

      await registry.connect(owner).transferFrom(owner.address, buyer.address, car);
      const sold = await client.report(car.toString(), { insurer: insurer.address });
      expect(sold.consent.state).to.equal("void-after-sale");
      expect(sold.vehicle.owner).to.equal(buyer.address);
      await ledger.connect(buyer).revokeConsent(car, insurer.address);
      const revoked = await client.report(car.toString(), { insurer: insurer.address });
      expect(revoked.consent).to.deep.include({ state: "none", grantor: ZeroAddress });
    });

    it("reports a chain that does not verify when the scan starts after the first record", async function () {
      const { ledger, registry, insurer, car, records } = await networkHelpers.loadFixture(readerFixture);
      const late = new InsurerClient(ethers.provider, {
        ledgerAddress: await ledger.getAddress(),
        registryAddress: await registry.getAddress(),
        startBlock: records[1].blockNumber,
      });
      const report = await late.report(car.toString(), { insurer: insurer.address });
      expect(report.verification.valid).to.equal(false);
      expect(report.verification.issues[0]).to.deep.include({ kind: "missing", index: 1 });
    });

    it("refuses an empty range", async function () {
      const { client, insurer, car, t0 } = await networkHelpers.loadFixture(readerFixture);
      await expectRejection(
        client.report(car.toString(), { range: { from: t0, to: t0 }, insurer: insurer.address }),
        /the range is empty/,
      );
    });
  });

  describe("fromManifest", function () {
    async function manifestFor(overrides: { chainId?: number; ledger?: string; registry?: string } = {}) {
      const { ledger, registry, deployBlock } = await networkHelpers.loadFixture(readerFixture);
      const { chainId } = await ethers.provider.getNetwork();
      return parseManifest(
        {
          chainId: overrides.chainId ?? Number(chainId),
          network: "default",
          contracts: {
            VehicleRegistry: { address: overrides.registry ?? (await registry.getAddress()), blockNumber: deployBlock },
            TollEscrow: { address: await registry.getAddress(), blockNumber: deployBlock },
            DrivingRecordLedger: { address: overrides.ledger ?? (await ledger.getAddress()), blockNumber: deployBlock },
          },
        },
        "test manifest",
      );
    }

    it("builds a client that starts at the ledger's deployment block", async function () {
      const { deployBlock } = await networkHelpers.loadFixture(readerFixture);
      const client = await InsurerClient.fromManifest(ethers.provider, await manifestFor(), { maxBlockSpan: 5 });
      expect(client.startBlock).to.equal(deployBlock);
      expect(client.maxBlockSpan).to.equal(5);
    });

    it("refuses a manifest of another chain, a ledger address without code, and a mismatched registry", async function () {
      const { insurer, stranger } = await networkHelpers.loadFixture(readerFixture);
      await expectRejection(
        InsurerClient.fromManifest(ethers.provider, await manifestFor({ chainId: 11155111 })),
        /the manifest is for chain 11155111 \(default\), the RPC endpoint serves chain 31337/,
      );
      await expectRejection(
        InsurerClient.fromManifest(ethers.provider, await manifestFor({ ledger: insurer.address })),
        /no contract at the manifest's DrivingRecordLedger address/,
      );
      await expectRejection(
        InsurerClient.fromManifest(ethers.provider, await manifestFor({ registry: stranger.address })),
        /the ledger reads registry .*, the manifest names VehicleRegistry/,
      );
    });
  });
});
