// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVehicleRegistry} from "../../contracts/interfaces/IVehicleRegistry.sol";
import {VehicleRegistry} from "../../contracts/vehicle/VehicleRegistry.sol";
import {TestBase} from "../utils/Vm.sol";

/// @notice Fuzz and concrete tests of registration, plate rotation and the status state machine. Every fuzz test
/// has a concrete twin right after it that shows the same property with plain values.
contract VehicleRegistryTest is TestBase {
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint8 internal constant MAX_CLASS = uint8(type(IVehicleRegistry.VehicleClass).max);
    uint8 internal constant MAX_STATUS = uint8(type(IVehicleRegistry.VehicleStatus).max);
    uint8 internal constant NONE = uint8(IVehicleRegistry.VehicleStatus.None);
    uint8 internal constant ACTIVE = uint8(IVehicleRegistry.VehicleStatus.Active);
    uint8 internal constant SUSPENDED = uint8(IVehicleRegistry.VehicleStatus.Suspended);
    uint8 internal constant STOLEN = uint8(IVehicleRegistry.VehicleStatus.Stolen);
    uint8 internal constant SCRAPPED = uint8(IVehicleRegistry.VehicleStatus.Scrapped);

    address internal constant REGISTRAR = address(0xBEEF);
    address internal constant REGULATOR = address(0xC0DE);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    VehicleRegistry internal registry;

    function setUp() public {
        registry = new VehicleRegistry(3 days, address(this));
        registry.grantRole(registry.REGISTRAR_ROLE(), REGISTRAR);
        registry.grantRole(registry.REGULATOR_ROLE(), REGULATOR);
    }

    // ---------------------------------------------------------------- registration

    function testFuzz_registerVehicle(address owner, uint256 plateKey, bytes32 vin, uint8 vehicleClass) public {
        vm.assume(owner != address(0) && vin != bytes32(0));
        plateKey = bound(plateKey, 1, SECP256K1_N - 1);
        vehicleClass = uint8(bound(vehicleClass, 0, MAX_CLASS));
        _checkRegistration(owner, vm.addr(plateKey), vin, vehicleClass);
    }

    function test_registerVehicle_aliceCar() public {
        _checkRegistration(ALICE, vm.addr(0xA1), keccak256("VIN WVWZZZ1JZXW000001"), 1);
    }

    function testFuzz_registerVehicle_refusesInvalidClass(uint8 vehicleClass) public {
        vehicleClass = uint8(bound(vehicleClass, uint256(MAX_CLASS) + 1, type(uint8).max));
        vm.expectRevert(
            abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryInvalidClass.selector, vehicleClass)
        );
        vm.prank(REGISTRAR);
        registry.registerVehicle(ALICE, vm.addr(0xA1), keccak256("vin"), vehicleClass);
    }

    function test_registerVehicle_refusesClassSix() public {
        vm.expectRevert(abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryInvalidClass.selector, 6));
        vm.prank(REGISTRAR);
        registry.registerVehicle(ALICE, vm.addr(0xA1), keccak256("vin"), 6);
    }

    function testFuzz_registerVehicle_plateAndVinBelongToOneVehicle(
        uint256 plateKey,
        uint256 otherPlateKey,
        bytes32 vin,
        bytes32 otherVin
    ) public {
        plateKey = bound(plateKey, 1, SECP256K1_N - 1);
        otherPlateKey = bound(otherPlateKey, 1, SECP256K1_N - 1);
        vm.assume(plateKey != otherPlateKey && vin != otherVin && vin != bytes32(0) && otherVin != bytes32(0));
        _checkOneVehiclePerPlateAndVin(vm.addr(plateKey), vm.addr(otherPlateKey), vin, otherVin);
    }

    function test_registerVehicle_plateAndVinBelongToOneVehicle() public {
        _checkOneVehiclePerPlateAndVin(vm.addr(0xA1), vm.addr(0xB1), keccak256("vin A"), keccak256("vin B"));
    }

    function testFuzz_registerVehicle_idsAreSequential(uint8 count) public {
        _checkSequentialIds(bound(count, 1, 30));
    }

    function test_registerVehicle_idsAreSequential() public {
        _checkSequentialIds(3);
    }

    // ---------------------------------------------------------------- plate rotation

    /// @dev A chain of `length` rotations through keys derived from `seed`.
    function testFuzz_rotatePlate_chain(uint256 seed, uint8 length) public {
        length = uint8(bound(length, 1, 12));
        uint256[] memory keys = new uint256[](uint256(length) + 1);
        for (uint256 i = 0; i < keys.length; ++i) {
            keys[i] = bound(uint256(keccak256(abi.encode(seed, i))), 1, SECP256K1_N - 1);
        }
        _checkRotationChain(keys);
    }

    function test_rotatePlate_chainOfThree() public {
        uint256[] memory keys = new uint256[](4);
        (keys[0], keys[1], keys[2], keys[3]) = (0xA1, 0xA2, 0xA3, 0xA4);
        _checkRotationChain(keys);
    }

    // ---------------------------------------------------------------- status state machine

    /// @dev 24 status requests (valid or not) drawn from `seed`, each checked against a model of the state machine,
    /// with a sale attempt and a plate rotation after each: both must succeed exactly when the model allows them.
    function testFuzz_setStatus_matchesModel(uint256 seed) public {
        uint256 vehicleId = _register(ALICE, vm.addr(0xA1), keccak256("vin"), 1);
        uint8 modelStatus = ACTIVE;
        address modelOwner = ALICE;
        for (uint256 step = 0; step < 24; ++step) {
            uint8 requested = _drawStatus(uint256(keccak256(abi.encode(seed, step))));
            (bool ok, bytes memory err) = _trySetStatus(vehicleId, requested, uint32(step));
            bytes memory expectedErr = _modelSetStatusError(vehicleId, modelStatus, requested);
            assertTrue(ok == (expectedErr.length == 0), "setStatus outcome vs model");
            if (ok) modelStatus = requested;
            else assertEq(keccak256(err), keccak256(expectedErr), "setStatus error");
            (, IVehicleRegistry.VehicleStatus status) = registry.classAndStatus(vehicleId);
            assertEq(uint8(status), modelStatus, "stored status");
            modelOwner = _checkSaleFollowsModel(vehicleId, modelOwner, modelStatus);
            _checkRotationFollowsModel(vehicleId, modelStatus, step);
        }
    }

    /// @dev The lifecycle of a car: suspended, reinstated, stolen, recovered, scrapped for good.
    function test_setStatus_lifecycle() public {
        uint256 vehicleId = _register(ALICE, vm.addr(0xA1), keccak256("vin"), 1);

        vm.expectEmit(address(registry));
        emit IVehicleRegistry.VehicleStatusChanged(vehicleId, _s(ACTIVE), _s(SUSPENDED), 101);
        _setStatus(vehicleId, SUSPENDED, 101);
        _expectSaleRefused(vehicleId, SUSPENDED);

        _setStatus(vehicleId, ACTIVE, 102);
        _setStatus(vehicleId, STOLEN, 103);
        _expectSaleRefused(vehicleId, STOLEN);
        _expectStatusChangeRefused(vehicleId, STOLEN, STOLEN);
        _expectStatusChangeRefused(vehicleId, STOLEN, NONE);

        _setStatus(vehicleId, ACTIVE, 104);
        vm.prank(ALICE);
        registry.transferFrom(ALICE, BOB, vehicleId);
        assertEq(registry.ownerOf(vehicleId), BOB, "sold while active");

        vm.expectEmit(address(registry));
        emit IVehicleRegistry.VehicleStatusChanged(vehicleId, _s(ACTIVE), _s(SCRAPPED), 105);
        _setStatus(vehicleId, SCRAPPED, 105);
        _expectStatusChangeRefused(vehicleId, SCRAPPED, ACTIVE);
        _expectStatusChangeRefused(vehicleId, SCRAPPED, SCRAPPED);
        vm.expectRevert(
            abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryVehicleNotActive.selector, vehicleId, _s(SCRAPPED))
        );
        vm.prank(REGISTRAR);
        registry.rotatePlate(vehicleId, vm.addr(0xA2));
    }

    function testFuzz_setStatus_refusesInvalidStatus(uint8 status) public {
        status = uint8(bound(status, uint256(MAX_STATUS) + 1, type(uint8).max));
        uint256 vehicleId = _register(ALICE, vm.addr(0xA1), keccak256("vin"), 1);
        vm.expectRevert(abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryInvalidStatus.selector, status));
        vm.prank(REGULATOR);
        registry.setStatus(vehicleId, status, 1);
    }

    function test_setStatus_refusesStatusFive() public {
        uint256 vehicleId = _register(ALICE, vm.addr(0xA1), keccak256("vin"), 1);
        vm.expectRevert(abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryInvalidStatus.selector, 5));
        vm.prank(REGULATOR);
        registry.setStatus(vehicleId, 5, 1);
    }

    // ---------------------------------------------------------------- checks shared by fuzz tests and twins

    function _checkRegistration(address owner, address plate, bytes32 vin, uint8 vehicleClass) internal {
        uint256 vehicleId = _register(owner, plate, vin, vehicleClass);
        assertEq(vehicleId, 1, "first id");
        assertEq(registry.totalVehicles(), 1, "total vehicles");
        assertEq(registry.ownerOf(vehicleId), owner, "owner");
        assertEq(registry.balanceOf(owner), 1, "owner's passports");
        assertEq(registry.vehicleIdOfPlate(plate), vehicleId, "plate binding");
        IVehicleRegistry.VehicleInfo memory info = registry.vehicle(vehicleId);
        assertEq(info.owner, owner, "info owner");
        assertEq(info.plate, plate, "info plate");
        assertEq(uint8(info.vehicleClass), vehicleClass, "info class");
        assertEq(uint8(info.status), ACTIVE, "info status");
        (uint256 byPlateId, IVehicleRegistry.VehicleInfo memory byPlate) = registry.vehicleByPlate(plate);
        assertEq(byPlateId, vehicleId, "id by plate");
        assertEq(byPlate.owner, owner, "owner by plate");
        (IVehicleRegistry.VehicleClass class_, IVehicleRegistry.VehicleStatus status) =
            registry.classAndStatus(vehicleId);
        assertEq(uint8(class_), vehicleClass, "class");
        assertEq(uint8(status), ACTIVE, "status");
    }

    function _checkOneVehiclePerPlateAndVin(address plate, address otherPlate, bytes32 vin, bytes32 otherVin)
        internal
    {
        uint256 vehicleId = _register(ALICE, plate, vin, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryPlateInUse.selector, plate, vehicleId)
        );
        vm.prank(REGISTRAR);
        registry.registerVehicle(BOB, plate, otherVin, 2);
        vm.expectRevert(abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryVinInUse.selector, vin, vehicleId));
        vm.prank(REGISTRAR);
        registry.registerVehicle(BOB, otherPlate, vin, 2);
        assertEq(_register(BOB, otherPlate, otherVin, 2), 2, "distinct plate and VIN register");
    }

    function _checkSequentialIds(uint256 count) internal {
        for (uint256 i = 1; i < count + 1; ++i) {
            uint256 vehicleId = _register(i % 2 == 0 ? ALICE : BOB, vm.addr(i), keccak256(abi.encode(i)), 1);
            assertEq(vehicleId, i, "sequential id");
            assertEq(registry.totalVehicles(), i, "total vehicles");
        }
    }

    /// @dev Registers on keys[0], rotates through the rest; checks bindings, revocations and signatures at each step.
    function _checkRotationChain(uint256[] memory keys) internal {
        uint256 vehicleId = _register(ALICE, vm.addr(keys[0]), keccak256("vin"), 3);
        bytes32 digest = keccak256("a caller's EIP-712 digest");
        for (uint256 i = 1; i < keys.length; ++i) {
            address oldPlate = vm.addr(keys[i - 1]);
            address newPlate = vm.addr(keys[i]);
            vm.expectEmit(address(registry));
            emit IVehicleRegistry.PlateRotated(vehicleId, oldPlate, newPlate);
            vm.prank(REGISTRAR);
            registry.rotatePlate(vehicleId, newPlate);
            assertEq(registry.vehicleIdOfPlate(newPlate), vehicleId, "new plate bound");
            assertEq(registry.vehicleIdOfPlate(oldPlate), 0, "old plate unbound");
            assertTrue(registry.isPlateRevoked(oldPlate), "old plate revoked");
            assertTrue(registry.isPlateSignature(vehicleId, digest, _sign(keys[i], digest)), "new plate signs");
            assertTrue(!registry.isPlateSignature(vehicleId, digest, _sign(keys[i - 1], digest)), "old plate no more");
        }
        IVehicleRegistry.VehicleInfo memory info = registry.vehicle(vehicleId);
        assertEq(info.plate, vm.addr(keys[keys.length - 1]), "last plate");
        assertEq(info.owner, ALICE, "owner kept");
        assertEq(uint8(info.vehicleClass), 3, "class kept");
        assertEq(uint8(info.status), ACTIVE, "status kept");
        assertEq(registry.totalVehicles(), 1, "still one vehicle");
        for (uint256 i = 0; i + 1 < keys.length; ++i) {
            address revoked = vm.addr(keys[i]);
            bytes memory err = abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryPlateRevoked.selector, revoked);
            vm.expectRevert(err);
            vm.prank(REGISTRAR);
            registry.registerVehicle(BOB, revoked, keccak256(abi.encode("other vin", i)), 1);
            vm.expectRevert(err);
            vm.prank(REGISTRAR);
            registry.rotatePlate(vehicleId, revoked);
        }
    }

    /// @dev The model: the error `setStatus(vehicleId, requested)` must raise from `current`, or "" if it is allowed.
    function _modelSetStatusError(uint256 vehicleId, uint8 current, uint8 requested)
        internal
        pure
        returns (bytes memory)
    {
        if (requested > MAX_STATUS) {
            return abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryInvalidStatus.selector, requested);
        }
        if (requested == NONE || requested == current || current == SCRAPPED) {
            return abi.encodeWithSelector(
                IVehicleRegistry.VehicleRegistryInvalidStatusChange.selector, vehicleId, current, requested
            );
        }
        return "";
    }

    /// @dev A requested status: usually None, Active, Suspended, Stolen or an invalid value; Scrapped rarely (1 in 32),
    /// so that most runs spend many steps among the reversible statuses before the final one.
    function _drawStatus(uint256 random) internal pure returns (uint8) {
        if (random % 32 == 0) return SCRAPPED;
        uint8[6] memory choices = [NONE, ACTIVE, SUSPENDED, STOLEN, MAX_STATUS + 1, type(uint8).max];
        return choices[(random >> 8) % choices.length];
    }

    /// @dev The owner tries to sell to the other party: allowed exactly when active. Returns the owner afterwards.
    function _checkSaleFollowsModel(uint256 vehicleId, address owner, uint8 modelStatus) internal returns (address) {
        address buyer = owner == ALICE ? BOB : ALICE;
        vm.prank(owner);
        try registry.transferFrom(owner, buyer, vehicleId) {
            assertEq(modelStatus, ACTIVE, "sold while not active");
            assertEq(registry.ownerOf(vehicleId), buyer, "buyer owns it");
            return buyer;
        } catch (bytes memory err) {
            assertTrue(modelStatus != ACTIVE, "active vehicle not sold");
            bytes memory expected = abi.encodeWithSelector(
                IVehicleRegistry.VehicleRegistryVehicleNotActive.selector, vehicleId, modelStatus
            );
            assertEq(keccak256(err), keccak256(expected), "sale refusal");
            return owner;
        }
    }

    /// @dev The registrar gives a fresh plate: allowed exactly when the vehicle is not scrapped.
    function _checkRotationFollowsModel(uint256 vehicleId, uint8 modelStatus, uint256 step) internal {
        address newPlate = vm.addr(0x1000 + step);
        vm.prank(REGISTRAR);
        try registry.rotatePlate(vehicleId, newPlate) {
            assertTrue(modelStatus != SCRAPPED, "scrapped vehicle rotated");
            assertEq(registry.vehicleIdOfPlate(newPlate), vehicleId, "rotated");
        } catch (bytes memory err) {
            assertEq(modelStatus, SCRAPPED, "rotation refused while usable");
            bytes memory expected = abi.encodeWithSelector(
                IVehicleRegistry.VehicleRegistryVehicleNotActive.selector, vehicleId, SCRAPPED
            );
            assertEq(keccak256(err), keccak256(expected), "rotation refusal");
        }
    }

    // ---------------------------------------------------------------- small helpers

    function _register(address owner, address plate, bytes32 vin, uint8 vehicleClass) internal returns (uint256) {
        vm.prank(REGISTRAR);
        return registry.registerVehicle(owner, plate, vin, vehicleClass);
    }

    function _setStatus(uint256 vehicleId, uint8 status, uint32 reasonCode) internal {
        vm.prank(REGULATOR);
        registry.setStatus(vehicleId, status, reasonCode);
    }

    function _trySetStatus(uint256 vehicleId, uint8 status, uint32 reasonCode)
        internal
        returns (bool ok, bytes memory err)
    {
        vm.prank(REGULATOR);
        try registry.setStatus(vehicleId, status, reasonCode) {
            return (true, "");
        } catch (bytes memory reason) {
            return (false, reason);
        }
    }

    function _expectStatusChangeRefused(uint256 vehicleId, uint8 current, uint8 requested) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                IVehicleRegistry.VehicleRegistryInvalidStatusChange.selector, vehicleId, current, requested
            )
        );
        _setStatus(vehicleId, requested, 0);
    }

    function _expectSaleRefused(uint256 vehicleId, uint8 status) internal {
        address owner = registry.ownerOf(vehicleId);
        vm.expectRevert(
            abi.encodeWithSelector(IVehicleRegistry.VehicleRegistryVehicleNotActive.selector, vehicleId, status)
        );
        vm.prank(owner);
        registry.transferFrom(owner, address(0xCAFE), vehicleId);
    }

    function _sign(uint256 privateKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, digest);
        return abi.encodePacked(r, s, v);
    }

    function _s(uint8 status) internal pure returns (IVehicleRegistry.VehicleStatus) {
        return IVehicleRegistry.VehicleStatus(status);
    }
}
