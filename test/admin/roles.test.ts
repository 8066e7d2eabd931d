import { readFile, writeFile } from "node:fs/promises";

import { expect } from "chai";
import { id } from "ethers";

import type { VehicleStatusReport } from "../../scripts/lib/admin/status.js";

import {
  type AdminSetup,
  TOKEN,
  chargeOneScan,
  deployAdminFixture,
  expectTxLine,
  networkHelpers,
  plate,
  runTask,
  taskError,
} from "./adminSetup.js";

describe("platechain role and status commands", function () {
  let setup: AdminSetup;

  beforeEach(async function () {
    setup = await networkHelpers.loadFixture(deployAdminFixture);
  });

  const asAdmin = (flags: Record<string, string | undefined>) => ({
    manifest: setup.manifestPath,
    from: setup.admin.address,
    ...flags,
  });

  describe("grant-role", function () {
    it("grants a role by contract and role name and prints it with the transaction hash", async function () {
      const run = await runTask(
        "grant-role",
        asAdmin({ contract: "ledger", role: "reporter", account: setup.stranger.address }),
      );
      expectTxLine(
        run,
        new RegExp(
          `^granted REPORTER_ROLE on DrivingRecordLedger at 0x[0-9a-fA-F]{40} to ${setup.stranger.address} \\(tx `,
        ),
      );
      expect(await setup.ledger.hasRole(id("REPORTER_ROLE"), setup.stranger.address)).to.equal(true);
    });

    it("grants each contract's roles by their operator names", async function () {
      await runTask("grant-role", asAdmin({ contract: "escrow", role: "TOLL_ADMIN", account: setup.stranger.address }));
      await runTask(
        "grant-role",
        asAdmin({ contract: "registry", role: "regulator", account: setup.stranger.address }),
      );
      expect(await setup.escrow.hasRole(id("TOLL_ADMIN_ROLE"), setup.stranger.address)).to.equal(true);
      expect(await setup.registry.hasRole(id("REGULATOR_ROLE"), setup.stranger.address)).to.equal(true);
    });

    it("refuses a role the contract does not have, listing the ones it has", async function () {
      expect(
        await taskError(
          "grant-role",
          asAdmin({ contract: "registry", role: "pauser", account: setup.stranger.address }),
        ),
      ).to.equal('--role must be a role of the registry (registrar, regulator); got "pauser"');
      expect(
        await taskError("grant-role", asAdmin({ contract: "bank", role: "pauser", account: setup.stranger.address })),
      ).to.equal('--contract must be one of registry, escrow, ledger; got "bank"');
    });

    it("refuses the default admin role, which changes hands only in two delayed steps", async function () {
      expect(
        await taskError("grant-role", asAdmin({ contract: "escrow", role: "admin", account: setup.stranger.address })),
      ).to.match(
        /^--role cannot be the default admin: it changes hands only through the contract's two-step, delayed handover/,
      );
    });

    it("refuses to grant a role the account already holds", async function () {
      expect(
        await taskError("grant-role", asAdmin({ contract: "escrow", role: "pauser", account: setup.pauser.address })),
      ).to.match(
        new RegExp(
          `^${setup.pauser.address} already holds PAUSER_ROLE on TollEscrow at 0x[0-9a-fA-F]{40}: nothing to grant$`,
        ),
      );
    });

    it("names DEFAULT_ADMIN_ROLE as the role the caller lacks", async function () {
      const flags = {
        contract: "registry",
        role: "registrar",
        account: setup.stranger.address,
        from: setup.registrar.address,
      };
      expect(await taskError("grant-role", asAdmin(flags))).to.match(
        new RegExp(
          `^account ${setup.registrar.address} does not hold DEFAULT_ADMIN_ROLE on VehicleRegistry at 0x[0-9a-fA-F]{40}: ` +
            "the default admin changes hands only through the contract's two-step, delayed handover$",
        ),
      );
    });
  });

  describe("revoke-role", function () {
    it("revokes a role and prints it", async function () {
      const run = await runTask(
        "revoke-role",
        asAdmin({ contract: "registry", role: "registrar", account: setup.registrar.address }),
      );
      expectTxLine(
        run,
        new RegExp(
          `^revoked REGISTRAR_ROLE on VehicleRegistry at 0x[0-9a-fA-F]{40} from ${setup.registrar.address} \\(tx `,
        ),
      );
      expect(await setup.registry.hasRole(id("REGISTRAR_ROLE"), setup.registrar.address)).to.equal(false);
    });

    it("refuses to revoke a role the account does not hold", async function () {
      expect(
        await taskError(
          "revoke-role",
          asAdmin({ contract: "escrow", role: "arbiter", account: setup.stranger.address }),
        ),
      ).to.match(/does not hold ARBITER_ROLE on TollEscrow at 0x[0-9a-fA-F]{40}: nothing to revoke$/);
    });

    it("names the missing admin role", async function () {
      const flags = {
        contract: "escrow",
        role: "arbiter",
        account: setup.arbiter.address,
        from: setup.arbiter.address,
      };
      expect(await taskError("revoke-role", asAdmin(flags))).to.match(
        new RegExp(`^account ${setup.arbiter.address} does not hold DEFAULT_ADMIN_ROLE on TollEscrow`),
      );
    });
  });

  describe("status", function () {
    it("shows a vehicle by id: class, status, owner, plate, balance and arrears", async function () {
      const run = await runTask<{ line: string; report: VehicleStatusReport }>("status", {
        manifest: setup.manifestPath,
        vehicle: "1",
      });
      expect(run.printed).to.deep.equal([
        `vehicle 1: car, active, owner ${setup.owner.address}, plate ${plate(1).address}, ` +
          "balance 10.00 tUSD, arrears 0.00 tUSD",
      ]);
      expect(run.outcome).to.not.have.property("txHash");
    });

    it("shows a vehicle by plate, with arrears after a charge its balance could not cover", async function () {
      await (await setup.escrow.connect(setup.owner).requestWithdrawal(setup.vehicleId)).wait();
      await networkHelpers.time.increase(3 * 86_400);
      await (
        await setup.escrow.connect(setup.owner).withdraw(setup.vehicleId, 10n * TOKEN - 500_000n, setup.owner.address)
      ).wait();
      await chargeOneScan(setup, setup.vehicleId, 1n);
      const run = await runTask("status", { manifest: setup.manifestPath, plate: plate(1).address, json: true });
      const report = JSON.parse(run.printed[0] ?? "") as Record<string, unknown>;
      expect(report).to.deep.include({
        vehicleId: "1",
        vehicleClass: "car",
        status: "active",
        owner: setup.owner.address,
        balance: "0",
        arrears: "700000",
      });
    });

    it("needs exactly one of --vehicle and --plate", async function () {
      expect(await taskError("status", { manifest: setup.manifestPath })).to.equal(
        "give exactly one of --vehicle (an id) and --plate (a plate address)",
      );
    });

    it("says a plate is unknown, or revoked, instead of reverting", async function () {
      expect(await taskError("status", { manifest: setup.manifestPath, plate: plate(9).address })).to.match(
        new RegExp(`^--plate ${plate(9).address}: no vehicle carries this plate`),
      );
      await (await setup.registry.connect(setup.registrar).rotatePlate(1n, plate(2).address)).wait();
      expect(await taskError("status", { manifest: setup.manifestPath, plate: plate(1).address })).to.equal(
        `--plate ${plate(1).address} was revoked by a plate rotation: look the vehicle up by id`,
      );
    });
  });

  describe("the manifest", function () {
    it("must exist", async function () {
      expect(await taskError("status", { manifest: `${setup.manifestPath}.missing`, vehicle: "1" })).to.match(
        /^manifest .*\.missing: cannot read it \(no such file\); pass --manifest to point at the deployment's manifest$/,
      );
    });

    it("must describe the chain the network is on", async function () {
      const manifest = JSON.parse(await readFile(setup.manifestPath, "utf8")) as { chainId: number };
      const wrongChain = `${setup.manifestPath}.sepolia.json`;
      await writeFile(wrongChain, JSON.stringify({ ...manifest, chainId: 11155111, network: "sepolia" }));
      expect(await taskError("status", { manifest: wrongChain, vehicle: "1" })).to.match(
        /describes chain 11155111 \(sepolia\), but network default is chain 31337: pick the manifest of this network or the network of this manifest$/,
      );
    });
  });
});
