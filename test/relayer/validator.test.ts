import { readFile } from "node:fs/promises";

import { expect } from "chai";
import { BrowserProvider, makeError, type Log } from "ethers";
import { network } from "hardhat";

import { IVehicleRegistry__factory } from "../../typechain-types/index.js";
import { Journal } from "../../scripts/lib/relayer/journal.js";
import { silentLogger } from "../../scripts/lib/relayer/logger.js";
import { RelayerStopped, Rpc } from "../../scripts/lib/relayer/rpc.js";
import {
  hashLine,
  parseReading,
  PLATE_CACHE_TTL_MS,
  PLATE_EVENTS_MAX_BLOCKS,
  PLATE_EVENTS_MAX_LAG_MS,
  PLATE_EVENTS_POLL_MS,
  PLATE_LOOKUP_BATCH,
  PLATE_LOOKUP_PARALLELISM,
  PlateResolver,
  Validator,
  type Verdict,
} from "../../scripts/lib/relayer/validator.js";
import { VehicleClass } from "../../scripts/lib/vehicle.js";
import { expectRejection } from "../utils/rejection.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

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

/** The real Rpc, keeping count of the calls it makes and of how many were in flight at once. */
class CountingRpc extends Rpc {
  readonly calls = new Map<string, number>();
  #inFlight = 0;
  maxInFlight = 0;

  override async call<T>(label: string, fn: () => Promise<T>): Promise<T> {
    this.calls.set(label, (this.calls.get(label) ?? 0) + 1);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.#inFlight);
    try {
      return await super.call(label, fn);
    } finally {
      this.#inFlight--;
    }
  }
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
      const stop = new AbortController();
      const rpc = new CountingRpc({ logger: silentLogger, signal: stop.signal });
      const registry = IVehicleRegistry__factory.connect(await fixture.registry.getAddress(), ethers.provider);
      const options = {
        journal,
        plates: new PlateResolver(registry, rpc),
        gantries: new Set([7, 8]),
        clockSkewSeconds: SKEW,
        maxLineBytes: 256,
        now: () => NOW,
      };
      return { ...fixture, journal, options, validator: new Validator(options), rpc, stop };
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

    it("skips a line it rejected and reported before a restart", async function () {
      const text = "{oops";
      const verdict = await context.validator.validate({ lineNo: 2, text, tooLong: false });
      if (verdict.kind !== "rejected") throw new Error("expected a reject");
      context.journal.recordReject(2, verdict.lineHash, verdict.reason);
      context.journal.markReported([{ lineNo: 2, lineHash: verdict.lineHash }]);
      expect((await context.validator.validate({ lineNo: 2, text, tooLong: false })).kind).to.equal("replayed");
    });

    it("rejects again, for the journaled reason, a line whose reject never reached the rejects file", async function () {
      const text = JSON.stringify({ gantry: 7, plate: ethers.Wallet.createRandom().address, time: NOW, seq: 3 });
      const lineHash = hashLine(text);
      context.journal.recordReject(4, lineHash, "unknown-plate");
      const verdict = await context.validator.validate({ lineNo: 4, text, tooLong: false });
      expect(verdict).to.deep.include({ kind: "rejected", reason: "unknown-plate", lineHash, journaled: true });
    });

