import { readFile } from "node:fs/promises";

import { expect } from "chai";
import { network } from "hardhat";

import { IVehicleRegistry__factory } from "../../typechain-types/index.js";
import { Journal } from "../../scripts/lib/relayer/journal.js";
import { silentLogger } from "../../scripts/lib/relayer/logger.js";
import { Rpc } from "../../scripts/lib/relayer/rpc.js";
import { hashLine, parseReading, PlateResolver, Validator, type Verdict } from "../../scripts/lib/relayer/validator.js";
import { VehicleClass } from "../../scripts/lib/vehicle.js";

const { ethers, networkHelpers } = await network.create();

const NOW = 1_800_000_000;
const SKEW = 30;
const ADMIN_DELAY = 3n * 24n * 60n * 60n;

async function registryWithVehiclesFixture() {
  const [admin] = await ethers.getSigners();
  const registry = await ethers.deployContract("VehicleRegistry", [ADMIN_DELAY, admin.address]);
  await registry.grantRole(await registry.REGISTRAR_ROLE(), admin.address);
  const plates = [ethers.Wallet.createRandom(), ethers.Wallet.createRandom()].map((wallet) => wallet.address);
  for (const [index, plate] of plates.entries()) {
    await registry.registerVehicle(admin.address, plate, ethers.id(`VIN-${index}`), VehicleClass.Car);
  }
  // Vehicle 2 loses its plate: the old key is revoked, a new one issued.
  const rotatedPlate = plates[1];
  const newPlate = ethers.Wallet.createRandom().address;
  await registry.rotatePlate(2n, newPlate);
  return { registry, activePlate: plates[0], rotatedPlate, newPlate };
}

function line(lineNo: number, fields: Record<string, unknown>) {
  return { lineNo, text: JSON.stringify(fields), tooLong: false };
}

