// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IVehicleRegistry} from "./IVehicleRegistry.sol";

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
///
/// Batch commitment (what disputes prove against): every scan the batch charged contributes one 22-byte leaf
///   [ scan record (16 bytes, as submitted) | fee uint48 ]
/// in the order the scans appear in the batch; {BatchSettled} carries the leaves' tight concatenation and the batch
/// record stores its keccak256. Skipped scans contribute nothing; zero-fee charges (emergency vehicles) are leaves.
/// Per scan the contract emits nothing else on the common path: only exceptions have events of their own.
///
/// Money rules in one place:
/// - A vehicle's balance belongs to the vehicle, not to whoever paid it in: it moves with the passport on a sale,
///   like the fuel in its tank, and so do its arrears (unpaid tolls, visible to any buyer through {account}).
/// - Only the current owner withdraws, after {withdrawalNotice}; a request records its requester and is honoured only
///   for that requester while they own the vehicle, so a request made before a sale is void after it.
/// - A pause stops new charges and money flowing to operators; deposits, withdrawals and disputes stay open, and a
///   pause lapses by itself after {MAX_PAUSE_DURATION}.
interface ITollEscrow {
    /// @notice Why a scan in a batch was not charged. Skipping never reverts the batch.
    /// @dev Stored and emitted as uint8. The order is part of the ABI: append, never reorder.
    /// `FutureTimestamp` is the only reason that leaves the scan unsettled (a fast gantry clock must not lose a
    /// reading for good); every other skip marks the scan settled.
    enum SkipReason {
        None,
        AlreadySettled,
        UnknownVehicle,
        ScrappedVehicle,
        FutureTimestamp,
        StaleTimestamp,
        RetiredGantry
    }

    /// @notice Where a dispute stands. `None` is what a scan never disputed reads as.
    enum DisputeStatus {
        None,
        Open,
        Upheld,
        Rejected
    }

    /// @notice A vehicle's money in the escrow.
    /// @param balance Prepaid money the next scans draw from.
    /// @param arrears Tolls charged while the balance was short, still unpaid; deposits settle them first.
    struct AccountInfo {
        uint256 balance;
        uint256 arrears;
    }

    /// @notice A gantry's configuration.
    /// @param payee Where the gantry's released revenue is credited.
    /// @param retiredAt When the gantry was retired (scans at or after it are skipped); 0 while in service.
    /// @param currentFees Fee per paying class (motorcycle, car, van, truck, bus) before `nextFeesFrom`.
    /// @param nextFees Fee per paying class from `nextFeesFrom` on.
    /// @param nextFeesFrom When `nextFees` take over; `type(uint40).max` when no change is scheduled.
    struct GantryInfo {
        address payee;
        uint64 retiredAt;
        uint256[5] currentFees;
        uint256[5] nextFees;
        uint64 nextFeesFrom;
    }

    /// @notice A settled batch.
    /// @param commitment keccak256 over the batch's leaves (see the contract NatSpec).
    /// @param gantryId The gantry whose scans the batch carried.
    /// @param settledAt When the batch was settled; its dispute window runs from here.
    /// @param held Revenue the batch still holds for its operator (charged fees, arrears later paid into it, less
    /// dispute refunds).
    /// @param openDisputes Disputes awaiting the arbiter; while any is open the batch's revenue cannot be released.
    /// @param released Whether the held revenue was credited to the operator.
    struct BatchInfo {
        bytes32 commitment;
        uint32 gantryId;
        uint64 settledAt;
        uint256 held;
        uint256 openDisputes;
        bool released;
    }

    /// @notice A dispute of one charged scan.
    struct DisputeInfo {
        uint256 vehicleId;
        uint256 fee;
        DisputeStatus status;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------------------------

    /// @notice A scan was charged more than the vehicle's balance held: `paid` emptied the balance and `unpaid`
    /// became arrears owed to `batchId`. (Fully paid charges emit no event of their own: they are the leaves of
    /// {BatchSettled}.)
    event ArrearsIncurred(
        uint256 indexed vehicleId, uint256 indexed batchId, uint64 sequence, uint256 paid, uint256 unpaid
    );

    /// @notice A scan was not charged, for `reason`; the rest of its batch settled.
    event ScanSkipped(uint32 indexed gantryId, uint64 sequence, uint256 vehicleId, SkipReason reason);

