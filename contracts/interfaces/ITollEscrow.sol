// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title ITollEscrow
/// @notice Prepaid toll balances per vehicle, charged by batches of gantry scans signed by the gantry's oracle key,
/// with operator revenue held through a dispute window. The oracle relayer, the fleet simulator and the owners' apps
/// depend on this interface.
///
/// Wire format of a scan batch (the relayer and the contract must agree byte for byte):
/// `scans` is the tight concatenation of 16-byte records, each
///   [ vehicleId uint48 | timestamp uint40 | sequence uint40 ]   (big-endian, as `abi.encodePacked` lays them out)
/// where `sequence` is the gantry's own sequence number of the reading. A batch carries 1 to {MAX_SCANS_PER_BATCH}
/// scans of one gantry. Each (gantry, sequence) is charged at most once, whatever order batches arrive in.
///
/// The oracle signs the EIP-712 struct
///   ScanBatch(uint32 gantryId,bytes scans)
/// in the domain { name: "platechain TollEscrow", version: "1", chainId, verifyingContract: this escrow }.
interface ITollEscrow {
    /// @notice Why a scan in a batch was not charged. Skipping never reverts the batch.
    enum SkipReason {
        None,
        AlreadySettled,
        UnknownVehicle,
        ScrappedVehicle,
        FutureTimestamp,
        StaleTimestamp
    }

    /// @notice A scan was charged: `paid` came out of the vehicle's balance, `unpaid` became arrears.
    event ScanCharged(
        uint256 indexed vehicleId, uint32 indexed gantryId, uint64 sequence, uint64 timestamp, uint256 paid, uint256 unpaid
    );

    /// @notice A scan was not charged, for `reason`; the rest of its batch settled.
    event ScanSkipped(uint32 indexed gantryId, uint64 sequence, uint256 vehicleId, SkipReason reason);

    /// @notice A scan of a vehicle flagged stolen: the traffic authority's tools watch for this.
    event StolenVehicleSighted(uint256 indexed vehicleId, uint32 indexed gantryId, uint64 timestamp);

    /// @notice Settles a batch of scans from one gantry, signed by one of that gantry's oracle keys.
    /// @dev Anyone may submit: the relayer's gas key need not be the oracle key. Idempotent: scans already settled
    /// are skipped with {ScanSkipped}(AlreadySettled) and nothing reverts, so a relayer may resend a batch freely.
    /// Requirements: not paused; the gantry is registered and not retired; `scans` is a whole number of 16-byte
    /// records, 1 to {MAX_SCANS_PER_BATCH} of them; `signature` is an EIP-712 signature of an oracle key of the gantry.
    /// Emits {ScanCharged} or {ScanSkipped} per scan, {StolenVehicleSighted} for stolen vehicles, and a batch event.
    /// @return batchId The id of the batch commitment that disputes prove against.
    function submitScans(uint32 gantryId, bytes calldata scans, bytes calldata signature)
        external
        returns (uint256 batchId);

    /// @notice The most scans one batch may carry; sized so a worst-case batch stays well under the
    /// 16,777,216 gas cap per transaction.
    function MAX_SCANS_PER_BATCH() external view returns (uint256);

    /// @notice Whether the scan `sequence` of `gantryId` has been settled (charged or skipped for good).
    function isScanSettled(uint32 gantryId, uint64 sequence) external view returns (bool);
}
