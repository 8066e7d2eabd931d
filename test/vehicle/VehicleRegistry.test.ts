import { expect } from "chai";
import type { Wallet } from "ethers";
import { network } from "hardhat";

import {
  DEFAULT_ADMIN_DELAY,
  VehicleClass,
  VehicleStatus,
  deployVehicleRegistry,
  readVehicle,
  readVehicleByPlate,
  registerVehicle,
  rotatePlate,
  setVehicleStatus,
  signWithPlate,
  vehicleIdFromReceipt,
  vinCommitment,
} from "../../scripts/lib/registry.js";
import { skipGasAssertionsUnderCoverage } from "../utils/coverage.js";

const { ethers, networkHelpers } = await network.create();

/** The budget for one registration, whether or not the owner already holds a passport. */
const REGISTRATION_GAS_BUDGET = 150_000n;
/** The registrar's secret VIN salt in these tests (fixed, so runs are reproducible). */
const VIN_SALT = ethers.id("platechain test VIN salt");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const ECRECOVER_PRECOMPILE = "0x0000000000000000000000000000000000000001";

const STATUS_NAMES: Record<VehicleStatus, string> = {
  [VehicleStatus.None]: "None",
  [VehicleStatus.Active]: "Active",
  [VehicleStatus.Suspended]: "Suspended",
  [VehicleStatus.Stolen]: "Stolen",
  [VehicleStatus.Scrapped]: "Scrapped",
};

interface PassportMetadata {
  name: string;
  description: string;
  attributes: { trait_type: string; value: string }[];
}

/** A deterministic plate key, as the chip of plate number `n` would hold. */
function plateKey(n: number): Wallet {
  return new ethers.Wallet(ethers.id(`plate key ${n}`));
}

function vin(n: number): string {
  return vinCommitment(`WVWZZZ1JZXW${String(n).padStart(6, "0")}`, VIN_SALT);
}

async function deployRegistryFixture() {
  const [admin, registrar, regulator, owner, buyer, stranger, newAdmin] = await ethers.getSigners();
  const registry = await deployVehicleRegistry(ethers, admin, { registrars: [registrar], regulators: [regulator] });
  const registryAddress = await registry.getAddress();
  const verifier = await ethers.deployContract("PlateMessageVerifier", [registryAddress]);
  const receiver = await ethers.deployContract("PassportReceiver");
  const REGISTRAR_ROLE = await registry.REGISTRAR_ROLE();
  const REGULATOR_ROLE = await registry.REGULATOR_ROLE();
  return {
    registry,
    verifier,
    receiver,
    admin,
    registrar,
    regulator,
    owner,
    buyer,
    stranger,
    newAdmin,
    REGISTRAR_ROLE,
    REGULATOR_ROLE,
  };
}

/** Vehicle 1 (a car on plate 1, owned by `owner`) and vehicle 2 (a truck on plate 2, owned by `buyer`). */
async function twoVehiclesFixture() {
  const base = await deployRegistryFixture();
  const { registry, registrar, owner, buyer } = base;
  const plate = plateKey(1);
  const otherPlate = plateKey(2);
  const vehicleId = await registerVehicle(registry, registrar, {
    owner,
    plate: plate.address,
    vinCommitment: vin(1),
    vehicleClass: VehicleClass.Car,
  });
  const otherVehicleId = await registerVehicle(registry, registrar, {
    owner: buyer,
    plate: otherPlate.address,
    vinCommitment: vin(2),
    vehicleClass: VehicleClass.Truck,
  });
  return { ...base, plate, otherPlate, vehicleId, otherVehicleId };
}

/** Vehicle 1 moved to `status` by the regulator (Active needs no move). */
async function vehicleInStatus(status: VehicleStatus) {
  const fixture = await networkHelpers.loadFixture(twoVehiclesFixture);
  if (status !== VehicleStatus.Active) {
    await setVehicleStatus(fixture.registry, fixture.regulator, fixture.vehicleId, status, 0);
  }
  return fixture;
}

function decodeMetadata(uri: string): PassportMetadata {
  const prefix = "data:application/json;base64,";
  expect(uri.startsWith(prefix), uri).to.equal(true);
  return JSON.parse(Buffer.from(uri.slice(prefix.length), "base64").toString("utf8")) as PassportMetadata;
}

/** The ERC-165 id of IVehicleRegistry: the XOR of its function selectors. */
async function vehicleRegistryInterfaceId(address: string): Promise<string> {
  const { interface: abi } = await ethers.getContractAt("IVehicleRegistry", address);
  let id = 0n;
  abi.forEachFunction((fragment) => {
    id ^= BigInt(fragment.selector);
  });
  return ethers.toBeHex(id, 4);
}

