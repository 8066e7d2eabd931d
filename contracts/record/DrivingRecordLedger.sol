// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";

import {IDrivingRecordLedger} from "../interfaces/IDrivingRecordLedger.sol";
import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";

/// @title DrivingRecordLedger
/// @notice Append-only, hash-chained driving records per vehicle, appended in batches by telematics reporters, and
/// the owners' consents that let insurers use a vehicle's data.
/// @dev Gas: a record costs one storage slot write (the vehicle's {Chain}) plus its 4-word log; the aggregates live
/// only in the log. A reporter-asserted record is checked straight from calldata, never copied into a memory struct.
/// A vehicle that already has records was registered, and the registry never deletes vehicles, so only a
/// vehicle's first record asks the registry whether it exists.
contract DrivingRecordLedger is IDrivingRecordLedger, AccessControlDefaultAdminRules, EIP712 {
    /// @dev One slot per vehicle, all that verification needs:
    /// [ head (192) | count (24) | lastPeriodEnd (40) ]   (low-order bits first, as Solidity packs)
    /// `head` is keccak-256 truncated to 192 bits. Forging a copy of a chain that an honest reporter wrote so that it
    /// still ends at the stored head is a second-preimage search: about 2^192 hashes. A collision (about 2^96) helps
    /// only whoever writes both colliding records before appending one, that is a reporter, who can already assert
    /// any aggregates, and the record actually appended stays in the chain's logs. 24 bits of count are 16.7 million
    /// records per vehicle (a record an hour for over 1,900 years); 40 bits of unix time last for 34,000 years.
    struct Chain {
        bytes24 head;
        uint24 count;
        uint40 lastPeriodEnd;
    }

    /// @dev One slot per (vehicle, insurer): [ grantor (160) | expiry (40) | unused (56) ].
    struct Consent {
        address grantor;
        uint40 expiry;
    }

    bytes32 public constant REPORTER_ROLE = keccak256("REPORTER_ROLE");

    // The compiler folds this hash into a constant: the long string never reaches the bytecode.
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant RECORD_TYPEHASH = keccak256(
        "DrivingRecord(uint256 vehicleId,uint40 periodStart,uint40 periodEnd,uint40 distanceMeters,"
        "uint32 drivingSeconds,uint16 harshBrakingCount,uint16 harshAccelerationCount,uint32 speedingSeconds,"
        "uint40 nightDistanceMeters,bytes32 dataHash,uint24 corrects)"
    );

    /// @inheritdoc IDrivingRecordLedger
    uint256 public constant RECORD_SIZE = 74;

    /// @inheritdoc IDrivingRecordLedger
    uint256 public constant SIGNATURE_SIZE = 65;

    /// @dev Byte offsets of the fields inside a wire record (see {IDrivingRecordLedger}).
    uint256 private constant _AT_PERIOD_START = 6;
    uint256 private constant _AT_PERIOD_END = 11;
    uint256 private constant _AT_DISTANCE = 16;
    uint256 private constant _AT_DRIVING = 21;
    uint256 private constant _AT_BRAKING = 25;
    uint256 private constant _AT_ACCELERATION = 27;
    uint256 private constant _AT_SPEEDING = 29;
    uint256 private constant _AT_NIGHT = 33;
    uint256 private constant _AT_DATA_HASH = 38;
    uint256 private constant _AT_CORRECTS = 70;
    uint256 private constant _AT_TRUST = 73;

    /// @dev Bytes of a chain link's preimage (head 24, index 3, reporter 20, record 74), logged in 4 words.
    uint256 private constant _LINK_SIZE = 121;
    uint256 private constant _LINK_LOG_SIZE = 128;

    IVehicleRegistry private immutable _REGISTRY;

    mapping(uint256 vehicleId => Chain) private _chains;
    mapping(uint256 vehicleId => mapping(address insurer => Consent)) private _consents;

    /// @param vehicleRegistry The platechain vehicle registry (must implement {IVehicleRegistry} through ERC-165).
    /// @param initialAdminDelay Seconds a new default admin must wait before accepting the role.
    /// @param initialAdmin Holder of `DEFAULT_ADMIN_ROLE`, who grants `REPORTER_ROLE` (non-zero).
    constructor(IVehicleRegistry vehicleRegistry, uint48 initialAdminDelay, address initialAdmin)
        AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin)
        EIP712("platechain DrivingRecordLedger", "1")
    {
        if (!ERC165Checker.supportsInterface(address(vehicleRegistry), type(IVehicleRegistry).interfaceId)) {
            revert DrivingRecordLedgerInvalidRegistry(address(vehicleRegistry));
        }
        _REGISTRY = vehicleRegistry;
    }

    /// @inheritdoc IDrivingRecordLedger
    function appendRecords(bytes calldata records) external onlyRole(REPORTER_ROLE) {
        uint256 length = records.length;
        if (length == 0) revert DrivingRecordLedgerMalformedRecords(0, 0);
        // One memory struct reused by every plate-signed record, so a long batch does not grow memory.
        DrivingRecord memory record;
        uint256 offset;
        while (offset < length) {
            // Runs of good reporter-asserted records of vehicles that have a chain take the fast path; a record it
            // does not take (a vehicle's first, a plate-signed one, one about to be refused) takes the general one.
            offset = _appendRun(records, offset);
            if (offset < length) offset = _append(records, offset, record);
        }
    }

    /// @inheritdoc IDrivingRecordLedger
    function grantConsent(uint256 vehicleId, address insurer, uint40 expiry) external {
        _checkOwner(vehicleId);
        if (insurer == address(0)) revert DrivingRecordLedgerInvalidInsurer(insurer);
        // solhint-disable-next-line gas-strict-inequalities
        if (expiry <= block.timestamp) revert DrivingRecordLedgerInvalidConsentExpiry(expiry, block.timestamp);
        _consents[vehicleId][insurer] = Consent({grantor: msg.sender, expiry: expiry});
        emit ConsentGranted(vehicleId, insurer, msg.sender, expiry);
    }

    /// @inheritdoc IDrivingRecordLedger
    function revokeConsent(uint256 vehicleId, address insurer) external {
        _checkOwner(vehicleId);
        if (_consents[vehicleId][insurer].grantor == address(0)) {
            revert DrivingRecordLedgerNoConsent(vehicleId, insurer);
        }
        delete _consents[vehicleId][insurer];
        emit ConsentRevoked(vehicleId, insurer, msg.sender);
    }

    /// @inheritdoc IDrivingRecordLedger
    function registry() external view returns (IVehicleRegistry) {
        return _REGISTRY;
    }

    /// @inheritdoc IDrivingRecordLedger
    function chainOf(uint256 vehicleId) external view returns (bytes24 head, uint256 count, uint256 lastPeriodEnd) {
        Chain memory chain = _chains[vehicleId];
        return (chain.head, chain.count, chain.lastPeriodEnd);
    }

    /// @inheritdoc IDrivingRecordLedger
    function consentOf(uint256 vehicleId, address insurer)
        external
        view
        returns (address grantor, uint40 expiry, bool active)
    {
        Consent memory consent = _consents[vehicleId][insurer];
        return (consent.grantor, consent.expiry, _isActive(vehicleId, consent));
    }

    /// @inheritdoc IDrivingRecordLedger
    function hasConsent(uint256 vehicleId, address insurer) external view returns (bool) {
        return _isActive(vehicleId, _consents[vehicleId][insurer]);
    }

    /// @inheritdoc IDrivingRecordLedger
    function recordDigest(uint256 vehicleId, DrivingRecord calldata record) external view returns (bytes32) {
        return _recordDigest(vehicleId, record);
    }

    /// @inheritdoc AccessControlDefaultAdminRules
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IDrivingRecordLedger).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @dev The fast path: appends the records from `offset` on while each is a whole reporter-asserted record of a
    /// vehicle whose chain holds a record (so is registered) and passes every rule of {_checkRecord}, checked as one
    /// branch-free predicate. Returns the offset of the first record it did not take, or the batch's length; that
    /// record goes to {_append}, which refuses it with the error naming what is wrong, or appends it. A predicate
    /// stricter than {_checkRecord} would only send a good record the slow way; it must never be more lenient.
    /// Same link, log and slot layout as {_append} and {_linkAndLog}, in one assembly loop with no call per record
    /// and no jump per rule: 100 reporter-asserted records of vehicles with chains cost 8,719 gas a record this way,
    /// 9,991 through the general path alone.
    function _appendRun(bytes calldata records, uint256 offset) private returns (uint256 next) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let batchEnd := add(records.offset, records.length)
            let cursor := add(records.offset, offset)
            let ptr := mload(0x40)
            let reporter := shl(96, caller())
            for {} lt(cursor, batchEnd) { cursor := add(cursor, RECORD_SIZE) } {
                // Not taken: a truncated record, or a trust byte other than 0 (plate-signed, or invalid).
                if or(gt(add(cursor, RECORD_SIZE), batchEnd), byte(0, calldataload(add(cursor, _AT_TRUST)))) { break }
                let vehicleId := shr(208, calldataload(cursor))
                mstore(0, vehicleId)
                mstore(32, _chains.slot)
                let slot := keccak256(0, 64)
                // The slot as {Chain} packs it: head in bits 0..191, count in 192..215, lastPeriodEnd in 216..255.
                let chain := sload(slot)
                let count := and(shr(192, chain), 0xffffff)
                // Not taken either: a vehicle's first record, the only one that asks the registry.
                if iszero(count) { break }
                let lastPeriodEnd := shr(216, chain)
                let start := shr(216, calldataload(add(cursor, _AT_PERIOD_START)))
                let end := shr(216, calldataload(add(cursor, _AT_PERIOD_END)))
                let corrects := shr(232, calldataload(add(cursor, _AT_CORRECTS)))
                let driving := shr(224, calldataload(add(cursor, _AT_DRIVING)))
                let refused := or(eq(count, 0xffffff), or(iszero(lt(start, end)), gt(end, timestamp())))
                switch corrects
                case 0 { refused := or(refused, lt(start, lastPeriodEnd)) }
                default { refused := or(refused, or(gt(corrects, count), gt(end, lastPeriodEnd))) }
                // end - start wraps only when start >= end, already refused.
                let speeding := shr(224, calldataload(add(cursor, _AT_SPEEDING)))
                refused := or(refused, or(gt(driving, sub(end, start)), gt(speeding, driving)))
                let night := shr(216, calldataload(add(cursor, _AT_NIGHT)))
                let distance := shr(216, calldataload(add(cursor, _AT_DISTANCE)))
                refused := or(refused, or(gt(night, distance), iszero(calldataload(add(cursor, _AT_DATA_HASH)))))
                if refused { break }

                // As {_linkAndLog}: bytes 96..127 zeroed first (the log's padding), then the 121-byte preimage.
                let index := add(count, 1)
                mstore(add(ptr, 96), 0)
                mstore(ptr, shl(64, chain))
                mstore(add(ptr, 24), shl(232, index))
                mstore(add(ptr, 27), reporter)
                calldatacopy(add(ptr, 47), cursor, RECORD_SIZE)
                let head := and(keccak256(ptr, _LINK_SIZE), not(0xffffffffffffffff))
                log1(ptr, _LINK_LOG_SIZE, vehicleId)
                if iszero(corrects) { lastPeriodEnd := end }
                sstore(slot, or(shr(64, head), or(shl(192, index), shl(216, lastPeriodEnd))))
            }
            next := sub(cursor, records.offset)
        }
    }

    /// @dev The general path, one record: checks the record at `offset` against its vehicle's chain, links it, stores
    /// the new chain state in one slot write and logs the link. Returns the offset of the next record. `record` is
    /// filled only for a plate-signed record, whose EIP-712 digest needs the fields in memory.
    function _append(bytes calldata records, uint256 offset, DrivingRecord memory record)
        private
        returns (uint256 next)
    {
        unchecked {
            // offset < records.length here, so neither subtraction nor addition can wrap.
            if (records.length - offset < RECORD_SIZE) {
                revert DrivingRecordLedgerMalformedRecords(offset, records.length);
            }
            next = offset + RECORD_SIZE;
        }
        uint256 cursor;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            cursor := add(records.offset, offset)
        }
        uint256 vehicleId = _read(cursor, 48);
        Chain memory chain = _chains[vehicleId];
        if (chain.count == 0) _checkRegistered(vehicleId);
        _checkRecord(vehicleId, cursor, chain.count, chain.lastPeriodEnd);
        next = _checkTrust(records, offset, cursor, next, vehicleId, record);

        uint24 index;
        unchecked {
            // _checkRecord refused a full chain, so count + 1 fits in 24 bits.
            index = chain.count + 1;
        }
        bytes24 head = _linkAndLog(vehicleId, chain.head, index, cursor);
        // A correction supersedes an earlier period: it does not move the vehicle's time forward.
        uint40 lastPeriodEnd =
            _read(cursor + _AT_CORRECTS, 24) == 0 ? uint40(_read(cursor + _AT_PERIOD_END, 40)) : chain.lastPeriodEnd;
        _chains[vehicleId] = Chain({head: head, count: index, lastPeriodEnd: lastPeriodEnd});
    }

    /// @dev Checks the trust byte of the record at `offset` (calldata position `cursor`; its fields end at `next`)
    /// and, for a plate-signed record, the plate signature after it. Returns the offset of the next record.
    function _checkTrust(
        bytes calldata records,
        uint256 offset,
        uint256 cursor,
        uint256 next,
        uint256 vehicleId,
        DrivingRecord memory record
    ) private view returns (uint256) {
        uint256 trust = _read(cursor + _AT_TRUST, 8);
        if (trust == uint8(TrustLevel.ReporterAsserted)) return next;
        if (trust != uint8(TrustLevel.PlateSigned)) {
            revert DrivingRecordLedgerInvalidTrustLevel(vehicleId, uint8(trust));
        }
        uint256 signatureEnd;
        unchecked {
            // next <= records.length, a calldata length, far below 2^256 - 65.
            signatureEnd = next + SIGNATURE_SIZE;
        }
        if (signatureEnd > records.length) revert DrivingRecordLedgerMalformedRecords(offset, records.length);
        _decode(cursor, record);
        _checkPlateSignature(vehicleId, record, records[next:signatureEnd]);
        return signatureEnd;
    }

    /// @dev Reverts unless `vehicleId` is registered: an unknown id reads as status `None` in the registry.
    function _checkRegistered(uint256 vehicleId) private view {
        (, IVehicleRegistry.VehicleStatus status) = _REGISTRY.classAndStatus(vehicleId);
        if (status == IVehicleRegistry.VehicleStatus.None) revert DrivingRecordLedgerUnknownVehicle(vehicleId);
    }

    /// @dev The period and aggregate rules of {appendRecords} for the wire record at calldata position `cursor`,
    /// against the vehicle's chain before it (`count` records, the last period ending at `lastPeriodEnd`).
    function _checkRecord(uint256 vehicleId, uint256 cursor, uint256 count, uint256 lastPeriodEnd) private view {
        uint256 start;
        uint256 end;
        uint256 corrects;
        uint256 driving;
        uint256 speeding;
        uint256 distance;
        uint256 night;
        uint256 dataHash;
        // Each field read big-endian from its byte offset, shifted down to its width (see {_decode} for the types), in
        // one block: as calls to {_read} they would cost plate-signed and first records about 600 gas each.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            start := shr(216, calldataload(add(cursor, _AT_PERIOD_START)))
            end := shr(216, calldataload(add(cursor, _AT_PERIOD_END)))
            distance := shr(216, calldataload(add(cursor, _AT_DISTANCE)))
            driving := shr(224, calldataload(add(cursor, _AT_DRIVING)))
            speeding := shr(224, calldataload(add(cursor, _AT_SPEEDING)))
            night := shr(216, calldataload(add(cursor, _AT_NIGHT)))
            dataHash := calldataload(add(cursor, _AT_DATA_HASH))
            corrects := shr(232, calldataload(add(cursor, _AT_CORRECTS)))
        }
        // solhint-disable-next-line gas-strict-inequalities
        if (start >= end) revert DrivingRecordLedgerInvalidPeriod(vehicleId, start, end);
        if (end > block.timestamp) revert DrivingRecordLedgerFuturePeriod(vehicleId, end, block.timestamp);
        if (count == type(uint24).max) revert DrivingRecordLedgerChainFull(vehicleId);
        if (corrects == 0) {
            if (start < lastPeriodEnd) revert DrivingRecordLedgerPeriodOverlap(vehicleId, start, lastPeriodEnd);
        } else {
            if (corrects > count) revert DrivingRecordLedgerInvalidCorrection(vehicleId, corrects, count);
            if (end > lastPeriodEnd) revert DrivingRecordLedgerCorrectionOutsideHistory(vehicleId, end, lastPeriodEnd);
        }
        unchecked {
            // start < end was checked above.
            if (driving > end - start) {
                revert DrivingRecordLedgerDrivingTimeExceedsPeriod(vehicleId, driving, end - start);
            }
        }
        if (speeding > driving) revert DrivingRecordLedgerSpeedingExceedsDrivingTime(vehicleId, speeding, driving);
        if (night > distance) revert DrivingRecordLedgerNightDistanceExceedsDistance(vehicleId, night, distance);
        if (dataHash == 0) revert DrivingRecordLedgerInvalidDataHash(vehicleId);
    }

    /// @dev Asks the registry whether the vehicle's current plate key signed the record in this ledger's domain.
    function _checkPlateSignature(uint256 vehicleId, DrivingRecord memory record, bytes calldata signature)
        private
        view
    {
        bytes32 digest = _recordDigest(vehicleId, record);
        if (!_REGISTRY.isPlateSignature(vehicleId, digest, signature)) {
            // Failure path only: recover the signer and read the plate to explain the refusal.
            (address signer,,) = ECDSA.tryRecover(digest, signature);
            revert DrivingRecordLedgerWrongSigner(vehicleId, signer, _REGISTRY.vehicle(vehicleId).plate);
        }
    }

    /// @dev Reverts unless the caller owns `vehicleId` now.
    function _checkOwner(uint256 vehicleId) private view {
        address owner = _currentOwner(vehicleId);
        if (owner == address(0)) revert DrivingRecordLedgerUnknownVehicle(vehicleId);
        if (owner != msg.sender) revert DrivingRecordLedgerNotVehicleOwner(vehicleId, msg.sender, owner);
    }

    /// @dev A consent is in force while it has not expired and its grantor still owns the vehicle.
    function _isActive(uint256 vehicleId, Consent memory consent) private view returns (bool) {
        bool unexpired = consent.grantor != address(0) && block.timestamp < consent.expiry;
        return unexpired && _currentOwner(vehicleId) == consent.grantor;
    }

    /// @dev The vehicle's current owner, or zero for an unknown id (for which the registry's `vehicle` reverts).
    function _currentOwner(uint256 vehicleId) private view returns (address) {
        (, IVehicleRegistry.VehicleStatus status) = _REGISTRY.classAndStatus(vehicleId);
        return status == IVehicleRegistry.VehicleStatus.None ? address(0) : _REGISTRY.vehicle(vehicleId).owner;
    }

    function _recordDigest(uint256 vehicleId, DrivingRecord memory record) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    RECORD_TYPEHASH,
                    vehicleId,
                    record.periodStart,
                    record.periodEnd,
                    record.distanceMeters,
                    record.drivingSeconds,
                    record.harshBrakingCount,
                    record.harshAccelerationCount,
                    record.speedingSeconds,
                    record.nightDistanceMeters,
                    record.dataHash,
                    record.corrects
                )
            )
        );
    }

    /// @dev Reads the fields of the wire record at calldata position `cursor` into `record`.
    function _decode(uint256 cursor, DrivingRecord memory record) private pure {
        // Each field is read big-endian from its byte offset; the widths match the struct's types.
        record.periodStart = uint40(_read(cursor + _AT_PERIOD_START, 40));
        record.periodEnd = uint40(_read(cursor + _AT_PERIOD_END, 40));
        record.distanceMeters = uint40(_read(cursor + _AT_DISTANCE, 40));
        record.drivingSeconds = uint32(_read(cursor + _AT_DRIVING, 32));
        record.harshBrakingCount = uint16(_read(cursor + _AT_BRAKING, 16));
        record.harshAccelerationCount = uint16(_read(cursor + _AT_ACCELERATION, 16));
        record.speedingSeconds = uint32(_read(cursor + _AT_SPEEDING, 32));
        record.nightDistanceMeters = uint40(_read(cursor + _AT_NIGHT, 40));
        record.dataHash = bytes32(_read(cursor + _AT_DATA_HASH, 256));
        record.corrects = uint24(_read(cursor + _AT_CORRECTS, 24));
    }

    /// @dev The `bits`-wide big-endian unsigned integer starting at calldata position `position` (no bounds check:
    /// callers read inside a record whose length was checked).
    function _read(uint256 position, uint256 bits) private pure returns (uint256 value) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            value := shr(sub(256, bits), calldataload(position))
        }
    }

    /// @dev head_n = bytes24(keccak256(abi.encodePacked(head_{n-1}, uint24(n), msg.sender, record_n))), and the
    /// {RecordAppended} log of that preimage, the record read at calldata position `cursor`. Both use scratch memory
    /// past the free memory pointer, so a long batch does not grow memory. {_appendRun} does the same inline.
    function _linkAndLog(uint256 vehicleId, bytes24 previousHead, uint24 index, uint256 cursor)
        private
        returns (bytes24 head)
    {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            // Bytes 96..127 first: the log's padding (121..127) must be zero, and a plate signature check may have
            // left data past the free memory pointer.
            mstore(add(ptr, 96), 0)
            mstore(ptr, previousHead) // bytes 0..23 (a bytesN value is left-aligned)
            mstore(add(ptr, 24), shl(232, index)) // bytes 24..26
            mstore(add(ptr, 27), shl(96, caller())) // bytes 27..46
            calldatacopy(add(ptr, 47), cursor, RECORD_SIZE) // bytes 47..120
            // Keep the high 24 bytes: a bytes24 value must have its low 8 bytes clear.
            head := and(keccak256(ptr, _LINK_SIZE), not(0xffffffffffffffff))
            log1(ptr, _LINK_LOG_SIZE, vehicleId)
        }
    }
}
