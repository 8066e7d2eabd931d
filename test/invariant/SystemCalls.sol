// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IDrivingRecordLedger} from "../../contracts/interfaces/IDrivingRecordLedger.sol";
import {DrivingRecordLedger} from "../../contracts/record/DrivingRecordLedger.sol";
import {TestStablecoin} from "../../contracts/token/TestStablecoin.sol";
import {TollEscrow} from "../../contracts/toll/TollEscrow.sol";
import {VehicleRegistry} from "../../contracts/vehicle/VehicleRegistry.sol";

/// @title SystemCalls
/// @notice Builds calldata for {SystemHandler}: role-gated calls with plausible arguments, and driving records in
/// the ledger's 74-byte wire format. Kept apart from the handler so that neither contract grows past what the
/// invariant fuzzer handles.
contract SystemCalls {
    /// @notice What a role-gated call needs: where, what, and the role it requires (0x00: the default admin).
    struct GatedCall {
        address target;
        bytes data;
        bytes32 role;
    }

    VehicleRegistry internal immutable REGISTRY;
    TestStablecoin internal immutable TOKEN;
    TollEscrow internal immutable ESCROW;
    DrivingRecordLedger internal immutable LEDGER;

    constructor(VehicleRegistry registry_, TestStablecoin token_, TollEscrow escrow_, DrivingRecordLedger ledger_) {
        REGISTRY = registry_;
        TOKEN = token_;
        ESCROW = escrow_;
        LEDGER = ledger_;
    }

    /// @notice One of 14 role-gated calls across the four contracts, picked by `seed`.
    /// @param vehicleId A registered vehicle (or 1 when none is).
    /// @param someone An account without roles, used as an argument.
    /// @param dispute An open dispute (batch id, leaf index) or (1, 0) when none is open.
    function gatedCall(uint256 seed, uint256 vehicleId, address someone, uint256[2] calldata dispute, uint256 start)
        external
        view
        returns (GatedCall memory call)
    {
        uint256 pick = seed % 14;
        if (pick < 4) return _registryCall(pick, seed, vehicleId, someone);
        if (pick < 11) return _escrowCall(pick, seed, someone, dispute);
        if (pick == 11) {
            bytes memory wire = wireRecord(vehicleId, drivingRecord(start, seed, block.timestamp), 0);
            return GatedCall(address(LEDGER), abi.encodeCall(LEDGER.appendRecords, (wire)), LEDGER.REPORTER_ROLE());
        }
        if (pick == 12) {
            bytes memory data = abi.encodeCall(LEDGER.grantRole, (LEDGER.REPORTER_ROLE(), someone));
            return GatedCall(address(LEDGER), data, bytes32(0));
        }
        return GatedCall(address(TOKEN), abi.encodeCall(TOKEN.mint, (someone, 1e12)), TOKEN.MINTER_ROLE());
    }

    /// @notice A plausible record starting at `start` and ending by `now_` at the latest.
    function drivingRecord(uint256 start, uint256 seed, uint256 now_)
        public
        pure
        returns (IDrivingRecordLedger.DrivingRecord memory record)
    {
        uint256 end = start + 1 + ((seed >> 8) % 1 days);
        if (end > now_) end = now_;
        uint256 driving = (seed >> 40) % (end - start + 1);
        uint256 distance = (seed >> 72) % 1_000_000;
        record = IDrivingRecordLedger.DrivingRecord({
            periodStart: uint40(start),
            periodEnd: uint40(end),
            distanceMeters: uint40(distance),
            drivingSeconds: uint32(driving),
            harshBrakingCount: uint16(seed >> 100),
            harshAccelerationCount: uint16(seed >> 116),
            speedingSeconds: uint32(driving / 4),
            nightDistanceMeters: uint40(distance / 3),
            dataHash: keccak256(abi.encode("trips", seed)),
            corrects: 0
        });
    }

    /// @notice The 74 wire bytes of a record (signature excluded), as IDrivingRecordLedger lays them out.
    function wireRecord(uint256 vehicleId, IDrivingRecordLedger.DrivingRecord memory r, uint8 trust)
        public
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(
            abi.encodePacked(uint48(vehicleId), r.periodStart, r.periodEnd, r.distanceMeters, r.drivingSeconds),
            abi.encodePacked(r.harshBrakingCount, r.harshAccelerationCount, r.speedingSeconds, r.nightDistanceMeters),
            abi.encodePacked(r.dataHash, r.corrects, trust)
        );
    }

    function _registryCall(uint256 pick, uint256 seed, uint256 vehicleId, address someone)
        private
        view
        returns (GatedCall memory)
    {
        address target = address(REGISTRY);
        address fresh = address(uint160(seed | 1));
        if (pick == 0) {
            bytes memory data = abi.encodeCall(REGISTRY.registerVehicle, (someone, fresh, bytes32(seed | 1), 1));
            return GatedCall(target, data, REGISTRY.REGISTRAR_ROLE());
        }
        if (pick == 1) {
            return GatedCall(target, abi.encodeCall(REGISTRY.rotatePlate, (vehicleId, fresh)), REGISTRY.REGISTRAR_ROLE());
        }
        if (pick == 2) {
            bytes memory data = abi.encodeCall(REGISTRY.setStatus, (vehicleId, uint8(1 + (seed >> 24) % 4), 0));
            return GatedCall(target, data, REGISTRY.REGULATOR_ROLE());
        }
        return GatedCall(target, abi.encodeCall(REGISTRY.grantRole, (REGISTRY.REGISTRAR_ROLE(), someone)), bytes32(0));
    }

    function _escrowCall(uint256 pick, uint256 seed, address someone, uint256[2] calldata dispute)
        private
        view
        returns (GatedCall memory)
    {
        address target = address(ESCROW);
        bytes32 tollAdmin = ESCROW.TOLL_ADMIN_ROLE();
        uint256[5] memory fees;
        if (pick == 4) {
            address[] memory keys = new address[](1);
            keys[0] = someone;
            uint32 gantryId = uint32(100 + (seed >> 32) % 100);
            return GatedCall(target, abi.encodeCall(ESCROW.registerGantry, (gantryId, someone, keys, fees)), tollAdmin);
        }
        if (pick == 5) return GatedCall(target, abi.encodeCall(ESCROW.setOracleKey, (1, someone, true)), tollAdmin);
        if (pick == 6) {
            return GatedCall(target, abi.encodeCall(ESCROW.retireGantry, (uint32(1 + (seed >> 32) % 2))), tollAdmin);
        }
        if (pick == 7) {
            uint64 effectiveAt = uint64(block.timestamp + 1 days);
            return GatedCall(target, abi.encodeCall(ESCROW.scheduleTariff, (1, fees, effectiveAt)), tollAdmin);
        }
        if (pick == 8) return GatedCall(target, abi.encodeCall(ESCROW.pause, ()), ESCROW.PAUSER_ROLE());
        if (pick == 9) {
            bytes memory data = abi.encodeCall(ESCROW.resolveDispute, (dispute[0], dispute[1], true));
            return GatedCall(target, data, ESCROW.ARBITER_ROLE());
        }
        return GatedCall(target, abi.encodeCall(ESCROW.grantRole, (ESCROW.PAUSER_ROLE(), someone)), bytes32(0));
    }
}