describe("VehicleRegistry", function () {
  describe("deployment", function () {
    it("names the passport collection and starts with no vehicles", async function () {
      const { registry } = await networkHelpers.loadFixture(deployRegistryFixture);
      expect(await registry.name()).to.equal("platechain Vehicle Passport");
      expect(await registry.symbol()).to.equal("PLATE");
      expect(await registry.totalVehicles()).to.equal(0n);
    });

    it("makes the initial admin the default admin, with the requested handover delay", async function () {
      const { registry, admin } = await networkHelpers.loadFixture(deployRegistryFixture);
      expect(await registry.defaultAdmin()).to.equal(admin.address);
      expect(await registry.owner()).to.equal(admin.address);
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(true);
      expect(await registry.defaultAdminDelay()).to.equal(DEFAULT_ADMIN_DELAY);
    });

    it("defines the registrar and regulator roles, administered by the default admin", async function () {
      const { registry, registrar, regulator, REGISTRAR_ROLE, REGULATOR_ROLE } =
        await networkHelpers.loadFixture(deployRegistryFixture);
      expect(REGISTRAR_ROLE).to.equal(ethers.id("REGISTRAR_ROLE"));
      expect(REGULATOR_ROLE).to.equal(ethers.id("REGULATOR_ROLE"));
      expect(await registry.getRoleAdmin(REGISTRAR_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await registry.getRoleAdmin(REGULATOR_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await registry.hasRole(REGISTRAR_ROLE, registrar.address)).to.equal(true);
      expect(await registry.hasRole(REGULATOR_ROLE, regulator.address)).to.equal(true);
      expect(await registry.hasRole(REGULATOR_ROLE, registrar.address)).to.equal(false);
    });

    it("refuses a zero initial admin", async function () {
      const factory = await ethers.getContractFactory("VehicleRegistry");
      await expect(factory.deploy(DEFAULT_ADMIN_DELAY, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(factory, "AccessControlInvalidDefaultAdmin")
        .withArgs(ethers.ZeroAddress);
    });

    it("declares ERC-165, ERC-721, ERC-721 metadata, ERC-4906, access control and IVehicleRegistry", async function () {
      const { registry } = await networkHelpers.loadFixture(deployRegistryFixture);
      const supported = {
        erc165: "0x01ffc9a7",
        erc721: "0x80ac58cd",
        erc721Metadata: "0x5b5e139f",
        erc4906: "0x49064906",
        accessControl: "0x7965db0b",
        accessControlDefaultAdminRules: "0x31498786",
        vehicleRegistry: await vehicleRegistryInterfaceId(await registry.getAddress()),
      };
      for (const [name, id] of Object.entries(supported)) {
        expect(await registry.supportsInterface(id), name).to.equal(true);
      }
      expect(await registry.supportsInterface("0xffffffff")).to.equal(false);
      expect(await registry.supportsInterface("0x00000000")).to.equal(false);
    });
  });

  describe("registerVehicle", function () {
    describe("by a registrar", function () {
      it("mints the passport to the owner, binds the plate key and starts the vehicle active", async function () {
        const { registry, registrar, owner } = await networkHelpers.loadFixture(deployRegistryFixture);
        const plate = plateKey(1).address;
        await expect(registry.connect(registrar).registerVehicle(owner.address, plate, vin(1), VehicleClass.Car))
          .to.emit(registry, "Transfer")
          .withArgs(ethers.ZeroAddress, owner.address, 1n)
          .and.to.emit(registry, "VehicleRegistered")
          .withArgs(1n, owner.address, plate, vin(1), VehicleClass.Car);
        expect(await registry.ownerOf(1n)).to.equal(owner.address);
        expect(await registry.balanceOf(owner.address)).to.equal(1n);
        expect(await readVehicle(registry, 1n)).to.deep.equal({
          vehicleId: 1n,
          owner: owner.address,
          plate,
          vehicleClass: VehicleClass.Car,
          status: VehicleStatus.Active,
        });
        expect(await registry.vehicleIdOfPlate(plate)).to.equal(1n);
        expect(await registry.totalVehicles()).to.equal(1n);
      });

      it("gives sequential ids from 1 and registers every vehicle class", async function () {
        const { registry, registrar, owner } = await networkHelpers.loadFixture(deployRegistryFixture);
        const classes = [
          VehicleClass.Motorcycle,
          VehicleClass.Car,
          VehicleClass.Van,
          VehicleClass.Truck,
          VehicleClass.Bus,
          VehicleClass.Emergency,
        ];
        for (const [index, vehicleClass] of classes.entries()) {
          const vehicleId = await registerVehicle(registry, registrar, {
            owner,
            plate: plateKey(index).address,
            vinCommitment: vin(index),
            vehicleClass,
          });
          expect(vehicleId).to.equal(BigInt(index + 1));
          expect(await registry.classAndStatus(vehicleId)).to.deep.equal([BigInt(vehicleClass), 1n]);
        }
        expect(await registry.totalVehicles()).to.equal(6n);
        expect(await registry.balanceOf(owner.address)).to.equal(6n);
      });

      it("mints to a contract owner without calling it (no receiver hook while registering)", async function () {
        const { registry, registrar, verifier } = await networkHelpers.loadFixture(deployRegistryFixture);
        const fleetContract = await verifier.getAddress();
        await registerVehicle(registry, registrar, {
          owner: fleetContract,
          plate: plateKey(1).address,
          vinCommitment: vin(1),
          vehicleClass: VehicleClass.Van,
        });
        expect(await registry.ownerOf(1n)).to.equal(fleetContract);
      });

      it("refuses a zero owner", async function () {
        const { registry, registrar } = await networkHelpers.loadFixture(deployRegistryFixture);
        await expect(
          registry.connect(registrar).registerVehicle(ethers.ZeroAddress, plateKey(1).address, vin(1), VehicleClass.Car),
        )
          .to.be.revertedWithCustomError(registry, "VehicleRegistryInvalidOwner")
          .withArgs(ethers.ZeroAddress);
      });

      it("refuses a zero plate key", async function () {
        const { registry, registrar, owner } = await networkHelpers.loadFixture(deployRegistryFixture);
        await expect(
          registry.connect(registrar).registerVehicle(owner.address, ethers.ZeroAddress, vin(1), VehicleClass.Car),
        )
          .to.be.revertedWithCustomError(registry, "VehicleRegistryInvalidPlate")
          .withArgs(ethers.ZeroAddress);
      });

      it("refuses a zero VIN commitment", async function () {
        const { registry, registrar, owner } = await networkHelpers.loadFixture(deployRegistryFixture);
        await expect(
          registry
            .connect(registrar)
            .registerVehicle(owner.address, plateKey(1).address, ethers.ZeroHash, VehicleClass.Car),
        )
          .to.be.revertedWithCustomError(registry, "VehicleRegistryInvalidVinCommitment")
          .withArgs(ethers.ZeroHash);
      });

      it("refuses a class that is not a VehicleClass", async function () {
        const { registry, registrar, owner } = await networkHelpers.loadFixture(deployRegistryFixture);
        for (const badClass of [6, 255]) {
          await expect(registry.connect(registrar).registerVehicle(owner.address, plateKey(1).address, vin(1), badClass))
            .to.be.revertedWithCustomError(registry, "VehicleRegistryInvalidClass")
            .withArgs(badClass);
        }
      });

      it("refuses a plate key that already identifies a vehicle, naming that vehicle", async function () {
        const { registry, registrar, stranger, plate, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        await expect(registry.connect(registrar).registerVehicle(stranger.address, plate.address, vin(3), VehicleClass.Bus))
          .to.be.revertedWithCustomError(registry, "VehicleRegistryPlateInUse")
          .withArgs(plate.address, vehicleId);
      });

      it("refuses a VIN commitment already registered, naming its vehicle", async function () {
        const { registry, registrar, stranger, otherVehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        await expect(
          registry.connect(registrar).registerVehicle(stranger.address, plateKey(3).address, vin(2), VehicleClass.Bus),
        )
          .to.be.revertedWithCustomError(registry, "VehicleRegistryVinInUse")
          .withArgs(vin(2), otherVehicleId);
      });

      it("refuses a plate key revoked by a rotation, for good", async function () {
        const { registry, registrar, stranger, plate, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        await rotatePlate(registry, registrar, vehicleId, plateKey(3).address);
        await expect(registry.connect(registrar).registerVehicle(stranger.address, plate.address, vin(3), VehicleClass.Bus))
          .to.be.revertedWithCustomError(registry, "VehicleRegistryPlateRevoked")
          .withArgs(plate.address);
      });
    });

    describe("by an account without REGISTRAR_ROLE", function () {
      it("reverts with AccessControlUnauthorizedAccount for the admin, the regulator and a stranger", async function () {
        const { registry, admin, regulator, stranger, owner, REGISTRAR_ROLE } =
          await networkHelpers.loadFixture(deployRegistryFixture);
        for (const caller of [admin, regulator, stranger]) {
          await expect(
            registry.connect(caller).registerVehicle(owner.address, plateKey(1).address, vin(1), VehicleClass.Car),
          )
            .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, REGISTRAR_ROLE);
        }
      });

      it("reverts once the registrar's role is revoked", async function () {
        const { registry, admin, registrar, owner, REGISTRAR_ROLE } = await networkHelpers.loadFixture(
          deployRegistryFixture,
        );
        await registry.connect(admin).revokeRole(REGISTRAR_ROLE, registrar.address);
        await expect(
          registry.connect(registrar).registerVehicle(owner.address, plateKey(1).address, vin(1), VehicleClass.Car),
        )
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(registrar.address, REGISTRAR_ROLE);
      });
    });

    describe("gas", function () {
      before(function () {
        skipGasAssertionsUnderCoverage(this);
      });

      async function registrationGas(
        fixture: Awaited<ReturnType<typeof deployRegistryFixture>>,
        ownerAddress: string,
        n: number,
      ): Promise<bigint> {
        const { registry, registrar } = fixture;
        const tx = await registry
          .connect(registrar)
          .registerVehicle(ownerAddress, plateKey(n).address, vin(n), VehicleClass.Car);
        const receipt = await tx.wait();
        if (receipt === null) throw new Error("registration was not mined");
        expect(await vehicleIdFromReceipt(registry, receipt)).to.equal(BigInt(n));
        return receipt.gasUsed;
      }

      it("costs at most 150,000 gas for the registry's first vehicle", async function () {
        const fixture = await networkHelpers.loadFixture(deployRegistryFixture);
        expect(await registrationGas(fixture, fixture.owner.address, 1)).to.be.at.most(REGISTRATION_GAS_BUDGET);
      });

      it("costs at most 150,000 gas for an owner's first vehicle in a registry already in use", async function () {
        const fixture = await networkHelpers.loadFixture(deployRegistryFixture);
        await registrationGas(fixture, fixture.owner.address, 1);
        expect(await fixture.registry.balanceOf(fixture.buyer.address)).to.equal(0n);
        expect(await registrationGas(fixture, fixture.buyer.address, 2)).to.be.at.most(REGISTRATION_GAS_BUDGET);
      });

      it("costs at most 150,000 gas for an owner's further vehicle", async function () {
        const fixture = await networkHelpers.loadFixture(deployRegistryFixture);
        await registrationGas(fixture, fixture.owner.address, 1);
        expect(await registrationGas(fixture, fixture.owner.address, 2)).to.be.at.most(REGISTRATION_GAS_BUDGET);
      });
    });
  });

  describe("rotatePlate", function () {
    describe("by a registrar", function () {
      it("binds the new key, revokes the old one and keeps the vehicle's id, owner, class and status", async function () {
        const { registry, registrar, owner, plate, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        const newPlate = plateKey(3).address;
        await expect(registry.connect(registrar).rotatePlate(vehicleId, newPlate))
          .to.emit(registry, "PlateRotated")
          .withArgs(vehicleId, plate.address, newPlate)
          .and.to.emit(registry, "MetadataUpdate")
          .withArgs(vehicleId);
        expect(await readVehicleByPlate(registry, newPlate)).to.deep.equal({
          vehicleId,
          owner: owner.address,
          plate: newPlate,
          vehicleClass: VehicleClass.Car,
          status: VehicleStatus.Active,
        });
        expect(await registry.isPlateRevoked(plate.address)).to.equal(true);
        expect(await registry.isPlateRevoked(newPlate)).to.equal(false);
        expect(await registry.vehicleIdOfPlate(plate.address)).to.equal(0n);
        expect(await registry.totalVehicles()).to.equal(2n);
      });

      it("follows a chain of rotations, revoking every earlier key", async function () {
        const { registry, registrar, plate, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        const keys = [plate.address, plateKey(3).address, plateKey(4).address, plateKey(5).address];
        for (let i = 1; i < keys.length; i++) {
          await rotatePlate(registry, registrar, vehicleId, keys[i]);
        }
        for (const revoked of keys.slice(0, -1)) {
          expect(await registry.isPlateRevoked(revoked)).to.equal(true);
          await expect(registry.connect(registrar).rotatePlate(vehicleId, revoked))
            .to.be.revertedWithCustomError(registry, "VehicleRegistryPlateRevoked")
            .withArgs(revoked);
        }
        expect((await registry.vehicle(vehicleId)).plate).to.equal(keys[3]);
      });

      it("rotates the plate of a suspended or stolen vehicle, which keeps its status", async function () {
        for (const status of [VehicleStatus.Suspended, VehicleStatus.Stolen]) {
          const { registry, registrar, vehicleId } = await vehicleInStatus(status);
          await rotatePlate(registry, registrar, vehicleId, plateKey(3).address);
          expect((await readVehicle(registry, vehicleId)).status, STATUS_NAMES[status]).to.equal(status);
        }
      });

      it("refuses a scrapped vehicle", async function () {
        const { registry, registrar, vehicleId } = await vehicleInStatus(VehicleStatus.Scrapped);
        await expect(registry.connect(registrar).rotatePlate(vehicleId, plateKey(3).address))
          .to.be.revertedWithCustomError(registry, "VehicleRegistryVehicleNotActive")
          .withArgs(vehicleId, VehicleStatus.Scrapped);
      });

      it("refuses an unknown vehicle", async function () {
        const { registry, registrar } = await networkHelpers.loadFixture(twoVehiclesFixture);
        for (const unknownId of [0n, 3n]) {
          await expect(registry.connect(registrar).rotatePlate(unknownId, plateKey(3).address))
            .to.be.revertedWithCustomError(registry, "VehicleRegistryUnknownVehicle")
            .withArgs(unknownId);
        }
      });

      it("refuses a zero new plate key", async function () {
        const { registry, registrar, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        await expect(registry.connect(registrar).rotatePlate(vehicleId, ethers.ZeroAddress))
          .to.be.revertedWithCustomError(registry, "VehicleRegistryInvalidPlate")
          .withArgs(ethers.ZeroAddress);
      });

      it("refuses a key in use, whether another vehicle's or its own", async function () {
        const { registry, registrar, plate, otherPlate, vehicleId, otherVehicleId } =
          await networkHelpers.loadFixture(twoVehiclesFixture);
        await expect(registry.connect(registrar).rotatePlate(vehicleId, otherPlate.address))
          .to.be.revertedWithCustomError(registry, "VehicleRegistryPlateInUse")
          .withArgs(otherPlate.address, otherVehicleId);
        await expect(registry.connect(registrar).rotatePlate(vehicleId, plate.address))
          .to.be.revertedWithCustomError(registry, "VehicleRegistryPlateInUse")
          .withArgs(plate.address, vehicleId);
      });

      it("refuses a key another vehicle had revoked", async function () {
        const { registry, registrar, otherPlate, vehicleId, otherVehicleId } =
          await networkHelpers.loadFixture(twoVehiclesFixture);
        await rotatePlate(registry, registrar, otherVehicleId, plateKey(3).address);
        await expect(registry.connect(registrar).rotatePlate(vehicleId, otherPlate.address))
          .to.be.revertedWithCustomError(registry, "VehicleRegistryPlateRevoked")
          .withArgs(otherPlate.address);
      });
    });

    describe("by an account without REGISTRAR_ROLE", function () {
      it("reverts with AccessControlUnauthorizedAccount for the admin, the regulator and the owner", async function () {
        const { registry, admin, regulator, owner, vehicleId, REGISTRAR_ROLE } =
          await networkHelpers.loadFixture(twoVehiclesFixture);
        for (const caller of [admin, regulator, owner]) {
          await expect(registry.connect(caller).rotatePlate(vehicleId, plateKey(3).address))
            .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, REGISTRAR_ROLE);
        }
      });
    });
  });

  describe("setStatus", function () {
    describe("by a regulator: the state machine", function () {
      const real = [VehicleStatus.Active, VehicleStatus.Suspended, VehicleStatus.Stolen, VehicleStatus.Scrapped];
      for (const from of real) {
        for (const to of [VehicleStatus.None, ...real]) {
          const allowed = from !== VehicleStatus.Scrapped && to !== VehicleStatus.None && to !== from;
          const title = `${STATUS_NAMES[from]} -> ${STATUS_NAMES[to]}: ${allowed ? "allowed" : "refused"}`;
          it(title, async function () {
            const { registry, regulator, vehicleId } = await vehicleInStatus(from);
            const change = registry.connect(regulator).setStatus(vehicleId, to, 42);
            if (allowed) {
              await expect(change)
                .to.emit(registry, "VehicleStatusChanged")
                .withArgs(vehicleId, from, to, 42)
                .and.to.emit(registry, "MetadataUpdate")
                .withArgs(vehicleId);
              expect(await registry.classAndStatus(vehicleId)).to.deep.equal([BigInt(VehicleClass.Car), BigInt(to)]);
            } else {
              await expect(change)
                .to.be.revertedWithCustomError(registry, "VehicleRegistryInvalidStatusChange")
                .withArgs(vehicleId, from, to);
            }
          });
        }
      }

      it("lets a recovered stolen vehicle become active again, then scraps it for good", async function () {
        const { registry, regulator, vehicleId } = await vehicleInStatus(VehicleStatus.Stolen);
        await setVehicleStatus(registry, regulator, vehicleId, VehicleStatus.Active, 7);
        await setVehicleStatus(registry, regulator, vehicleId, VehicleStatus.Scrapped, 8);
        for (const status of [VehicleStatus.Active, VehicleStatus.Suspended, VehicleStatus.Stolen]) {
          await expect(registry.connect(regulator).setStatus(vehicleId, status, 9))
            .to.be.revertedWithCustomError(registry, "VehicleRegistryInvalidStatusChange")
            .withArgs(vehicleId, VehicleStatus.Scrapped, status);
        }
      });

      it("changes one vehicle only", async function () {
        const { registry, regulator, vehicleId, otherVehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        await setVehicleStatus(registry, regulator, vehicleId, VehicleStatus.Stolen, 1);
        expect((await readVehicle(registry, otherVehicleId)).status).to.equal(VehicleStatus.Active);
      });

      it("refuses a status that is not a VehicleStatus", async function () {
        const { registry, regulator, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        for (const badStatus of [5, 255]) {
          await expect(registry.connect(regulator).setStatus(vehicleId, badStatus, 1))
            .to.be.revertedWithCustomError(registry, "VehicleRegistryInvalidStatus")
            .withArgs(badStatus);
        }
      });

      it("refuses an unknown vehicle", async function () {
        const { registry, regulator } = await networkHelpers.loadFixture(twoVehiclesFixture);
        for (const unknownId of [0n, 3n]) {
          await expect(registry.connect(regulator).setStatus(unknownId, VehicleStatus.Stolen, 1))
            .to.be.revertedWithCustomError(registry, "VehicleRegistryUnknownVehicle")
            .withArgs(unknownId);
        }
      });
    });

    describe("by an account without REGULATOR_ROLE", function () {
      it("reverts with AccessControlUnauthorizedAccount for the admin, the registrar and the owner", async function () {
        const { registry, admin, registrar, owner, vehicleId, REGULATOR_ROLE } =
          await networkHelpers.loadFixture(twoVehiclesFixture);
        for (const caller of [admin, registrar, owner]) {
          await expect(registry.connect(caller).setStatus(vehicleId, VehicleStatus.Stolen, 1))
            .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, REGULATOR_ROLE);
        }
      });
    });
  });

  describe("reads", function () {
    it("vehicle: owner, plate, class and status; reverts for an unknown id", async function () {
      const { registry, buyer, otherPlate, otherVehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
      const info = await registry.vehicle(otherVehicleId);
      expect(info.owner).to.equal(buyer.address);
      expect(info.plate).to.equal(otherPlate.address);
      expect(info.vehicleClass).to.equal(BigInt(VehicleClass.Truck));
      expect(info.status).to.equal(BigInt(VehicleStatus.Active));
      for (const unknownId of [0n, 3n]) {
        await expect(registry.vehicle(unknownId))
          .to.be.revertedWithCustomError(registry, "VehicleRegistryUnknownVehicle")
          .withArgs(unknownId);
      }
    });

    it("vehicle: follows the passport to its new owner", async function () {
      const { registry, owner, stranger, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
      await registry.connect(owner).transferFrom(owner.address, stranger.address, vehicleId);
      expect((await registry.vehicle(vehicleId)).owner).to.equal(stranger.address);
    });

    it("vehicleByPlate: the id and the vehicle of a current plate", async function () {
      const { registry, owner, plate, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
      const [id, info] = await registry.vehicleByPlate(plate.address);
      expect(id).to.equal(vehicleId);
      expect(info.owner).to.equal(owner.address);
      expect(info.plate).to.equal(plate.address);
      expect(info.vehicleClass).to.equal(BigInt(VehicleClass.Car));
      expect(info.status).to.equal(BigInt(VehicleStatus.Active));
    });

    it("vehicleByPlate: reverts for a plate never registered, the zero address included", async function () {
      const { registry } = await networkHelpers.loadFixture(twoVehiclesFixture);
      for (const unknownPlate of [plateKey(9).address, ethers.ZeroAddress]) {
        await expect(registry.vehicleByPlate(unknownPlate))
          .to.be.revertedWithCustomError(registry, "VehicleRegistryUnknownPlate")
          .withArgs(unknownPlate);
      }
    });

    it("vehicleByPlate: reverts for a revoked plate", async function () {
      const { registry, registrar, plate, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
      await rotatePlate(registry, registrar, vehicleId, plateKey(3).address);
      await expect(registry.vehicleByPlate(plate.address))
        .to.be.revertedWithCustomError(registry, "VehicleRegistryPlateRevoked")
        .withArgs(plate.address);
    });

    it("vehicleIdOfPlate: the id of a current plate, 0 for an unknown or revoked one", async function () {
      const { registry, registrar, plate, otherPlate, vehicleId, otherVehicleId } =
        await networkHelpers.loadFixture(twoVehiclesFixture);
      expect(await registry.vehicleIdOfPlate(plate.address)).to.equal(vehicleId);
      expect(await registry.vehicleIdOfPlate(otherPlate.address)).to.equal(otherVehicleId);
      expect(await registry.vehicleIdOfPlate(plateKey(9).address)).to.equal(0n);
      await rotatePlate(registry, registrar, vehicleId, plateKey(3).address);
      expect(await registry.vehicleIdOfPlate(plate.address)).to.equal(0n);
    });

    it("resolvePlates: for each plate, its vehicle and whether it was revoked, in one call", async function () {
      const { registry, registrar, plate, otherPlate, vehicleId, otherVehicleId } =
        await networkHelpers.loadFixture(twoVehiclesFixture);
      await rotatePlate(registry, registrar, vehicleId, plateKey(3).address);
      const plates = [plate.address, otherPlate.address, plateKey(9).address, plateKey(3).address, otherPlate.address];
      const [vehicleIds, revoked] = await registry.resolvePlates(plates);
      expect(vehicleIds).to.deep.equal([0n, otherVehicleId, 0n, vehicleId, otherVehicleId]);
      expect(revoked).to.deep.equal([true, false, false, false, false]);
      for (const [index, each] of plates.entries()) {
        expect(vehicleIds[index]).to.equal(await registry.vehicleIdOfPlate(each));
        expect(revoked[index]).to.equal(await registry.isPlateRevoked(each));
      }
      expect(await registry.resolvePlates([])).to.deep.equal([[], []]);
    });

    it("classAndStatus: class and status, and (Motorcycle, None) for an unknown id without reverting", async function () {
      const { registry, regulator, vehicleId, otherVehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
      await setVehicleStatus(registry, regulator, otherVehicleId, VehicleStatus.Suspended, 3);
      expect(await registry.classAndStatus(vehicleId)).to.deep.equal([BigInt(VehicleClass.Car), 1n]);
      expect(await registry.classAndStatus(otherVehicleId)).to.deep.equal([BigInt(VehicleClass.Truck), 2n]);
      expect(await registry.classAndStatus(99n)).to.deep.equal([0n, BigInt(VehicleStatus.None)]);
    });

    it("isPlateRevoked: false for unknown and current plates, true once rotated away", async function () {
      const { registry, registrar, plate, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
      expect(await registry.isPlateRevoked(plateKey(9).address)).to.equal(false);
      expect(await registry.isPlateRevoked(plate.address)).to.equal(false);
      await rotatePlate(registry, registrar, vehicleId, plateKey(3).address);
      expect(await registry.isPlateRevoked(plate.address)).to.equal(true);
    });

    it("totalVehicles: counts registrations, not status changes or rotations", async function () {
      const { registry, registrar, regulator, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
      await rotatePlate(registry, registrar, vehicleId, plateKey(3).address);
      await setVehicleStatus(registry, regulator, vehicleId, VehicleStatus.Scrapped, 1);
      expect(await registry.totalVehicles()).to.equal(2n);
    });
  });

  describe("isPlateSignature", function () {
    const types = { PlateMessage: [{ name: "vehicleId", type: "uint256" }, { name: "payload", type: "bytes32" }] };
    const payload = ethers.id("toll gantry A7, lane 2");

    async function signedMessageFixture() {
      const fixture = await twoVehiclesFixture();
      const { chainId } = await ethers.provider.getNetwork();
      const domain = {
        name: "platechain PlateMessageVerifier",
        version: "1",
        chainId,
        verifyingContract: await fixture.verifier.getAddress(),
      };
      const message = { vehicleId: fixture.vehicleId, payload };
      const signature = await fixture.plate.signTypedData(domain, types, message);
      const digest = ethers.TypedDataEncoder.hash(domain, types, message);
      return { ...fixture, domain, message, signature, digest };
    }

    it("accepts the current plate's EIP-712 signature of the caller's digest", async function () {
      const { registry, verifier, vehicleId, signature, digest } = await networkHelpers.loadFixture(signedMessageFixture);
      expect(await verifier.digest(vehicleId, payload)).to.equal(digest);
      expect(await verifier.isSignedByPlate(vehicleId, payload, signature)).to.equal(true);
      expect(await registry.isPlateSignature(vehicleId, digest, signature)).to.equal(true);
    });

    it("accepts a raw digest signature made with the shared helper", async function () {
      const { registry, plate, vehicleId, digest } = await networkHelpers.loadFixture(signedMessageFixture);
      expect(await registry.isPlateSignature(vehicleId, digest, signWithPlate(plate.signingKey, digest))).to.equal(true);
    });

    it("refuses a signature by another key, the other vehicle's plate included", async function () {
      const { verifier, otherPlate, vehicleId, domain, message } = await networkHelpers.loadFixture(signedMessageFixture);
      for (const wrongSigner of [otherPlate, plateKey(9)]) {
        const signature = await wrongSigner.signTypedData(domain, types, message);
        expect(await verifier.isSignedByPlate(vehicleId, payload, signature)).to.equal(false);
      }
    });

    it("refuses the plate's signature presented for another vehicle or another payload", async function () {
      const { verifier, vehicleId, otherVehicleId, signature } = await networkHelpers.loadFixture(signedMessageFixture);
      expect(await verifier.isSignedByPlate(otherVehicleId, payload, signature)).to.equal(false);
      expect(await verifier.isSignedByPlate(vehicleId, ethers.id("another payload"), signature)).to.equal(false);
    });

    it("refuses the plate's signature made for another domain", async function () {
      const { registry, vehicleId, signature } = await networkHelpers.loadFixture(signedMessageFixture);
      const otherVerifier = await ethers.deployContract("PlateMessageVerifier", [await registry.getAddress()]);
      expect(await otherVerifier.isSignedByPlate(vehicleId, payload, signature)).to.equal(false);
    });

    it("refuses a rotated (revoked) plate and accepts its replacement", async function () {
      const { registry, registrar, verifier, vehicleId, domain, message, signature } =
        await networkHelpers.loadFixture(signedMessageFixture);
      const newPlate = plateKey(3);
      await rotatePlate(registry, registrar, vehicleId, newPlate.address);
      expect(await verifier.isSignedByPlate(vehicleId, payload, signature)).to.equal(false);
      const newSignature = await newPlate.signTypedData(domain, types, message);
      expect(await verifier.isSignedByPlate(vehicleId, payload, newSignature)).to.equal(true);
    });

    it("refuses the high-s (malleable) twin of a valid signature, which ecrecover itself would accept", async function () {
      const { registry, plate, vehicleId, digest, signature } = await networkHelpers.loadFixture(signedMessageFixture);
      const { r, s, v } = ethers.Signature.from(signature);
      const highS = ethers.toBeHex(SECP256K1_N - BigInt(s), 32);
      const flippedV = v === 27 ? 28 : 27;
      const malleable = ethers.concat([r, highS, ethers.toBeHex(flippedV, 1)]);
      const recovered = await ethers.provider.call({
        to: ECRECOVER_PRECOMPILE,
        data: ethers.concat([digest, ethers.toBeHex(flippedV, 32), r, highS]),
      });
      expect(ethers.getAddress(ethers.dataSlice(recovered, 12))).to.equal(plate.address);
      expect(await registry.isPlateSignature(vehicleId, digest, malleable)).to.equal(false);
    });

    it("refuses malformed signatures without reverting", async function () {
      const { registry, vehicleId, digest, signature } = await networkHelpers.loadFixture(signedMessageFixture);
      const { r, s } = ethers.Signature.from(signature);
      const malformed = {
        empty: "0x",
        "64-byte compact (ERC-2098)": ethers.Signature.from(signature).compactSerialized,
        "66 bytes": ethers.concat([signature, "0x00"]),
        "v = 29": ethers.concat([r, s, "0x1d"]),
        "r = 0": ethers.concat([ethers.ZeroHash, s, ethers.dataSlice(signature, 64)]),
        "random bytes": ethers.hexlify(ethers.randomBytes(65)),
      };
      for (const [name, bad] of Object.entries(malformed)) {
        expect(await registry.isPlateSignature(vehicleId, digest, bad), name).to.equal(false);
      }
    });

    it("returns false for an unknown vehicle", async function () {
      const { registry, digest, signature } = await networkHelpers.loadFixture(signedMessageFixture);
      for (const unknownId of [0n, 3n]) {
        expect(await registry.isPlateSignature(unknownId, digest, signature)).to.equal(false);
      }
    });

    it("does not look at the vehicle's status: a scrapped vehicle's plate still signs", async function () {
      const { registry, regulator, verifier, vehicleId, signature } =
        await networkHelpers.loadFixture(signedMessageFixture);
      await setVehicleStatus(registry, regulator, vehicleId, VehicleStatus.Scrapped, 1);
      expect(await verifier.isSignedByPlate(vehicleId, payload, signature)).to.equal(true);
    });
  });

  describe("transfers", function () {
    describe("of an active vehicle", function () {
      it("transferFrom by the owner moves the passport and clears its approval", async function () {
        const { registry, owner, buyer, stranger, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        await registry.connect(owner).approve(stranger.address, vehicleId);
        await expect(registry.connect(owner).transferFrom(owner.address, buyer.address, vehicleId))
          .to.emit(registry, "Transfer")
          .withArgs(owner.address, buyer.address, vehicleId);
        expect(await registry.ownerOf(vehicleId)).to.equal(buyer.address);
        expect(await registry.balanceOf(owner.address)).to.equal(0n);
        expect(await registry.balanceOf(buyer.address)).to.equal(2n);
        expect(await registry.getApproved(vehicleId)).to.equal(ethers.ZeroAddress);
      });

      it("transferFrom by an approved account or an operator", async function () {
        const { registry, owner, buyer, stranger, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        await expect(registry.connect(owner).approve(stranger.address, vehicleId))
          .to.emit(registry, "Approval")
          .withArgs(owner.address, stranger.address, vehicleId);
        expect(await registry.getApproved(vehicleId)).to.equal(stranger.address);
        await registry.connect(stranger).transferFrom(owner.address, buyer.address, vehicleId);
        await expect(registry.connect(buyer).setApprovalForAll(stranger.address, true))
          .to.emit(registry, "ApprovalForAll")
          .withArgs(buyer.address, stranger.address, true);
        expect(await registry.isApprovedForAll(buyer.address, stranger.address)).to.equal(true);
        await registry.connect(stranger).transferFrom(buyer.address, owner.address, vehicleId);
        expect(await registry.ownerOf(vehicleId)).to.equal(owner.address);
      });

      it("safeTransferFrom to an account", async function () {
        const { registry, owner, buyer, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        await expect(
          registry.connect(owner)["safeTransferFrom(address,address,uint256)"](owner.address, buyer.address, vehicleId),
        )
          .to.emit(registry, "Transfer")
          .withArgs(owner.address, buyer.address, vehicleId);
        expect(await registry.ownerOf(vehicleId)).to.equal(buyer.address);
      });

      it("safeTransferFrom with data to a receiving contract, which is told operator, sender, id and data", async function () {
        const { registry, receiver, owner, stranger, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        const receiverAddress = await receiver.getAddress();
        await registry.connect(owner).setApprovalForAll(stranger.address, true);
        await expect(
          registry
            .connect(stranger)
            ["safeTransferFrom(address,address,uint256,bytes)"](owner.address, receiverAddress, vehicleId, "0xf1ee7001"),
        )
          .to.emit(receiver, "PassportReceived")
          .withArgs(stranger.address, owner.address, vehicleId, "0xf1ee7001");
        expect(await registry.ownerOf(vehicleId)).to.equal(receiverAddress);
      });

      it("safeTransferFrom refuses a contract that does not accept ERC-721 tokens", async function () {
        const { registry, verifier, owner, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        const verifierAddress = await verifier.getAddress();
        await expect(
          registry.connect(owner)["safeTransferFrom(address,address,uint256)"](owner.address, verifierAddress, vehicleId),
        )
          .to.be.revertedWithCustomError(registry, "ERC721InvalidReceiver")
          .withArgs(verifierAddress);
      });

      it("refuses a caller who is neither owner nor approved: the registrar, regulator and admin included", async function () {
        const { registry, admin, registrar, regulator, stranger, owner, vehicleId } =
          await networkHelpers.loadFixture(twoVehiclesFixture);
        for (const caller of [stranger, registrar, regulator, admin]) {
          await expect(registry.connect(caller).transferFrom(owner.address, caller.address, vehicleId))
            .to.be.revertedWithCustomError(registry, "ERC721InsufficientApproval")
            .withArgs(caller.address, vehicleId);
        }
      });

      it("refuses the zero address as receiver, a wrong sender and an unknown id", async function () {
        const { registry, owner, buyer, stranger, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
        await expect(registry.connect(owner).transferFrom(owner.address, ethers.ZeroAddress, vehicleId))
          .to.be.revertedWithCustomError(registry, "ERC721InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
        await expect(registry.connect(owner).transferFrom(stranger.address, buyer.address, vehicleId))
          .to.be.revertedWithCustomError(registry, "ERC721IncorrectOwner")
          .withArgs(stranger.address, vehicleId, owner.address);
        await expect(registry.connect(owner).transferFrom(owner.address, buyer.address, 99n))
          .to.be.revertedWithCustomError(registry, "ERC721NonexistentToken")
          .withArgs(99n);
      });
    });

    for (const status of [VehicleStatus.Suspended, VehicleStatus.Stolen, VehicleStatus.Scrapped]) {
      describe(`of a ${STATUS_NAMES[status].toLowerCase()} vehicle`, function () {
        it("refuses transferFrom and both safeTransferFrom, by the owner or an operator", async function () {
          const { registry, owner, buyer, stranger, receiver, vehicleId } = await vehicleInStatus(status);
          const receiverAddress = await receiver.getAddress();
          await registry.connect(owner).setApprovalForAll(stranger.address, true);
          for (const caller of [owner, stranger]) {
            const attempts = [
              () => registry.connect(caller).transferFrom(owner.address, buyer.address, vehicleId),
              () =>
                registry
                  .connect(caller)
                  ["safeTransferFrom(address,address,uint256)"](owner.address, buyer.address, vehicleId),
              () =>
                registry
                  .connect(caller)
                  ["safeTransferFrom(address,address,uint256,bytes)"](owner.address, receiverAddress, vehicleId, "0x01"),
            ];
            for (const attempt of attempts) {
              await expect(attempt())
                .to.be.revertedWithCustomError(registry, "VehicleRegistryVehicleNotActive")
                .withArgs(vehicleId, status);
            }
          }
          expect(await registry.ownerOf(vehicleId)).to.equal(owner.address);
        });

        it("still lets the owner approve, which is of no use until the vehicle is active", async function () {
          const { registry, owner, buyer, stranger, vehicleId } = await vehicleInStatus(status);
          await registry.connect(owner).approve(stranger.address, vehicleId);
          expect(await registry.getApproved(vehicleId)).to.equal(stranger.address);
          await expect(registry.connect(stranger).transferFrom(owner.address, buyer.address, vehicleId))
            .to.be.revertedWithCustomError(registry, "VehicleRegistryVehicleNotActive")
            .withArgs(vehicleId, status);
        });
      });
    }

    it("resume once a suspended or stolen vehicle is active again", async function () {
      for (const status of [VehicleStatus.Suspended, VehicleStatus.Stolen]) {
        const { registry, regulator, owner, buyer, vehicleId } = await vehicleInStatus(status);
        await setVehicleStatus(registry, regulator, vehicleId, VehicleStatus.Active, 0);
        await registry.connect(owner).transferFrom(owner.address, buyer.address, vehicleId);
        expect(await registry.ownerOf(vehicleId), STATUS_NAMES[status]).to.equal(buyer.address);
      }
    });
  });

  describe("tokenURI", function () {
    it("is an on-chain JSON data URI with the vehicle's name, class, status and plate key", async function () {
      const { registry, plate, vehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
      const metadata = decodeMetadata(await registry.tokenURI(vehicleId));
      expect(metadata.name).to.equal("platechain vehicle #1");
      expect(metadata.description).to.contain("VehicleRegistry");
      expect(metadata.attributes).to.deep.equal([
        { trait_type: "Class", value: "Car" },
        { trait_type: "Status", value: "Active" },
        { trait_type: "Plate key", value: plate.address },
      ]);
    });

    it("follows status changes and plate rotations", async function () {
      const { registry, registrar, regulator, otherVehicleId } = await networkHelpers.loadFixture(twoVehiclesFixture);
      const newPlate = plateKey(3).address;
      await rotatePlate(registry, registrar, otherVehicleId, newPlate);
      await setVehicleStatus(registry, regulator, otherVehicleId, VehicleStatus.Stolen, 1);
      const metadata = decodeMetadata(await registry.tokenURI(otherVehicleId));
      expect(metadata.name).to.equal("platechain vehicle #2");
      expect(metadata.attributes).to.deep.equal([
        { trait_type: "Class", value: "Truck" },
        { trait_type: "Status", value: "Stolen" },
        { trait_type: "Plate key", value: newPlate },
      ]);
    });

    it("reverts for an unknown id", async function () {
      const { registry } = await networkHelpers.loadFixture(twoVehiclesFixture);
      await expect(registry.tokenURI(3n)).to.be.revertedWithCustomError(registry, "ERC721NonexistentToken").withArgs(3n);
    });
  });

  describe("roles", function () {
    it("the admin grants and revokes the registrar and regulator roles", async function () {
      const { registry, admin, stranger, REGISTRAR_ROLE, REGULATOR_ROLE } =
        await networkHelpers.loadFixture(deployRegistryFixture);
      for (const role of [REGISTRAR_ROLE, REGULATOR_ROLE]) {
        await expect(registry.connect(admin).grantRole(role, stranger.address))
          .to.emit(registry, "RoleGranted")
          .withArgs(role, stranger.address, admin.address);
        expect(await registry.hasRole(role, stranger.address)).to.equal(true);
        await expect(registry.connect(admin).revokeRole(role, stranger.address))
          .to.emit(registry, "RoleRevoked")
          .withArgs(role, stranger.address, admin.address);
        expect(await registry.hasRole(role, stranger.address)).to.equal(false);
      }
    });

    it("no one else grants or revokes roles", async function () {
      const { registry, registrar, regulator, stranger, REGISTRAR_ROLE, REGULATOR_ROLE } =
        await networkHelpers.loadFixture(deployRegistryFixture);
      for (const caller of [registrar, regulator, stranger]) {
        await expect(registry.connect(caller).grantRole(REGISTRAR_ROLE, stranger.address))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, DEFAULT_ADMIN_ROLE);
        await expect(registry.connect(caller).revokeRole(REGULATOR_ROLE, regulator.address))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, DEFAULT_ADMIN_ROLE);
      }
    });

    it("a holder renounces its own role only", async function () {
      const { registry, registrar, regulator, REGISTRAR_ROLE } = await networkHelpers.loadFixture(deployRegistryFixture);
      await expect(registry.connect(regulator).renounceRole(REGISTRAR_ROLE, registrar.address))
        .to.be.revertedWithCustomError(registry, "AccessControlBadConfirmation");
      await expect(registry.connect(registrar).renounceRole(REGISTRAR_ROLE, registrar.address))
        .to.emit(registry, "RoleRevoked")
        .withArgs(REGISTRAR_ROLE, registrar.address, registrar.address);
    });

    it("the default admin role is never granted directly", async function () {
      const { registry, admin, newAdmin } = await networkHelpers.loadFixture(deployRegistryFixture);
      await expect(
        registry.connect(admin).grantRole(DEFAULT_ADMIN_ROLE, newAdmin.address),
      ).to.be.revertedWithCustomError(registry, "AccessControlEnforcedDefaultAdminRules");
    });
  });

  describe("default admin handover (two steps with a delay)", function () {
    async function handoverStartedFixture() {
      const fixture = await deployRegistryFixture();
      await fixture.registry.connect(fixture.admin).beginDefaultAdminTransfer(fixture.newAdmin.address);
      const [, schedule] = await fixture.registry.pendingDefaultAdmin();
      return { ...fixture, schedule };
    }

    it("begins with a schedule one delay away", async function () {
      const { registry, admin, newAdmin } = await networkHelpers.loadFixture(deployRegistryFixture);
      const tx = registry.connect(admin).beginDefaultAdminTransfer(newAdmin.address);
      await expect(tx).to.emit(registry, "DefaultAdminTransferScheduled");
      const startedAt = BigInt(await networkHelpers.time.latest());
      expect(await registry.pendingDefaultAdmin()).to.deep.equal([newAdmin.address, startedAt + DEFAULT_ADMIN_DELAY]);
    });

    it("only the admin begins a handover", async function () {
      const { registry, registrar, newAdmin } = await networkHelpers.loadFixture(deployRegistryFixture);
      for (const caller of [registrar, newAdmin]) {
        await expect(registry.connect(caller).beginDefaultAdminTransfer(newAdmin.address))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, DEFAULT_ADMIN_ROLE);
      }
    });

    it("the new admin cannot accept before the delay has passed", async function () {
      const { registry, newAdmin, schedule } = await networkHelpers.loadFixture(handoverStartedFixture);
      await expect(registry.connect(newAdmin).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(registry, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
      await networkHelpers.time.setNextBlockTimestamp(schedule);
      await expect(registry.connect(newAdmin).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(registry, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
    });

    it("the new admin accepts after the delay and the old admin loses the role", async function () {
      const { registry, admin, newAdmin, stranger, schedule, REGISTRAR_ROLE } =
        await networkHelpers.loadFixture(handoverStartedFixture);
      await networkHelpers.time.setNextBlockTimestamp(schedule + 1n);
      await expect(registry.connect(newAdmin).acceptDefaultAdminTransfer())
        .to.emit(registry, "RoleGranted")
        .withArgs(DEFAULT_ADMIN_ROLE, newAdmin.address, newAdmin.address);
      expect(await registry.defaultAdmin()).to.equal(newAdmin.address);
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(false);
      await expect(registry.connect(admin).grantRole(REGISTRAR_ROLE, stranger.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, DEFAULT_ADMIN_ROLE);
      await registry.connect(newAdmin).grantRole(REGISTRAR_ROLE, stranger.address);
    });

    it("no one but the pending admin accepts", async function () {
      const { registry, admin, stranger, schedule } = await networkHelpers.loadFixture(handoverStartedFixture);
      await networkHelpers.time.increaseTo(schedule + 1n);
      for (const caller of [stranger, admin]) {
        await expect(registry.connect(caller).acceptDefaultAdminTransfer())
          .to.be.revertedWithCustomError(registry, "AccessControlInvalidDefaultAdmin")
          .withArgs(caller.address);
      }
    });

    it("the admin cancels a pending handover; no one else can", async function () {
      const { registry, admin, newAdmin, schedule } = await networkHelpers.loadFixture(handoverStartedFixture);
      await expect(registry.connect(newAdmin).cancelDefaultAdminTransfer())
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(newAdmin.address, DEFAULT_ADMIN_ROLE);
      await expect(registry.connect(admin).cancelDefaultAdminTransfer()).to.emit(
        registry,
        "DefaultAdminTransferCanceled",
      );
      await networkHelpers.time.increaseTo(schedule + 1n);
      await expect(registry.connect(newAdmin).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(registry, "AccessControlInvalidDefaultAdmin")
        .withArgs(newAdmin.address);
    });

    it("the admin schedules and rolls back a delay change; no one else can", async function () {
      const { registry, admin, stranger } = await networkHelpers.loadFixture(deployRegistryFixture);
      const longerDelay = 7n * 24n * 60n * 60n;
      expect(await registry.defaultAdminDelayIncreaseWait()).to.equal(5n * 24n * 60n * 60n);
      await expect(registry.connect(stranger).changeDefaultAdminDelay(longerDelay))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, DEFAULT_ADMIN_ROLE);
      await expect(registry.connect(admin).changeDefaultAdminDelay(longerDelay)).to.emit(
        registry,
        "DefaultAdminDelayChangeScheduled",
      );
      const [pendingDelay] = await registry.pendingDefaultAdminDelay();
      expect(pendingDelay).to.equal(longerDelay);
      await expect(registry.connect(stranger).rollbackDefaultAdminDelay())
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, DEFAULT_ADMIN_ROLE);
      await expect(registry.connect(admin).rollbackDefaultAdminDelay()).to.emit(
        registry,
        "DefaultAdminDelayChangeCanceled",
      );
      expect(await registry.pendingDefaultAdminDelay()).to.deep.equal([0n, 0n]);
      expect(await registry.defaultAdminDelay()).to.equal(DEFAULT_ADMIN_DELAY);
    });
  });
});
