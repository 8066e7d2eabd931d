// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IDrivingRecordLedger} from "../../contracts/interfaces/IDrivingRecordLedger.sol";
import {DrivingRecordLedger} from "../../contracts/record/DrivingRecordLedger.sol";
import {VehicleRegistry} from "../../contracts/vehicle/VehicleRegistry.sol";
import {TestBase} from "../utils/Vm.sol";

/// @dev Builds wire records and mirrors the chain link, independently of the TypeScript library.
abstract contract LedgerTestBase is TestBase {
    VehicleRegistry internal registry;
    DrivingRecordLedger internal ledger;

    uint256 internal constant NOW = 2_000_000_000;
    uint256 internal constant PLATE_KEY = 0xA11CE;
    uint256 internal vehicleId;

    function setUp() public virtual {
        vm.warp(NOW);
        registry = new VehicleRegistry(3 days, address(this));
        registry.grantRole(registry.REGISTRAR_ROLE(), address(this));
        ledger = new DrivingRecordLedger(registry, 3 days, address(this));
        ledger.grantRole(ledger.REPORTER_ROLE(), address(this));
        vehicleId = registry.registerVehicle(address(0xCAFE), vm.addr(PLATE_KEY), keccak256("VIN 1"), 1);
    }

    function _record(uint256 start, uint256 end, uint24 corrects)
        internal
        pure
        returns (IDrivingRecordLedger.DrivingRecord memory record)
    {
        uint256 length = end - start;
        record = IDrivingRecordLedger.DrivingRecord({
            periodStart: uint40(start),
            periodEnd: uint40(end),
            distanceMeters: uint40(length * 3),
            drivingSeconds: uint32(length / 4),
            harshBrakingCount: 1,
            harshAccelerationCount: 2,
            speedingSeconds: uint32(length / 40),
            nightDistanceMeters: uint40(length),
            dataHash: keccak256(abi.encode(start, end, corrects)),
            corrects: corrects
        });
    }

    function _wire(uint256 id, IDrivingRecordLedger.DrivingRecord memory r, uint8 trust)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(
            abi.encodePacked(uint48(id), r.periodStart, r.periodEnd, r.distanceMeters, r.drivingSeconds),
            abi.encodePacked(r.harshBrakingCount, r.harshAccelerationCount, r.speedingSeconds, r.nightDistanceMeters),
            abi.encodePacked(r.dataHash, r.corrects, trust)
        );
    }

    function _signed(uint256 id, IDrivingRecordLedger.DrivingRecord memory r, uint256 key)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 rs, bytes32 s) = vm.sign(key, ledger.recordDigest(id, r));
        return abi.encodePacked(_wire(id, r, 1), rs, s, v);
    }

    function _link(bytes24 previous, uint256 index, address reporter, bytes memory wire)
        internal
        pure
        returns (bytes24)
    {
        return bytes24(keccak256(abi.encodePacked(previous, uint24(index), reporter, wire)));
    }

    function _head() internal view returns (bytes24 head) {
        (head,,) = ledger.chainOf(vehicleId);
    }

    function _count() internal view returns (uint256 count) {
        (, count,) = ledger.chainOf(vehicleId);
    }

    function _lastEnd() internal view returns (uint256 lastEnd) {
        (,, lastEnd) = ledger.chainOf(vehicleId);
    }
}

