// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IVehicleRegistry} from "./IVehicleRegistry.sol";

/// @title IDrivingRecordLedger
/// @notice Tamper-evident driving records per vehicle for insurers: per-period aggregates (distance, driving time,
/// harsh events, speeding, night driving) and a hash committing to the raw trip data, which stays off-chain. No GPS
/// trace or personal data goes on-chain. Owners grant insurers consent to use a vehicle's data.
///
/// Each vehicle's records form an append-only hash chain. Record `n` (counted from 1) links record `n - 1`:
///   head_n = bytes24(keccak256(abi.encodePacked(head_{n-1}, uint24(n), reporter, record_n)))
/// where head_0 = bytes24(0), `reporter` is the account that appended it and `record_n` the record's 74 wire bytes
/// below (signature excluded). The ledger stores only the latest head, the count and the end of the last period, so
/// a copy of the chain that was altered, reordered or has a record missing does not end at the on-chain head.
///
/// Wire format of a batch (reporters and the ledger must agree byte for byte): `records` is the tight concatenation
/// of records, each 74 bytes (big-endian, as `abi.encodePacked` lays them out)
///   [ vehicleId uint48 | periodStart uint40 | periodEnd uint40 | distanceMeters uint40 | drivingSeconds uint32
///   | harshBrakingCount uint16 | harshAccelerationCount uint16 | speedingSeconds uint32
///   | nightDistanceMeters uint40 | dataHash bytes32 | corrects uint24 | trust uint8 ]
/// followed, when `trust` is 1 ({TrustLevel.PlateSigned}), by the plate key's 65-byte signature r ‖ s ‖ v of the
/// EIP-712 struct
///   DrivingRecord(uint256 vehicleId,uint40 periodStart,uint40 periodEnd,uint40 distanceMeters,
///   uint32 drivingSeconds,uint16 harshBrakingCount,uint16 harshAccelerationCount,uint32 speedingSeconds,
///   uint40 nightDistanceMeters,bytes32 dataHash,uint24 corrects)
/// in the domain { name: "platechain DrivingRecordLedger", version: "1", chainId, verifyingContract: this ledger }.
///
/// Periods are half-open, [periodStart, periodEnd) in unix seconds: a period may start where the previous one
/// ended. A record with `corrects` = k > 0 is a correction of the vehicle's record k: it supersedes k's aggregates
/// for k's period, does not advance the vehicle's time, and must lie within time the chain already covers.
interface IDrivingRecordLedger {
    /// @notice How much a record can be trusted. The order is part of the ABI: append, never reorder.
    /// @dev `ReporterAsserted`: a telematics reporter vouches for it. `PlateSigned`: the vehicle's own plate/device
    /// key signed it (checked against the registry's current plate key), which ranks above a reporter's word.
    enum TrustLevel {
        ReporterAsserted,
        PlateSigned
    }

    /// @notice The aggregates of one vehicle over one period, as signed by a plate key (see {recordDigest}).
    /// @param periodStart First second of the period (inclusive), unix time.
    /// @param periodEnd End of the period (exclusive), unix time; never after the block that appends it.
    /// @param distanceMeters Distance driven in the period.
    /// @param drivingSeconds Time spent driving; at most the period's length.
    /// @param harshBrakingCount Harsh braking events.
    /// @param harshAccelerationCount Harsh acceleration events.
    /// @param speedingSeconds Time driven over the speed limit; at most `drivingSeconds`.
    /// @param nightDistanceMeters Distance driven at night; at most `distanceMeters`.
    /// @param dataHash Commitment to the raw trip data kept off-chain (never zero).
    /// @param corrects Index (from 1) of the record this one corrects in the same vehicle's chain; 0 for none.
    struct DrivingRecord {
        uint40 periodStart;
        uint40 periodEnd;
        uint40 distanceMeters;
        uint32 drivingSeconds;
        uint16 harshBrakingCount;
        uint16 harshAccelerationCount;
        uint32 speedingSeconds;
        uint40 nightDistanceMeters;
        bytes32 dataHash;
        uint24 corrects;
    }