describe("relayer validator", function () {
  describe("parseReading", function () {
    const plate = "0x" + "ab".repeat(20);
    const ok = { gantry: 7, plate, time: NOW, seq: 1 };

    it("accepts unix seconds and ISO 8601 with a zone", function () {
      expect(parseReading(JSON.stringify(ok), NOW, SKEW)).to.deep.equal({
        ok: true,
        reading: { gantryId: 7, plate: ethers.getAddress(plate), timestamp: NOW, sequence: 1 },
      });
      const iso = parseReading(JSON.stringify({ ...ok, time: "2027-01-15T08:00:01.5+01:00" }), NOW, SKEW);
      expect(iso.ok && iso.reading.timestamp).to.equal(Date.UTC(2027, 0, 15, 7, 0, 1) / 1000);
    });

    it("ignores fields it does not know", function () {
      expect(parseReading(JSON.stringify({ ...ok, lane: 2 }), NOW, SKEW).ok).to.equal(true);
    });

    const rejected: Array<[string, string, string]> = [
      ["{not json", "malformed-json", "not JSON"],
      ["[1,2]", "invalid-reading", "an array"],
      ["null", "invalid-reading", "null"],
      [JSON.stringify({ ...ok, gantry: "7" }), "invalid-reading", "a string gantry"],
      [JSON.stringify({ ...ok, gantry: -1 }), "invalid-reading", "a negative gantry"],
      [JSON.stringify({ ...ok, gantry: 2 ** 32 }), "invalid-reading", "a gantry over uint32"],
      [JSON.stringify({ ...ok, seq: 1.5 }), "invalid-reading", "a fractional seq"],
      [JSON.stringify({ ...ok, seq: 2 ** 40 }), "invalid-reading", "a seq over uint40"],
      [JSON.stringify({ ...ok, seq: undefined }), "invalid-reading", "a missing seq"],
      [JSON.stringify({ ...ok, plate: "0x1234" }), "invalid-reading", "a short plate"],
      [JSON.stringify({ ...ok, plate: plate.replace("0xab", "0xAb") }), "invalid-reading", "a bad checksum"],
      [JSON.stringify({ ...ok, time: "2026-11-25T08:00:01" }), "invalid-reading", "a time without zone"],
      [JSON.stringify({ ...ok, time: "yesterday" }), "invalid-reading", "a time in words"],
      [JSON.stringify({ ...ok, time: 0 }), "invalid-reading", "time zero"],
      [JSON.stringify({ ...ok, time: NOW + SKEW + 1 }), "future-time", "a time past the skew"],
      [JSON.stringify({ ...ok, time: NOW * 1000 }), "invalid-reading", "milliseconds"],
      [JSON.stringify({ ...ok, time: 2e11 }), "future-time", "a time in the year 8300"],
    ];
    for (const [text, reason, what] of rejected) {
      it(`rejects ${what} as ${reason}`, function () {
        const result = parseReading(text, NOW, SKEW);
        expect(result.ok).to.equal(false);
        if (!result.ok) expect(result.reason).to.equal(reason);
      });
    }

    it("accepts every line of examples/readings.ndjson", async function () {
      const text = await readFile("examples/readings.ndjson", "utf-8");
      for (const line of text.trim().split("\n"))
        expect(parseReading(line, 2_000_000_000, SKEW).ok, line).to.equal(true);
    });

    it("allows a time within the clock skew", function () {
      expect(parseReading(JSON.stringify({ ...ok, time: NOW + SKEW }), NOW, SKEW).ok).to.equal(true);
    });
  });

  describe("Validator", function () {
    async function validatorFixture() {
      const fixture = await networkHelpers.loadFixture(registryWithVehiclesFixture);
      const journal = Journal.open(":memory:", { chainId: 31337n, escrow: ethers.ZeroAddress });
      const rpc = new Rpc({ logger: silentLogger, signal: new AbortController().signal });
      const registry = IVehicleRegistry__factory.connect(await fixture.registry.getAddress(), ethers.provider);
      const validator = new Validator({
        journal,
        plates: new PlateResolver(registry, rpc),
        gantries: new Set([7, 8]),
        clockSkewSeconds: SKEW,
        maxLineBytes: 256,
        now: () => NOW,
      });
      return { ...fixture, journal, validator };
    }

    let context: Awaited<ReturnType<typeof validatorFixture>>;

    beforeEach(async function () {
      context = await validatorFixture();
    });

    afterEach(function () {
      context.journal.close();
    });

    const reasonOf = (verdict: Verdict) => (verdict.kind === "rejected" ? verdict.reason : verdict.kind);

    it("resolves the plate to its vehicle id", async function () {
      const verdict = await context.validator.validate(
        line(1, { gantry: 7, plate: context.activePlate, time: NOW, seq: 9 }),
      );
      expect(verdict).to.deep.equal({
        kind: "accepted",
        reading: {
          gantryId: 7,
          sequence: 9,
          vehicleId: 1,
          timestamp: NOW,
          lineNo: 1,
          lineHash: hashLine(JSON.stringify({ gantry: 7, plate: context.activePlate, time: NOW, seq: 9 })),
        },
      });
    });

    it("follows a rotation: the new plate resolves, the old one is a revoked (cloned) plate", async function () {
      const fresh = await context.validator.validate(
        line(1, { gantry: 7, plate: context.newPlate, time: NOW, seq: 1 }),
      );
      expect(fresh.kind === "accepted" && fresh.reading.vehicleId).to.equal(2);
      const cloned = await context.validator.validate(
        line(2, { gantry: 7, plate: context.rotatedPlate, time: NOW, seq: 2 }),
      );
      expect(reasonOf(cloned)).to.equal("revoked-plate");
    });

    it("rejects an unknown plate", async function () {
      const verdict = await context.validator.validate(
        line(1, { gantry: 7, plate: ethers.Wallet.createRandom().address, time: NOW, seq: 1 }),
      );
      expect(reasonOf(verdict)).to.equal("unknown-plate");
    });

    it("rejects a gantry the operator holds no key for", async function () {
      const verdict = await context.validator.validate(
        line(1, { gantry: 9, plate: context.activePlate, time: NOW, seq: 1 }),
      );
      expect(reasonOf(verdict)).to.equal("unknown-gantry");
    });

    it("rejects a line over the length limit", async function () {
      const verdict = await context.validator.validate({ lineNo: 1, text: "x".repeat(256), tooLong: true });
      expect(reasonOf(verdict)).to.equal("line-too-long");
    });

    it("tells a replayed line from a duplicate reading", async function () {
      const fields = { gantry: 7, plate: context.activePlate, time: NOW, seq: 5 };
      const first = await context.validator.validate(line(3, fields));
      if (first.kind !== "accepted") throw new Error("expected the first reading to pass");
      context.journal.recordReading(first.reading);
      // The same line at the same place: a restart reading the input again.
      expect((await context.validator.validate(line(3, fields))).kind).to.equal("replayed");
      // The same gantry and sequence anywhere else: a duplicate.
      expect(reasonOf(await context.validator.validate(line(4, fields)))).to.equal("duplicate");
      expect(reasonOf(await context.validator.validate(line(3, { ...fields, time: NOW - 1 })))).to.equal("duplicate");
      // Another gantry may use the same sequence.
      expect((await context.validator.validate(line(5, { ...fields, gantry: 8 }))).kind).to.equal("accepted");
    });

    it("skips a line it rejected before a restart", async function () {
      const text = "{oops";
      const verdict = await context.validator.validate({ lineNo: 2, text, tooLong: false });
      if (verdict.kind !== "rejected") throw new Error("expected a reject");
      context.journal.recordReject(2, verdict.lineHash, verdict.reason);
      expect((await context.validator.validate({ lineNo: 2, text, tooLong: false })).kind).to.equal("replayed");
    });
  });
});