    /// @notice A scan of a vehicle flagged stolen: the traffic authority's tools watch for this.
    event StolenVehicleSighted(uint256 indexed vehicleId, uint32 indexed gantryId, uint64 timestamp);

    /// @notice A batch was settled. `leaves` holds one 22-byte leaf per charged scan, in batch order:
    /// [ vehicleId uint48 | timestamp uint40 | sequence uint40 | fee uint48 ], and `commitment` is their keccak256.
    /// `held` is the revenue the batch holds for the operator (the part of the fees the balances covered).
    /// `batchId` is 0 when nothing was charged (every scan skipped): then no batch record exists, `leaves` is empty
    /// and `commitment` zero.
    event BatchSettled(
        uint256 indexed batchId,
        uint32 indexed gantryId,
        bytes32 commitment,
        uint256 skipped,
        uint256 held,
        bytes leaves
    );

    /// @notice A {submitScansWithinGas} batch's gas ran short: its last `count` scans, from the one with sequence
    /// `firstSequence` on, were not looked at and stay unsettled, to be sent again in a later batch. Emitted after
    /// {BatchSettled}, which covers the scans before them.
    event ScansDeferred(uint32 indexed gantryId, uint64 firstSequence, uint256 count);

    /// @notice A gantry was registered with its payee and first oracle keys.
    event GantryRegistered(uint32 indexed gantryId, address indexed payee);

    /// @notice An oracle key was allowed (`authorized`) or no longer allowed to report for a gantry.
    event OracleKeySet(uint32 indexed gantryId, address indexed key, bool authorized);

    /// @notice A gantry was retired: its scans timestamped at or after `retiredAt` are skipped.
    event GantryRetired(uint32 indexed gantryId, uint64 retiredAt);

    /// @notice A tariff (fee per paying class) takes effect for scans timestamped at or after `effectiveAt`.
    event TariffScheduled(uint32 indexed gantryId, uint256[5] fees, uint64 effectiveAt);

    /// @notice `from` paid `amount` in for a vehicle: `arrearsSettled` of it paid arrears, the rest became balance.
    event Deposited(uint256 indexed vehicleId, address indexed from, uint256 amount, uint256 arrearsSettled);

    /// @notice `amount` of a vehicle's arrears was paid to the batch `batchId` that charged it (or to its operator
    /// once the batch was released).
    event ArrearsSettled(uint256 indexed vehicleId, uint256 indexed batchId, uint256 amount);

    /// @notice The owner asked to withdraw; the request can be carried out from `readyAt` until `expiresAt`.
    event WithdrawalRequested(uint256 indexed vehicleId, address indexed requester, uint64 readyAt, uint64 expiresAt);

    /// @notice A pending withdrawal request was cancelled.
    event WithdrawalCancelled(uint256 indexed vehicleId, address indexed requester);

    /// @notice The owner took `amount` of the vehicle's balance out, paid to `to`.
    event Withdrawn(uint256 indexed vehicleId, address indexed owner, address to, uint256 amount);

    /// @notice A batch's held revenue, `amount`, was credited to its operator's claimable revenue.
    event RevenueReleased(uint256 indexed batchId, address indexed payee, uint256 amount);

    /// @notice An operator took its claimable revenue out, paid to `to`.
    event RevenueClaimed(address indexed payee, address indexed to, uint256 amount);

    /// @notice The vehicle's owner disputed the scan at `leafIndex` of `batchId`, charged `fee`.
    event DisputeOpened(
        uint256 indexed batchId, uint256 leafIndex, uint256 indexed vehicleId, address indexed owner, uint256 fee
    );

    /// @notice The arbiter resolved a dispute. If upheld, `forgiven` came off the arrears the scan left and
    /// `refunded` went back to the vehicle out of the batch's held revenue (`forgiven + refunded` is the fee).
    event DisputeResolved(
        uint256 indexed batchId,
        uint256 leafIndex,
        uint256 indexed vehicleId,
        bool upheld,
        uint256 forgiven,
        uint256 refunded
    );

    /// @notice Scans, releases and claims are paused until `until` (or an earlier {Unpaused}).
    event Paused(address indexed account, uint64 until);

    /// @notice A pause was lifted before it lapsed.
    event Unpaused(address indexed account);

    // ------------------------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The registry address given to the constructor is zero or holds no code.
    error TollEscrowInvalidRegistry(address registry);