    /// @notice A record was appended to `vehicleId`'s chain. `link` is the whole preimage of the chain link the
    /// record made, in 128 bytes:
    ///   previousHead bytes24 | index uint24 | reporter address | record (the 74 wire bytes) | 7 zero bytes
    /// so the head after it is bytes24(keccak256(first 121 bytes of `link`)), and a reader checks every record
    /// against the one before it and the last against {chainOf} with no other data. The record's fields, its trust
    /// byte included, are read from the wire bytes as laid out above; a plate signature is not logged (the ledger
    /// checked it against the plate key current at the time).
    /// @dev Anonymous: the log's one topic is `vehicleId` (LOG1), so filter the ledger's address by topic 0 = the
    /// vehicle id (32 bytes); no other ledger event can match, as their topic 0 is a 256-bit hash. The record is
    /// logged as its wire bytes, not as typed fields, and without an event topic: typed fields, head, trust and an
    /// indexed reporter cost about 4,100 gas a record more (issue 8's record target is 1.3 times the floor).
    event RecordAppended(uint256 indexed vehicleId, bytes32[4] link) anonymous;

    /// @notice The owner of `vehicleId` let `insurer` use the vehicle's data until `expiry` (unix seconds).
    event ConsentGranted(uint256 indexed vehicleId, address indexed insurer, address indexed owner, uint40 expiry);

    /// @notice The owner of `vehicleId` withdrew the consent it had given `insurer`.
    event ConsentRevoked(uint256 indexed vehicleId, address indexed insurer, address indexed owner);

    /// @notice The registry given to the constructor is not a contract implementing {IVehicleRegistry}.
    error DrivingRecordLedgerInvalidRegistry(address registry);

    /// @notice `records` does not split into whole records: `offset` is where the truncated one starts.
    error DrivingRecordLedgerMalformedRecords(uint256 offset, uint256 length);

    /// @notice No vehicle has id `vehicleId` in the registry.
    error DrivingRecordLedgerUnknownVehicle(uint256 vehicleId);

    /// @notice The record's trust byte is neither 0 (reporter-asserted) nor 1 (plate-signed).
    error DrivingRecordLedgerInvalidTrustLevel(uint256 vehicleId, uint8 trust);

    /// @notice The period does not end after it starts.
    error DrivingRecordLedgerInvalidPeriod(uint256 vehicleId, uint256 periodStart, uint256 periodEnd);

    /// @notice The period ends after the current block: it cannot have been observed yet.
    error DrivingRecordLedgerFuturePeriod(uint256 vehicleId, uint256 periodEnd, uint256 currentTime);

    /// @notice The period starts before the end of the vehicle's last period: it overlaps or goes back in time.
    error DrivingRecordLedgerPeriodOverlap(uint256 vehicleId, uint256 periodStart, uint256 lastPeriodEnd);

    /// @notice The record claims more driving time than its period lasts.
    error DrivingRecordLedgerDrivingTimeExceedsPeriod(uint256 vehicleId, uint256 drivingSeconds, uint256 periodLength);

    /// @notice The record claims more speeding time than driving time.
    error DrivingRecordLedgerSpeedingExceedsDrivingTime(
        uint256 vehicleId, uint256 speedingSeconds, uint256 drivingSeconds
    );

    /// @notice The record claims more night-time distance than distance.
    error DrivingRecordLedgerNightDistanceExceedsDistance(
        uint256 vehicleId, uint256 nightDistanceMeters, uint256 distanceMeters
    );

    /// @notice The data hash is zero, which commits to nothing.
    error DrivingRecordLedgerInvalidDataHash(uint256 vehicleId);

    /// @notice A correction names record `corrects`, but the vehicle's chain holds only `count` records.
    error DrivingRecordLedgerInvalidCorrection(uint256 vehicleId, uint256 corrects, uint256 count);

    /// @notice A correction's period ends after the vehicle's last period: corrections only cover recorded time.
    error DrivingRecordLedgerCorrectionOutsideHistory(uint256 vehicleId, uint256 periodEnd, uint256 lastPeriodEnd);

