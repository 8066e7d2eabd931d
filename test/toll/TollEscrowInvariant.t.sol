// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVehicleRegistry} from "../../contracts/interfaces/IVehicleRegistry.sol";
import {TestStablecoin} from "../../contracts/token/TestStablecoin.sol";
import {TollEscrow} from "../../contracts/toll/TollEscrow.sol";
import {VehicleRegistry} from "../../contracts/vehicle/VehicleRegistry.sol";
import {TestBase, Vm} from "../utils/Vm.sol";
import {TollEscrowSetup} from "./TollEscrowSetup.sol";

// Tests state rules as written and favour clarity over gas.
// solhint-disable gas-small-strings, gas-strict-inequalities, gas-increment-by-one, immutable-vars-naming

/// @notice Drives the escrow with random sequences of what its users do: deposits, oracle-signed scan batches (signed
/// with `vm.sign`, with replays, duplicates, stale and future scans, unknown vehicles), the passage of time,
/// withdrawal requests and withdrawals, sales and status changes of vehicles, disputes and their resolution, revenue
/// releases and claims, arrears settlement and pauses. Each action picks valid-looking inputs; those the escrow
/// refuses simply revert (the invariant runner does not fail on reverts).
contract TollEscrowHandler is TestBase {
    uint256 internal constant USD = 1e6;
    uint32 internal constant GANTRY = 7;
    uint32 internal constant OTHER_GANTRY = 8;
    uint256 internal constant ORACLE_KEY = 0xA11CE;
    uint256 internal constant OTHER_ORACLE_KEY = 0xB0B;
    uint256 internal constant MAX_SCAN_AGE = 2 days;
    /// @dev Keeps every invariant check (which walks all batches) cheap.
    uint256 internal constant MAX_BATCHES = 24;
    bytes32 internal constant BATCH_SETTLED =
        keccak256("BatchSettled(uint256,uint32,bytes32,uint256,uint256,bytes)");

    TollEscrow internal immutable escrow;
    VehicleRegistry internal immutable registry;
    TestStablecoin internal immutable token;
    address[] internal people;
    address[2] internal payees;

    mapping(uint256 batchId => bytes leaves) internal leavesOf;
    uint256 internal nextSequence;

    /// @notice Money that entered and left the escrow, counted outside it.
    uint256 public ghostIn;
    uint256 public ghostOut;
    uint256 public calls;

    constructor(TollEscrow escrow_, VehicleRegistry registry_, TestStablecoin token_, address[] memory people_) {
        escrow = escrow_;
        registry = registry_;
        token = token_;
        people = people_;
        payees = [address(0x0FE1), address(0x0FE2)];
    }

    function deposit(uint256 vehicleSeed, uint256 amount) external {
        ++calls;
        uint256 vehicleId = _vehicle(vehicleSeed);
        amount = bound(amount, 1, 40 * USD);
        address payer = people[amount % people.length];
        token.mint(payer, amount);
        vm.startPrank(payer);
        token.approve(address(escrow), amount);
        escrow.deposit(vehicleId, amount);
        vm.stopPrank();
        ghostIn += amount;
    }

    function submitBatch(uint256 seed, uint256 count, bool otherGantry) external {
        ++calls;
        if (escrow.totalBatches() >= MAX_BATCHES) return;
        count = bound(count, 1, 12);
        uint32 gantryId = otherGantry ? OTHER_GANTRY : GANTRY;
        bytes memory scans;
        for (uint256 i; i < count; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // Vehicles 1..N plus one id nobody registered.
            uint256 vehicleId = 1 + (r % (registry.totalVehicles() + 1));
            // Mostly fresh sequences, sometimes an old one again (a replay) or a repeat inside the batch.
            uint256 sequence = (r >> 8) % 4 == 0 ? (r >> 16) % (nextSequence + 1) : nextSequence++;
            // Mostly within the last day, sometimes stale, sometimes a little in the future.
            uint256 roll = (r >> 32) % 10;
            uint256 timestamp = roll == 0
                ? block.timestamp - MAX_SCAN_AGE - 1 - ((r >> 40) % 1 days)
                : roll == 1 ? block.timestamp + 1 + ((r >> 40) % 1 hours) : block.timestamp - ((r >> 40) % 1 days);
            scans = bytes.concat(scans, abi.encodePacked(uint48(vehicleId), uint40(timestamp), uint40(sequence)));
        }
        (uint8 v, bytes32 rr, bytes32 s) =
            vm.sign(otherGantry ? OTHER_ORACLE_KEY : ORACLE_KEY, escrow.scanBatchDigest(gantryId, scans));
        vm.recordLogs();
        escrow.submitScans(gantryId, scans, abi.encodePacked(rr, s, v));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(escrow) || logs[i].topics[0] != BATCH_SETTLED) continue;
            uint256 batchId = uint256(logs[i].topics[1]);
            if (batchId == 0) continue;
            (,,, bytes memory leaves) = abi.decode(logs[i].data, (bytes32, uint256, uint256, bytes));
            leavesOf[batchId] = leaves;
        }
    }

    function passTime(uint256 seconds_) external {
        ++calls;
        vm.warp(block.timestamp + bound(seconds_, 1, 3 days));
    }

    function requestWithdrawal(uint256 vehicleSeed) external {
        ++calls;
        uint256 vehicleId = _vehicle(vehicleSeed);
        vm.prank(registry.ownerOf(vehicleId));
        escrow.requestWithdrawal(vehicleId);
    }

    function withdraw(uint256 vehicleSeed, uint256 amount) external {
        ++calls;
        uint256 vehicleId = _vehicle(vehicleSeed);
        address owner = registry.ownerOf(vehicleId);
        uint256 balance = escrow.account(vehicleId).balance;
        amount = amount % 3 == 0 ? type(uint256).max : bound(amount, 1, balance + 1);
        uint256 before = token.balanceOf(owner);
        vm.prank(owner);
        escrow.withdraw(vehicleId, amount, owner);
        ghostOut += token.balanceOf(owner) - before;
    }

    function sell(uint256 vehicleSeed, uint256 buyerSeed) external {
        ++calls;
        uint256 vehicleId = _vehicle(vehicleSeed);
        address owner = registry.ownerOf(vehicleId);
        vm.prank(owner);
        registry.transferFrom(owner, people[buyerSeed % people.length], vehicleId);
    }

    function setStatus(uint256 vehicleSeed, uint256 statusSeed) external {
        ++calls;
        // Active, Suspended, Stolen; Scrapped rarely, as it is final.
        uint256 status = statusSeed % 16 == 0 ? 4 : 1 + (statusSeed % 3);
        registry.setStatus(_vehicle(vehicleSeed), uint8(status), 0);
    }

    function openDispute(uint256 batchSeed, uint256 leafSeed) external {
        ++calls;
        uint256 batchId = _batch(batchSeed);
        bytes memory leaves = leavesOf[batchId];
        if (leaves.length == 0) return;
        uint256 leafIndex = leafSeed % (leaves.length / 22);
        // A leaf is 22 bytes: [ vehicleId (6) | timestamp (5) | sequence (5) | fee (6) ].
        uint256 vehicleId = uint48(bytes6(_slice(leaves, leafIndex * 22, 6)));
        vm.prank(registry.ownerOf(vehicleId));
        escrow.openDispute(batchId, leaves, leafIndex);
    }

    function resolveDispute(uint256 batchSeed, uint256 leafSeed, bool upheld) external {
        ++calls;
        uint256 batchId = _batch(batchSeed);
        bytes memory leaves = leavesOf[batchId];
        if (leaves.length == 0) return;
        escrow.resolveDispute(batchId, leafSeed % (leaves.length / 22), upheld);
    }

    function releaseRevenue(uint256 batchSeed) external {
        ++calls;
        uint256[] memory ids = new uint256[](1);
        ids[0] = _batch(batchSeed);
        escrow.releaseRevenue(ids);
    }

    function claimRevenue(bool other) external {
        ++calls;
        address payee = payees[other ? 1 : 0];
        vm.prank(payee);
        ghostOut += escrow.claimRevenue(payee);
    }

    function settleArrears(uint256 vehicleSeed) external {
        ++calls;
        escrow.settleArrears(_vehicle(vehicleSeed));
    }

    function togglePause(bool pause) external {
        ++calls;
        if (pause) escrow.pause();
        else escrow.unpause();
    }

    function _slice(bytes memory data, uint256 start, uint256 length) internal pure returns (bytes memory part) {
        part = new bytes(length);
        for (uint256 i; i < length; ++i) {
            part[i] = data[start + i];
        }
    }

    function _vehicle(uint256 seed) internal view returns (uint256) {
        return 1 + (seed % registry.totalVehicles());
    }

    function _batch(uint256 seed) internal view returns (uint256) {
        uint256 batches = escrow.totalBatches();
        return batches == 0 ? 0 : 1 + (seed % batches);
    }
}

