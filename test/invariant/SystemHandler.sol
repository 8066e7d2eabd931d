// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IDrivingRecordLedger} from "../../contracts/interfaces/IDrivingRecordLedger.sol";
import {ITollEscrow} from "../../contracts/interfaces/ITollEscrow.sol";
import {IVehicleRegistry} from "../../contracts/interfaces/IVehicleRegistry.sol";
import {DrivingRecordLedger} from "../../contracts/record/DrivingRecordLedger.sol";
import {TestStablecoin} from "../../contracts/token/TestStablecoin.sol";
import {TollEscrow} from "../../contracts/toll/TollEscrow.sol";
import {VehicleRegistry} from "../../contracts/vehicle/VehicleRegistry.sol";
import {TestBase, Vm} from "../utils/Vm.sol";
import {SystemCalls} from "./SystemCalls.sol";

/// @title SystemHandler
/// @notice Drives the whole platechain system (registry, stablecoin, escrow, ledger, all real) through random but
/// bounded sequences of what every actor can do, and keeps ghost records of what happened so the invariant test can
/// check the contracts against an independent account of events.
/// @dev Every action picks its actors and values from its seeds so that most calls do something; the ones that are
/// meant to fail (a transfer of a stolen vehicle, a forged batch, a call without the role) record a violation if
/// they succeed. Scans are packed in the 16-byte wire format and signed with `vm.sign` by the gantry's oracle key.
contract SystemHandler is TestBase {
    // ------------------------------------------------------------------------------------------------------------
    // Configuration
    // ------------------------------------------------------------------------------------------------------------

    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 public constant START_TIME = 1_750_000_000;
    uint256 public constant DISPUTE_WINDOW = 12 hours;
    uint256 public constant MAX_SCAN_AGE = 6 hours;
    uint256 public constant WITHDRAWAL_NOTICE = 6 hours;
    uint48 internal constant ADMIN_DELAY = 3 days;
    uint256 internal constant USD = 1e6;
    uint256 public constant MAX_VEHICLES = 8;
    /// @dev Gantries 1 and 2 stay in service; gantry 3 may be retired (see {retireGantry}).
    uint256 public constant GANTRIES = 3;
    uint256 internal constant MAX_SCANS = 8;
    uint256 internal constant LEAF_BYTES = 22;

    address public constant ADMIN = address(0xAD0001);
    address public constant REGISTRAR = address(0xAD0002);
    address public constant REGULATOR = address(0xAD0003);
    address public constant TOLL_ADMIN = address(0xAD0004);
    address public constant ARBITER = address(0xAD0005);
    address public constant PAUSER = address(0xAD0006);
    address public constant REPORTER = address(0xAD0007);
    address public constant RELAYER = address(0xAD0008);
    address public constant STRANGER = address(0xAD0009);
    uint256 public constant OWNER_COUNT = 4;
    uint256 public constant INSURER_COUNT = 2;

    // ------------------------------------------------------------------------------------------------------------
    // The system
    // ------------------------------------------------------------------------------------------------------------

    // Storage rather than immutables, so the handler's runtime code is exactly its artifact's (see
    // SystemInvariantTest.targetInterfaces for why that matters to EDR's fuzzer).
    VehicleRegistry public registry;
    TestStablecoin public token;
    TollEscrow public escrow;
    DrivingRecordLedger public ledger;
    SystemCalls internal calls;

    // ------------------------------------------------------------------------------------------------------------
    // Ghost state
    // ------------------------------------------------------------------------------------------------------------

    /// @notice A batch the escrow recorded, with the leaves rebuilt from its events.
    struct GhostBatch {
        uint256 batchId;
        uint32 gantryId;
        uint256 settledAt;
        bytes leaves;
    }

    /// @notice A record the ledger accepted: who appended it and its 74 wire bytes.
    struct GhostRecord {
        address reporter;
        bytes wire;
    }

    /// @notice A tariff as the handler scheduled it: the fees per paying class from `from` on.
    struct GhostTariff {
        uint64 from;
        uint256[5] fees;
    }

    /// @notice A consent grant the ledger accepted.
    struct GhostConsent {
        uint256 vehicleId;
        address insurer;
        address grantor;
        uint40 expiry;
        bool revoked;
    }

    uint256 public vehicleCount;
    mapping(uint256 vehicleId => address owner) public ghostOwner;
    mapping(uint256 vehicleId => uint256 rotations) public plateRotations;
    address[] internal _revokedPlates;

    mapping(uint32 gantryId => uint256 key) public oracleKey;
    mapping(uint32 gantryId => uint256 keys) public oracleKeysUsed;
    mapping(uint32 gantryId => uint256 next) public nextSequence;
    mapping(uint32 gantryId => mapping(uint64 sequence => uint256 count)) public chargeCount;
    uint64[] internal _settledSequences;
    uint32[] internal _settledGantries;
    uint64[] internal _chargedSequences;
    uint32[] internal _chargedGantries;

    GhostBatch[] internal _batches;
    /// @dev Per gantry, the tariffs in the order they took (or will take) effect: the independent price model.
    mapping(uint32 gantryId => GhostTariff[]) internal _tariffs;
    uint256 internal _nextRelease;
    uint256[2][] internal _openDisputes;

    mapping(uint256 vehicleId => GhostRecord[]) internal _records;
    mapping(uint256 vehicleId => uint256 periodEnd) internal _lastPeriodEnd;
    GhostConsent[] internal _consents;

    uint256 public ghostMinted;
    uint256 public ghostFeesCharged;
    uint256 public ghostClaimed;
    uint256 public ghostUpheldFees;
    uint256 public ghostWithdrawn;

    // Violations: each must stay zero.
    uint256 public scrappedCharged;
    uint256 public scrappedTransferred;
    uint256 public stolenTransferred;
    uint256 public withdrewWithArrears;
    uint256 public releasedEarly;
    uint256 public forgedAccepted;
    uint256 public unauthorizedSucceeded;
    uint256 public commitmentMismatches;
    uint256 public chargedInFuture;
    uint256 public chargedUnknown;
    uint256 public chargedUnsigned;
    uint256 public mispriced;

    /// @notice How many times each action did what it set out to do, and how many actions were called: most calls
    /// should do something (the share is measured in SECURITY.md).
    mapping(bytes32 name => uint256 count) public successes;
    uint256 public totalSuccesses;
    uint256 public totalCalls;

    /// @dev Counts the call, and lets a little time pass before each action, as it does between transactions.
    modifier action() {
        _beforeAction();
        _;
    }

    constructor() {
        vm.warp(START_TIME);
        registry = new VehicleRegistry(ADMIN_DELAY, ADMIN);
        token = new TestStablecoin(ADMIN);
        escrow = new TollEscrow(registry, token, ADMIN, DISPUTE_WINDOW, WITHDRAWAL_NOTICE, MAX_SCAN_AGE);
        ledger = new DrivingRecordLedger(registry, ADMIN_DELAY, ADMIN);
        calls = new SystemCalls(registry, token, escrow, ledger);

        vm.startPrank(ADMIN);
        registry.grantRole(registry.REGISTRAR_ROLE(), REGISTRAR);
        registry.grantRole(registry.REGULATOR_ROLE(), REGULATOR);
        escrow.grantRole(escrow.TOLL_ADMIN_ROLE(), TOLL_ADMIN);
        escrow.grantRole(escrow.ARBITER_ROLE(), ARBITER);
        escrow.grantRole(escrow.PAUSER_ROLE(), PAUSER);
        ledger.grantRole(ledger.REPORTER_ROLE(), REPORTER);
        vm.stopPrank();

        for (uint32 gantryId = 1; gantryId <= GANTRIES; ++gantryId) {
            uint256 key = _oracleKeyFor(gantryId, 0);
            oracleKey[gantryId] = key;
            oracleKeysUsed[gantryId] = 1;
            address[] memory keys = new address[](1);
            keys[0] = vm.addr(key);
            uint256[5] memory fees = [USD, 2 * USD, 3 * USD, 5 * USD, 4 * USD * gantryId];
            vm.prank(TOLL_ADMIN);
            escrow.registerGantry(gantryId, payee(gantryId), keys, fees);
            _tariffs[gantryId].push(GhostTariff({from: uint64(block.timestamp), fees: fees}));
        }
    }

    /// @notice Called once by the invariant test's setUp: a few vehicles with money from the start, so that the first
    /// calls of a run already have work to do.
    function populate() external {
        if (vehicleCount != 0) return;
        for (uint256 i; i < 3; ++i) {
            _registerVehicle(i, i == 2 ? 3 : 1);
            _deposit(i, i, 20 * USD);
        }
        totalSuccesses = 0;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Registry actions
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The registrar registers a vehicle for one of the owners.
    function registerVehicle(uint256 ownerSeed, uint256 classSeed) external action {
        _registerVehicle(ownerSeed, classSeed);
    }

    /// @notice The regulator moves a vehicle to another status (scrapping is the rarest move).
    function setStatus(uint256 vehicleSeed, uint256 statusSeed) external action {
        if (vehicleCount == 0) return;
        uint256 vehicleId = _vehicle(vehicleSeed);
        uint256 pick = statusSeed % 20;
        // 40% active, 20% suspended, 30% stolen, 10% scrapped.
        uint8 status = pick < 8 ? 1 : pick < 12 ? 2 : pick < 18 ? 3 : 4;
        (, IVehicleRegistry.VehicleStatus current) = registry.classAndStatus(vehicleId);
        if (uint8(current) == status || current == IVehicleRegistry.VehicleStatus.Scrapped) return;
        vm.prank(REGULATOR);
        registry.setStatus(vehicleId, status, uint32(statusSeed));
        _count("setStatus");
    }

    /// @notice The registrar gives a vehicle a new plate key; the old one is revoked.
    function rotatePlate(uint256 vehicleSeed) external action {
        if (vehicleCount == 0) return;
        uint256 vehicleId = _vehicle(vehicleSeed);
        (, IVehicleRegistry.VehicleStatus status) = registry.classAndStatus(vehicleId);
        if (status == IVehicleRegistry.VehicleStatus.Scrapped) return;
        address oldPlate = registry.vehicle(vehicleId).plate;
        uint256 rotations = plateRotations[vehicleId] + 1;
        vm.prank(REGISTRAR);
        registry.rotatePlate(vehicleId, vm.addr(_plateKeyFor(vehicleId, rotations)));
        plateRotations[vehicleId] = rotations;
        _revokedPlates.push(oldPlate);
        _count("rotatePlate");
    }

    /// @notice The owner hands the passport to another owner, whatever the vehicle's status: only an active
    /// vehicle may change hands, so a stolen or scrapped one moving is a violation.
    function transferPassport(uint256 vehicleSeed, uint256 toSeed) external action {
        if (vehicleCount == 0) return;
        uint256 vehicleId = _vehicle(vehicleSeed);
        address from = ghostOwner[vehicleId];
        address to = owner(toSeed);
        if (to == from) to = owner(toSeed + 1);
        (, IVehicleRegistry.VehicleStatus status) = registry.classAndStatus(vehicleId);
        vm.prank(from);
        try registry.transferFrom(from, to, vehicleId) {
            ghostOwner[vehicleId] = to;
            if (status == IVehicleRegistry.VehicleStatus.Stolen) ++stolenTransferred;
            if (status == IVehicleRegistry.VehicleStatus.Scrapped) ++scrappedTransferred;
            _count("transferPassport");
        } catch {
            if (status != IVehicleRegistry.VehicleStatus.Active) _count("transferRefused");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Escrow: money in and out
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Someone (an owner) tops up a vehicle: minted, approved and deposited.
    function deposit(uint256 vehicleSeed, uint256 payerSeed, uint256 amount) external action {
        _deposit(vehicleSeed, payerSeed, amount);
    }

    /// @notice Anyone uses a vehicle's balance to pay its arrears.
    function settleArrears(uint256 vehicleSeed) external action {
        if (vehicleCount == 0) return;
        vm.prank(STRANGER);
        if (escrow.settleArrears(_vehicle(vehicleSeed)) != 0) _count("settleArrears");
    }

    /// @notice The owner asks to withdraw.
    function requestWithdrawal(uint256 vehicleSeed) external action {
        if (vehicleCount == 0) return;
        uint256 vehicleId = _vehicle(vehicleSeed);
        vm.prank(ghostOwner[vehicleId]);
        escrow.requestWithdrawal(vehicleId);
        _count("requestWithdrawal");
    }

    /// @notice The owner (or an earlier owner who asked) cancels a request.
    function cancelWithdrawal(uint256 vehicleSeed) external action {
        if (vehicleCount == 0) return;
        address requester;
        uint256 vehicleId;
        for (uint256 i; i < vehicleCount && requester == address(0); ++i) {
            vehicleId = _vehicle(vehicleSeed + i);
            (requester,) = escrow.withdrawalRequest(vehicleId);
        }
        if (requester == address(0)) return;
        vm.prank(requester);
        escrow.cancelWithdrawal(vehicleId);
        _count("cancelWithdrawal");
    }

    /// @notice The owner withdraws part or all of the balance, usually from a vehicle whose owner's request is ready;
    /// it must never succeed while arrears are owed.
    function withdraw(uint256 vehicleSeed, uint256 amountSeed) external action {
        if (vehicleCount == 0) return;
        uint256 vehicleId = _vehicle(vehicleSeed);
        for (uint256 i; i < vehicleCount && amountSeed % 4 != 0; ++i) {
            uint256 candidate = _vehicle(vehicleSeed + i);
            (address requester, uint64 requestedAt) = escrow.withdrawalRequest(candidate);
            if (requester == ghostOwner[candidate] && block.timestamp >= requestedAt + WITHDRAWAL_NOTICE) {
                vehicleId = candidate;
                break;
            }
        }
        address owner_ = ghostOwner[vehicleId];
        ITollEscrow.AccountInfo memory before = escrow.account(vehicleId);
        uint256 amount = amountSeed % 3 == 0 ? type(uint256).max : bound(amountSeed, 1, before.balance + 1);
        uint256 ownerBefore = token.balanceOf(owner_);
        vm.prank(owner_);
        try escrow.withdraw(vehicleId, amount, owner_) {
            if (before.arrears != 0) ++withdrewWithArrears;
            ghostWithdrawn += token.balanceOf(owner_) - ownerBefore;
            _count("withdraw");
        } catch {}
    }

    // ------------------------------------------------------------------------------------------------------------
    // Escrow: scans
    // ------------------------------------------------------------------------------------------------------------

    /// @notice A relayer submits a batch of 1..8 scans of one gantry, signed by its oracle key: fresh, replayed,
    /// stale and future readings of known and unknown vehicles.
    function submitScans(uint32 gantrySeed, uint256 countSeed, uint256 seed) external action {
        _submitBatch(gantrySeed, countSeed, seed, 0);
    }

    /// @notice The same with submitScansWithinGas and a gas limit that may not cover the batch: what it settles is
    /// tracked like any batch, and what it defers stays unsettled for a later batch.
    function submitScansWithinGas(uint32 gantrySeed, uint256 countSeed, uint256 seed, uint256 gasSeed)
        external
        action
    {
        _submitBatch(gantrySeed, countSeed, seed, bound(gasSeed, 150_000, 1_000_000));
    }

    /// @notice An attacker submits a batch signed by a key that is not (or no longer) the gantry's, or signed for
    /// the other gantry: it must be refused.
    function submitForgedScans(uint32 gantrySeed, uint256 keySeed, uint256 seed) external action {
        uint32 gantryId = uint32(bound(gantrySeed, 1, GANTRIES));
        bytes memory scans = bytes.concat(bytes16(_scan(gantryId, seed)));
        uint256 key;
        uint256 pick = keySeed % 3;
        if (pick == 0) key = bound(keySeed, 1, SECP256K1_N - 1); // an unrelated key
        else if (pick == 1) key = _oracleKeyFor(gantryId, keySeed % oracleKeysUsed[gantryId]); // a rotated-out key
        else key = oracleKey[gantryId == 1 ? 2 : 1]; // the other gantry's key
        if (key == oracleKey[gantryId]) return;
        bytes memory signature = _sign(key, escrow.scanBatchDigest(gantryId, scans));
        vm.prank(STRANGER);
        try escrow.submitScans(gantryId, scans, signature) {
            ++forgedAccepted;
        } catch {
            _count("forgedRefused");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Escrow: revenue and disputes
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Anyone releases a batch's revenue: half the time the oldest batch not yet released, otherwise any
    /// batch. It must never succeed before the batch's dispute window closed.
    function releaseRevenue(uint256 batchSeed) external action {
        if (_batches.length == 0) return;
        if (batchSeed % 2 == 0) {
            while (_nextRelease < _batches.length && escrow.batch(_batches[_nextRelease].batchId).released) {
                ++_nextRelease;
            }
        }
        uint256 index = batchSeed % 2 == 0 && _nextRelease < _batches.length ? _nextRelease : batchSeed % _batches.length;
        GhostBatch storage ghost = _batches[index];
        uint256[] memory ids = new uint256[](1);
        ids[0] = ghost.batchId;
        vm.prank(STRANGER);
        try escrow.releaseRevenue(ids) {
            if (block.timestamp < ghost.settledAt + DISPUTE_WINDOW) ++releasedEarly;
            _count("releaseRevenue");
        } catch {
            if (block.timestamp < ghost.settledAt + DISPUTE_WINDOW) _count("earlyReleaseRefused");
        }
    }

    /// @notice A gantry operator claims its released revenue.
    function claimRevenue(uint32 gantrySeed) external action {
        address payee_ = payee(uint32(bound(gantrySeed, 1, GANTRIES)));
        uint256 before = token.balanceOf(payee_);
        vm.prank(payee_);
        try escrow.claimRevenue(payee_) returns (uint256 amount) {
            if (token.balanceOf(payee_) - before != amount) ++commitmentMismatches;
            ghostClaimed += amount;
            _count("claimRevenue");
        } catch {}
    }

    /// @notice The current owner of a charged scan's vehicle disputes it (usually in one of the last batches, whose
    /// window is still open).
    function openDispute(uint256 batchSeed, uint256 leafSeed) external action {
        uint256 count = _batches.length;
        if (count == 0) return;
        uint256 index = batchSeed % 4 == 0 ? batchSeed % count : count - 1 - (batchSeed % (count < 3 ? count : 3));
        GhostBatch storage ghost = _batches[index];
        uint256 leafCount = ghost.leaves.length / LEAF_BYTES;
        uint256 leafIndex = leafSeed % leafCount;
        uint256 vehicleId = _leaf(ghost.leaves, leafIndex) >> 128;
        vm.prank(ghostOwner[vehicleId]);
        try escrow.openDispute(ghost.batchId, ghost.leaves, leafIndex) {
            _openDisputes.push([ghost.batchId, leafIndex]);
            _count("openDispute");
        } catch {}
    }

    /// @notice The arbiter upholds or rejects an open dispute.
    function resolveDispute(uint256 disputeSeed, bool upheld) external action {
        if (_openDisputes.length == 0) return;
        uint256 index = disputeSeed % _openDisputes.length;
        (uint256 batchId, uint256 leafIndex) = (_openDisputes[index][0], _openDisputes[index][1]);
        uint256 fee = escrow.dispute(batchId, leafIndex).fee;
        vm.prank(ARBITER);
        escrow.resolveDispute(batchId, leafIndex, upheld);
        if (upheld) ghostUpheldFees += fee;
        _openDisputes[index] = _openDisputes[_openDisputes.length - 1];
        _openDisputes.pop();
        _count(upheld ? bytes32("disputeUpheld") : bytes32("disputeRejected"));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Escrow: administration
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The toll admin schedules a new tariff for a gantry.
    function scheduleTariff(uint32 gantrySeed, uint256 feeSeed, uint256 delay) external action {
        uint32 gantryId = uint32(bound(gantrySeed, 1, GANTRIES));
        uint256[5] memory fees;
        for (uint256 i; i < 5; ++i) {
            fees[i] = bound(uint256(keccak256(abi.encode(feeSeed, i))), 0, 10 * USD);
        }
        uint64 effectiveAt = uint64(block.timestamp + bound(delay, 1, 2 days));
        vm.prank(TOLL_ADMIN);
        try escrow.scheduleTariff(gantryId, fees, effectiveAt) {
            // A change that has not taken effect yet is replaced; one in force stays in the history.
            GhostTariff[] storage history = _tariffs[gantryId];
            if (history[history.length - 1].from > block.timestamp) history.pop();
            history.push(GhostTariff({from: effectiveAt, fees: fees}));
            _count("scheduleTariff");
        } catch {}
    }

    /// @notice The toll admin replaces a gantry's oracle key (the old one must no longer sign).
    function rotateOracleKey(uint32 gantrySeed) external action {
        uint32 gantryId = uint32(bound(gantrySeed, 1, GANTRIES));
        uint256 oldKey = oracleKey[gantryId];
        uint256 newKey = _oracleKeyFor(gantryId, oracleKeysUsed[gantryId]);
        vm.prank(TOLL_ADMIN);
        escrow.rotateOracleKey(gantryId, vm.addr(oldKey), vm.addr(newKey));
        oracleKey[gantryId] = newKey;
        ++oracleKeysUsed[gantryId];
        _count("rotateOracleKey");
    }

    /// @notice The toll admin retires gantry 3 (now and then): its scans from then on are skipped, earlier ones
    /// still settle.
    function retireGantry(uint256 seed) external action {
        if (seed % 4 != 0 || escrow.gantry(3).retiredAt != 0) return;
        vm.prank(TOLL_ADMIN);
        escrow.retireGantry(3);
        _count("retireGantry");
    }

    /// @notice The pauser pauses (rarely) or unpauses.
    function pauseOrUnpause(uint256 seed) external action {
        vm.startPrank(PAUSER);
        if (escrow.paused()) {
            escrow.unpause();
            _count("unpause");
        } else if (seed % 8 == 0) {
            escrow.pause();
            _count("pause");
        }
        vm.stopPrank();
    }

    /// @notice Time passes: up to a day and a half.
    function warp(uint256 seconds_) external action {
        vm.warp(block.timestamp + bound(seconds_, 1 minutes, 18 hours));
        _count("warp");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Ledger
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The reporter appends a record for a vehicle, plate-signed or reporter-asserted, continuing its chain.
    function appendRecord(uint256 vehicleSeed, uint256 seed, bool plateSigned) external action {
        if (vehicleCount == 0) return;
        uint256 vehicleId = _vehicle(vehicleSeed);
        uint256 start = _lastPeriodEnd[vehicleId];
        if (start == 0) start = START_TIME - 1 days;
        start += seed % 3 hours;
        if (start + 1 >= block.timestamp) return;
        IDrivingRecordLedger.DrivingRecord memory record = calls.drivingRecord(start, seed, block.timestamp);
        uint8 trust = plateSigned ? 1 : 0;
        bytes memory wire = calls.wireRecord(vehicleId, record, trust);
        bytes memory batch = wire;
        if (plateSigned) {
            uint256 plateKey = _plateKeyFor(vehicleId, plateRotations[vehicleId]);
            batch = bytes.concat(wire, _sign(plateKey, ledger.recordDigest(vehicleId, record)));
        }
        vm.prank(REPORTER);
        ledger.appendRecords(batch);
        _records[vehicleId].push(GhostRecord({reporter: REPORTER, wire: wire}));
        _lastPeriodEnd[vehicleId] = record.periodEnd;
        _count("appendRecord");
    }

    /// @notice The owner lets an insurer use the vehicle's data.
    function grantConsent(uint256 vehicleSeed, uint256 insurerSeed, uint256 duration) external action {
        if (vehicleCount == 0) return;
        uint256 vehicleId = _vehicle(vehicleSeed);
        address insurer_ = insurer(insurerSeed);
        address grantor = ghostOwner[vehicleId];
        uint40 expiry = uint40(block.timestamp + bound(duration, 1 hours, 30 days));
        vm.prank(grantor);
        ledger.grantConsent(vehicleId, insurer_, expiry);
        _consents.push(
            GhostConsent({vehicleId: vehicleId, insurer: insurer_, grantor: grantor, expiry: expiry, revoked: false})
        );
        _count("grantConsent");
    }

    /// @notice The owner withdraws a consent.
    function revokeConsent(uint256 consentSeed) external action {
        if (_consents.length == 0) return;
        GhostConsent storage ghost = _consents[consentSeed % _consents.length];
        vm.prank(ghostOwner[ghost.vehicleId]);
        try ledger.revokeConsent(ghost.vehicleId, ghost.insurer) {
            // The revocation deletes the grant, whoever made it; so do all earlier grants to the same insurer.
            for (uint256 i; i < _consents.length; ++i) {
                if (_consents[i].vehicleId == ghost.vehicleId && _consents[i].insurer == ghost.insurer) {
                    _consents[i].revoked = true;
                }
            }
            _count("revokeConsent");
        } catch {}
    }

    // ------------------------------------------------------------------------------------------------------------
    // Attacks on roles
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Someone without the role calls a role-gated function of one of the contracts: it must be refused.
    function callWithoutRole(uint256 callSeed, uint256 callerSeed) external action {
        address[6] memory intruders = [STRANGER, RELAYER, REPORTER, owner(callerSeed), payee(1), insurer(callerSeed)];
        address caller = intruders[callerSeed % intruders.length];
        uint256 vehicleId = vehicleCount == 0 ? 1 : _vehicle(callSeed >> 8);
        uint256[2] memory dispute = _openDisputes.length == 0 ? [uint256(1), 0] : _openDisputes[0];
        SystemCalls.GatedCall memory call =
            calls.gatedCall(callSeed, vehicleId, owner(callSeed >> 16), dispute, START_TIME - 1 days);
        if (IAccessControl(call.target).hasRole(call.role, caller)) return;
        vm.prank(caller);
        // solhint-disable-next-line avoid-low-level-calls
        (bool success,) = call.target.call(call.data);
        if (success) ++unauthorizedSucceeded;
        _count("callWithoutRole");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views for the invariant test
    // ------------------------------------------------------------------------------------------------------------

    function owner(uint256 seed) public pure returns (address) {
        return address(uint160(0xB0000 + (seed % OWNER_COUNT)));
    }

    function payee(uint32 gantryId) public pure returns (address) {
        return address(uint160(0xC0000 + gantryId));
    }

    function insurer(uint256 seed) public pure returns (address) {
        return address(uint160(0xD0000 + (seed % INSURER_COUNT)));
    }

    function batchCount() external view returns (uint256) {
        return _batches.length;
    }

    function batchAt(uint256 index) external view returns (GhostBatch memory) {
        return _batches[index];
    }

    function openDisputeCount() external view returns (uint256) {
        return _openDisputes.length;
    }

    function recordCount(uint256 vehicleId) external view returns (uint256) {
        return _records[vehicleId].length;
    }

    function recordAt(uint256 vehicleId, uint256 index) external view returns (GhostRecord memory) {
        return _records[vehicleId][index];
    }

    function consentCount() external view returns (uint256) {
        return _consents.length;
    }

    function consentAt(uint256 index) external view returns (GhostConsent memory) {
        return _consents[index];
    }

    function revokedPlates() external view returns (address[] memory) {
        return _revokedPlates;
    }

    function settledScanCount() external view returns (uint256) {
        return _settledSequences.length;
    }

    function settledScanAt(uint256 index) external view returns (uint32 gantryId, uint64 sequence) {
        return (_settledGantries[index], _settledSequences[index]);
    }

    function chargedScanCount() external view returns (uint256) {
        return _chargedSequences.length;
    }

    function chargedScanAt(uint256 index) external view returns (uint32 gantryId, uint64 sequence) {
        return (_chargedGantries[index], _chargedSequences[index]);
    }

    function plateOf(uint256 vehicleId) external view returns (address) {
        return vm.addr(_plateKeyFor(vehicleId, plateRotations[vehicleId]));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    /// @dev One scan record: a known or unknown vehicle, a fresh, stale or future time, a new or replayed sequence.
    function _scan(uint32 gantryId, uint256 seed) private returns (uint128) {
        uint256 vehicleId = bound(seed, 0, vehicleCount + 1); // 0 and vehicleCount + 1 are unknown
        uint256 timing = (seed >> 8) % 10;
        uint256 timestamp;
        if (timing < 7) timestamp = block.timestamp - ((seed >> 16) % MAX_SCAN_AGE); // fresh
        else if (timing < 9) timestamp = block.timestamp - MAX_SCAN_AGE - 1 - ((seed >> 16) % 1 days); // stale
        else timestamp = block.timestamp + 1 + ((seed >> 16) % 1 hours); // future
        uint256 sequence;
        uint256 next = nextSequence[gantryId];
        if (next != 0 && (seed >> 64) % 4 == 0) {
            sequence = (seed >> 72) % next; // a replay of an earlier reading
        } else {
            // Now and then a jump, so batches cross the settled bitmap's 256-sequence words.
            sequence = (seed >> 80) % 8 == 0 ? next + (seed >> 88) % 600 : next;
            nextSequence[gantryId] = sequence + 1;
        }
        return uint128((vehicleId << 80) | (timestamp << 40) | sequence);
    }

    /// @dev Builds and signs a batch for `submitScans` and `submitScansWithinGas`, sends it as the relayer (with
    /// `submitScans` when `gasLimit` is 0, else with `submitScansWithinGas` and that much gas) and tracks what it did.
    function _submitBatch(uint32 gantrySeed, uint256 countSeed, uint256 seed, uint256 gasLimit) private {
        uint32 gantryId = uint32(bound(gantrySeed, 1, GANTRIES));
        uint256 count = bound(countSeed, 1, MAX_SCANS);
        bytes memory scans;
        for (uint256 i; i < count; ++i) {
            scans = bytes.concat(scans, bytes16(_scan(gantryId, uint256(keccak256(abi.encode(seed, i))))));
        }
        bytes memory signature = _sign(oracleKey[gantryId], escrow.scanBatchDigest(gantryId, scans));
        uint256[] memory statuses = _statuses();

        vm.recordLogs();
        vm.prank(RELAYER);
        bool settled;
        if (gasLimit == 0) {
            try escrow.submitScans(gantryId, scans, signature) {
                settled = true;
            } catch {}
        } else {
            try escrow.submitScansWithinGas{gas: gasLimit}(gantryId, scans, signature) {
                settled = true;
            } catch {}
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (!settled) return;
        _recordBatch(gantryId, scans, statuses, logs);
        _count(gasLimit == 0 ? bytes32("submitScans") : bytes32("submitScansWithinGas"));
    }

    /// @dev Reads the escrow's events of a settled batch into the ghost records.
    function _recordBatch(uint32 gantryId, bytes memory scans, uint256[] memory statuses, Vm.Log[] memory logs)
        private
    {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log_ = logs[i];
            if (log_.emitter != address(escrow)) continue;
            bytes32 topic = log_.topics[0];
            if (topic == ITollEscrow.ScanSkipped.selector) {
                (uint64 sequence,, ITollEscrow.SkipReason reason) =
                    abi.decode(log_.data, (uint64, uint256, ITollEscrow.SkipReason));
                if (reason != ITollEscrow.SkipReason.FutureTimestamp && reason != ITollEscrow.SkipReason.AlreadySettled)
                {
                    _settledGantries.push(gantryId);
                    _settledSequences.push(sequence);
                }
            } else if (topic == ITollEscrow.BatchSettled.selector) {
                uint256 batchId = uint256(log_.topics[1]);
                (bytes32 commitment,,, bytes memory leaves) = abi.decode(log_.data, (bytes32, uint256, uint256, bytes));
                if (batchId == 0) continue;
                if (commitment != keccak256(leaves)) ++commitmentMismatches;
                for (uint256 j; j < leaves.length / LEAF_BYTES; ++j) {
                    _onCharged(gantryId, scans, statuses, _leaf(leaves, j));
                }
                _batches.push(
                    GhostBatch({batchId: batchId, gantryId: gantryId, settledAt: block.timestamp, leaves: leaves})
                );
            }
        }
    }

    /// @dev One charged scan (a leaf): counts it, checks it is a scan the oracle signed, of a vehicle that could be
    /// charged, at the price of the vehicle's class at the scan's time.
    function _onCharged(uint32 gantryId, bytes memory scans, uint256[] memory statuses, uint256 leaf) private {
        uint256 record = leaf >> 48;
        uint256 fee = leaf & type(uint48).max;
        uint256 vehicleId = record >> 80;
        uint64 timestamp = uint64((record >> 40) & type(uint40).max);
        uint64 sequence = uint64(record & type(uint40).max);
        ++chargeCount[gantryId][sequence];
        _chargedGantries.push(gantryId);
        _chargedSequences.push(sequence);
        _settledGantries.push(gantryId);
        _settledSequences.push(sequence);
        if (vehicleId == 0 || vehicleId >= statuses.length) {
            ++chargedUnknown;
        } else {
            if (statuses[vehicleId] == uint256(IVehicleRegistry.VehicleStatus.Scrapped)) ++scrappedCharged;
            (IVehicleRegistry.VehicleClass vehicleClass,) = registry.classAndStatus(vehicleId);
            if (fee != _expectedFee(gantryId, vehicleClass, timestamp)) ++mispriced;
        }
        if (timestamp > block.timestamp) ++chargedInFuture;
        if (!_contains(scans, uint128(record))) ++chargedUnsigned;
        ghostFeesCharged += fee;
    }

    /// @dev The fee the handler's own tariff history gives a class at a time: the last tariff in effect by then (the
    /// first one for scans older than the gantry); emergency vehicles ride free.
    function _expectedFee(uint32 gantryId, IVehicleRegistry.VehicleClass vehicleClass, uint64 timestamp)
        private
        view
        returns (uint256)
    {
        if (vehicleClass == IVehicleRegistry.VehicleClass.Emergency) return 0;
        GhostTariff[] storage history = _tariffs[gantryId];
        uint256 i = history.length - 1;
        while (i != 0 && history[i].from > timestamp) --i;
        return history[i].fees[uint8(vehicleClass)];
    }

    function _contains(bytes memory scans, uint128 record) private pure returns (bool) {
        for (uint256 offset; offset < scans.length; offset += 16) {
            bytes16 candidate;
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                candidate := mload(add(add(scans, 0x20), offset))
            }
            if (uint128(candidate) == record) return true;
        }
        return false;
    }

    /// @dev The status of every vehicle (index = id; 0 unused) before a batch.
    function _statuses() private view returns (uint256[] memory statuses) {
        statuses = new uint256[](vehicleCount + 1);
        for (uint256 id = 1; id <= vehicleCount; ++id) {
            (, IVehicleRegistry.VehicleStatus status) = registry.classAndStatus(id);
            statuses[id] = uint256(status);
        }
    }

    function _registerVehicle(uint256 ownerSeed, uint256 classSeed) private {
        if (vehicleCount == MAX_VEHICLES) return;
        uint256 vehicleId = vehicleCount + 1;
        address owner_ = owner(ownerSeed);
        address plate = vm.addr(_plateKeyFor(vehicleId, 0));
        vm.prank(REGISTRAR);
        registry.registerVehicle(owner_, plate, keccak256(abi.encode("VIN", vehicleId)), uint8(classSeed % 6));
        vehicleCount = vehicleId;
        ghostOwner[vehicleId] = owner_;
        _count("registerVehicle");
    }

    function _deposit(uint256 vehicleSeed, uint256 payerSeed, uint256 amount) private {
        if (vehicleCount == 0) return;
        uint256 vehicleId = _vehicle(vehicleSeed);
        address payer = owner(payerSeed);
        amount = bound(amount, 1, 40 * USD);
        vm.prank(ADMIN);
        token.mint(payer, amount);
        ghostMinted += amount;
        vm.startPrank(payer);
        token.approve(address(escrow), amount);
        try escrow.deposit(vehicleId, amount) {
            _count("deposit");
        } catch {}
        vm.stopPrank();
    }

    function _sign(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev Leaf `index` of a batch: [ vehicleId (48) | timestamp (40) | sequence (40) | fee (48) ], 22 bytes.
    function _leaf(bytes memory leaves, uint256 index) private pure returns (uint256 leaf) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            leaf := shr(80, mload(add(add(leaves, 0x20), mul(index, 22))))
        }
    }

    function _vehicle(uint256 seed) private view returns (uint256) {
        return 1 + (seed % vehicleCount);
    }

    function _oracleKeyFor(uint32 gantryId, uint256 generation) private pure returns (uint256) {
        return 1 + (uint256(keccak256(abi.encode("oracle", gantryId, generation))) % (SECP256K1_N - 1));
    }

    function _plateKeyFor(uint256 vehicleId, uint256 rotation) private pure returns (uint256) {
        return 1 + (uint256(keccak256(abi.encode("plate", vehicleId, rotation))) % (SECP256K1_N - 1));
    }

    function _beforeAction() private {
        ++totalCalls;
        vm.warp(block.timestamp + 15 minutes);
    }

    function _count(bytes32 name) private {
        ++successes[name];
        ++totalSuccesses;
    }
}