contract DrivingRecordLedgerTest is LedgerTestBase {
    /// Appends `steps` consecutive records with fuzzed gaps and lengths, one per batch or all in one batch, and
    /// checks after each that the chain's head, count and last end are what the link formula gives.
    function testFuzz_appendRecords_chainsConsecutivePeriods(uint256 seed, uint8 steps, bool oneBatch) public {
        steps = uint8(bound(steps, 1, 12));
        uint256 cursor = NOW - 400 days;
        bytes24 head;
        bytes memory batch;
        for (uint256 i = 1; i < steps + 1; ++i) {
            uint256 gap = bound(uint256(keccak256(abi.encode(seed, i, "gap"))), 0, 3 days);
            uint256 length = bound(uint256(keccak256(abi.encode(seed, i, "length"))), 1, 30 days);
            bytes memory wire = _wire(vehicleId, _record(cursor + gap, cursor + gap + length, 0), 0);
            cursor += gap + length;
            head = _link(head, i, address(this), wire);
            if (oneBatch) {
                batch = bytes.concat(batch, wire);
            } else {
                ledger.appendRecords(wire);
                assertEq(_head(), bytes32(head), "head after each record");
                assertEq(_count(), i, "count after each record");
            }
        }
        if (oneBatch) ledger.appendRecords(batch);
        assertEq(_head(), bytes32(head), "head");
        assertEq(_count(), steps, "count");
        assertEq(_lastEnd(), cursor, "last period end");
    }

    function test_appendRecords_chainsConsecutivePeriods() public {
        bytes memory first = _wire(vehicleId, _record(NOW - 2 days, NOW - 1 days, 0), 0);
        bytes memory second = _wire(vehicleId, _record(NOW - 1 days, NOW, 0), 0);
        ledger.appendRecords(bytes.concat(first, second));
        bytes24 head = _link(_link(bytes24(0), 1, address(this), first), 2, address(this), second);
        assertEq(_head(), bytes32(head), "head");
        assertEq(_count(), 2, "count");
        assertEq(_lastEnd(), NOW, "last period end");
    }

    /// Any period starting before the last end is refused with the offending values, whatever its length.
    function testFuzz_appendRecords_refusesOverlap(uint256 lastEnd, uint256 start, uint256 length) public {
        lastEnd = bound(lastEnd, 2, NOW);
        start = bound(start, 0, lastEnd - 1);
        length = bound(length, 1, NOW - start);
        ledger.appendRecords(_wire(vehicleId, _record(0, lastEnd, 0), 0));
        bytes memory overlapping = _wire(vehicleId, _record(start, start + length, 0), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDrivingRecordLedger.DrivingRecordLedgerPeriodOverlap.selector, vehicleId, start, lastEnd
            )
        );
        ledger.appendRecords(overlapping);
    }

    function test_appendRecords_refusesOverlap() public {
        ledger.appendRecords(_wire(vehicleId, _record(NOW - 10 days, NOW - 5 days, 0), 0));
        vm.expectRevert(
            abi.encodeWithSelector(
                IDrivingRecordLedger.DrivingRecordLedgerPeriodOverlap.selector, vehicleId, NOW - 6 days, NOW - 5 days
            )
        );
        ledger.appendRecords(_wire(vehicleId, _record(NOW - 6 days, NOW - 4 days, 0), 0));
    }

    /// Periods that end in the future are refused; periods ending now or earlier are accepted.
    function testFuzz_appendRecords_refusesFuturePeriods(uint256 start, uint256 end) public {
        start = bound(start, 0, NOW + 365 days);
        end = bound(end, start + 1, NOW + 366 days);
        bytes memory wire = _wire(vehicleId, _record(start, end, 0), 0);
        if (end > NOW) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IDrivingRecordLedger.DrivingRecordLedgerFuturePeriod.selector, vehicleId, end, NOW
                )
            );
        }
        ledger.appendRecords(wire);
    }

    function test_appendRecords_refusesFuturePeriods() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IDrivingRecordLedger.DrivingRecordLedgerFuturePeriod.selector, vehicleId, NOW + 1, NOW
            )
        );
        ledger.appendRecords(_wire(vehicleId, _record(NOW - 1 days, NOW + 1, 0), 0));
        ledger.appendRecords(_wire(vehicleId, _record(NOW - 1 days, NOW, 0), 0));
    }

    /// A correction of any existing record within recorded time is appended without moving the chain's time;
    /// one naming a record beyond the count is refused.
    function testFuzz_appendRecords_corrections(uint8 records, uint24 corrects, uint256 start, uint256 length) public {
        records = uint8(bound(records, 1, 8));
        corrects = uint24(bound(corrects, 0, records + 2));
        for (uint256 i = 0; i < records; ++i) {
            ledger.appendRecords(_wire(vehicleId, _record(NOW - 30 days + i * 1 days, NOW - 29 days + i * 1 days, 0), 0));
        }
        uint256 lastEnd = _lastEnd();
        start = bound(start, 0, lastEnd - 1);
        length = bound(length, 1, lastEnd - start);
        bytes memory correction = _wire(vehicleId, _record(start, start + length, corrects), 0);
        if (corrects == 0 || corrects > records) {
            vm.expectRevert();
            ledger.appendRecords(correction);
            return;
        }
        bytes24 expected = _link(_head(), records + 1, address(this), correction);
        ledger.appendRecords(correction);
        assertEq(_head(), bytes32(expected), "head");
        assertEq(_count(), records + 1, "count");
        assertEq(_lastEnd(), lastEnd, "a correction leaves the last end");
    }

    function test_appendRecords_corrections() public {
        ledger.appendRecords(_wire(vehicleId, _record(NOW - 2 days, NOW - 1 days, 0), 0));
        ledger.appendRecords(_wire(vehicleId, _record(NOW - 2 days, NOW - 1 days, 1), 0));
        assertEq(_count(), 2, "count");
        assertEq(_lastEnd(), NOW - 1 days, "last end");
        vm.expectRevert(
            abi.encodeWithSelector(IDrivingRecordLedger.DrivingRecordLedgerInvalidCorrection.selector, vehicleId, 3, 2)
        );
        ledger.appendRecords(_wire(vehicleId, _record(NOW - 2 days, NOW - 1 days, 3), 0));
    }

    /// A plate-signed record verifies only under the vehicle's plate key, and ranks as PlateSigned in the chain.
    function testFuzz_appendRecords_plateSignature(uint256 signerKey, uint256 start, uint256 length) public {
        signerKey = bound(signerKey, 1, 2 ** 200);
        start = bound(start, 0, NOW - 1);
        length = bound(length, 1, NOW - start);
        IDrivingRecordLedger.DrivingRecord memory record = _record(start, start + length, 0);
        bytes memory signed = _signed(vehicleId, record, signerKey);
        if (signerKey != PLATE_KEY) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IDrivingRecordLedger.DrivingRecordLedgerWrongSigner.selector,
                    vehicleId,
                    vm.addr(signerKey),
                    vm.addr(PLATE_KEY)
                )
            );
            ledger.appendRecords(signed);
            return;
        }
        ledger.appendRecords(signed);
        assertEq(_head(), bytes32(_link(bytes24(0), 1, address(this), _wire(vehicleId, record, 1))), "head");
    }

    function test_appendRecords_plateSignature() public {
        IDrivingRecordLedger.DrivingRecord memory record = _record(NOW - 1 days, NOW, 0);
        ledger.appendRecords(_signed(vehicleId, record, PLATE_KEY));
        assertEq(_head(), bytes32(_link(bytes24(0), 1, address(this), _wire(vehicleId, record, 1))), "head");
    }
}

