import { expect } from "chai";
import { network } from "hardhat";

import { VehicleClass, VehicleStatus } from "../../scripts/lib/vehicle.js";

const { ethers, networkHelpers } = await network.create();

const ADMIN_DELAY = 3n * 24n * 60n * 60n;

async function deployRegistryFixture() {
  const [admin, registrar, regulator, owner, buyer, stranger] = await ethers.getSigners();
  const registry = await ethers.deployContract("VehicleRegistry", [ADMIN_DELAY, admin.address]);
  await registry.grantRole(await registry.REGISTRAR_ROLE(), registrar.address);
  await registry.grantRole(await registry.REGULATOR_ROLE(), regulator.address);
  return { registry, admin, registrar, regulator, owner, buyer, stranger };
}

describe("VehicleRegistry", function () {
  describe("registerVehicle", function () {
    it("mints a passport to the owner and binds the plate key", async function () {
      const { registry, registrar, owner } = await networkHelpers.loadFixture(deployRegistryFixture);
      const plate = ethers.Wallet.createRandom().address;
      const vin = ethers.id("VIN:WVWZZZ1JZXW000001");
      await expect(registry.connect(registrar).registerVehicle(owner.address, plate, vin, VehicleClass.Car))
        .to.emit(registry, "VehicleRegistered")
        .withArgs(1n, owner.address, plate, vin, VehicleClass.Car);
      expect(await registry.ownerOf(1n)).to.equal(owner.address);
      const info = await registry.vehicle(1n);
      expect(info.plate).to.equal(plate);
      expect(info.status).to.equal(BigInt(VehicleStatus.Active));
      expect(await registry.vehicleIdOfPlate(plate)).to.equal(1n);
    });
  });
});
