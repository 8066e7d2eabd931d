// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ITollEscrow} from "../interfaces/ITollEscrow.sol";
import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";

// Lint exceptions, each for a reason:
// - no-inline-assembly: the scan loop is the hot path, hand-written against a gas target, and the packed slot writes
//   and calldata reads around it; every block says what it does in Solidity terms.
// - gas-strict-inequalities: the rules are inclusive windows (">= retiredAt", "<= now"); stating them as written
//   matters more than a gas difference the optimizer erases.
// - immutable-vars-naming: the immutables are ITollEscrow getters (`registry()`, `disputeWindow()`...), named as the
//   interface names them.
// solhint-disable no-inline-assembly, gas-strict-inequalities, immutable-vars-naming

/// @title TollEscrow
/// @notice Prepaid toll accounts per vehicle, charged by oracle-signed batches of gantry scans, with each batch's
/// revenue held for a dispute window before its operator can claim it.
/// @dev Accounting identity, true after every transaction:
///   token.balanceOf(this) == sum of vehicle balances + sum of batches' held revenue + sum of claimable revenue.
/// Arrears are not money in the escrow; they are debts, each recorded against the batch that charged it, and paid
/// into that batch (or to its operator once the batch is released) when the vehicle is credited.
///
/// The scan loop is the hot path. Per charged scan it touches exactly: one registry slot (class and status), the
/// vehicle's account slot, and, only when the balance is short, one debt slot. The settled-scan bitmap is written
/// once per 256 sequences, and the batch record (commitment, held revenue) once per batch.
contract TollEscrow is ITollEscrow, EIP712, AccessControlDefaultAdminRules, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev One slot per gantry, read once per batch:
    /// [ payee (160) | retiredAt (40) | nextTariffAt (40) | unused (16) ]
    /// `retiredAt` is 0 in service; `nextTariffAt` is `type(uint40).max` when no change is scheduled.
    struct Gantry {
        address payee;
        uint40 retiredAt;
        uint40 nextTariffAt;
    }

    /// @dev Two slots per gantry, each a packed tariff: five uint48 fees, paying class i at bits [48i, 48i + 48).
    struct Tariffs {
        uint256 current;
        uint256 next;
    }

    /// @dev Two slots per batch, written once when it settles:
    /// slot 0: [ commitment (256) ]
    /// slot 1: [ held (96) | settledAt (40) | gantryId (32) | openDisputes (32) | released (8) | unused (48) ]
    struct BatchRecord {
        bytes32 commitment;
        uint96 held;
        uint40 settledAt;
        uint32 gantryId;
        uint32 openDisputes;
        bool released;
    }

    /// @dev What one vehicle owes one batch, and the next older batch it owes (a stack, newest on top):
    /// [ amount (96) | next (64) | unused (96) ]
    struct Debt {
        uint96 amount;
        uint64 next;
    }

    /// @dev [ vehicleId (48) | fee (96) | status (8) | unused (104) ]
    struct DisputeRecord {
        uint48 vehicleId;
        uint96 fee;
        DisputeStatus status;
    }

    /// @dev [ requester (160) | requestedAt (40) | unused (56) ]
    struct WithdrawalRecord {
        address requester;
        uint40 requestedAt;
    }

    /// @dev Per-batch values the scan loop reads, and its running totals, kept in memory to stay clear of stack
    /// limits. The scan loop's assembly reads fields at the CTX_* offsets: keep the order.
    struct BatchContext {
        uint256 gantryId;
        uint256 batchId;
        uint256 minTimestamp; // CTX_MIN_TIMESTAMP: older scans are stale
        // CTX_TIME_SPAN: a scan settles iff timestamp - minTimestamp < timeSpan (unsigned), i.e. it is neither stale,
        // nor in the future, nor at or after the gantry's retirement.
        uint256 timeSpan;
        uint256 currentTariff; // CTX_CURRENT_TARIFF
        uint256 nextTariff; // CTX_NEXT_TARIFF
        uint256 nextTariffAt; // CTX_NEXT_TARIFF_AT
        uint256 registry; // CTX_REGISTRY
        uint256 bitmapSlot; // CTX_BITMAP_SLOT
        uint256 skipped;
        uint256 held;
        uint256 pendingFee; // CTX_PENDING_FEE: the fee of a scan the assembly hands to Solidity
        uint256 leavesEnd; // where the leaves written end, in memory
        uint256 deferredFrom; // CTX_DEFERRED_FROM: calldata offset of the first scan the gas did not cover, or 0
        uint256 gasNeeded; // CTX_GAS_NEEDED: the gas a scan needs left to be looked at; grows with every leaf
    }

    /// @dev The account slot as a one-field struct, so the hot path hashes the mapping key once for its read and
    /// its write.
    struct Account {
        uint256 packed;
    }

    /// @inheritdoc ITollEscrow
    bytes32 public constant TOLL_ADMIN_ROLE = keccak256("TOLL_ADMIN_ROLE");
    /// @inheritdoc ITollEscrow
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @inheritdoc ITollEscrow
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @inheritdoc ITollEscrow
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant SCAN_BATCH_TYPEHASH = keccak256("ScanBatch(uint32 gantryId,bytes scans)");

    /// @inheritdoc ITollEscrow
    /// @dev Bounds a batch's calldata and memory and keeps held revenue below 2^59. Gas, not this, decides how many
    /// scans settle: about 1,850 typical scans (about 9,000 gas each) fit the 16,777,216 per-transaction cap, about
    /// 207 of the worst case (every scan of a distinct stolen vehicle never funded, so each creates its account slot
    /// and a debt, each in a fresh bitmap word, about 76,000 gas each); the scans past what the gas covers are
    /// deferred. See the gas test.
    uint256 public constant MAX_SCANS_PER_BATCH = 2048;
    /// @inheritdoc ITollEscrow
    uint256 public constant MAX_FEE = type(uint48).max;
    /// @inheritdoc ITollEscrow
    /// @dev Bounds one settlement's loop (about 15,000 gas a debt) to well under a million gas.
    uint256 public constant MAX_DEBTS_PER_SETTLEMENT = 64;
    /// @inheritdoc ITollEscrow
    /// @dev Long enough to investigate an incident and rotate keys; short enough that a lost or hostile pauser key
    /// cannot freeze operators' revenue indefinitely.
    uint256 public constant MAX_PAUSE_DURATION = 14 days;
    /// @inheritdoc ITollEscrow
    /// @dev Long enough to act on a ready request over a long weekend; short enough that a ready request is not a
    /// standing licence to empty the balance without notice.
    uint256 public constant WITHDRAWAL_WINDOW = 3 days;
    /// @inheritdoc ITollEscrow
    uint256 public constant MIN_DISPUTE_WINDOW = 1 hours;
    /// @inheritdoc ITollEscrow
    uint256 public constant MAX_DISPUTE_WINDOW = 90 days;
    /// @inheritdoc ITollEscrow
    uint256 public constant MIN_SCAN_AGE = 5 minutes;
    /// @inheritdoc ITollEscrow
    uint256 public constant MAX_SCAN_AGE = 30 days;
    /// @inheritdoc ITollEscrow
    uint256 public constant MAX_WITHDRAWAL_NOTICE = 90 days;
    /// @inheritdoc ITollEscrow
    /// @dev A fee is at most 2^48 - 1 token units: 281 million tokens at 6 decimals, 281 thousand at 9, but not even
    /// 0.0003 at 18, where no real toll could be priced.
    uint8 public constant MAX_TOKEN_DECIMALS = 9;

    /// @dev Delay before a new default admin can accept the role, as for the registry.
    uint48 private constant ADMIN_DELAY = 3 days;

    uint256 private constant SCAN_BYTES = 16;
    uint256 private constant LEAF_BYTES = 22;
    uint256 private constant PAYING_CLASSES = 5;
    uint256 private constant FEE_BITS = 48;
    uint256 private constant UINT40_MASK = (1 << 40) - 1;
    uint256 private constant UINT96_MASK = (1 << 96) - 1;
    uint256 private constant NO_TARIFF_CHANGE = type(uint40).max;

    // Byte offsets of BatchContext fields, for the scan loop's assembly.
    uint256 private constant CTX_MIN_TIMESTAMP = 0x40;
    uint256 private constant CTX_TIME_SPAN = 0x60;
    uint256 private constant CTX_CURRENT_TARIFF = 0x80;
    uint256 private constant CTX_NEXT_TARIFF = 0xa0;
    uint256 private constant CTX_NEXT_TARIFF_AT = 0xc0;
    uint256 private constant CTX_REGISTRY = 0xe0;
    uint256 private constant CTX_BITMAP_SLOT = 0x100;
    uint256 private constant CTX_PENDING_FEE = 0x160;
    uint256 private constant CTX_DEFERRED_FROM = 0x1a0;
    uint256 private constant CTX_GAS_NEEDED = 0x1c0;

    // The scan loop's verdict on a scan: a SkipReason in the low byte, or flags for what Solidity must finish.
    uint256 private constant VERDICT_REASON_MASK = 0xff;
    uint256 private constant VERDICT_SHORT = 0x100;
    uint256 private constant VERDICT_STOLEN = 0x200;

    /// @dev `IVehicleRegistry.classAndStatus.selector` (0x6a2f3a9d) in the top four bytes of a word.
    uint256 private constant CLASS_AND_STATUS_CALL = 0x6a2f3a9d00000000000000000000000000000000000000000000000000000000;
    /// @dev The scan loop looks at a scan only while the gas left covers the worst one scan can cost (a fresh bitmap
    /// word, a registry call, a new account slot and a new debt, two events: about 75,000) and finishing the batch
    /// (the last bitmap word, two new batch slots, the counter, two events: about 75,000) ...
    uint256 private constant DEFER_GAS_BASE = 160_000;
    /// @dev ... plus, per leaf written so far, its share of {BatchSettled} (8 gas a byte of log data, the copy and
    /// the memory it grows by): 22 bytes, about 200.
    uint256 private constant DEFER_GAS_PER_LEAF = 256;
    /// @dev Marks "no bitmap word loaded yet": no sequence (40 bits) has a word index (32 bits) this large.
    uint256 private constant NO_WORD = 0xffffffffffffffff;

    /// @dev IVehicleRegistry.VehicleStatus.None as a raw word: what an unknown vehicle reads as.
    uint256 private constant STATUS_NONE = 0;

    /// @inheritdoc ITollEscrow
    IVehicleRegistry public immutable registry;
    /// @inheritdoc ITollEscrow
    IERC20 public immutable token;
    /// @inheritdoc ITollEscrow
    uint256 public immutable disputeWindow;
    /// @inheritdoc ITollEscrow
    uint256 public immutable withdrawalNotice;
    /// @inheritdoc ITollEscrow
    uint256 public immutable maxScanAge;

    // One slot, read by every batch: [ nextBatchId (64) | pausedUntil (40) ]. Batch ids start at 1, which also keeps
    // the slot non-zero, so the first batch pays for an update, not for creating a slot.
    uint64 private _nextBatchId = 1;
    uint40 private _pausedUntil;

    /// @dev The hot per-vehicle slot: [ balance (96) | arrears (96) | debtHead (64) ], `debtHead` being the newest
    /// batch the vehicle owes (0 when none). The withdrawal request lives apart: no scan needs it.
    mapping(uint256 vehicleId => Account) private _accounts;
    mapping(uint256 vehicleId => WithdrawalRecord) private _withdrawals;
    mapping(uint256 vehicleId => mapping(uint256 batchId => Debt)) private _debts;

    mapping(uint32 gantryId => Gantry) private _gantries;
    mapping(uint32 gantryId => Tariffs) private _tariffs;
    mapping(uint32 gantryId => mapping(address key => bool authorized)) private _oracleKeys;
    /// @dev Bit `sequence % 256` of word `sequence / 256` is set once the scan is settled.
    mapping(uint32 gantryId => mapping(uint256 wordIndex => uint256 bits)) private _settledScans;

    mapping(uint256 batchId => BatchRecord) private _batches;
    mapping(uint256 batchId => mapping(uint256 leafIndex => DisputeRecord)) private _disputes;
    mapping(address payee => uint256 amount) private _claimable;

    /// @param registry_ The vehicle registry.
    /// @param token_ The stablecoin (plain ERC-20: no fee on transfer, no rebasing).
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (two-step handover with a 3-day delay), who grants the other roles.
    /// @param disputeWindow_ Seconds a batch's charges can be disputed, in [1 hour, 90 days].
    /// @param withdrawalNotice_ Seconds from a withdrawal request to the withdrawal, in [maxScanAge_, 90 days].
    /// @param maxScanAge_ Oldest scan accepted, in seconds, in [5 minutes, 30 days].
    constructor(
        IVehicleRegistry registry_,
        IERC20 token_,
        address admin,
        uint256 disputeWindow_,
        uint256 withdrawalNotice_,
        uint256 maxScanAge_
    ) EIP712("platechain TollEscrow", "1") AccessControlDefaultAdminRules(ADMIN_DELAY, admin) {
        if (address(registry_).code.length == 0) revert TollEscrowInvalidRegistry(address(registry_));
        if (address(token_).code.length == 0) revert TollEscrowInvalidToken(address(token_));
        // decimals() is optional in ERC-20: a token without it is taken as it is.
        (bool known, bytes memory decimals) =
            address(token_).staticcall(abi.encodeCall(IERC20Metadata.decimals, ()));
        if (known && decimals.length == 32 && abi.decode(decimals, (uint256)) > MAX_TOKEN_DECIMALS) {
            revert TollEscrowUnsupportedDecimals(abi.decode(decimals, (uint256)));
        }
        if (disputeWindow_ < MIN_DISPUTE_WINDOW || disputeWindow_ > MAX_DISPUTE_WINDOW) {
            revert TollEscrowInvalidDisputeWindow(disputeWindow_);
        }
        if (maxScanAge_ < MIN_SCAN_AGE || maxScanAge_ > MAX_SCAN_AGE) revert TollEscrowInvalidMaxScanAge(maxScanAge_);
        if (withdrawalNotice_ < maxScanAge_ || withdrawalNotice_ > MAX_WITHDRAWAL_NOTICE) {
            revert TollEscrowInvalidWithdrawalNotice(withdrawalNotice_, maxScanAge_);
        }
        registry = registry_;
        token = token_;
        disputeWindow = disputeWindow_;
        withdrawalNotice = withdrawalNotice_;
        maxScanAge = maxScanAge_;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Scans
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc ITollEscrow
    function submitScans(uint32 gantryId, bytes calldata scans, bytes calldata signature)
        external
        returns (uint256 batchId)
    {
        return _submitScans(gantryId, scans, signature, 0);
    }

    /// @inheritdoc ITollEscrow
    function submitScansWithinGas(uint32 gantryId, bytes calldata scans, bytes calldata signature)
        external
        returns (uint256 batchId)
    {
        return _submitScans(gantryId, scans, signature, DEFER_GAS_BASE);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Vehicle money
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc ITollEscrow
    function deposit(uint256 vehicleId, uint256 amount) external nonReentrant {
        _deposit(vehicleId, amount);
    }

    /// @inheritdoc ITollEscrow
    function depositWithPermit(uint256 vehicleId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        // Only when the allowance is short: a permit someone front-ran onto the chain has already set it, and calling
        // it again would revert.
        if (token.allowance(msg.sender, address(this)) < amount) {
            IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s);
        }
        _deposit(vehicleId, amount);
    }

    /// @inheritdoc ITollEscrow
    function settleArrears(uint256 vehicleId) external returns (uint256 settled) {
        uint256 packed = _accounts[vehicleId].packed;
        uint256 balance = packed & UINT96_MASK;
        if (balance == 0 || _arrearsOf(packed) == 0) return 0;
        // Take the balance out and credit it again: the credit path pays debts before the balance.
        _accounts[vehicleId].packed = packed - balance;
        settled = _credit(vehicleId, balance);
    }

    /// @inheritdoc ITollEscrow
    function requestWithdrawal(uint256 vehicleId) external {
        _requireVehicleOwner(vehicleId);
        _withdrawals[vehicleId] = WithdrawalRecord({requester: msg.sender, requestedAt: uint40(block.timestamp)});
        uint256 readyAt = block.timestamp + withdrawalNotice;
        emit WithdrawalRequested(vehicleId, msg.sender, uint64(readyAt), uint64(readyAt + WITHDRAWAL_WINDOW));
    }

    /// @inheritdoc ITollEscrow
    function cancelWithdrawal(uint256 vehicleId) external {
        address requester = _withdrawals[vehicleId].requester;
        if (requester == address(0)) revert TollEscrowNoWithdrawalRequest(vehicleId);
        if (msg.sender != requester) _requireVehicleOwner(vehicleId);
        delete _withdrawals[vehicleId];
        emit WithdrawalCancelled(vehicleId, requester);
    }

    /// @inheritdoc ITollEscrow
    function withdraw(uint256 vehicleId, uint256 amount, address to) external nonReentrant {
        WithdrawalRecord memory request = _withdrawals[vehicleId];
        if (request.requester == address(0)) revert TollEscrowNoWithdrawalRequest(vehicleId);
        _requireVehicleOwner(vehicleId);
        if (request.requester != msg.sender) revert TollEscrowWithdrawalRequestVoid(vehicleId, request.requester);
        uint256 readyAt = uint256(request.requestedAt) + withdrawalNotice;
        if (block.timestamp < readyAt) revert TollEscrowWithdrawalNotReady(vehicleId, uint64(readyAt));
        if (block.timestamp > readyAt + WITHDRAWAL_WINDOW) {
            revert TollEscrowWithdrawalExpired(vehicleId, uint64(readyAt + WITHDRAWAL_WINDOW));
        }
        if (to == address(0)) revert TollEscrowInvalidRecipient(to);

        uint256 packed = _accounts[vehicleId].packed;
        uint256 arrears = _arrearsOf(packed);
        if (arrears != 0) revert TollEscrowArrearsOutstanding(vehicleId, arrears);
        uint256 balance = packed & UINT96_MASK;
        if (amount == type(uint256).max) amount = balance;
        if (amount == 0) revert TollEscrowZeroAmount();
        if (amount > balance) revert TollEscrowInsufficientBalance(vehicleId, balance, amount);

        delete _withdrawals[vehicleId];
        // amount <= balance, which sits in the low 96 bits: the subtraction cannot borrow from other fields.
        unchecked {
            _accounts[vehicleId].packed = packed - amount;
        }
        emit Withdrawn(vehicleId, msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Operators' revenue and disputes
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc ITollEscrow
    function releaseRevenue(uint256[] calldata batchIds) external {
        _requireNotPaused();
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchRecord storage record = _existingBatch(batchId);
            if (record.released) revert TollEscrowBatchReleased(batchId);
            uint256 closesAt = uint256(record.settledAt) + disputeWindow;
            if (block.timestamp < closesAt) revert TollEscrowDisputeWindowOpen(batchId, uint64(closesAt));
            if (record.openDisputes != 0) revert TollEscrowBatchDisputed(batchId, record.openDisputes);
            uint256 amount = record.held;
            address payee = _gantries[record.gantryId].payee;
            record.held = 0;
            record.released = true;
            _claimable[payee] += amount;
            emit RevenueReleased(batchId, payee, amount);
        }
    }

    /// @inheritdoc ITollEscrow
    function claimRevenue(address to) external nonReentrant returns (uint256 amount) {
        _requireNotPaused();
        if (to == address(0)) revert TollEscrowInvalidRecipient(to);
        amount = _claimable[msg.sender];
        if (amount == 0) revert TollEscrowNothingToClaim(msg.sender);
        _claimable[msg.sender] = 0;
        emit RevenueClaimed(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    /// @inheritdoc ITollEscrow
    function openDispute(uint256 batchId, bytes calldata leaves, uint256 leafIndex) external {
        BatchRecord storage record = _existingBatch(batchId);
        uint256 closesAt = uint256(record.settledAt) + disputeWindow;
        if (block.timestamp >= closesAt) revert TollEscrowDisputeWindowClosed(batchId, uint64(closesAt));
        if (keccak256(leaves) != record.commitment) revert TollEscrowInvalidProof(batchId);
        if (leafIndex >= leaves.length / LEAF_BYTES) revert TollEscrowInvalidLeafIndex(batchId, leafIndex);

        uint256 start = leafIndex * LEAF_BYTES;
        // Leaf: [ vehicleId (48) | timestamp (40) | sequence (40) | fee (48) ], 22 bytes.
        uint256 leaf = uint256(bytes32(leaves[start:start + LEAF_BYTES])) >> 80;
        uint256 vehicleId = leaf >> 128;
        uint256 fee = leaf & MAX_FEE;
        if (fee == 0) revert TollEscrowNothingToDispute(batchId, leafIndex);
        DisputeRecord storage disputeRecord = _disputes[batchId][leafIndex];
        if (disputeRecord.status != DisputeStatus.None) {
            revert TollEscrowAlreadyDisputed(batchId, leafIndex, disputeRecord.status);
        }
        _requireVehicleOwner(vehicleId);

        // vehicleId came from a uint48 field and fee <= MAX_FEE, both as the contract committed them.
        _disputes[batchId][leafIndex] =
            DisputeRecord({vehicleId: uint48(vehicleId), fee: uint96(fee), status: DisputeStatus.Open});
        // At most one dispute per leaf and at most MAX_SCANS_PER_BATCH leaves.
        unchecked {
            ++record.openDisputes;
        }
        emit DisputeOpened(batchId, leafIndex, vehicleId, msg.sender, fee);
    }

    /// @inheritdoc ITollEscrow
    function resolveDispute(uint256 batchId, uint256 leafIndex, bool upheld) external onlyRole(ARBITER_ROLE) {
        DisputeRecord storage disputeRecord = _disputes[batchId][leafIndex];
        if (disputeRecord.status != DisputeStatus.Open) revert TollEscrowDisputeNotOpen(batchId, leafIndex);
        BatchRecord storage record = _batches[batchId];
        uint256 vehicleId = disputeRecord.vehicleId;
        uint256 fee = disputeRecord.fee;
        disputeRecord.status = upheld ? DisputeStatus.Upheld : DisputeStatus.Rejected;
        // Opening the dispute incremented the counter.
        unchecked {
            --record.openDisputes;
        }

        uint256 forgiven;
        uint256 refunded;
        if (upheld) {
            forgiven = _forgive(vehicleId, batchId, fee);
            refunded = fee - forgiven;
            // The batch still holds at least what this vehicle paid into it for its not-yet-refunded scans, and that
            // covers `refunded`: a scan's fee is either still owed (forgiven above) or was paid into this batch,
            // which cannot have been released while the dispute was open.
            record.held -= uint96(refunded);
        }
        emit DisputeResolved(batchId, leafIndex, vehicleId, upheld, forgiven, refunded);
        if (refunded != 0) _credit(vehicleId, refunded);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Gantries and tariffs
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc ITollEscrow
    function registerGantry(uint32 gantryId, address payee, address[] calldata oracleKeys, uint256[5] calldata fees)
        external
        onlyRole(TOLL_ADMIN_ROLE)
    {
        if (_gantries[gantryId].payee != address(0)) revert TollEscrowGantryExists(gantryId);
        if (payee == address(0)) revert TollEscrowInvalidPayee(payee);
        if (oracleKeys.length == 0) revert TollEscrowNoOracleKeys(gantryId);
        uint256 tariff = _packFees(fees);
        _gantries[gantryId] = Gantry({payee: payee, retiredAt: 0, nextTariffAt: uint40(NO_TARIFF_CHANGE)});
        _tariffs[gantryId].current = tariff;
        emit GantryRegistered(gantryId, payee);
        for (uint256 i; i < oracleKeys.length; ++i) {
            _setOracleKey(gantryId, oracleKeys[i], true);
        }
        emit TariffScheduled(gantryId, fees, uint64(block.timestamp));
    }

    /// @inheritdoc ITollEscrow
    function setOracleKey(uint32 gantryId, address key, bool authorized) external onlyRole(TOLL_ADMIN_ROLE) {
        _existingGantry(gantryId);
        _setOracleKey(gantryId, key, authorized);
    }

    /// @inheritdoc ITollEscrow
    function rotateOracleKey(uint32 gantryId, address oldKey, address newKey) external onlyRole(TOLL_ADMIN_ROLE) {
        _existingGantry(gantryId);
        _setOracleKey(gantryId, oldKey, false);
        _setOracleKey(gantryId, newKey, true);
    }

    /// @inheritdoc ITollEscrow
    function retireGantry(uint32 gantryId) external onlyRole(TOLL_ADMIN_ROLE) {
        Gantry storage record = _gantryInService(gantryId);
        record.retiredAt = uint40(block.timestamp);
        emit GantryRetired(gantryId, uint64(block.timestamp));
    }

    /// @inheritdoc ITollEscrow
    function scheduleTariff(uint32 gantryId, uint256[5] calldata fees, uint64 effectiveAt)
        external
        onlyRole(TOLL_ADMIN_ROLE)
    {
        Gantry storage record = _gantryInService(gantryId);
        if (effectiveAt <= block.timestamp || effectiveAt >= NO_TARIFF_CHANGE) {
            revert TollEscrowInvalidTariffTime(effectiveAt, uint64(block.timestamp));
        }
        uint256 tariff = _packFees(fees);
        Tariffs storage tariffs = _tariffs[gantryId];
        uint256 scheduledAt = record.nextTariffAt;
        if (scheduledAt <= block.timestamp) {
            // The scheduled change is in force. It may replace the old tariff only once no scan from before it can
            // still be accepted, or such a late scan would be priced by the wrong tariff.
            uint256 earliest = scheduledAt + maxScanAge;
            if (block.timestamp < earliest) revert TollEscrowTariffChangeTooSoon(gantryId, uint64(earliest));
            tariffs.current = tariffs.next;
        }
        // Otherwise the scheduled change has not taken effect and no scan it would price has settled (future scans
        // are never settled), so replacing it is safe.
        tariffs.next = tariff;
        record.nextTariffAt = uint40(effectiveAt);
        emit TariffScheduled(gantryId, fees, effectiveAt);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Emergency
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc ITollEscrow
    function pause() external onlyRole(PAUSER_ROLE) {
        _requireNotPaused();
        uint256 until = block.timestamp + MAX_PAUSE_DURATION;
        _pausedUntil = uint40(until);
        emit Paused(msg.sender, uint64(until));
    }

    /// @inheritdoc ITollEscrow
    function unpause() external onlyRole(PAUSER_ROLE) {
        if (block.timestamp >= _pausedUntil) revert TollEscrowNotPaused();
        _pausedUntil = 0;
        emit Unpaused(msg.sender);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc ITollEscrow
    function isScanSettled(uint32 gantryId, uint64 sequence) external view returns (bool) {
        return (_settledScans[gantryId][sequence >> 8] >> (sequence & 0xff)) & 1 == 1;
    }

    /// @inheritdoc ITollEscrow
    function scanBatchDigest(uint32 gantryId, bytes calldata scans) external view returns (bytes32) {
        return _scanBatchDigest(gantryId, scans);
    }

    /// @inheritdoc ITollEscrow
    function account(uint256 vehicleId) external view returns (AccountInfo memory) {
        uint256 packed = _accounts[vehicleId].packed;
        return AccountInfo({balance: packed & UINT96_MASK, arrears: _arrearsOf(packed)});
    }

    /// @inheritdoc ITollEscrow
    function withdrawalRequest(uint256 vehicleId) external view returns (address requester, uint64 requestedAt) {
        WithdrawalRecord memory request = _withdrawals[vehicleId];
        return (request.requester, request.requestedAt);
    }

    /// @inheritdoc ITollEscrow
    function debtOf(uint256 vehicleId, uint256 batchId) external view returns (uint256) {
        return _debts[vehicleId][batchId].amount;
    }

    /// @inheritdoc ITollEscrow
    function gantry(uint32 gantryId) external view returns (GantryInfo memory info) {
        Gantry memory record = _existingGantry(gantryId);
        Tariffs memory tariffs = _tariffs[gantryId];
        info.payee = record.payee;
        info.retiredAt = record.retiredAt;
        info.nextFeesFrom = record.nextTariffAt;
        for (uint256 i; i < PAYING_CLASSES; ++i) {
            info.currentFees[i] = (tariffs.current >> (i * FEE_BITS)) & MAX_FEE;
            info.nextFees[i] = (tariffs.next >> (i * FEE_BITS)) & MAX_FEE;
        }
    }

    /// @inheritdoc ITollEscrow
    function isOracleKey(uint32 gantryId, address key) external view returns (bool) {
        return _oracleKeys[gantryId][key];
    }

    /// @inheritdoc ITollEscrow
    function feeAt(uint32 gantryId, IVehicleRegistry.VehicleClass vehicleClass, uint64 timestamp)
        external
        view
        returns (uint256)
    {
        Gantry memory record = _existingGantry(gantryId);
        Tariffs memory tariffs = _tariffs[gantryId];
        return _price(uint256(vehicleClass), timestamp, tariffs.current, tariffs.next, record.nextTariffAt);
    }

    /// @inheritdoc ITollEscrow
    function batch(uint256 batchId) external view returns (BatchInfo memory) {
        BatchRecord storage record = _existingBatch(batchId);
        return BatchInfo({
            commitment: record.commitment,
            gantryId: record.gantryId,
            settledAt: record.settledAt,
            held: record.held,
            openDisputes: record.openDisputes,
            released: record.released
        });
    }

    /// @inheritdoc ITollEscrow
    function totalBatches() external view returns (uint256) {
        return _nextBatchId - 1;
    }

    /// @inheritdoc ITollEscrow
    function dispute(uint256 batchId, uint256 leafIndex) external view returns (DisputeInfo memory) {
        DisputeRecord memory record = _disputes[batchId][leafIndex];
        return DisputeInfo({vehicleId: record.vehicleId, fee: record.fee, status: record.status});
    }

    /// @inheritdoc ITollEscrow
    function claimable(address payee) external view returns (uint256) {
        return _claimable[payee];
    }

    /// @inheritdoc ITollEscrow
    function paused() external view returns (bool) {
        return block.timestamp < _pausedUntil;
    }

    /// @inheritdoc ITollEscrow
    function pausedUntil() external view returns (uint64) {
        return _pausedUntil;
    }

    /// @inheritdoc AccessControlDefaultAdminRules
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ITollEscrow).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internal: the scan loop
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Settles a batch. `deferGas` is the gas a scan needs left to be looked at (growing with every leaf
    /// written), from which on the rest are deferred; 0 looks at every scan whatever the gas (running out reverts).
    function _submitScans(uint32 gantryId, bytes calldata scans, bytes calldata signature, uint256 deferGas)
        private
        returns (uint256 batchId)
    {
        uint256 length = scans.length;
        if (length == 0 || length % SCAN_BYTES != 0 || length > MAX_SCANS_PER_BATCH * SCAN_BYTES) {
            revert TollEscrowInvalidBatchLength(length);
        }
        _requireNotPaused();
        Gantry memory gantry_ = _gantries[gantryId];
        if (gantry_.payee == address(0)) revert TollEscrowUnknownGantry(gantryId);
        _verifyOracleSignature(gantryId, scans, signature);

        BatchContext memory context = _batchContext(gantryId, gantry_, deferGas);
        bytes memory leaves = _settleBatch(context, scans);

        bytes32 commitment;
        if (leaves.length != 0) {
            batchId = context.batchId;
            commitment = keccak256(leaves);
            // 2^64 batches will never be reached.
            _nextBatchId = uint64(batchId + 1);
            _recordBatch(batchId, commitment, context.held, gantryId);
        }
        emit BatchSettled(batchId, gantryId, commitment, context.skipped, context.held, leaves);
        if (context.deferredFrom != 0) _reportDeferred(gantryId, scans, context.deferredFrom);
    }

    /// @dev Reports the scans from calldata offset `deferredFrom` to the end of `scans` as deferred.
    function _reportDeferred(uint32 gantryId, bytes calldata scans, uint256 deferredFrom) private {
        uint256 firstSequence;
        uint256 count;
        assembly ("memory-safe") {
            firstSequence := and(shr(128, calldataload(deferredFrom)), UINT40_MASK)
            count := div(sub(add(scans.offset, scans.length), deferredFrom), SCAN_BYTES)
        }
        emit ScansDeferred(gantryId, uint64(firstSequence), count);
    }

    /// @dev The per-batch values the scan loop needs, read from storage once; `deferGas` as for {_submitScans}.
    function _batchContext(uint32 gantryId, Gantry memory gantry_, uint256 deferGas)
        private
        view
        returns (BatchContext memory)
    {
        Tariffs storage tariffs = _tariffs[gantryId];
        // Constructor bounds keep maxScanAge far below any real block timestamp; the guard covers test chains.
        uint256 minTimestamp = block.timestamp > maxScanAge ? block.timestamp - maxScanAge : 0;
        uint256 retiredAt = gantry_.retiredAt == 0 ? type(uint256).max : gantry_.retiredAt;
        // Scans settle from minTimestamp up to the earlier of retirement and now (inclusive).
        uint256 upper = retiredAt <= block.timestamp ? retiredAt : block.timestamp + 1;
        return BatchContext({
            gantryId: gantryId,
            batchId: _nextBatchId,
            minTimestamp: minTimestamp,
            timeSpan: upper > minTimestamp ? upper - minTimestamp : 0,
            currentTariff: tariffs.current,
            // A next tariff not yet in force prices no scan that can settle now (future scans wait): skip the read.
            nextTariff: gantry_.nextTariffAt <= block.timestamp ? tariffs.next : 0,
            nextTariffAt: gantry_.nextTariffAt,
            registry: uint256(uint160(address(registry))),
            bitmapSlot: _bitmapSlot(gantryId),
            skipped: 0,
            held: 0,
            pendingFee: 0,
            leavesEnd: 0,
            deferredFrom: 0,
            gasNeeded: deferGas
        });
    }

    /// @dev Runs the scan loop over `scans` and returns the leaves of what it charged.
    function _settleBatch(BatchContext memory context, bytes calldata scans) private returns (bytes memory leaves) {
        uint256 length = scans.length;
        uint256 scansStart;
        assembly ("memory-safe") {
            scansStart := scans.offset
            // Room for one 22-byte leaf per 16-byte scan, plus the 10 bytes the last 32-byte write spills over:
            // 22n + 10 <= 32n for n >= 1. Not zeroed: every byte inside the final length is written.
            leaves := mload(0x40)
            mstore(0x40, add(leaves, add(0x20, shl(1, length))))
        }
        _settleScans(context, scansStart, scansStart + length, _dataPointer(leaves));
        uint256 leavesEnd = context.leavesEnd;
        assembly ("memory-safe") {
            mstore(leaves, sub(leavesEnd, add(leaves, 0x20)))
        }
    }

    /// @dev Settles every scan of a verified batch, writing the leaves of what it charged from `cursor` on and the
    /// running totals into `context`. Skips never revert.
    ///
    /// The common case (a scan not yet settled, in its time window, of a known vehicle whose balance covers the fee)
    /// runs in the assembly block below and touches: the bitmap word (kept in a local and written back only when the
    /// scans move to another word: once per word for a batch in sequence order), one registry slot through
    /// `classAndStatus`, and the vehicle's account slot. The block hands every exception back to Solidity
    /// (`_finishScan`) through `verdict`, then resumes. What the assembly does, in Solidity terms:
    ///   if (bit set)                                skip AlreadySettled
    ///   if (timestamp > block.timestamp)            skip FutureTimestamp      (bit left clear)
    ///   set bit
    ///   if (timestamp < minTimestamp)               skip StaleTimestamp
    ///   if (timestamp >= retiredAt)                 skip RetiredGantry
    ///   (class, status) = registry.classAndStatus(vehicleId)
    ///   if (status == None)                         skip UnknownVehicle
    ///   if (status == Scrapped)                     skip ScrappedVehicle
    ///   fee = fee of class in the tariff in force at timestamp (0 for Emergency and unknown classes)
    ///   append leaf (record, fee)
    ///   if (fee != 0) balance >= fee ? debit it : _chargeShort
    ///   if (status == Stolen)                       emit StolenVehicleSighted
    // solhint-disable-next-line function-max-lines
    function _settleScans(BatchContext memory context, uint256 scan, uint256 scansEnd, uint256 cursor) private {
        uint256 wordIndex = NO_WORD;
        uint256 bits;
        uint256 held;
        while (scan < scansEnd) {
            uint256 verdict;
            // Runs scan after scan until one needs Solidity (a skip, a sighting, a short balance) or none is left.
            assembly ("memory-safe") {
                for {} lt(scan, scansEnd) {} {
                    if lt(gas(), mload(add(context, CTX_GAS_NEEDED))) {
                        // Deferred from here on: the loops end with no verdict.
                        mstore(add(context, CTX_DEFERRED_FROM), scan)
                        scansEnd := scan
                        break
                    }
                    let record := shr(128, calldataload(scan))
                    scan := add(scan, 16)
                    let scanTime := and(shr(40, record), 0xffffffffff)
                    {
                        let sequence := and(record, 0xffffffffff)
                        if xor(shr(8, sequence), wordIndex) {
                            if xor(wordIndex, NO_WORD) {
                                mstore(0x00, wordIndex)
                                mstore(0x20, mload(add(context, CTX_BITMAP_SLOT)))
                                sstore(keccak256(0x00, 0x40), bits)
                            }
                            wordIndex := shr(8, sequence)
                            mstore(0x00, wordIndex)
                            mstore(0x20, mload(add(context, CTX_BITMAP_SLOT)))
                            bits := sload(keccak256(0x00, 0x40))
                        }
                        let bit := shl(and(sequence, 0xff), 1)
                        if and(bits, bit) {
                            verdict := 1 // SkipReason.AlreadySettled
                            break
                        }
                        // One unsigned comparison for the common case: minTimestamp <= timestamp < upper.
                        if iszero(
                            lt(
                                sub(scanTime, mload(add(context, CTX_MIN_TIMESTAMP))),
                                mload(add(context, CTX_TIME_SPAN))
                            )
                        ) {
                            if gt(scanTime, timestamp()) {
                                verdict := 4 // SkipReason.FutureTimestamp; the bit stays clear
                                break
                            }
                            bits := or(bits, bit)
                            verdict := 6 // SkipReason.RetiredGantry, unless it is stale:
                            if lt(scanTime, mload(add(context, CTX_MIN_TIMESTAMP))) { verdict := 5 }
                            break
                        }
                        // Every outcome from here on is final: charged, or skipped for a reason that will not go away.
                        bits := or(bits, bit)
                    }
                    let vehicleId := shr(80, record)
                    {
                        mstore(0x00, CLASS_AND_STATUS_CALL)
                        mstore(0x04, vehicleId)
                        // Arguments evaluate right to left: the call runs before returndatasize is read.
                        if iszero(
                            and(
                                gt(returndatasize(), 0x3f),
                                staticcall(gas(), mload(add(context, CTX_REGISTRY)), 0x00, 0x24, 0x00, 0x40)
                            )
                        ) {
                            returndatacopy(0x00, 0x00, returndatasize())
                            revert(0x00, returndatasize())
                        }
                        let status := mload(0x20)
                        // Anything but Active (1) is rare: look closer only then.
                        if xor(status, 1) {
                            if iszero(status) {
                                verdict := 2 // SkipReason.UnknownVehicle
                                break
                            }
                            if eq(status, 4) {
                                verdict := 3 // SkipReason.ScrappedVehicle
                                break
                            }
                            if eq(status, 3) { verdict := VERDICT_STOLEN }
                        }
                    }
                    let fee
                    {
                        let tariff := mload(add(context, CTX_CURRENT_TARIFF))
                        if iszero(lt(scanTime, mload(add(context, CTX_NEXT_TARIFF_AT)))) {
                            tariff := mload(add(context, CTX_NEXT_TARIFF))
                        }
                        // Five 48-bit fees fill bits 0 to 239 and the top 16 bits are zero, so Emergency (class 5)
                        // and any class this escrow does not know read a fee of zero: they ride free.
                        fee := and(shr(mul(mload(0x00), 48), tariff), 0xffffffffffff)
                    }
                    // Leaf: the 16-byte record, then the fee as uint48, 22 bytes written at the top of a word; the
                    // next leaf overwrites the 10 bytes of spill. At most one leaf per scan fits `leaves`.
                    mstore(cursor, shl(80, or(shl(48, record), fee)))
                    cursor := add(cursor, 22)
                    {
                        let gasNeeded := add(context, CTX_GAS_NEEDED)
                        mstore(gasNeeded, add(mload(gasNeeded), DEFER_GAS_PER_LEAF))
                    }
                    if fee {
                        // _accounts[vehicleId].packed; the balance is its low 96 bits.
                        mstore(0x00, vehicleId)
                        mstore(0x20, _accounts.slot)
                        let slot := keccak256(0x00, 0x40)
                        let packed := sload(slot)
                        if lt(and(packed, 0xffffffffffffffffffffffff), fee) {
                            verdict := or(verdict, VERDICT_SHORT)
                            mstore(add(context, CTX_PENDING_FEE), fee)
                            break
                        }
                        // fee <= balance, the low 96 bits: no borrow from the other fields. held stays below 2^59.
                        sstore(slot, sub(packed, fee))
                        held := add(held, fee)
                    }
                    if verdict { break }
                }
            }
            if (verdict != 0) {
                // The scan the assembly stopped at is the one just before `scan`.
                uint256 record;
                assembly ("memory-safe") {
                    record := shr(128, calldataload(sub(scan, 16)))
                }
                held += _finishScan(context, record, verdict);
            }
        }
        context.held = held;
        assembly ("memory-safe") {
            if xor(wordIndex, NO_WORD) {
                mstore(0x00, wordIndex)
                mstore(0x20, mload(add(context, CTX_BITMAP_SLOT)))
                sstore(keccak256(0x00, 0x40), bits)
            }
        }
        context.leavesEnd = cursor;
    }

    /// @dev The Solidity half of the scan loop: finishes what the assembly handed back in `verdict`. Returns what
    /// the scan paid into the batch, if it charged a short balance.
    function _finishScan(BatchContext memory context, uint256 record, uint256 verdict) private returns (uint256 paid) {
        uint256 reason = verdict & VERDICT_REASON_MASK;
        if (reason != 0) {
            _skip(context, record, SkipReason(reason));
            return 0;
        }
        if (verdict & VERDICT_STOLEN != 0) {
            emit StolenVehicleSighted(record >> 80, uint32(context.gantryId), uint64((record >> 40) & UINT40_MASK));
        }
        if (verdict & VERDICT_SHORT != 0) {
            paid = _chargeShort(record >> 80, context.pendingFee, context.batchId, record);
        }
    }

    /// @dev Reports a skipped scan.
    function _skip(BatchContext memory context, uint256 record, SkipReason reason) private {
        // Bounded by the batch length.
        unchecked {
            ++context.skipped;
        }
        emit ScanSkipped(uint32(context.gantryId), uint64(record & UINT40_MASK), record >> 80, reason);
    }

    /// @dev The balance does not cover `fee`: takes all of it, and records the rest as a debt to batch `batchId`.
    function _chargeShort(uint256 vehicleId, uint256 fee, uint256 batchId, uint256 record)
        private
        returns (uint256 paid)
    {
        Account storage vehicleAccount = _accounts[vehicleId];
        uint256 packed = vehicleAccount.packed;
        paid = packed & UINT96_MASK;
        // paid < fee here.
        uint256 unpaid;
        unchecked {
            unpaid = fee - paid;
        }
        uint256 head = packed >> 192;
        if (head == batchId) {
            // The vehicle already owes this batch: same debt, larger. It stays below the batch's total fees.
            _debts[vehicleId][batchId].amount += uint96(unpaid);
        } else {
            // batchId < 2^64 (see submitScans); unpaid <= MAX_FEE.
            _debts[vehicleId][batchId] = Debt({amount: uint96(unpaid), next: uint64(head)});
            head = batchId;
        }
        // Arrears grow by at most MAX_FEE (2^48) per scan: 2^48 scans would be needed to overflow 96 bits.
        uint256 arrears;
        unchecked {
            arrears = _arrearsOf(packed) + unpaid;
        }
        vehicleAccount.packed = _packAccount(0, arrears, head);
        emit ArrearsIncurred(vehicleId, batchId, uint64(record & UINT40_MASK), paid, unpaid);
    }

    /// @dev The registry's `classAndStatus` without ABI decoding overhead: the hot path's only external call.
    function _classAndStatus(uint256 vehicleId) private view returns (uint256 vehicleClass, uint256 status) {
        address target = address(registry);
        bytes4 selector = IVehicleRegistry.classAndStatus.selector;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            mstore(0x04, vehicleId)
            if iszero(and(gt(returndatasize(), 0x3f), staticcall(gas(), target, 0x00, 0x24, 0x00, 0x40))) {
                returndatacopy(0x00, 0x00, returndatasize())
                revert(0x00, returndatasize())
            }
            vehicleClass := mload(0x00)
            status := mload(0x20)
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internal: money
    // ------------------------------------------------------------------------------------------------------------

    function _deposit(uint256 vehicleId, uint256 amount) private {
        if (amount == 0) revert TollEscrowZeroAmount();
        (, uint256 status) = _classAndStatus(vehicleId);
        if (status == STATUS_NONE) revert TollEscrowUnknownVehicle(vehicleId);
        uint256 settled = _credit(vehicleId, amount);
        emit Deposited(vehicleId, msg.sender, amount, settled);
        _pull(msg.sender, amount);
    }

    /// @dev Every credit to a vehicle passes here (deposits, refunds, {settleArrears}): pays its debts, newest first,
    /// up to {MAX_DEBTS_PER_SETTLEMENT} of them, then adds what is left to its balance.
    function _credit(uint256 vehicleId, uint256 amount) private returns (uint256 settled) {
        uint256 packed = _accounts[vehicleId].packed;
        uint256 arrears = _arrearsOf(packed);
        uint256 head = packed >> 192;
        uint256 remaining = amount;
        for (uint256 i; i < MAX_DEBTS_PER_SETTLEMENT && arrears != 0 && remaining != 0; ++i) {
            Debt storage debt = _debts[vehicleId][head];
            uint256 owed = debt.amount;
            uint256 payment = owed < remaining ? owed : remaining;
            if (payment != 0) {
                _payBatch(head, payment);
                emit ArrearsSettled(vehicleId, head, payment);
            }
            if (payment == owed) {
                uint256 next = debt.next;
                delete _debts[vehicleId][head];
                head = next;
            } else {
                // payment < owed, both uint96.
                debt.amount = uint96(owed - payment);
            }
            // payment <= remaining and payment <= owed <= arrears (arrears is the sum of the debts).
            unchecked {
                arrears -= payment;
                remaining -= payment;
                settled += payment;
            }
        }
        if (arrears == 0) head = 0;
        uint256 current = packed & UINT96_MASK;
        // Compared before adding: an amount near 2^256 must get the custom error, not an arithmetic panic.
        if (remaining > UINT96_MASK - current) revert TollEscrowBalanceOverflow(vehicleId, current, remaining);
        _accounts[vehicleId].packed = _packAccount(current + remaining, arrears, head);
    }

    /// @dev Lowers what `vehicleId` owes `batchId` by up to `fee`; returns how much it lowered it.
    function _forgive(uint256 vehicleId, uint256 batchId, uint256 fee) private returns (uint256 forgiven) {
        Debt storage debt = _debts[vehicleId][batchId];
        uint256 owed = debt.amount;
        if (owed == 0) return 0;
        forgiven = owed < fee ? owed : fee;
        // forgiven <= owed.
        unchecked {
            debt.amount = uint96(owed - forgiven);
        }
        // A debt left at zero stays in the vehicle's stack until a credit walks past it.
        uint256 packed = _accounts[vehicleId].packed;
        uint256 arrears = _arrearsOf(packed) - forgiven;
        uint256 head = arrears == 0 ? 0 : packed >> 192;
        _accounts[vehicleId].packed = _packAccount(packed & UINT96_MASK, arrears, head);
    }

    /// @dev Writes a new batch's record: two slots, each written once (see BatchRecord for the layout).
    function _recordBatch(uint256 batchId, bytes32 commitment, uint256 held, uint32 gantryId) private {
        BatchRecord storage record = _batches[batchId];
        // held <= MAX_SCANS_PER_BATCH * MAX_FEE < 2^59; settledAt is a uint40 timestamp. openDisputes and released
        // start at zero.
        uint256 packed = held | (block.timestamp << 96) | (uint256(gantryId) << 136);
        assembly ("memory-safe") {
            sstore(record.slot, commitment)
            sstore(add(record.slot, 1), packed)
        }
    }

    /// @dev Pays arrears owed to `batchId` into it, or straight to its operator once it was released.
    function _payBatch(uint256 batchId, uint256 amount) private {
        BatchRecord storage record = _batches[batchId];
        if (!record.released) {
            // What a batch holds never exceeds the fees it charged, far below 2^96.
            record.held += uint96(amount);
        } else {
            _claimable[_gantries[record.gantryId].payee] += amount;
        }
    }

    /// @dev Pulls exactly `amount` from `from`; refuses tokens that deliver less.
    function _pull(address from, uint256 amount) private {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert TollEscrowTransferMismatch(amount, received);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internal: checks and helpers
    // ------------------------------------------------------------------------------------------------------------

    function _setOracleKey(uint32 gantryId, address key, bool authorized) private {
        if (key == address(0)) revert TollEscrowInvalidOracleKey(key);
        if (_oracleKeys[gantryId][key] == authorized) revert TollEscrowOracleKeyUnchanged(gantryId, key, authorized);
        _oracleKeys[gantryId][key] = authorized;
        emit OracleKeySet(gantryId, key, authorized);
    }

    function _verifyOracleSignature(uint32 gantryId, bytes calldata scans, bytes calldata signature) private view {
        // tryRecoverCalldata refuses malformed and high-s signatures instead of reverting.
        (address signer, ECDSA.RecoverError recoverError,) =
            ECDSA.tryRecoverCalldata(_scanBatchDigest(gantryId, scans), signature);
        if (recoverError != ECDSA.RecoverError.NoError || !_oracleKeys[gantryId][signer]) {
            revert TollEscrowInvalidSignature(gantryId, signer);
        }
    }

    function _requireNotPaused() private view {
        uint256 until = _pausedUntil;
        if (block.timestamp < until) revert TollEscrowPaused(uint64(until));
    }

    function _requireVehicleOwner(uint256 vehicleId) private view {
        // The registry is the ERC-721 of the passports; `ownerOf` reverts for a vehicle that does not exist.
        try IERC721(address(registry)).ownerOf(vehicleId) returns (address owner) {
            if (owner != msg.sender) revert TollEscrowNotVehicleOwner(vehicleId, msg.sender);
        } catch {
            revert TollEscrowUnknownVehicle(vehicleId);
        }
    }

    function _existingGantry(uint32 gantryId) private view returns (Gantry storage record) {
        record = _gantries[gantryId];
        if (record.payee == address(0)) revert TollEscrowUnknownGantry(gantryId);
    }

    function _gantryInService(uint32 gantryId) private view returns (Gantry storage record) {
        record = _existingGantry(gantryId);
        uint40 retiredAt = record.retiredAt;
        if (retiredAt != 0) revert TollEscrowGantryRetired(gantryId, retiredAt);
    }

    function _existingBatch(uint256 batchId) private view returns (BatchRecord storage record) {
        record = _batches[batchId];
        if (record.settledAt == 0) revert TollEscrowUnknownBatch(batchId);
    }

    function _dataPointer(bytes memory data) private pure returns (uint256 pointer) {
        assembly ("memory-safe") {
            pointer := add(data, 0x20)
        }
    }

    /// @dev The base slot of `_settledScans[gantryId]`, for the scan loop's assembly.
    function _bitmapSlot(uint32 gantryId) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            mstore(0x00, gantryId)
            mstore(0x20, _settledScans.slot)
            slot := keccak256(0x00, 0x40)
        }
    }

    function _scanBatchDigest(uint32 gantryId, bytes calldata scans) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(SCAN_BATCH_TYPEHASH, gantryId, keccak256(scans))));
    }

    function _packFees(uint256[5] calldata fees) private pure returns (uint256 tariff) {
        for (uint256 i; i < PAYING_CLASSES; ++i) {
            if (fees[i] > MAX_FEE) revert TollEscrowFeeTooHigh(i, fees[i]);
            tariff |= fees[i] << (i * FEE_BITS);
        }
    }

    /// @dev The fee for a class at a time. Emergency vehicles (and any class this escrow does not know) ride free.
    function _price(uint256 vehicleClass, uint256 timestamp, uint256 current, uint256 next, uint256 nextAt)
        private
        pure
        returns (uint256)
    {
        if (vehicleClass >= PAYING_CLASSES) return 0;
        uint256 tariff = timestamp < nextAt ? current : next;
        return (tariff >> (vehicleClass * FEE_BITS)) & MAX_FEE;
    }

    function _arrearsOf(uint256 packed) private pure returns (uint256) {
        return (packed >> 96) & UINT96_MASK;
    }

    function _packAccount(uint256 balance, uint256 arrears, uint256 head) private pure returns (uint256) {
        return balance | (arrears << 96) | (head << 192);
    }
}