/// @dev The ledger checks a reporter-asserted record of a vehicle that has a chain on a fast path (one branch-free
/// predicate) and hands a record it refuses to the general path, which names the broken rule. Each test breaks one
/// rule by a fuzzed margin in a record whose other fields are fuzzed but valid, after a good record in the same batch
/// (so the fast path is running): the record must be refused with that rule's error. A fast path more lenient than
/// the rules on any one of them would append it instead.
contract DrivingRecordLedgerRulesTest is LedgerTestBase {
    uint256 internal constant LAST_END = NOW - 5 days;
    uint256 internal constant RULES = 9;
    uint256 internal otherVehicleId;

    function setUp() public override {
        super.setUp();
        otherVehicleId = registry.registerVehicle(address(0xCAFE), vm.addr(PLATE_KEY + 1), keccak256("VIN 2"), 1);
        ledger.appendRecords(
            bytes.concat(
                _wire(vehicleId, _record(NOW - 10 days, LAST_END, 0), 0),
                _wire(otherVehicleId, _record(NOW - 10 days, LAST_END, 0), 0)
            )
        );
    }

    /// `rule` 0 breaks nothing: the record, with each bounded field at its limit or below, is appended.
    function testFuzz_appendRecords_refusesEachBrokenRule(uint256 rule, uint256 seed, uint256 margin) public {
        rule = bound(rule, 0, RULES);
        margin = bound(margin, 1, 3);
        IDrivingRecordLedger.DrivingRecord memory record = _valid(seed);
        bytes memory expected = rule < 6 ? _breakPeriod(record, rule, margin) : _breakAggregate(record, rule, margin);
        bytes memory wire = _wire(vehicleId, record, 0);
        bytes memory batch = bytes.concat(_wire(otherVehicleId, _record(LAST_END, NOW, 0), 0), wire);
        if (expected.length != 0) {
            vm.expectRevert(expected);
            ledger.appendRecords(batch);
            return;
        }
        bytes24 head = _link(_head(), 2, address(this), wire);
        ledger.appendRecords(batch);
        assertEq(_head(), bytes32(head), "head");
        assertEq(_count(), 2, "count");
        assertEq(_lastEnd(), record.corrects == 0 ? record.periodEnd : LAST_END, "last end");
    }

    function test_appendRecords_refusesEachBrokenRule() public {
        for (uint256 rule = 0; rule < RULES + 1; ++rule) {
            // Refusals change nothing, so every rule can be tried on the same state; rule 0 appends, so it is last.
            testFuzz_appendRecords_refusesEachBrokenRule((rule + 1) % (RULES + 1), rule, 1);
        }
    }

    /// Breaks rule `rule` (1 to 5: period, time, correction) of `r` by `margin`; returns the error the rules give.
    function _breakPeriod(IDrivingRecordLedger.DrivingRecord memory r, uint256 rule, uint256 margin)
        private
        view
        returns (bytes memory)
    {
        uint256 start = r.periodStart;
        if (rule == 1) {
            r.periodEnd = uint40(start + 1 - margin);
            return _error(IDrivingRecordLedger.DrivingRecordLedgerInvalidPeriod.selector, start, start + 1 - margin);
        }
        if (rule == 2) {
            (r.corrects, r.periodStart, r.periodEnd) = (0, uint40(LAST_END), uint40(NOW + margin));
            return _error(IDrivingRecordLedger.DrivingRecordLedgerFuturePeriod.selector, NOW + margin, NOW);
        }
        if (rule == 3) {
            (r.corrects, r.periodStart, r.periodEnd) = (0, uint40(LAST_END - margin), uint40(NOW));
            return _error(IDrivingRecordLedger.DrivingRecordLedgerPeriodOverlap.selector, LAST_END - margin, LAST_END);
        }
        // Rules 4 and 5 concern corrections: a correction of a short period inside recorded time, no driving.
        (r.corrects, r.drivingSeconds, r.speedingSeconds) = (1, 0, 0);
        (r.periodStart, r.periodEnd) = (uint40(LAST_END - 2 days), uint40(LAST_END - 1 days));
        if (rule == 4) {
            r.corrects = uint24(1 + margin);
            return _error(IDrivingRecordLedger.DrivingRecordLedgerInvalidCorrection.selector, 1 + margin, 1);
        }
        if (rule == 5) {
            r.periodEnd = uint40(LAST_END + margin);
            return _error(
                IDrivingRecordLedger.DrivingRecordLedgerCorrectionOutsideHistory.selector, LAST_END + margin, LAST_END
            );
        }
        return "";
    }

    /// Breaks rule `rule` (6 to 9: the aggregates) of `r` by `margin`; returns the error the rules give.
    function _breakAggregate(IDrivingRecordLedger.DrivingRecord memory r, uint256 rule, uint256 margin)
        private
        view
        returns (bytes memory)
    {
        if (rule == 6) {
            uint256 period = uint256(r.periodEnd) - r.periodStart;
            (r.drivingSeconds, r.speedingSeconds) = (uint32(period + margin), 0);
            return _error(
                IDrivingRecordLedger.DrivingRecordLedgerDrivingTimeExceedsPeriod.selector, period + margin, period
            );
        }
        if (rule == 7) {
            r.speedingSeconds = uint32(r.drivingSeconds + margin);
            return _error(
                IDrivingRecordLedger.DrivingRecordLedgerSpeedingExceedsDrivingTime.selector,
                r.speedingSeconds,
                r.drivingSeconds
            );
        }
        if (rule == 8) {
            r.nightDistanceMeters = uint40(r.distanceMeters + margin);
            return _error(
                IDrivingRecordLedger.DrivingRecordLedgerNightDistanceExceedsDistance.selector,
                r.nightDistanceMeters,
                r.distanceMeters
            );
        }
        r.dataHash = bytes32(0);
        return abi.encodeWithSelector(IDrivingRecordLedger.DrivingRecordLedgerInvalidDataHash.selector, vehicleId);
    }

    /// A valid record from `seed`: a correction or a regular record, each bounded field at its limit or below it.
    function _valid(uint256 seed) private pure returns (IDrivingRecordLedger.DrivingRecord memory r) {
        bool correction = _bit(seed, 0);
        uint256 start = correction ? LAST_END - 2 days : LAST_END + _pick(seed, 1, 1 days);
        uint256 end = correction ? LAST_END - _pick(seed, 2, 1 days) : NOW - _pick(seed, 2, 1 days);
        uint256 driving = _bit(seed, 3) ? end - start : _pick(seed, 3, end - start);
        uint256 distance = _pick(seed, 4, type(uint40).max - 3);
        r = IDrivingRecordLedger.DrivingRecord({
            periodStart: uint40(start),
            periodEnd: uint40(end),
            distanceMeters: uint40(distance),
            drivingSeconds: uint32(driving),
            harshBrakingCount: uint16(seed),
            harshAccelerationCount: uint16(seed >> 16),
            speedingSeconds: uint32(_bit(seed, 5) ? driving : _pick(seed, 5, driving)),
            nightDistanceMeters: uint40(_bit(seed, 6) ? distance : _pick(seed, 6, distance)),
            dataHash: keccak256(abi.encode(seed)),
            corrects: correction ? 1 : 0
        });
    }

    function _error(bytes4 selector, uint256 a, uint256 b) private view returns (bytes memory) {
        return abi.encodeWithSelector(selector, vehicleId, a, b);
    }

    /// A value in [0, max] from `seed`'s `slot`: 0, max, or in between.
    function _pick(uint256 seed, uint256 slot, uint256 max) private pure returns (uint256) {
        return bound(uint256(keccak256(abi.encode(seed, slot))), 0, max);
    }

    function _bit(uint256 seed, uint256 slot) private pure returns (bool) {
        return (uint256(keccak256(abi.encode(seed, slot, "bit"))) & 1) == 1;
    }
}