    /// @notice The token address given to the constructor is zero or holds no code.
    error TollEscrowInvalidToken(address token);

    /// @notice The token has more than {MAX_TOKEN_DECIMALS} decimals: a 48-bit fee could not price a real toll in it.
    error TollEscrowUnsupportedDecimals(uint256 decimals);

    /// @notice The dispute window is outside [{MIN_DISPUTE_WINDOW}, {MAX_DISPUTE_WINDOW}].
    error TollEscrowInvalidDisputeWindow(uint256 disputeWindow);

    /// @notice The maximum scan age is outside [{MIN_SCAN_AGE}, {MAX_SCAN_AGE}].
    error TollEscrowInvalidMaxScanAge(uint256 maxScanAge);

    /// @notice The withdrawal notice is shorter than the maximum scan age (scans made before a request could still
    /// be on their way when the money leaves) or longer than {MAX_WITHDRAWAL_NOTICE}.
    error TollEscrowInvalidWithdrawalNotice(uint256 withdrawalNotice, uint256 maxScanAge);

    /// @notice A gantry with this id is already registered.
    error TollEscrowGantryExists(uint32 gantryId);

    /// @notice No gantry with this id is registered.
    error TollEscrowUnknownGantry(uint32 gantryId);

    /// @notice The gantry was retired at `retiredAt` and takes no configuration change but key rotation.
    error TollEscrowGantryRetired(uint32 gantryId, uint64 retiredAt);

    /// @notice `payee` cannot receive revenue (the zero address).
    error TollEscrowInvalidPayee(address payee);

    /// @notice `key` cannot be an oracle key (the zero address).
    error TollEscrowInvalidOracleKey(address key);

    /// @notice A gantry must be registered with at least one oracle key.
    error TollEscrowNoOracleKeys(uint32 gantryId);

    /// @notice `key` is already in the requested state for the gantry.
    error TollEscrowOracleKeyUnchanged(uint32 gantryId, address key, bool authorized);

    /// @notice The fee for paying class `classIndex` exceeds {MAX_FEE}.
    error TollEscrowFeeTooHigh(uint256 classIndex, uint256 fee);

    /// @notice A tariff must take effect strictly after the block it is scheduled in, and before 2^40 - 1.
    error TollEscrowInvalidTariffTime(uint64 effectiveAt, uint64 currentTime);

    /// @notice The tariff change already in force may still price late scans; a new change can be scheduled from
    /// `earliest` on.
    error TollEscrowTariffChangeTooSoon(uint32 gantryId, uint64 earliest);

    /// @notice A scan batch must be 1 to {MAX_SCANS_PER_BATCH} whole 16-byte records.
    error TollEscrowInvalidBatchLength(uint256 length);

    /// @notice The batch signature is malformed or was not made by an oracle key of the gantry; `signer` is what it
    /// recovers to (zero when malformed).
    error TollEscrowInvalidSignature(uint32 gantryId, address signer);

    /// @notice The operation is paused until `until`.
    error TollEscrowPaused(uint64 until);

    /// @notice `unpause` was called while nothing is paused.
    error TollEscrowNotPaused();

    /// @notice An amount of zero moves nothing.
    error TollEscrowZeroAmount();

    /// @notice No vehicle has id `vehicleId` in the registry.
    error TollEscrowUnknownVehicle(uint256 vehicleId);

    /// @notice Crediting `amount` would take the vehicle's balance past what an account can hold (2^96 - 1).
    error TollEscrowBalanceOverflow(uint256 vehicleId, uint256 balance, uint256 amount);

    /// @notice The token moved a different amount than asked (fee-on-transfer or rebasing tokens are unsupported).
    error TollEscrowTransferMismatch(uint256 expected, uint256 received);

    /// @notice `caller` does not own the vehicle.
    error TollEscrowNotVehicleOwner(uint256 vehicleId, address caller);

    /// @notice The vehicle has no pending withdrawal request.
    error TollEscrowNoWithdrawalRequest(uint256 vehicleId);

    /// @notice The pending request was made by `requester`, not the current owner: the passport changed hands since.
    error TollEscrowWithdrawalRequestVoid(uint256 vehicleId, address requester);

    /// @notice The withdrawal notice runs until `readyAt`.
    error TollEscrowWithdrawalNotReady(uint256 vehicleId, uint64 readyAt);

