import { expect } from "chai";

import {
  type AdminSetup,
  FEES,
  GANTRY_ID,
  TOKEN,
  chargeOneScan,
  deployAdminFixture,
  expectTxLine,
  networkHelpers,
  oracleKey,
  runTask,
  taskError,
} from "./adminSetup.js";

const NEW_GANTRY = "12";

describe("platechain toll commands", function () {
  let setup: AdminSetup;

  beforeEach(async function () {
    setup = await networkHelpers.loadFixture(deployAdminFixture);
  });

  const asTollAdmin = (flags: Record<string, string | boolean | undefined>) => ({
    manifest: setup.manifestPath,
    from: setup.tollAdmin.address,
    ...flags,
  });

  describe("register-gantry", function () {
    const flags = (over: Record<string, string | undefined> = {}) =>
      asTollAdmin({
        gantry: NEW_GANTRY,
        payee: setup.payee.address,
        oracleKeys: `${oracleKey(2).address}, ${oracleKey(3).address}`,
        fees: "0.6,1.20,2,4.50,3.000001",
        ...over,
      });

    it("registers the gantry with fees parsed exactly in the token's decimals, and prints them", async function () {
      const run = await runTask("register-gantry", flags());
      expectTxLine(
        run,
        /^registered gantry 12 paying 0x[0-9a-fA-F]{40}, oracle keys 0x[0-9a-fA-F]{40}, 0x[0-9a-fA-F]{40}, fees motorcycle 0.60, car 1.20, van 2.00, truck 4.50, bus 3.000001 tUSD \(tx /,
      );
      const gantry = await setup.escrow.gantry(12);
      expect(gantry.payee).to.equal(setup.payee.address);
      expect(gantry.currentFees).to.deep.equal([600_000n, 1_200_000n, 2_000_000n, 4_500_000n, 3_000_001n]);
      expect(await setup.escrow.isOracleKey(12, oracleKey(2).address)).to.equal(true);
      expect(await setup.escrow.isOracleKey(12, oracleKey(3).address)).to.equal(true);
    });

    it("takes the fees by class name in any order", async function () {
      await runTask("register-gantry", flags({ fees: "bus=3,truck=4.5,van=2,car=1.2,motorcycle=0.6" }));
      expect((await setup.escrow.gantry(12)).currentFees).to.deep.equal([...FEES]);
    });

    it("refuses fees with more decimals than the token has, or the wrong count, before sending", async function () {
      expect(await taskError("register-gantry", flags({ fees: "0.6,1.2000001,2,4.5,3" }))).to.equal(
        '--fees has "1.2000001" with 7 decimals, but the token has only 6',
      );
      expect(await taskError("register-gantry", flags({ fees: "0.6,1.2,2,4.5" }))).to.equal(
        "--fees needs 5 fees (motorcycle,car,van,truck,bus), got 4",
      );
      expect(await taskError("register-gantry", flags({ fees: "0.6,1.2,2,4.5,1e3" }))).to.match(
        /^--fees has "1e3", which is not an amount in token units/,
      );
      await expect(setup.escrow.gantry(12)).to.be.revertedWithCustomError(setup.escrow, "TollEscrowUnknownGantry");
    });

    it("refuses a gantry id outside uint32 and an oracle key listed twice", async function () {
      expect(await taskError("register-gantry", flags({ gantry: "4294967296" }))).to.equal(
        "--gantry must be between 0 and 4294967295, got 4294967296",
      );
      const key = oracleKey(2).address;
      expect(await taskError("register-gantry", flags({ oracleKeys: `${key},${key}` }))).to.equal(
        `--oracle-keys lists ${key} twice`,
      );
    });

    it("names the missing role", async function () {
      expect(await taskError("register-gantry", flags({ from: setup.arbiter.address }))).to.match(
        new RegExp(
          `^account ${setup.arbiter.address} does not hold TOLL_ADMIN_ROLE on TollEscrow at 0x[0-9a-fA-F]{40}: .*` +
            `--contract escrow --role toll-admin --account ${setup.arbiter.address}`,
        ),
      );
    });

    it("decodes the escrow's revert for a gantry id in use", async function () {
      expect(await taskError("register-gantry", flags({ gantry: String(GANTRY_ID) }))).to.equal(
        `registerGantry was refused by TollEscrow: TollEscrowGantryExists(gantryId: ${GANTRY_ID})`,
      );
    });
  });

  describe("set-oracle-key", function () {
    it("authorizes and revokes a key, printing which", async function () {
      const key = oracleKey(5).address;
      const added = await runTask("set-oracle-key", asTollAdmin({ gantry: "7", key, authorize: true }));
      expectTxLine(added, new RegExp(`^authorized oracle key ${key} for gantry 7 \\(tx `));
      expect(await setup.escrow.isOracleKey(GANTRY_ID, key)).to.equal(true);
      const removed = await runTask("set-oracle-key", asTollAdmin({ gantry: "7", key, revoke: true }));
      expectTxLine(removed, new RegExp(`^revoked oracle key ${key} for gantry 7 \\(tx `));
      expect(await setup.escrow.isOracleKey(GANTRY_ID, key)).to.equal(false);
    });

    it("needs exactly one of --authorize and --revoke", async function () {
      const key = oracleKey(5).address;
      expect(await taskError("set-oracle-key", asTollAdmin({ gantry: "7", key }))).to.equal(
        "give exactly one of --authorize and --revoke",
      );
      expect(
        await taskError("set-oracle-key", asTollAdmin({ gantry: "7", key, authorize: true, revoke: true })),
      ).to.equal("give exactly one of --authorize and --revoke");
    });

    it("names the missing role", async function () {
      const flags = { gantry: "7", key: oracleKey(5).address, authorize: true };
      expect(await taskError("set-oracle-key", asTollAdmin({ ...flags, from: setup.owner.address }))).to.match(
        /does not hold TOLL_ADMIN_ROLE on TollEscrow/,
      );
    });

    it("decodes the revert for a key already in that state", async function () {
      const key = setup.oracle.address;
      expect(await taskError("set-oracle-key", asTollAdmin({ gantry: "7", key, authorize: true }))).to.equal(
        `setOracleKey was refused by TollEscrow: TollEscrowOracleKeyUnchanged(gantryId: 7, key: ${key}, authorized: true)`,
      );
    });
  });

  describe("rotate-oracle-key", function () {
    it("replaces the old key by the new one", async function () {
      const newKey = oracleKey(6).address;
      const run = await runTask(
        "rotate-oracle-key",
        asTollAdmin({ gantry: "7", oldKey: setup.oracle.address, newKey }),
      );
      expectTxLine(run, new RegExp(`^rotated gantry 7's oracle key ${setup.oracle.address} to ${newKey} \\(tx `));
      expect(await setup.escrow.isOracleKey(GANTRY_ID, setup.oracle.address)).to.equal(false);
      expect(await setup.escrow.isOracleKey(GANTRY_ID, newKey)).to.equal(true);
    });

    it("refuses the same key on both sides", async function () {
      const key = setup.oracle.address;
      expect(await taskError("rotate-oracle-key", asTollAdmin({ gantry: "7", oldKey: key, newKey: key }))).to.equal(
        "--new-key is the same as --old-key: nothing to rotate",
      );
    });

    it("names the missing role", async function () {
      const flags = {
        gantry: "7",
        oldKey: setup.oracle.address,
        newKey: oracleKey(6).address,
        from: setup.pauser.address,
      };
      expect(await taskError("rotate-oracle-key", asTollAdmin(flags))).to.match(/does not hold TOLL_ADMIN_ROLE/);
    });

    it("decodes the revert for an unknown gantry", async function () {
      const flags = { gantry: "99", oldKey: setup.oracle.address, newKey: oracleKey(6).address };
      expect(await taskError("rotate-oracle-key", asTollAdmin(flags))).to.equal(
        "rotateOracleKey was refused by TollEscrow: TollEscrowUnknownGantry(gantryId: 99)",
      );
    });
  });

  describe("retire-gantry", function () {
    it("retires the gantry and prints when", async function () {
      const run = await runTask("retire-gantry", asTollAdmin({ gantry: "7" }));
      expectTxLine(run, /^retired gantry 7 as of \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z \(tx /);
      expect((await setup.escrow.gantry(GANTRY_ID)).retiredAt).to.equal(BigInt(await networkHelpers.time.latest()));
    });

    it("refuses a gantry id that is not a number", async function () {
      expect(await taskError("retire-gantry", asTollAdmin({ gantry: "-1" }))).to.equal(
        '--gantry must be a whole number in decimal digits, got "-1"',
      );
    });

    it("names the missing role", async function () {
      expect(await taskError("retire-gantry", asTollAdmin({ gantry: "7", from: setup.admin.address }))).to.match(
        new RegExp(`^account ${setup.admin.address} does not hold TOLL_ADMIN_ROLE`),
      );
    });

    it("decodes the revert for a gantry already retired", async function () {
      await runTask("retire-gantry", asTollAdmin({ gantry: "7" }));
      expect(await taskError("retire-gantry", asTollAdmin({ gantry: "7" }))).to.match(
        /^retireGantry was refused by TollEscrow: TollEscrowGantryRetired\(gantryId: 7, retiredAt: \d+\)$/,
      );
    });
  });

  describe("set-tariff", function () {
    it("schedules the tariff from an ISO date-time and prints it", async function () {
      const now = BigInt(await networkHelpers.time.latest());
      const effectiveAt = now + 30n * 86_400n;
      const iso = new Date(Number(effectiveAt) * 1000).toISOString().replace(".000Z", "Z");
      const run = await runTask("set-tariff", asTollAdmin({ gantry: "7", fees: "1,2,3,4,5", effectiveAt: iso }));
      expectTxLine(
        run,
        new RegExp(
          `^scheduled gantry 7's tariff from ${iso}: motorcycle 1.00, car 2.00, van 3.00, truck 4.00, bus 5.00 tUSD \\(tx `,
        ),
      );
      const gantry = await setup.escrow.gantry(GANTRY_ID);
      expect(gantry.nextFees).to.deep.equal([1n, 2n, 3n, 4n, 5n].map((n) => n * TOKEN));
      expect(gantry.nextFeesFrom).to.equal(effectiveAt);
    });

    it("takes unix seconds too", async function () {
      const effectiveAt = BigInt(await networkHelpers.time.latest()) + 3_600n;
      await runTask("set-tariff", asTollAdmin({ gantry: "7", fees: "1,2,3,4,5", effectiveAt: String(effectiveAt) }));
      expect((await setup.escrow.gantry(GANTRY_ID)).nextFeesFrom).to.equal(effectiveAt);
    });

    it("refuses a time in the past before sending, saying what the chain's time is", async function () {
      const message = await taskError(
        "set-tariff",
        asTollAdmin({ gantry: "7", fees: "1,2,3,4,5", effectiveAt: "2020-01-01" }),
      );
      expect(message).to.match(
        /^--effective-at 2020-01-01T00:00:00Z is not in the future: the chain's latest block is at \d{4}-.*Z, and a tariff is never retroactive$/,
      );
      expect((await setup.escrow.gantry(GANTRY_ID)).nextFeesFrom).to.equal(2n ** 40n - 1n);
    });

    it("refuses a time without a zone, an impossible date and milliseconds", async function () {
      const flags = { gantry: "7", fees: "1,2,3,4,5" };
      expect(await taskError("set-tariff", asTollAdmin({ ...flags, effectiveAt: "2030-01-01T10:00" }))).to.match(
        /^--effective-at must be unix seconds, YYYY-MM-DD \(UTC\) or an ISO date-time with a zone/,
      );
      expect(await taskError("set-tariff", asTollAdmin({ ...flags, effectiveAt: "2030-02-30" }))).to.equal(
        '--effective-at is not a real date: "2030-02-30"',
      );
      expect(await taskError("set-tariff", asTollAdmin({ ...flags, effectiveAt: "1900000000000" }))).to.equal(
        "--effective-at is 1900000000000, which looks like milliseconds: give unix seconds",
      );
    });

    it("names the missing role", async function () {
      const flags = { gantry: "7", fees: "1,2,3,4,5", effectiveAt: "2100-01-01", from: setup.stranger.address };
      expect(await taskError("set-tariff", asTollAdmin(flags))).to.match(/does not hold TOLL_ADMIN_ROLE/);
    });

    it("decodes the revert for a change too soon after one took effect", async function () {
      const now = BigInt(await networkHelpers.time.latest());
      await runTask("set-tariff", asTollAdmin({ gantry: "7", fees: "1,2,3,4,5", effectiveAt: String(now + 100n) }));
      await networkHelpers.time.increase(200);
      const message = await taskError(
        "set-tariff",
        asTollAdmin({ gantry: "7", fees: "1,2,3,4,5", effectiveAt: "2100-01-01" }),
      );
      expect(message).to.equal(
        `scheduleTariff was refused by TollEscrow: TollEscrowTariffChangeTooSoon(gantryId: 7, earliest: ${now + 100n + 2n * 86_400n})`,
      );
    });
  });

  describe("resolve-dispute", function () {
    async function openDispute(): Promise<bigint> {
      const { batchId, leaves } = await chargeOneScan(setup, setup.vehicleId, 1n);
      await (await setup.escrow.connect(setup.owner).openDispute(batchId, leaves, 0)).wait();
      return batchId;
    }
    const asArbiter = (flags: Record<string, string | boolean>) => ({
      manifest: setup.manifestPath,
      from: setup.arbiter.address,
      ...flags,
    });

    it("upholds a dispute: the fee goes back to the vehicle, and the line says how", async function () {
      const batchId = await openDispute();
      const before = await setup.escrow.account(setup.vehicleId);
      const run = await runTask("resolve-dispute", asArbiter({ batch: String(batchId), leaf: "0", uphold: true }));
      expectTxLine(
        run,
        new RegExp(
          `^upheld the dispute of batch ${batchId} leaf 0 \\(vehicle 1\\): forgave 0.00 tUSD of arrears, refunded 1.20 tUSD \\(tx `,
        ),
      );
      expect((await setup.escrow.account(setup.vehicleId)).balance).to.equal(before.balance + FEES[1]);
      expect((await setup.escrow.dispute(batchId, 0)).status).to.equal(2n);
    });

    it("rejects a dispute: the charge stands", async function () {
      const batchId = await openDispute();
      const run = await runTask("resolve-dispute", asArbiter({ batch: String(batchId), leaf: "0", reject: true }));
      expectTxLine(
        run,
        new RegExp(`^rejected the dispute of batch ${batchId} leaf 0 \\(vehicle 1\\): the charge stands \\(tx `),
      );
      expect((await setup.escrow.dispute(batchId, 0)).status).to.equal(3n);
    });

    it("needs exactly one of --uphold and --reject, and a batch id from 1", async function () {
      expect(await taskError("resolve-dispute", asArbiter({ batch: "1", leaf: "0" }))).to.equal(
        "give exactly one of --uphold and --reject",
      );
      expect(await taskError("resolve-dispute", asArbiter({ batch: "0", leaf: "0", uphold: true }))).to.match(
        /^--batch must be between 1 and /,
      );
    });

    it("refuses a batch the escrow never settled before sending", async function () {
      const message = await taskError("resolve-dispute", asArbiter({ batch: "3", leaf: "0", uphold: true }));
      expect(message).to.match(
        /^--batch 3: no such batch in the escrow at 0x[0-9a-fA-F]{40} \(the escrow has settled no batch yet\)$/,
      );
    });

    it("names the missing role", async function () {
      const batchId = await openDispute();
      const flags = { batch: String(batchId), leaf: "0", uphold: true, from: setup.tollAdmin.address };
      expect(await taskError("resolve-dispute", asArbiter(flags))).to.match(
        new RegExp(`^account ${setup.tollAdmin.address} does not hold ARBITER_ROLE on TollEscrow`),
      );
    });

    it("decodes the revert for a dispute that is not open", async function () {
      const { batchId } = await chargeOneScan(setup, setup.vehicleId, 1n);
      expect(
        await taskError("resolve-dispute", asArbiter({ batch: String(batchId), leaf: "0", reject: true })),
      ).to.equal(
        `resolveDispute was refused by TollEscrow: TollEscrowDisputeNotOpen(batchId: ${batchId}, leafIndex: 0)`,
      );
    });
  });

  describe("pause and unpause", function () {
    const asPauser = (flags: Record<string, string> = {}) => ({
      manifest: setup.manifestPath,
      from: setup.pauser.address,
      ...flags,
    });

    it("pauses until the pause lapses, then unpauses", async function () {
      const paused = await runTask("pause", asPauser());
      expectTxLine(
        paused,
        /^paused the escrow until \d{4}-.*Z at the latest: scans, revenue releases and claims stop; deposits, withdrawals and disputes stay open \(tx /,
      );
      expect(await setup.escrow.paused()).to.equal(true);
      const unpaused = await runTask("unpause", asPauser());
      expectTxLine(unpaused, /^unpaused the escrow: scans, revenue releases and claims resume \(tx /);
      expect(await setup.escrow.paused()).to.equal(false);
    });

    it("names the missing role", async function () {
      expect(await taskError("pause", asPauser({ from: setup.admin.address }))).to.match(
        new RegExp(`^account ${setup.admin.address} does not hold PAUSER_ROLE on TollEscrow`),
      );
    });

    it("decodes the revert for unpausing what is not paused and pausing twice", async function () {
      expect(await taskError("unpause", asPauser())).to.equal(
        "unpause was refused by TollEscrow: TollEscrowNotPaused()",
      );
      await runTask("pause", asPauser());
      expect(await taskError("pause", asPauser())).to.match(
        /^pause was refused by TollEscrow: TollEscrowPaused\(until: \d+\)$/,
      );
    });
  });
});