/// @dev Appends random valid and invalid records to a few vehicles and keeps a ghost copy of each chain.
contract LedgerHandler is TestBase {
    DrivingRecordLedger internal immutable LEDGER;
    uint256 internal immutable VEHICLES;

    mapping(uint256 vehicleId => bytes24) public ghostHead;
    mapping(uint256 vehicleId => uint256) public ghostCount;
    mapping(uint256 vehicleId => uint256) public ghostLastEnd;

    constructor(DrivingRecordLedger ledger_, uint256 vehicles_) {
        LEDGER = ledger_;
        VEHICLES = vehicles_;
    }

    /// Appends the next period of a vehicle, after a fuzzed gap, or an overlapping one that must be refused.
    function append(uint256 vehicleSeed, uint256 gap, uint256 length, bool overlap) external {
        uint256 id = bound(vehicleSeed, 1, VEHICLES);
        uint256 lastEnd = ghostLastEnd[id];
        if (overlap && lastEnd > 0) {
            try LEDGER.appendRecords(_wire(id, lastEnd - 1, lastEnd, 0)) {
                revert("overlap accepted");
            } catch {}
            return;
        }
        uint256 start = lastEnd + bound(gap, 0, 1 days);
        uint256 end = start + bound(length, 1, 2 days);
        if (end > block.timestamp) return;
        _append(id, _wire(id, start, end, 0), end);
    }

    /// Appends a correction of an existing record of a vehicle, within recorded time.
    function correct(uint256 vehicleSeed, uint256 target) external {
        uint256 id = bound(vehicleSeed, 1, VEHICLES);
        uint256 count = ghostCount[id];
        if (count == 0) return;
        uint256 lastEnd = ghostLastEnd[id];
        _append(id, _wire(id, lastEnd - 1, lastEnd, uint24(bound(target, 1, count))), lastEnd);
    }

    function _append(uint256 id, bytes memory wire, uint256 newEnd) private {
        LEDGER.appendRecords(wire);
        ++ghostCount[id];
        ghostHead[id] = bytes24(keccak256(abi.encodePacked(ghostHead[id], uint24(ghostCount[id]), address(this), wire)));
        ghostLastEnd[id] = newEnd;
    }

    function _wire(uint256 id, uint256 start, uint256 end, uint24 corrects) private pure returns (bytes memory) {
        return abi.encodePacked(
            abi.encodePacked(uint48(id), uint40(start), uint40(end), uint40(1000), uint32(0)),
            abi.encodePacked(uint16(0), uint16(0), uint32(0), uint40(0)),
            abi.encodePacked(keccak256(abi.encode(id, start, end, corrects)), corrects, uint8(0))
        );
    }
}

contract DrivingRecordLedgerInvariantTest is LedgerTestBase {
    uint256 internal constant VEHICLES = 3;
    LedgerHandler internal handler;

    function setUp() public override {
        super.setUp();
        for (uint256 i = 2; i < VEHICLES + 1; ++i) {
            registry.registerVehicle(address(0xCAFE), vm.addr(PLATE_KEY + i), keccak256(abi.encode("VIN", i)), 1);
        }
        handler = new LedgerHandler(ledger, VEHICLES);
        ledger.grantRole(ledger.REPORTER_ROLE(), address(handler));
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// Every vehicle's on-chain chain equals the ghost chain built from the records the handler appended.
    function invariant_chainMatchesGhostCopy() public view {
        for (uint256 id = 1; id < VEHICLES + 1; ++id) {
            (bytes24 head, uint256 count, uint256 lastEnd) = ledger.chainOf(id);
            assertEq(head, handler.ghostHead(id), "head");
            assertEq(count, handler.ghostCount(id), "count");
            assertEq(lastEnd, handler.ghostLastEnd(id), "last end");
            assertLe(lastEnd, block.timestamp, "last end in the past");
        }
    }
}