    /// @notice The request could be carried out only until `expiredAt`; request again.
    error TollEscrowWithdrawalExpired(uint256 vehicleId, uint64 expiredAt);

    /// @notice The vehicle's balance is short of `needed`.
    error TollEscrowInsufficientBalance(uint256 vehicleId, uint256 balance, uint256 needed);

    /// @notice The vehicle still owes `arrears`; settle them (see {settleArrears}) before withdrawing.
    error TollEscrowArrearsOutstanding(uint256 vehicleId, uint256 arrears);

    /// @notice Money cannot be sent to `recipient` (the zero address).
    error TollEscrowInvalidRecipient(address recipient);

    /// @notice No batch has id `batchId`.
    error TollEscrowUnknownBatch(uint256 batchId);

    /// @notice The batch's dispute window runs until `closesAt`; its revenue cannot be released before.
    error TollEscrowDisputeWindowOpen(uint256 batchId, uint64 closesAt);

    /// @notice The batch's dispute window closed at `closedAt`.
    error TollEscrowDisputeWindowClosed(uint256 batchId, uint64 closedAt);

    /// @notice The batch has `openDisputes` disputes awaiting the arbiter.
    error TollEscrowBatchDisputed(uint256 batchId, uint256 openDisputes);

    /// @notice The batch's revenue was already released.
    error TollEscrowBatchReleased(uint256 batchId);

    /// @notice The leaves given do not hash to the batch's commitment.
    error TollEscrowInvalidProof(uint256 batchId);

    /// @notice The batch has no leaf at `leafIndex`.
    error TollEscrowInvalidLeafIndex(uint256 batchId, uint256 leafIndex);

    /// @notice The scan was charged nothing, so there is nothing to dispute.
    error TollEscrowNothingToDispute(uint256 batchId, uint256 leafIndex);

    /// @notice The scan was disputed before (each charge can be disputed once).
    error TollEscrowAlreadyDisputed(uint256 batchId, uint256 leafIndex, DisputeStatus status);

    /// @notice No open dispute exists for that scan.
    error TollEscrowDisputeNotOpen(uint256 batchId, uint256 leafIndex);

    /// @notice `payee` has no claimable revenue.
    error TollEscrowNothingToClaim(address payee);

    // ------------------------------------------------------------------------------------------------------------
    // Scans
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Settles a batch of scans from one gantry, signed by one of that gantry's oracle keys.
    /// @dev Anyone may submit: the relayer's gas key need not be the oracle key. Idempotent: scans already settled
    /// are skipped with {ScanSkipped}(AlreadySettled) and nothing reverts, so a relayer may resend a batch freely.
    /// Per scan the contract prices the vehicle's class with the gantry's tariff in force at the scan's timestamp and
    /// debits the vehicle; what the balance cannot cover becomes arrears. Skipped for good (and marked settled):
    /// unknown or scrapped vehicle, timestamp older than {maxScanAge}, timestamp at or after the gantry's retirement.
    /// Skipped but left unsettled, to be sent again later: timestamp in the future.
    /// Requirements: not paused; the gantry is registered (a retired gantry's batches are still accepted, so its scans
    /// from before retirement settle); `scans` is a whole number of 16-byte records, 1 to {MAX_SCANS_PER_BATCH} of
    /// them; `signature` is a 65-byte EIP-712 signature of an oracle key of the gantry.
    /// Emits a {BatchSettled} event whose leaves list every charge; per scan only the exceptions: {ScanSkipped},
    /// {ArrearsIncurred} when the balance fell short, {StolenVehicleSighted} for a vehicle flagged stolen.
    /// A batch that needs more gas than its transaction has reverts, as any call does; see {submitScansWithinGas}.
    /// @return batchId The id of the batch commitment that disputes prove against; 0 if nothing was charged.
    function submitScans(uint32 gantryId, bytes calldata scans, bytes calldata signature)
        external
        returns (uint256 batchId);

