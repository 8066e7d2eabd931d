// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IDrivingRecordLedger} from "../../contracts/interfaces/IDrivingRecordLedger.sol";
import {DrivingRecordLedger} from "../../contracts/record/DrivingRecordLedger.sol";
import {VehicleRegistry} from "../../contracts/vehicle/VehicleRegistry.sol";
import {TestBase} from "../utils/Vm.sol";

/// @notice Limits no realistic test sequence reaches, set up by writing the contract's storage directly: a record
/// chain holding the most records a chain can (2^24 - 1) refuses the next one instead of wrapping its count.
contract LedgerLimitsTest is TestBase {
    uint256 internal constant COUNT_SHIFT = 192;
    uint256 internal constant COUNT_MASK = uint256(type(uint24).max) << COUNT_SHIFT;

    VehicleRegistry internal registry;
    DrivingRecordLedger internal ledger;
    uint256 internal vehicleId;

    function setUp() public {
        vm.warp(1_750_000_000);
        registry = new VehicleRegistry(3 days, address(this));
        ledger = new DrivingRecordLedger(registry, 3 days, address(this));
        registry.grantRole(registry.REGISTRAR_ROLE(), address(this));
        ledger.grantRole(ledger.REPORTER_ROLE(), address(this));
        vehicleId = registry.registerVehicle(address(0xCAFE), address(0x9A7E), keccak256("VIN"), 1);
    }

    function test_appendRecords_refusesARecordPastAFullChain() public {
        ledger.appendRecords(_wire(block.timestamp - 2 days, block.timestamp - 1 days));
        bytes32 slot = _chainSlot();
        bytes32 word = vm.load(address(ledger), slot);
        vm.store(address(ledger), slot, bytes32(uint256(word) | COUNT_MASK));
        (, uint256 count,) = ledger.chainOf(vehicleId);
        assertEq(count, type(uint24).max, "chain count set to its maximum");

        vm.expectRevert(abi.encodeWithSelector(IDrivingRecordLedger.DrivingRecordLedgerChainFull.selector, vehicleId));
        ledger.appendRecords(_wire(block.timestamp - 1 days, block.timestamp - 1 hours));
    }

    /// @dev The storage slot of `_chains[vehicleId]`: found rather than hard-coded, as the one slot among the first
    /// few mapping bases whose entry for the vehicle holds its chain (one record: count 1).
    function _chainSlot() private view returns (bytes32) {
        for (uint256 base; base < 32; ++base) {
            bytes32 slot = keccak256(abi.encode(vehicleId, base));
            if ((uint256(vm.load(address(ledger), slot)) & COUNT_MASK) >> COUNT_SHIFT == 1) return slot;
        }
        revert("chain slot not found");
    }

    function _wire(uint256 start, uint256 end) private view returns (bytes memory) {
        return abi.encodePacked(
            abi.encodePacked(uint48(vehicleId), uint40(start), uint40(end), uint40(1_000), uint32(60)),
            abi.encodePacked(uint16(0), uint16(0), uint32(0), uint40(0)),
            abi.encodePacked(keccak256(abi.encode(start)), uint24(0), uint8(0))
        );
    }
}