    describe("a group of lines", function () {
      /** Journals a group's outcome as the relayer does, in one commit. */
      function journalGroup(lines: ReturnType<typeof line>[], verdicts: Verdict[]) {
        const readings = verdicts.flatMap((verdict) => (verdict.kind === "accepted" ? [verdict.reading] : []));
        const rejects = verdicts.flatMap((verdict, index) =>
          verdict.kind === "rejected"
            ? [{ lineNo: lines[index].lineNo, lineHash: verdict.lineHash, reason: verdict.reason }]
            : [],
        );
        context.journal.recordLines(readings, rejects);
        // The relayer writes them to the rejects file, then notes that in the journal.
        context.journal.markReported(rejects);
      }

      it("finds a duplicate within the group, as it would across groups", async function () {
        const fields = { gantry: 7, plate: context.activePlate, time: NOW, seq: 5 };
        const lines = [
          line(1, fields),
          line(2, fields),
          line(3, { ...fields, time: NOW - 1 }),
          line(4, { ...fields, gantry: 8 }),
        ];
        const verdicts = await context.validator.validateGroup(lines);
        expect(verdicts.map(reasonOf)).to.deep.equal(["accepted", "duplicate", "duplicate", "accepted"]);
        expect(verdicts[1].kind === "rejected" && verdicts[1].detail).to.match(/from line 1$/);
      });

      it("lets a key go to a later line when the line that had it is rejected", async function () {
        const fields = { gantry: 7, seq: 5, time: NOW };
        const verdicts = await context.validator.validateGroup([
          line(1, { ...fields, plate: context.rotatedPlate }),
          line(2, { ...fields, plate: context.activePlate }),
        ]);
        expect(verdicts.map(reasonOf)).to.deep.equal(["revoked-plate", "accepted"]);
      });

      it("gives the verdicts of checking each line after journaling the one before", async function () {
        const fields = { gantry: 7, plate: context.activePlate, time: NOW, seq: 1 };
        const lines = [
          line(1, fields),
          { lineNo: 2, text: "{oops", tooLong: false },
          line(3, { ...fields, seq: 2, plate: context.newPlate }),
          line(4, { ...fields, gantry: 9 }),
          line(5, { ...fields, seq: 3, plate: ethers.Wallet.createRandom().address }),
          line(6, { ...fields, seq: 4, time: NOW + SKEW + 1 }),
          line(7, { ...fields, time: NOW - 1 }),
        ];
        const one: Verdict[] = [];
        for (const single of lines) {
          const verdict = await context.validator.validate(single);
          journalGroup([single], [verdict]);
          one.push(verdict);
        }
        expect(one.map(reasonOf)).to.deep.equal([
          "accepted",
          "malformed-json",
          "accepted",
          "unknown-gantry",
          "unknown-plate",
          "future-time",
          "duplicate",
        ]);
        const separate = Journal.open(":memory:", { chainId: 31337n, escrow: ethers.ZeroAddress });
        try {
          const grouped = await new Validator({ ...context.options, journal: separate }).validateGroup(lines);
          expect(grouped).to.deep.equal(one);
        } finally {
          separate.close();
        }
      });

      it("reports a line that its group rejected already as replayed, as the journal would", async function () {
        const garbage = { lineNo: 2, text: "{oops", tooLong: false };
        const verdicts = await context.validator.validateGroup([garbage, garbage]);
        expect(verdicts.map(reasonOf)).to.deep.equal(["malformed-json", "replayed"]);
      });

      it("skips what a restart reads again once the group is journaled", async function () {
        const fields = { gantry: 7, plate: context.activePlate, time: NOW, seq: 1 };
        const lines = [line(1, fields), { lineNo: 2, text: "{oops", tooLong: false }, line(3, { ...fields, seq: 2 })];
        journalGroup(lines, await context.validator.validateGroup(lines));
        const again = await context.validator.validateGroup(lines);
        expect(again.map(reasonOf)).to.deep.equal(["replayed", "replayed", "replayed"]);
      });

      it("asks the registry once for a group's distinct plates, and not again while the answers are fresh", async function () {
        const plates = [context.activePlate, context.newPlate];
        const lines = Array.from({ length: 100 }, (_, index) =>
          line(index + 1, { gantry: 7, plate: plates[index % 2], time: NOW, seq: index + 1 }),
        );
        const verdicts = await context.validator.validateGroup(lines);
        expect(verdicts.every((verdict) => verdict.kind === "accepted")).to.equal(true);
        expect(context.rpc.calls.get("resolvePlates")).to.equal(1);
        const more = lines.map((next) => ({ ...next, lineNo: next.lineNo + 100 }));
        await context.validator.validateGroup(more);
        expect(context.rpc.calls.get("resolvePlates")).to.equal(1);
      });

      it(`looks plates up ${PLATE_LOOKUP_BATCH} to a registry call, at most ${PLATE_LOOKUP_PARALLELISM} calls at once`, async function () {
        const count = PLATE_LOOKUP_BATCH * (PLATE_LOOKUP_PARALLELISM + 1) + 1;
        const lines = Array.from({ length: count }, (_, index) =>
          line(index + 1, { gantry: 7, plate: ethers.hexlify(ethers.randomBytes(20)), time: NOW, seq: index + 1 }),
        );
        const verdicts = await context.validator.validateGroup(lines);
        expect(verdicts.every((verdict) => reasonOf(verdict) === "unknown-plate")).to.equal(true);
        expect(context.rpc.calls.get("resolvePlates")).to.equal(PLATE_LOOKUP_PARALLELISM + 2);
        expect(context.rpc.maxInFlight).to.equal(PLATE_LOOKUP_PARALLELISM);
      });

      it("prefetches the plates of lines ahead, and their validation joins those lookups instead of asking again", async function () {
        const plates = Array.from({ length: 5 }, () => ethers.Wallet.createRandom().address);
        const lines = plates.map((plate, index) => line(index + 1, { gantry: 7, plate, time: NOW, seq: index + 1 }));
        const foreignPlate = ethers.Wallet.createRandom().address;
        const foreign = line(6, { gantry: 99, plate: foreignPlate, time: NOW, seq: 6 });
        context.validator.prefetch([...lines, foreign, { lineNo: 7, text: "{oops", tooLong: false }]);
        // Validation starts while the prefetched lookups are still in flight.
        const verdicts = await context.validator.validateGroup(lines);
        expect(verdicts.map(reasonOf)).to.deep.equal(Array(5).fill("unknown-plate"));
        expect(context.rpc.calls.get("resolvePlates")).to.equal(1);
        // The plate read at a gantry this relayer holds no key for was left out: a line of a known gantry asks now.
        await context.validator.validateGroup([line(8, { gantry: 7, plate: foreignPlate, time: NOW, seq: 8 })]);
        expect(context.rpc.calls.get("resolvePlates")).to.equal(2);
      });

      it("fails the whole group when a plate lookup fails", async function () {
        context.stop.abort();
        const lines = [
          { lineNo: 1, text: "{oops", tooLong: false },
          line(2, { gantry: 7, plate: context.activePlate, time: NOW, seq: 1 }),
        ];
        await context.validator.validateGroup(lines).then(
          () => expect.fail("expected a throw"),
          (error: unknown) => expect(error).to.be.instanceOf(RelayerStopped),
        );
      });
    });
  });

  describe("PlateResolver", function () {
    async function resolverFixture() {
      const fixture = await networkHelpers.loadFixture(registryWithVehiclesFixture);
      const rpc = new CountingRpc({ logger: silentLogger, signal: new AbortController().signal });
      const registry = IVehicleRegistry__factory.connect(await fixture.registry.getAddress(), ethers.provider);
      const clock = { ms: 1_000_000 };
      const resolver = new PlateResolver(registry, rpc, { now: () => clock.ms });
      return { ...fixture, rpc, clock, resolver };
    }

    it("keeps an answer past the old one-minute limit while the registry logs no change to its plate", async function () {
      const { resolver, rpc, clock, activePlate } = await resolverFixture();
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      clock.ms += 5 * 60_000;
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      expect(rpc.calls.get("resolvePlates")).to.equal(1);
      clock.ms += PLATE_CACHE_TTL_MS;
      await resolver.resolve(activePlate);
      expect(rpc.calls.get("resolvePlates")).to.equal(2);
    });

    it("sees a rotation once its background poll of the registry's logs has read it: the old plate is revoked, the new one resolves", async function () {
      const { resolver, clock, registry, activePlate } = await resolverFixture();
      const replacement = ethers.Wallet.createRandom().address;
      expect(await resolver.resolve(replacement)).to.deep.equal({ revoked: false });
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      await registry.rotatePlate(1n, replacement);
      // Within a poll interval the cache still answers: the bound on how long a change takes to show.
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      clock.ms += PLATE_EVENTS_POLL_MS;
      // The poll now due runs in the background: this answer does not wait for the node's round trips.
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      await resolver.refresh();
      expect(await resolver.resolve(activePlate)).to.deep.equal({ revoked: true });
      expect(await resolver.resolve(replacement)).to.deep.equal({ vehicleId: 1 });
    });

    it("waits for the poll when the last one read started more than the lag bound ago", async function () {
      const { resolver, rpc, clock, registry, activePlate } = await resolverFixture();
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      await registry.rotatePlate(1n, ethers.Wallet.createRandom().address);
      clock.ms += PLATE_EVENTS_MAX_LAG_MS;
      expect(await resolver.resolve(activePlate)).to.deep.equal({ revoked: true });
      expect(rpc.calls.get("getLogs")).to.equal(1);
    });

    it("throws a background poll's failure at the next resolve instead of losing it", async function () {
      const { registry, activePlate, clock } = await resolverFixture();
      let refuse = false;
      // An endpoint that starts refusing eth_blockNumber with a final answer once the cache is warm.
      class Refusing extends BrowserProvider {
        override async getBlockNumber(): Promise<number> {
          if (refuse) throw makeError("eth_blockNumber is not supported here", "UNSUPPORTED_OPERATION");
          return super.getBlockNumber();
        }
      }
      const provider = new Refusing(connection.provider, undefined, { cacheTimeout: -1 });
      const rpc = new Rpc({ logger: silentLogger, signal: new AbortController().signal });
      const resolver = new PlateResolver(
        IVehicleRegistry__factory.connect(await registry.getAddress(), provider),
        rpc,
        {
          now: () => clock.ms,
        },
      );
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      refuse = true;
      clock.ms += PLATE_EVENTS_POLL_MS;
      // Served from the cache while the poll runs (and fails) in the background.
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      await expectRejection(resolver.resolve(activePlate), /eth_blockNumber is not supported here/);
    });

    it("sees a registration of a plate it had found unknown", async function () {
      const { resolver, rpc, clock, registry } = await resolverFixture();
      const plate = ethers.Wallet.createRandom().address;
      const [admin] = await ethers.getSigners();
      expect(await resolver.resolve(plate)).to.deep.equal({ revoked: false });
      await registry.registerVehicle(admin.address, plate, ethers.id("VIN-new"), VehicleClass.Truck);
      clock.ms += PLATE_EVENTS_MAX_LAG_MS;
      expect(await resolver.resolve(plate)).to.deep.equal({ vehicleId: 3 });
      // One poll of the logs covered every block since the last: no call per block.
      expect(rpc.calls.get("getLogs")).to.equal(1);
    });

    it("empties its cache when the endpoint will not return the registry's logs", async function () {
      const { registry, activePlate, rpc, clock } = await resolverFixture();
      // An endpoint that caps eth_getLogs below what this poll asks for, as some public ones do.
      class CappedLogs extends BrowserProvider {
        override async getLogs(): Promise<Log[]> {
          throw new Error("eth_getLogs is limited to a 0 block range");
        }
      }
      const capped = new CappedLogs(connection.provider, undefined, { cacheTimeout: -1 });
      const resolver = new PlateResolver(IVehicleRegistry__factory.connect(await registry.getAddress(), capped), rpc, {
        now: () => clock.ms,
      });
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      await networkHelpers.mine(1);
      clock.ms += PLATE_EVENTS_MAX_LAG_MS;
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      expect(rpc.calls.get("getLogs")).to.equal(1);
      expect(rpc.calls.get("resolvePlates")).to.equal(2);
    });

    it("empties its cache after more blocks than it reads logs for", async function () {
      const { resolver, rpc, clock, activePlate } = await resolverFixture();
      await resolver.resolve(activePlate);
      await networkHelpers.mine(PLATE_EVENTS_MAX_BLOCKS + 1);
      clock.ms += PLATE_EVENTS_MAX_LAG_MS;
      expect(await resolver.resolve(activePlate)).to.deep.equal({ vehicleId: 1 });
      expect(rpc.calls.get("resolvePlates")).to.equal(2);
      expect(rpc.calls.get("getLogs")).to.equal(undefined);
    });
  });
});
