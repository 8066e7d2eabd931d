// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVehicleRegistry} from "../../contracts/interfaces/IVehicleRegistry.sol";
import {TestStablecoin} from "../../contracts/token/TestStablecoin.sol";
import {TollEscrow} from "../../contracts/toll/TollEscrow.sol";
import {VehicleRegistry} from "../../contracts/vehicle/VehicleRegistry.sol";
import {TestBase, Vm} from "../utils/Vm.sol";

// Tests state rules as written and favour clarity over gas.
// solhint-disable gas-small-strings, gas-strict-inequalities, gas-increment-by-one, immutable-vars-naming

/// @notice Deploys the real registry, stablecoin and escrow, and the helpers the toll Solidity tests share: packed
/// scan records, oracle signatures made with `vm.sign`, and reading a batch's leaves from its event.
abstract contract TollEscrowSetup is TestBase {
    uint256 internal constant USD = 1e6;
    uint256 internal constant DISPUTE_WINDOW = 7 days;
    uint256 internal constant WITHDRAWAL_NOTICE = 3 days;
    uint256 internal constant MAX_SCAN_AGE = 2 days;
    uint256 internal constant START = 1_700_000_000;

    uint32 internal constant GANTRY = 7;
    uint32 internal constant OTHER_GANTRY = 8;
    uint256 internal constant ORACLE_KEY = 0xA11CE;
    uint256 internal constant OTHER_ORACLE_KEY = 0xB0B;
    address internal constant OPERATOR = address(0x0FE1);
    address internal constant OTHER_OPERATOR = address(0x0FE2);
    address internal constant OWNER = address(0x0A11);
    address internal constant BUYER = address(0x0B0B);
    address internal constant PAYER = address(0x0FA7);

    uint256 internal constant CAR_FEE = 2 * USD;
    uint256 internal constant TRUCK_FEE = 5 * USD;

    bytes32 internal constant BATCH_SETTLED =
        keccak256("BatchSettled(uint256,uint32,bytes32,uint256,uint256,bytes)");
    bytes32 internal constant SCANS_DEFERRED = keccak256("ScansDeferred(uint32,uint64,uint256)");

    VehicleRegistry internal registry;
    TestStablecoin internal token;
    TollEscrow internal escrow;
    uint256 private _vinNonce;

    function _deployEscrow() internal {
        vm.warp(START);
        registry = new VehicleRegistry(3 days, address(this));
        registry.grantRole(registry.REGISTRAR_ROLE(), address(this));
        registry.grantRole(registry.REGULATOR_ROLE(), address(this));
        token = new TestStablecoin(address(this));
        escrow = new TollEscrow(registry, token, address(this), DISPUTE_WINDOW, WITHDRAWAL_NOTICE, MAX_SCAN_AGE);
        escrow.grantRole(escrow.TOLL_ADMIN_ROLE(), address(this));
        escrow.grantRole(escrow.ARBITER_ROLE(), address(this));
        escrow.grantRole(escrow.PAUSER_ROLE(), address(this));
        escrow.registerGantry(GANTRY, OPERATOR, _keys(ORACLE_KEY), _fees(USD, CAR_FEE, 3 * USD, TRUCK_FEE, 4 * USD));
        escrow.registerGantry(OTHER_GANTRY, OTHER_OPERATOR, _keys(OTHER_ORACLE_KEY), _fees(1, 2, 3, 4, 5));
    }

    function _keys(uint256 privateKey) internal pure returns (address[] memory keys) {
        keys = new address[](1);
        keys[0] = vm.addr(privateKey);
    }

    function _fees(uint256 moto, uint256 car, uint256 van, uint256 truck, uint256 bus)
        internal
        pure
        returns (uint256[5] memory fees)
    {
        fees = [moto, car, van, truck, bus];
    }

    function _registerVehicle(address owner, IVehicleRegistry.VehicleClass vehicleClass)
        internal
        returns (uint256 vehicleId)
    {
        ++_vinNonce;
        address plate = vm.addr(0x9000_0000 + _vinNonce);
        bytes32 vin = keccak256(abi.encode("VIN", _vinNonce));
        vehicleId = registry.registerVehicle(owner, plate, vin, uint8(vehicleClass));
    }

    /// @dev Mints `amount` to PAYER and deposits it for the vehicle from PAYER.
    function _fund(uint256 vehicleId, uint256 amount) internal {
        token.mint(PAYER, amount);
        vm.startPrank(PAYER);
        token.approve(address(escrow), amount);
        escrow.deposit(vehicleId, amount);
        vm.stopPrank();
    }

    function _record(uint256 vehicleId, uint256 timestamp, uint256 sequence) internal pure returns (bytes memory) {
        return abi.encodePacked(uint48(vehicleId), uint40(timestamp), uint40(sequence));
    }

    function _sign(uint32 gantryId, bytes memory scans, uint256 privateKey) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, escrow.scanBatchDigest(gantryId, scans));
        return abi.encodePacked(r, s, v);
    }

    function _submit(uint32 gantryId, bytes memory scans) internal returns (uint256 batchId) {
        uint256 key = gantryId == GANTRY ? ORACLE_KEY : OTHER_ORACLE_KEY;
        return escrow.submitScans(gantryId, scans, _sign(gantryId, scans, key));
    }

    /// @dev The leaves of the last BatchSettled event among `logs`.
    function _leavesOf(Vm.Log[] memory logs) internal view returns (uint256 batchId, bytes memory leaves) {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            if (log.emitter != address(escrow) || log.topics.length == 0 || log.topics[0] != BATCH_SETTLED) continue;
            batchId = uint256(log.topics[1]);
            (,,, leaves) = abi.decode(log.data, (bytes32, uint256, uint256, bytes));
        }
    }

    /// @dev How many scans the ScansDeferred events among `logs` deferred.
    function _deferredOf(Vm.Log[] memory logs) internal view returns (uint256 deferred) {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            if (log.emitter != address(escrow) || log.topics.length == 0 || log.topics[0] != SCANS_DEFERRED) continue;
            (, uint256 count) = abi.decode(log.data, (uint64, uint256));
            deferred += count;
        }
    }

    function _balance(uint256 vehicleId) internal view returns (uint256) {
        return escrow.account(vehicleId).balance;
    }

    function _arrears(uint256 vehicleId) internal view returns (uint256) {
        return escrow.account(vehicleId).arrears;
    }

    /// @dev Sum of every vehicle's balance, every batch's held revenue and both operators' claimable revenue.
    function _liabilities() internal view returns (uint256 total) {
        uint256 vehicles = registry.totalVehicles();
        for (uint256 vehicleId = 1; vehicleId <= vehicles; ++vehicleId) {
            total += _balance(vehicleId);
        }
        uint256 batches = escrow.totalBatches();
        for (uint256 batchId = 1; batchId <= batches; ++batchId) {
            total += escrow.batch(batchId).held;
        }
        total += escrow.claimable(OPERATOR) + escrow.claimable(OTHER_OPERATOR);
    }

    function _assertBalanced() internal view {
        assertEq(token.balanceOf(address(escrow)), _liabilities(), "token balance == balances + held + claimable");
    }

    function _expectedDigest(uint32 gantryId, bytes memory scans) internal view returns (bytes32) {
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("platechain TollEscrow"),
                keccak256("1"),
                block.chainid,
                address(escrow)
            )
        );
        bytes32 structHash =
            keccak256(abi.encode(keccak256("ScanBatch(uint32 gantryId,bytes scans)"), gantryId, keccak256(scans)));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function _settled(uint32 gantryId, uint256 sequence) internal view returns (bool) {
        return escrow.isScanSettled(gantryId, uint64(sequence));
    }
}
