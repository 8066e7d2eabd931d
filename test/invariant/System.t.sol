// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ITollEscrow} from "../../contracts/interfaces/ITollEscrow.sol";
import {DrivingRecordLedger} from "../../contracts/record/DrivingRecordLedger.sol";
import {TestStablecoin} from "../../contracts/token/TestStablecoin.sol";
import {TollEscrow} from "../../contracts/toll/TollEscrow.sol";
import {VehicleRegistry} from "../../contracts/vehicle/VehicleRegistry.sol";
import {TestBase} from "../utils/Vm.sol";
import {SystemHandler} from "./SystemHandler.sol";

/// @title SystemInvariantTest
/// @notice System invariants of platechain, each checked after every call of random sequences of registry, escrow
/// and ledger actions by every actor ({SystemHandler}). See SECURITY.md for what each one protects.
contract SystemInvariantTest is TestBase {
    SystemHandler internal handler;
    VehicleRegistry internal registry;
    TestStablecoin internal token;
    TollEscrow internal escrow;
    DrivingRecordLedger internal ledger;

    function setUp() public {
        handler = new SystemHandler();
        handler.populate();
        registry = handler.registry();
        token = handler.token();
        escrow = handler.escrow();
        ledger = handler.ledger();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    struct FuzzInterface {
        address addr;
        string[] artifacts;
    }

    function targetInterfaces() public view returns (FuzzInterface[] memory interfaces) {
        interfaces = new FuzzInterface[](1);
        interfaces[0].addr = address(handler);
        interfaces[0].artifacts = new string[](1);
        interfaces[0].artifacts[0] = "SystemHandler";
    }

    /// @notice Money is conserved exactly: the escrow holds to the unit what it owes vehicles (balances), batches
    /// (held revenue) and operators (claimable revenue), and no token is created or lost anywhere.
    function invariant_moneyIsConservedExactly() public view {
        (uint256 balances,) = _vehicleTotals();
        uint256 owed = balances + _heldTotal() + _claimableTotal();
        assertEq(token.balanceOf(address(escrow)), owed, "escrow token balance vs balances + held + claimable");
        assertEq(token.totalSupply(), handler.ghostMinted(), "total supply vs minted");
        uint256 outside;
        for (uint256 i; i < handler.OWNER_COUNT(); ++i) {
            outside += token.balanceOf(handler.owner(i));
        }
        for (uint32 g = 1; g <= handler.GANTRIES(); ++g) {
            outside += token.balanceOf(handler.payee(g));
        }
        assertEq(outside + token.balanceOf(address(escrow)), handler.ghostMinted(), "tokens held by anyone vs minted");
    }

    /// @notice Every fee ever charged is, to the unit, exactly one of: still owed (arrears), held by its batch,
    /// claimable by its operator, claimed, or given back by an upheld dispute.
    function invariant_everyFeeIsAccountedFor() public view {
        (, uint256 arrears) = _vehicleTotals();
        uint256 accounted = arrears + _heldTotal() + _claimableTotal() + handler.ghostClaimed() + handler.ghostUpheldFees();
        assertEq(accounted, handler.ghostFeesCharged(), "arrears + held + claimable + claimed + upheld vs charged");
    }

    /// @notice A scan is charged at most once: each (gantry, sequence) that was charged was charged exactly once and
    /// reads as settled; only scans the oracle signed are charged, never one timestamped in the future, and each at
    /// the tariff of its vehicle's class at its own time.
    function invariant_scanChargedAtMostOnce() public view {
        assertEq(handler.chargedUnsigned(), 0, "charged scans that were not in the signed batch");
        assertEq(handler.mispriced(), 0, "charged scans priced other than the tariff at their time");
        for (uint256 i; i < handler.chargedScanCount(); ++i) {
            (uint32 gantryId, uint64 sequence) = handler.chargedScanAt(i);
            assertEq(handler.chargeCount(gantryId, sequence), 1, "charges of one (gantry, sequence)");
            assertTrue(escrow.isScanSettled(gantryId, sequence), "a charged scan reads as settled");
        }
        assertEq(handler.chargedInFuture(), 0, "scans charged with a future timestamp");
    }

    /// @notice Settlement is final: a scan charged or skipped for good stays settled whatever comes after.
    function invariant_settledScansStaySettled() public view {
        for (uint256 i; i < handler.settledScanCount(); ++i) {
            (uint32 gantryId, uint64 sequence) = handler.settledScanAt(i);
            assertTrue(escrow.isScanSettled(gantryId, sequence), "a settled scan reads as settled");
        }
    }

    /// @notice Arrears are never negative and equal the sum of the vehicle's debts to batches, and a withdrawal
    /// never succeeds while any are owed.
    function invariant_arrearsSettledBeforeWithdrawal() public view {
        assertEq(handler.withdrewWithArrears(), 0, "withdrawals while arrears were owed");
        uint256 batches = escrow.totalBatches();
        for (uint256 id = 1; id <= handler.vehicleCount(); ++id) {
            uint256 debts;
            for (uint256 b = 1; b <= batches; ++b) {
                debts += escrow.debtOf(id, b);
            }
            assertEq(escrow.account(id).arrears, debts, "arrears vs the sum of debts to batches");
        }
    }

    /// @notice Revenue is never released (so never claimable) before its batch's dispute window ended, nor while a
    /// dispute of the batch is open.
    function invariant_revenueNeverClaimableBeforeWindowEnds() public view {
        assertEq(handler.releasedEarly(), 0, "releases before the dispute window closed");
        uint256 openDisputes;
        for (uint256 b = 1; b <= escrow.totalBatches(); ++b) {
            ITollEscrow.BatchInfo memory info = escrow.batch(b);
            if (info.released) {
                assertTrue(block.timestamp >= info.settledAt + handler.DISPUTE_WINDOW(), "released before window end");
                assertEq(info.openDisputes, 0, "released with open disputes");
                assertEq(info.held, 0, "a released batch holds nothing");
            }
            openDisputes += info.openDisputes;
        }
        assertEq(openDisputes, handler.openDisputeCount(), "open disputes vs ghost");
    }

    /// @notice A scrapped vehicle is never charged and never changes hands; neither is an unknown vehicle charged.
    function invariant_scrappedVehicleNeverChargedNorTransferred() public view {
        assertEq(handler.scrappedCharged(), 0, "scans charged to scrapped vehicles");
        assertEq(handler.chargedUnknown(), 0, "scans charged to unknown vehicles");
        assertEq(handler.scrappedTransferred(), 0, "transfers of scrapped vehicles");
    }

    /// @notice A stolen vehicle never changes hands, and every passport is where the recorded transfers put it.
    function invariant_stolenVehicleNeverTransferred() public view {
        assertEq(handler.stolenTransferred(), 0, "transfers of stolen vehicles");
        for (uint256 id = 1; id <= handler.vehicleCount(); ++id) {
            assertEq(registry.ownerOf(id), handler.ghostOwner(id), "passport owner vs recorded transfers");
        }
    }

    /// @notice Each vehicle's record chain verifies: rebuilding it from the records the ledger accepted ends at the
    /// on-chain head, with the same count.
    function invariant_recordChainsVerify() public view {
        for (uint256 id = 1; id <= handler.vehicleCount(); ++id) {
            bytes24 head;
            uint256 count = handler.recordCount(id);
            for (uint256 i; i < count; ++i) {
                SystemHandler.GhostRecord memory record = handler.recordAt(id, i);
                head = bytes24(keccak256(abi.encodePacked(head, uint24(i + 1), record.reporter, record.wire)));
            }
            (bytes24 onChainHead, uint256 onChainCount,) = ledger.chainOf(id);
            assertEq(onChainCount, count, "record count");
            assertTrue(onChainHead == head, "chain head rebuilt from the accepted records");
        }
    }

    /// @notice Roles are held only as granted: no call without its role ever succeeded, no forged or stale oracle
    /// signature was accepted, and each role is held by exactly the account it was granted to.
    function invariant_rolesOnlyAsGranted() public view {
        assertEq(handler.unauthorizedSucceeded(), 0, "role-gated calls that succeeded without the role");
        assertEq(handler.forgedAccepted(), 0, "batches accepted with a forged or revoked oracle signature");
        address[10] memory actors = [
            handler.ADMIN(),
            handler.REGISTRAR(),
            handler.REGULATOR(),
            handler.TOLL_ADMIN(),
            handler.ARBITER(),
            handler.PAUSER(),
            handler.REPORTER(),
            handler.RELAYER(),
            handler.STRANGER(),
            handler.owner(0)
        ];
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[i];
            assertTrue(registry.hasRole(0x00, a) == (a == handler.ADMIN()), "registry admin");
            assertTrue(registry.hasRole(registry.REGISTRAR_ROLE(), a) == (a == handler.REGISTRAR()), "registrar");
            assertTrue(registry.hasRole(registry.REGULATOR_ROLE(), a) == (a == handler.REGULATOR()), "regulator");
            assertTrue(escrow.hasRole(0x00, a) == (a == handler.ADMIN()), "escrow admin");
            assertTrue(escrow.hasRole(escrow.TOLL_ADMIN_ROLE(), a) == (a == handler.TOLL_ADMIN()), "toll admin");
            assertTrue(escrow.hasRole(escrow.ARBITER_ROLE(), a) == (a == handler.ARBITER()), "arbiter");
            assertTrue(escrow.hasRole(escrow.PAUSER_ROLE(), a) == (a == handler.PAUSER()), "pauser");
            assertTrue(ledger.hasRole(0x00, a) == (a == handler.ADMIN()), "ledger admin");
            assertTrue(ledger.hasRole(ledger.REPORTER_ROLE(), a) == (a == handler.REPORTER()), "reporter");
            assertTrue(token.hasRole(token.MINTER_ROLE(), a) == (a == handler.ADMIN()), "minter");
        }
        assertEq(registry.defaultAdmin(), handler.ADMIN(), "registry default admin");
        assertEq(escrow.defaultAdmin(), handler.ADMIN(), "escrow default admin");
        assertEq(ledger.defaultAdmin(), handler.ADMIN(), "ledger default admin");
        for (uint32 g = 1; g <= handler.GANTRIES(); ++g) {
            assertTrue(escrow.isOracleKey(g, vm.addr(handler.oracleKey(g))), "the current oracle key signs");
        }
    }

    /// @notice Identity bindings hold: each vehicle carries the plate key last given to it and that key leads back
    /// to it; a revoked plate leads nowhere, for good.
    function invariant_identityBindingsHold() public view {
        assertEq(registry.totalVehicles(), handler.vehicleCount(), "vehicle count");
        for (uint256 id = 1; id <= handler.vehicleCount(); ++id) {
            address plate = handler.plateOf(id);
            assertEq(registry.vehicle(id).plate, plate, "current plate");
            assertEq(registry.vehicleIdOfPlate(plate), id, "plate leads back to its vehicle");
        }
        address[] memory revoked = handler.revokedPlates();
        for (uint256 i; i < revoked.length; ++i) {
            assertTrue(registry.isPlateRevoked(revoked[i]), "rotated-out plate is revoked");
            assertEq(registry.vehicleIdOfPlate(revoked[i]), 0, "a revoked plate leads nowhere");
        }
    }

    /// @notice An insurer's consent is in force exactly while the grant stands, has not expired and its grantor
    /// still owns the vehicle.
    function invariant_consentOnlyFromCurrentOwner() public view {
        uint256 count = handler.consentCount();
        for (uint256 i; i < count; ++i) {
            SystemHandler.GhostConsent memory consent = handler.consentAt(i);
            if (_supersededLater(consent, i + 1, count)) continue;
            bool expected = !consent.revoked && block.timestamp < consent.expiry
                && registry.ownerOf(consent.vehicleId) == consent.grantor;
            assertTrue(ledger.hasConsent(consent.vehicleId, consent.insurer) == expected, "consent in force");
        }
    }

    /// @notice Every batch commitment equals the keccak of the leaves rebuilt from the batch's events (so owners can
    /// always prove a dispute), and every claim paid exactly what it reported.
    function invariant_commitmentsMatchEvents() public view {
        assertEq(handler.commitmentMismatches(), 0, "commitments or claims that do not match their events");
        assertEq(escrow.totalBatches(), handler.batchCount(), "batches recorded vs batch events");
        for (uint256 i; i < handler.batchCount(); ++i) {
            SystemHandler.GhostBatch memory ghost = handler.batchAt(i);
            assertEq(escrow.batch(ghost.batchId).commitment, keccak256(ghost.leaves), "stored commitment");
        }
    }

    function _vehicleTotals() private view returns (uint256 balances, uint256 arrears) {
        for (uint256 id = 1; id <= handler.vehicleCount(); ++id) {
            ITollEscrow.AccountInfo memory info = escrow.account(id);
            balances += info.balance;
            arrears += info.arrears;
        }
    }

    function _heldTotal() private view returns (uint256 held) {
        for (uint256 b = 1; b <= escrow.totalBatches(); ++b) {
            held += escrow.batch(b).held;
        }
    }

    function _claimableTotal() private view returns (uint256 claimable) {
        for (uint32 g = 1; g <= handler.GANTRIES(); ++g) {
            claimable += escrow.claimable(handler.payee(g));
        }
    }

    function _supersededLater(SystemHandler.GhostConsent memory consent, uint256 from, uint256 count)
        private
        view
        returns (bool)
    {
        for (uint256 j = from; j < count; ++j) {
            SystemHandler.GhostConsent memory later = handler.consentAt(j);
            if (later.vehicleId == consent.vehicleId && later.insurer == consent.insurer) return true;
        }
        return false;
    }
}