    /// @notice {submitScans} for a sender that sets the gas limit itself: the scans are settled in order while the gas
    /// left covers the worst one scan can cost plus finishing the batch, and the rest are deferred: left unsettled,
    /// reported by {ScansDeferred} after {BatchSettled}, to be sent again in a later batch. A batch too large for its
    /// gas settles what fits instead of running out of gas, so a relayer can send large batches under a fixed limit.
    /// @dev A gas limit of 150,000 plus 80,000 a scan (`scanBatchGasLimit` in the relayer) defers nothing, whatever
    /// the state. Do not estimate gas for this call: an estimate searches for the least gas that does not revert,
    /// which here is a limit that settles little or nothing. Same requirements and events as {submitScans}.
    /// @return batchId As for {submitScans}: 0 if nothing was charged.
    function submitScansWithinGas(uint32 gantryId, bytes calldata scans, bytes calldata signature)
        external
        returns (uint256 batchId);

    // ------------------------------------------------------------------------------------------------------------
    // Vehicle money
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Pays `amount` of the token in for a vehicle, from the caller: arrears first, the rest to its balance.
    /// @dev Anyone may top up any vehicle (owner, fleet manager, employer); the money then belongs to the vehicle.
    /// A scrapped vehicle takes deposits too, so its arrears can be paid; what is left stays its owner's to withdraw.
    /// At most {MAX_DEBTS_PER_SETTLEMENT} debts are settled per call; if more remain, the rest of the deposit waits in
    /// the balance and {settleArrears} continues.
    /// Requirements: `amount` non-zero; the vehicle exists; the caller approved the escrow.
    /// Emits a {Deposited} event and an {ArrearsSettled} event per debt paid.
    function deposit(uint256 vehicleId, uint256 amount) external;