    /// @notice A plate-signed record was signed by `signer` (zero if unrecoverable), not the current `plate` key.
    error DrivingRecordLedgerWrongSigner(uint256 vehicleId, address signer, address plate);

    /// @notice The vehicle's chain holds the most records a chain can (2^24 - 1).
    error DrivingRecordLedgerChainFull(uint256 vehicleId);

    /// @notice `caller` does not own `vehicleId` (its owner is `owner`).
    error DrivingRecordLedgerNotVehicleOwner(uint256 vehicleId, address caller, address owner);

    /// @notice `insurer` is not an address consent can be given to.
    error DrivingRecordLedgerInvalidInsurer(address insurer);

    /// @notice A consent must end after the current block.
    error DrivingRecordLedgerInvalidConsentExpiry(uint256 expiry, uint256 currentTime);

    /// @notice `insurer` holds no consent record for `vehicleId`.
    error DrivingRecordLedgerNoConsent(uint256 vehicleId, address insurer);

    /// @notice Appends a batch of records, of any number of vehicles, to their chains in order.
    /// @dev Requirements: caller holds `REPORTER_ROLE`; `records` is one or more whole records in the wire format
    /// above; per record: the vehicle is registered; the trust byte is 0 or 1; periodStart < periodEnd <= now; the
    /// period starts at or after the vehicle's last period end (a correction instead names an existing record and
    /// ends at or before the last period end); drivingSeconds <= period length; speedingSeconds <= drivingSeconds;
    /// nightDistanceMeters <= distanceMeters; dataHash non-zero; a plate-signed record's signature was made by the
    /// vehicle's current plate key. Any bad record reverts the whole batch.
    /// Emits a {RecordAppended} event per record.
    /// @param records The tightly packed records.
    function appendRecords(bytes calldata records) external;

    /// @notice Lets `insurer` use `vehicleId`'s data until `expiry`, replacing any earlier grant to `insurer`.
    /// @dev The grant stays bound to the caller as owner: it ends by itself when the vehicle changes hands.
    /// Requirements: caller is the vehicle's current owner; `insurer` non-zero; `expiry` after the current block.
    /// Emits a {ConsentGranted} event.
    /// @param vehicleId The vehicle whose data the insurer may use.
    /// @param insurer The insurer's address.
    /// @param expiry The end of the consent (the policy term), unix seconds, exclusive.
    function grantConsent(uint256 vehicleId, address insurer, uint40 expiry) external;

    /// @notice Withdraws the consent given to `insurer` for `vehicleId`.
    /// @dev Requirements: caller is the vehicle's current owner; a grant to `insurer` exists (active, expired, or
    /// void after a sale). Emits a {ConsentRevoked} event.
    function revokeConsent(uint256 vehicleId, address insurer) external;

    /// @notice The vehicle registry whose vehicles, plate keys and owners the ledger relies on.
    function registry() external view returns (IVehicleRegistry);

    /// @notice The state of `vehicleId`'s chain: its head, how many records it holds and the end of its last period.
    /// @dev All zero for a vehicle with no records.
    function chainOf(uint256 vehicleId) external view returns (bytes24 head, uint256 count, uint256 lastPeriodEnd);

    /// @notice The consent record of `insurer` for `vehicleId` and whether it is in force now.
    /// @dev `active` is true when a grant exists, has not expired and its `grantor` still owns the vehicle.
    function consentOf(uint256 vehicleId, address insurer)
        external
        view
        returns (address grantor, uint40 expiry, bool active);

    /// @notice Whether `insurer` may use `vehicleId`'s data now: see {consentOf}. False for an unknown vehicle.
    function hasConsent(uint256 vehicleId, address insurer) external view returns (bool);

    /// @notice The EIP-712 digest a plate key signs for `record` of `vehicleId` in this ledger's domain.
    function recordDigest(uint256 vehicleId, DrivingRecord calldata record) external view returns (bytes32);

    /// @notice The size in bytes of a record on the wire, signature excluded (74).
    function RECORD_SIZE() external view returns (uint256);

    /// @notice The size in bytes of a plate signature following a plate-signed record (65).
    function SIGNATURE_SIZE() external view returns (uint256);
}