/// @notice The accounting identity and its companions, after any sequence of handler actions.
contract TollEscrowInvariantTest is TollEscrowSetup {
    TollEscrowHandler internal handler;

    function setUp() public {
        _deployEscrow();
        address[] memory people = new address[](3);
        people[0] = OWNER;
        people[1] = BUYER;
        people[2] = PAYER;
        _registerVehicle(OWNER, IVehicleRegistry.VehicleClass.Car);
        _registerVehicle(OWNER, IVehicleRegistry.VehicleClass.Truck);
        _registerVehicle(BUYER, IVehicleRegistry.VehicleClass.Motorcycle);
        _registerVehicle(BUYER, IVehicleRegistry.VehicleClass.Bus);
        _registerVehicle(PAYER, IVehicleRegistry.VehicleClass.Emergency);
        _registerVehicle(PAYER, IVehicleRegistry.VehicleClass.Van);

        handler = new TollEscrowHandler(escrow, registry, token, people);
        token.grantRole(token.MINTER_ROLE(), address(handler));
        registry.grantRole(registry.REGULATOR_ROLE(), address(handler));
        escrow.grantRole(escrow.ARBITER_ROLE(), address(handler));
        escrow.grantRole(escrow.PAUSER_ROLE(), address(handler));
        // Scans in the handler reach a day back: start a few days in so that stays after the epoch of the tests.
        vm.warp(START + 5 days);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice token.balanceOf(escrow) == sum of balances + sum of held revenue + sum of claimable revenue.
    function invariant_tokenBalanceEqualsWhatTheEscrowOwes() public view {
        _assertBalanced();
    }

    /// @notice Every token that entered and did not leave through a withdrawal or a claim is still in the escrow.
    function invariant_tokenBalanceEqualsMoneyInMinusMoneyOut() public view {
        assertEq(token.balanceOf(address(escrow)), handler.ghostIn() - handler.ghostOut(), "in - out");
    }

    /// @notice A vehicle's arrears are exactly the sum of what it owes the batches.
    function invariant_arrearsAreTheSumOfDebts() public view {
        uint256 vehicles = registry.totalVehicles();
        uint256 batches = escrow.totalBatches();
        for (uint256 vehicleId = 1; vehicleId <= vehicles; ++vehicleId) {
            uint256 debts;
            for (uint256 batchId = 1; batchId <= batches; ++batchId) {
                debts += escrow.debtOf(vehicleId, batchId);
            }
            assertEq(_arrears(vehicleId), debts, "arrears == sum of debts");
        }
    }

    /// @notice A released batch holds nothing and has no open dispute.
    function invariant_releasedBatchesHoldNothing() public view {
        uint256 batches = escrow.totalBatches();
        for (uint256 batchId = 1; batchId <= batches; ++batchId) {
            if (!escrow.batch(batchId).released) continue;
            assertEq(escrow.batch(batchId).held, 0, "released batch holds nothing");
            assertEq(escrow.batch(batchId).openDisputes, 0, "released batch has no open dispute");
        }
    }
}