    /// @notice {deposit} in one transaction with an EIP-2612 permit signed by the caller.
    /// @dev The permit is used only if the allowance is short, so a permit someone front-ran onto the chain does not
    /// make the deposit fail.
    /// Requirements: as {deposit}. Emits a {Deposited} event.
    function depositWithPermit(uint256 vehicleId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external;

    /// @notice Uses a vehicle's balance to pay its arrears, for when a deposit met more debts than one call settles.
    /// @dev Anyone may call: it only moves the vehicle's own balance to what it owes.
    /// Emits an {ArrearsSettled} event per debt paid.
    /// @return settled How much of the arrears was paid.
    function settleArrears(uint256 vehicleId) external returns (uint256 settled);

    /// @notice Starts the withdrawal notice for a vehicle's balance; replaces any earlier request.
    /// @dev Requirements: the caller owns the vehicle. Emits a {WithdrawalRequested} event.
    function requestWithdrawal(uint256 vehicleId) external;

    /// @notice Cancels a pending withdrawal request.
    /// @dev Requirements: a request is pending; the caller made it or owns the vehicle now.
    /// Emits a {WithdrawalCancelled} event.
    function cancelWithdrawal(uint256 vehicleId) external;

    /// @notice Takes `amount` (or, with `type(uint256).max`, the whole balance) out of a vehicle's balance to `to`,
    /// consuming the pending request.
    /// @dev Open while paused: a pause never traps owners' money.
    /// Requirements: the caller owns the vehicle and made the pending request; the notice has passed and the request
    /// has not expired ({WITHDRAWAL_WINDOW} after it became ready); no arrears; `amount` non-zero and covered by the
    /// balance; `to` non-zero. Emits a {Withdrawn} event.
    function withdraw(uint256 vehicleId, uint256 amount, address to) external;

    // ------------------------------------------------------------------------------------------------------------
    // Operators' revenue and disputes
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Credits the held revenue of batches whose dispute window has closed to their gantries' payees.
    /// @dev Anyone may call. Requirements: not paused; every batch exists, is not released, has no open dispute and
    /// its dispute window has closed. Emits a {RevenueReleased} event per batch.
    function releaseRevenue(uint256[] calldata batchIds) external;

    /// @notice Pays the caller's claimable revenue to `to`.
    /// @dev Requirements: not paused; something to claim; `to` non-zero. Emits a {RevenueClaimed} event.
    /// @return amount What was paid.
    function claimRevenue(address to) external returns (uint256 amount);

    /// @notice Disputes the charge of one scan, proving it against its batch commitment.
    /// @dev `leaves` are all the batch's leaves, exactly as its {BatchSettled} event carries them. Open while paused.
    /// Requirements: the batch exists and its dispute window is open; `leaves` hash to its commitment; the leaf at
    /// `leafIndex` exists, charged a non-zero fee and was never disputed; the caller owns its vehicle now.
    /// Emits a {DisputeOpened} event.
    function openDispute(uint256 batchId, bytes calldata leaves, uint256 leafIndex) external;

    /// @notice Resolves a dispute. Upheld: the fee comes back to the vehicle, first by forgiving arrears the batch is
    /// still owed by the vehicle, the rest refunded to its balance (arrears first) out of the batch's held revenue.
    /// Rejected: nothing moves.
    /// @dev Requirements: the caller holds `ARBITER_ROLE`; the dispute is open. Emits a {DisputeResolved} event.
    function resolveDispute(uint256 batchId, uint256 leafIndex, bool upheld) external;

    // ------------------------------------------------------------------------------------------------------------
    // Gantries and tariffs (TOLL_ADMIN_ROLE)
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Registers a gantry with its payee, its oracle keys and the tariff in force from now.
    /// @dev Requirements: the caller holds `TOLL_ADMIN_ROLE`; `gantryId` unused; `payee` non-zero; at least one
    /// oracle key, none zero; every fee at most {MAX_FEE}.
    /// Emits {GantryRegistered}, an {OracleKeySet} per key and a {TariffScheduled} event.
    /// @param fees Fee per paying class, in token units: motorcycle, car, van, truck, bus. Emergency vehicles ride
    /// free whatever the tariff.
    function registerGantry(uint32 gantryId, address payee, address[] calldata oracleKeys, uint256[5] calldata fees)
        external;

    /// @notice Allows (`authorized`) or stops an oracle key reporting for a gantry. Works on retired gantries too.
    /// @dev Requirements: the caller holds `TOLL_ADMIN_ROLE`; the gantry exists; `key` non-zero and not already in
    /// that state. Emits an {OracleKeySet} event.
    function setOracleKey(uint32 gantryId, address key, bool authorized) external;

    /// @notice Replaces `oldKey` by `newKey` in one step.
    /// @dev Requirements: as {setOracleKey} for removing `oldKey` and adding `newKey`. Emits two {OracleKeySet}
    /// events.
    function rotateOracleKey(uint32 gantryId, address oldKey, address newKey) external;

    /// @notice Retires a gantry now: its scans timestamped from this block on are skipped; earlier ones settle.
    /// @dev Requirements: the caller holds `TOLL_ADMIN_ROLE`; the gantry exists and is in service.
    /// Emits a {GantryRetired} event.
    function retireGantry(uint32 gantryId) external;

    /// @notice Schedules the tariff that prices the gantry's scans timestamped at or after `effectiveAt`. Scans
    /// before it keep the tariff in force at their own time, so no change is ever retroactive.
    /// @dev The escrow keeps two tariffs per gantry, the one in force and the next. A next tariff that has not taken
    /// effect yet is replaced. One that has taken effect becomes the current tariff once no scan old enough to
    /// predate it can still be accepted ({maxScanAge} after it took effect); until then a new change reverts.
    /// Requirements: the caller holds `TOLL_ADMIN_ROLE`; the gantry exists and is in service; `effectiveAt` after
    /// the current block; every fee at most {MAX_FEE}. Emits a {TariffScheduled} event.
    function scheduleTariff(uint32 gantryId, uint256[5] calldata fees, uint64 effectiveAt) external;

    // ------------------------------------------------------------------------------------------------------------
    // Emergency (PAUSER_ROLE)
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Pauses scans, revenue releases and claims for at most {MAX_PAUSE_DURATION}.
    /// @dev Deposits, withdrawals and disputes stay open. Pausing again while paused restarts nothing; it reverts.
    /// Requirements: the caller holds `PAUSER_ROLE`; not paused. Emits a {Paused} event.
    function pause() external;

    /// @notice Lifts a pause before it lapses.
    /// @dev Requirements: the caller holds `PAUSER_ROLE`; paused. Emits an {Unpaused} event.
    function unpause() external;

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The most scans one batch may carry (2,048): more than the 16,777,216 gas cap per transaction lets a
    /// batch settle at once (about 1,850 typical scans, 207 of the worst case); see {submitScansWithinGas}.
    function MAX_SCANS_PER_BATCH() external view returns (uint256);

    /// @notice The largest fee per scan a tariff can hold (2^48 - 1 token units).
    function MAX_FEE() external view returns (uint256);

    /// @notice The most decimals the token may have for {MAX_FEE} to still price real tolls (9).
    function MAX_TOKEN_DECIMALS() external view returns (uint8);

    /// @notice How many debts one deposit or {settleArrears} call pays at most.
    function MAX_DEBTS_PER_SETTLEMENT() external view returns (uint256);

    /// @notice How long a pause lasts at most before it lapses by itself.
    function MAX_PAUSE_DURATION() external view returns (uint256);

    /// @notice How long a withdrawal request stays usable once its notice has passed.
    function WITHDRAWAL_WINDOW() external view returns (uint256);

    /// @notice Bounds the constructor checks the dispute window against.
    function MIN_DISPUTE_WINDOW() external view returns (uint256);

    /// @notice Bounds the constructor checks the dispute window against.
    function MAX_DISPUTE_WINDOW() external view returns (uint256);

    /// @notice Bounds the constructor checks the maximum scan age against.
    function MIN_SCAN_AGE() external view returns (uint256);

    /// @notice Bounds the constructor checks the maximum scan age against.
    function MAX_SCAN_AGE() external view returns (uint256);

    /// @notice The longest withdrawal notice the constructor accepts (the shortest is the maximum scan age).
    function MAX_WITHDRAWAL_NOTICE() external view returns (uint256);

    /// @notice The role that registers and retires gantries, rotates their keys and sets tariffs.
    function TOLL_ADMIN_ROLE() external view returns (bytes32);

    /// @notice The role that resolves disputes.
    function ARBITER_ROLE() external view returns (bytes32);

    /// @notice The role that pauses and unpauses.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice The EIP-712 typehash of `ScanBatch(uint32 gantryId,bytes scans)`.
    function SCAN_BATCH_TYPEHASH() external view returns (bytes32);

    /// @notice The vehicle registry whose passports the escrow charges.
    function registry() external view returns (IVehicleRegistry);

    /// @notice The stablecoin every payment is made in.
    function token() external view returns (IERC20);

    /// @notice Seconds after a batch settles during which its charges can be disputed and its revenue is held.
    function disputeWindow() external view returns (uint256);

    /// @notice Seconds between a withdrawal request and the earliest withdrawal.
    function withdrawalNotice() external view returns (uint256);

    /// @notice Scans older than this many seconds when submitted are skipped as stale.
    function maxScanAge() external view returns (uint256);

    /// @notice Whether the scan `sequence` of `gantryId` has been settled (charged or skipped for good).
    function isScanSettled(uint32 gantryId, uint64 sequence) external view returns (bool);

    /// @notice The EIP-712 digest an oracle key signs for a batch.
    function scanBatchDigest(uint32 gantryId, bytes calldata scans) external view returns (bytes32);

    /// @notice A vehicle's balance and arrears.
    function account(uint256 vehicleId) external view returns (AccountInfo memory);

    /// @notice The pending withdrawal request of a vehicle (zero values when none).
    function withdrawalRequest(uint256 vehicleId) external view returns (address requester, uint64 requestedAt);

    /// @notice What `vehicleId` still owes the batch `batchId`.
    function debtOf(uint256 vehicleId, uint256 batchId) external view returns (uint256);

    /// @notice A gantry's configuration. Reverts with {TollEscrowUnknownGantry} for an unknown id.
    function gantry(uint32 gantryId) external view returns (GantryInfo memory);

    /// @notice Whether `key` may sign batches for `gantryId`.
    function isOracleKey(uint32 gantryId, address key) external view returns (bool);

    /// @notice The fee the gantry charges a vehicle class for a scan timestamped `timestamp`, as {submitScans} would
    /// price it now.
    function feeAt(uint32 gantryId, IVehicleRegistry.VehicleClass vehicleClass, uint64 timestamp)
        external
        view
        returns (uint256);

    /// @notice A settled batch. Reverts with {TollEscrowUnknownBatch} for an unknown id.
    function batch(uint256 batchId) external view returns (BatchInfo memory);

    /// @notice How many batches were ever recorded; ids run from 1 to this number.
    function totalBatches() external view returns (uint256);

    /// @notice The dispute of the scan at `leafIndex` of `batchId` (status `None` if never disputed).
    function dispute(uint256 batchId, uint256 leafIndex) external view returns (DisputeInfo memory);

    /// @notice Revenue `payee` can claim now.
    function claimable(address payee) external view returns (uint256);

    /// @notice Whether scans, releases and claims are paused now.
    function paused() external view returns (bool);

    /// @notice When the current pause lapses (0 or a past time when not paused).
    function pausedUntil() external view returns (uint64);
}
