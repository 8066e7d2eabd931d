import { expect } from "chai";

import { VIN_SALT_ENV } from "../../scripts/lib/admin/vehicles.js";
import { VehicleClass, VehicleStatus } from "../../scripts/lib/vehicle.js";

import {
  type AdminSetup,
  VIN_SALT,
  deployAdminFixture,
  expectTxLine,
  networkHelpers,
  plate,
  runTask,
  taskError,
} from "./adminSetup.js";

/** The address with the case of one letter flipped: still mixed case, but its EIP-55 checksum no longer holds. */
function breakChecksum(address: string): string {
  const i = address.slice(2).search(/[a-fA-F]/) + 2;
  const letter = address[i] ?? "";
  const flipped = letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase();
  return address.slice(0, i) + flipped + address.slice(i + 1);
}

describe("platechain vehicle commands", function () {
  let setup: AdminSetup;

  beforeEach(async function () {
    setup = await networkHelpers.loadFixture(deployAdminFixture);
  });

  describe("register-vehicle", function () {
    const flags = (over: Record<string, string | undefined> = {}) => ({
      manifest: setup.manifestPath,
      from: setup.registrar.address,
      owner: setup.owner.address,
      plate: plate(2).address,
      vin: "wvwzzz1jzxw000002",
      vinSalt: VIN_SALT,
      class: "Truck",
      ...over,
    });

    it("registers the vehicle, prints its new id and the transaction hash, and never prints the salt", async function () {
      const run = await runTask<{ line: string; txHash: string; vehicleId: bigint }>("register-vehicle", flags());
      expectTxLine(
        run,
        /^registered vehicle 2 \(truck\) for owner 0x[0-9a-fA-F]{40} with plate 0x[0-9a-fA-F]{40} \(tx /,
      );
      expect(run.outcome.vehicleId).to.equal(2n);
      expect(run.printed.join("\n")).to.not.include(VIN_SALT.slice(2));
      const info = await setup.registry.vehicle(2n);
      expect(info.owner).to.equal(setup.owner.address);
      expect(info.plate).to.equal(plate(2).address);
      expect(info.vehicleClass).to.equal(BigInt(VehicleClass.Truck));
      expect(info.status).to.equal(BigInt(VehicleStatus.Active));
      const receipt = await setup.registry.runner?.provider?.getTransactionReceipt(run.outcome.txHash);
      expect(receipt?.status).to.equal(1);
    });

    it("reads the VIN salt from the VIN_SALT environment variable when --vin-salt is not given", async function () {
      const previous = process.env[VIN_SALT_ENV];
      process.env[VIN_SALT_ENV] = VIN_SALT;
      try {
        const run = await runTask("register-vehicle", flags({ vinSalt: undefined }));
        expectTxLine(run, /^registered vehicle 2 /);
      } finally {
        if (previous === undefined) delete process.env[VIN_SALT_ENV];
        else process.env[VIN_SALT_ENV] = previous;
      }
    });

    it("refuses a class that is not one, listing the valid names, before sending", async function () {
      const message = await taskError("register-vehicle", flags({ class: "tractor" }));
      expect(message).to.equal('--class must be one of motorcycle, car, van, truck, bus, emergency; got "tractor"');
      expect(await setup.registry.totalVehicles()).to.equal(1n);
    });

    it("refuses an address without a valid checksum", async function () {
      const lower = await taskError("register-vehicle", flags({ owner: setup.owner.address.toLowerCase() }));
      expect(lower).to.match(/^--owner must be written with its EIP-55 checksum/);
      const mistyped = await taskError("register-vehicle", flags({ owner: breakChecksum(setup.owner.address) }));
      expect(mistyped).to.match(
        /^--owner has an invalid EIP-55 checksum: "0x[0-9a-fA-F]{40}" is mistyped or was altered$/,
      );
    });

    it("refuses a missing or malformed VIN salt without ever repeating it", async function () {
      const previous = process.env[VIN_SALT_ENV];
      delete process.env[VIN_SALT_ENV];
      try {
        expect(await taskError("register-vehicle", flags({ vinSalt: undefined }))).to.match(
          /^the VIN salt is required: pass --vin-salt or set VIN_SALT/,
        );
      } finally {
        if (previous !== undefined) process.env[VIN_SALT_ENV] = previous;
      }
      const secretish = "0xdeadbeefcafe";
      const message = await taskError("register-vehicle", flags({ vinSalt: secretish }));
      expect(message).to.match(/must be 32 bytes as 0x-prefixed hex/);
      expect(message).to.not.include("deadbeefcafe");
    });

    it("refuses a VIN with characters a VIN cannot have", async function () {
      expect(await taskError("register-vehicle", flags({ vin: "WVW-ZZZ" }))).to.match(
        /^--vin must be 1 to 17 letters and digits/,
      );
    });

    it("names the missing role and the account instead of sending", async function () {
      const message = await taskError("register-vehicle", flags({ from: setup.stranger.address }));
      expect(message).to.equal(
        `account ${setup.stranger.address} does not hold REGISTRAR_ROLE on VehicleRegistry at ` +
          `${await setup.registry.getAddress()}: an account holding DEFAULT_ADMIN_ROLE can grant it with ` +
          `\`platechain grant-role --contract registry --role registrar --account ${setup.stranger.address}\`, ` +
          "or pass --from with an account that holds it",
      );
    });

    it("decodes the registry's revert for a plate already in use into the error's name and arguments", async function () {
      const message = await taskError("register-vehicle", flags({ plate: plate(1).address }));
      expect(message).to.equal(
        "registerVehicle was refused by VehicleRegistry: " +
          `VehicleRegistryPlateInUse(plate: ${plate(1).address}, vehicleId: ${setup.vehicleId})`,
      );
    });

    it("decodes the revert for a VIN registered before", async function () {
      const message = await taskError("register-vehicle", flags({ vin: "WVWZZZ1JZXW000001" }));
      expect(message).to.match(
        /^registerVehicle was refused by VehicleRegistry: VehicleRegistryVinInUse\(vinCommitment: 0x[0-9a-f]{64}, vehicleId: 1\)$/,
      );
    });

    it("refuses --from when the network has no such account", async function () {
      const outsider = plate(99).address;
      expect(await taskError("register-vehicle", flags({ from: outsider }))).to.match(
        new RegExp(`^--from ${outsider} is not one of the accounts network default signs with`),
      );
    });
  });

  describe("rotate-plate", function () {
    const flags = (over: Record<string, string | undefined> = {}) => ({
      manifest: setup.manifestPath,
      from: setup.registrar.address,
      vehicle: "1",
      plate: plate(3).address,
      ...over,
    });

    it("binds the new plate, revokes the old one and prints both with the transaction hash", async function () {
      const run = await runTask("rotate-plate", flags());
      expectTxLine(
        run,
        new RegExp(
          `^rotated the plate of vehicle 1 from ${plate(1).address} to ${plate(3).address} \\(old plate revoked\\)`,
        ),
      );
      expect((await setup.registry.vehicle(1n)).plate).to.equal(plate(3).address);
      expect(await setup.registry.isPlateRevoked(plate(1).address)).to.equal(true);
    });

    it("refuses a vehicle id that is not a number, or not a vehicle, before sending", async function () {
      expect(await taskError("rotate-plate", flags({ vehicle: "one" }))).to.equal(
        '--vehicle must be a whole number in decimal digits, got "one"',
      );
      expect(await taskError("rotate-plate", flags({ vehicle: "0" }))).to.match(/^--vehicle must be between 1 and /);
      expect(await taskError("rotate-plate", flags({ vehicle: "5" }))).to.match(
        /^--vehicle 5: no such vehicle in the registry at 0x[0-9a-fA-F]{40} \(ids run from 1 to 1\)$/,
      );
    });

    it("names the missing role", async function () {
      expect(await taskError("rotate-plate", flags({ from: setup.regulator.address }))).to.match(
        new RegExp(`^account ${setup.regulator.address} does not hold REGISTRAR_ROLE on VehicleRegistry`),
      );
    });

    it("decodes the revert for a revoked plate", async function () {
      await runTask("rotate-plate", flags());
      const message = await taskError("rotate-plate", flags({ plate: plate(1).address }));
      expect(message).to.equal(
        `rotatePlate was refused by VehicleRegistry: VehicleRegistryPlateRevoked(plate: ${plate(1).address})`,
      );
    });
  });

  describe("set-status", function () {
    const flags = (over: Record<string, string | undefined> = {}) => ({
      manifest: setup.manifestPath,
      from: setup.regulator.address,
      vehicle: "1",
      status: "stolen",
      reasonCode: "41",
      ...over,
    });

    it("sets the status by name and prints the change with the reason code and transaction hash", async function () {
      const run = await runTask("set-status", flags());
      expectTxLine(run, /^set vehicle 1 from active to stolen \(reason code 41\) \(tx /);
      expect((await setup.registry.vehicle(1n)).status).to.equal(BigInt(VehicleStatus.Stolen));
    });

    it("refuses an unknown status, listing the ones a regulator can set", async function () {
      expect(await taskError("set-status", flags({ status: "none" }))).to.equal(
        '--status must be one of active, suspended, stolen, scrapped; got "none"',
      );
    });

    it("refuses a reason code outside uint32 and a missing one", async function () {
      expect(await taskError("set-status", flags({ reasonCode: "4294967296" }))).to.equal(
        "--reason-code must be between 0 and 4294967295, got 4294967296",
      );
      expect(await taskError("set-status", flags({ reasonCode: undefined }))).to.equal("--reason-code is required");
    });

    it("names the missing role", async function () {
      expect(await taskError("set-status", flags({ from: setup.registrar.address }))).to.match(
        new RegExp(`^account ${setup.registrar.address} does not hold REGULATOR_ROLE on VehicleRegistry`),
      );
    });

    it("decodes the revert for a status change the registry forbids, enums by name", async function () {
      const message = await taskError("set-status", flags({ status: "active" }));
      expect(message).to.equal(
        "setStatus was refused by VehicleRegistry: " +
          "VehicleRegistryInvalidStatusChange(vehicleId: 1, current: active, requested: active)",
      );
    });
  });
});
