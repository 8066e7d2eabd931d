// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IDrivingRecordLedger} from "../interfaces/IDrivingRecordLedger.sol";
import {ITollEscrow} from "../interfaces/ITollEscrow.sol";
import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";

/// @title SystemLens
/// @notice Test-only reader of the whole observable state of a platechain deployment in one call, so the security
/// tests can compare the state before and after a hostile input cheaply and show what differs.
/// @dev Never deploy outside tests. Reads only; every value comes from the contracts' public views.
contract SystemLens {
    /// @notice What to read besides what the contracts enumerate themselves (vehicles 1..totalVehicles and batches
    /// 1..totalBatches are always read).
    struct Query {
        address[] accounts;
        address[] plates;
        address[] insurers;
        uint32[] gantries;
        uint64[] sequences;
        uint256 leavesPerBatch;
    }

    struct VehicleState {
        IVehicleRegistry.VehicleInfo info;
        ITollEscrow.AccountInfo money;
        address withdrawalRequester;
        uint64 withdrawalRequestedAt;
        uint256[] debts;
        bytes24 chainHead;
        uint256 chainCount;
        uint256 lastPeriodEnd;
        address[] consentGrantors;
        uint40[] consentExpiries;
    }

    struct BatchState {
        ITollEscrow.BatchInfo info;
        ITollEscrow.DisputeInfo[] disputes;
    }

    struct GantryState {
        ITollEscrow.GantryInfo info;
        bool[] settled;
    }

    struct Snapshot {
        uint256 escrowTokens;
        uint256[] tokenBalances;
        uint256[] claimable;
        uint256 totalBatches;
        uint64 pausedUntil;
        uint256 totalVehicles;
        VehicleState[] vehicles;
        BatchState[] batches;
        GantryState[] gantries;
        uint256[] plateVehicles;
        bool[] platesRevoked;
    }

    IVehicleRegistry public immutable REGISTRY;
    ITollEscrow public immutable ESCROW;
    IDrivingRecordLedger public immutable LEDGER;
    IERC20 public immutable TOKEN;

    constructor(IVehicleRegistry registry, ITollEscrow escrow, IDrivingRecordLedger ledger) {
        REGISTRY = registry;
        ESCROW = escrow;
        LEDGER = ledger;
        TOKEN = escrow.token();
    }

    /// @notice Everything observable, for the accounts, plates, insurers, gantries and sequences asked about.
    function snapshot(Query calldata query) external view returns (Snapshot memory s) {
        s.escrowTokens = TOKEN.balanceOf(address(ESCROW));
        s.tokenBalances = new uint256[](query.accounts.length);
        s.claimable = new uint256[](query.accounts.length);
        for (uint256 i; i < query.accounts.length; ++i) {
            s.tokenBalances[i] = TOKEN.balanceOf(query.accounts[i]);
            s.claimable[i] = ESCROW.claimable(query.accounts[i]);
        }
        s.totalBatches = ESCROW.totalBatches();
        s.pausedUntil = ESCROW.pausedUntil();
        s.totalVehicles = REGISTRY.totalVehicles();
        s.vehicles = new VehicleState[](s.totalVehicles);
        for (uint256 i; i < s.totalVehicles; ++i) {
            s.vehicles[i] = _vehicle(i + 1, s.totalBatches, query.insurers);
        }
        s.batches = new BatchState[](s.totalBatches);
        for (uint256 i; i < s.totalBatches; ++i) {
            s.batches[i].info = ESCROW.batch(i + 1);
            s.batches[i].disputes = new ITollEscrow.DisputeInfo[](query.leavesPerBatch);
            for (uint256 leaf; leaf < query.leavesPerBatch; ++leaf) {
                s.batches[i].disputes[leaf] = ESCROW.dispute(i + 1, leaf);
            }
        }
        s.gantries = new GantryState[](query.gantries.length);
        for (uint256 g; g < query.gantries.length; ++g) {
            s.gantries[g].info = ESCROW.gantry(query.gantries[g]);
            s.gantries[g].settled = new bool[](query.sequences.length);
            for (uint256 i; i < query.sequences.length; ++i) {
                s.gantries[g].settled[i] = ESCROW.isScanSettled(query.gantries[g], query.sequences[i]);
            }
        }
        s.plateVehicles = new uint256[](query.plates.length);
        s.platesRevoked = new bool[](query.plates.length);
        for (uint256 i; i < query.plates.length; ++i) {
            s.plateVehicles[i] = REGISTRY.vehicleIdOfPlate(query.plates[i]);
            s.platesRevoked[i] = REGISTRY.isPlateRevoked(query.plates[i]);
        }
    }

    function _vehicle(uint256 id, uint256 totalBatches, address[] calldata insurers)
        private
        view
        returns (VehicleState memory v)
    {
        v.info = REGISTRY.vehicle(id);
        v.money = ESCROW.account(id);
        (v.withdrawalRequester, v.withdrawalRequestedAt) = ESCROW.withdrawalRequest(id);
        v.debts = new uint256[](totalBatches);
        for (uint256 i; i < totalBatches; ++i) {
            v.debts[i] = ESCROW.debtOf(id, i + 1);
        }
        (v.chainHead, v.chainCount, v.lastPeriodEnd) = LEDGER.chainOf(id);
        v.consentGrantors = new address[](insurers.length);
        v.consentExpiries = new uint40[](insurers.length);
        for (uint256 i; i < insurers.length; ++i) {
            (v.consentGrantors[i], v.consentExpiries[i],) = LEDGER.consentOf(id, insurers[i]);
        }
    }
}
