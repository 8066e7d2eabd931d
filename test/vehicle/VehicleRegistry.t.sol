// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVehicleRegistry} from "../../contracts/interfaces/IVehicleRegistry.sol";
import {VehicleRegistry} from "../../contracts/vehicle/VehicleRegistry.sol";
import {TestBase} from "../utils/Vm.sol";

contract VehicleRegistryTest is TestBase {
    VehicleRegistry internal registry;
    address internal constant REGISTRAR = address(0xBEEF);

    function setUp() public {
        registry = new VehicleRegistry(3 days, address(this));
        registry.grantRole(registry.REGISTRAR_ROLE(), REGISTRAR);
    }

    function testFuzz_registerVehicle(address owner, uint256 plateKey, bytes32 vin, uint8 vehicleClass) public {
        vm.assume(owner != address(0) && owner.code.length == 0 && vin != bytes32(0));
        plateKey = bound(plateKey, 1, 2 ** 200);
        vehicleClass = uint8(bound(vehicleClass, 0, 5));
        address plate = vm.addr(plateKey);
        vm.prank(REGISTRAR);
        uint256 vehicleId = registry.registerVehicle(owner, plate, vin, vehicleClass);
        assertEq(vehicleId, 1, "first id");
        assertEq(registry.ownerOf(vehicleId), owner, "owner");
        assertEq(registry.vehicleIdOfPlate(plate), vehicleId, "plate binding");
        (IVehicleRegistry.VehicleClass class_, IVehicleRegistry.VehicleStatus status) = registry.classAndStatus(1);
        assertEq(uint8(class_), vehicleClass, "class");
        assertEq(uint8(status), uint8(IVehicleRegistry.VehicleStatus.Active), "status");
    }
}
