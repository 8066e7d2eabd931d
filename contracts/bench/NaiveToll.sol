// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";

/// @title NaiveToll
/// @notice Benchmark peer: the toll contract one would write first. It keeps TollEscrow's guarantees (scans signed
/// by the gantry's oracle key and submittable by anyone, each (gantry, sequence) charged once, the vehicle's class
/// and status read from the registry, unpaid tolls become arrears, revenue credited to the operator, one event per
/// charge) but settles ONE scan per transaction, stores every scan as a struct and marks it in a per-scan replay
/// mapping. `npm run bench` measures it in the same run as TollEscrow; it is never deployed by the deploy scripts.
/// @dev Written plainly, not badly: named imports, custom errors, OpenZeppelin's EIP-712 and ECDSA, natural types.
/// The benchmark's peers live in contracts/bench/ rather than bench/contracts/: a second `paths.sources` root would
/// move every generated type one directory down (typechain-types/contracts/...) and break imports of
/// `typechain-types/<dir>/...` across the project.
contract NaiveToll is Ownable, EIP712 {
    using SafeERC20 for IERC20;

    /// @dev Three slots per scan: [ vehicleId (256) ] [ gantryId (32) | sequence (64) | timestamp (64) ] [ paid ]
    /// and a fourth, [ unpaid ], left zero while the vehicle's balance covers the toll.
    struct Scan {
        uint256 vehicleId;
        uint32 gantryId;
        uint64 sequence;
        uint64 timestamp;
        uint256 paid;
        uint256 unpaid;
    }

    /// @dev [ oracle (160) ] [ operator (160) ] and the class tariff in `_tariffs`.
    struct Gantry {
        address oracle;
        address operator;
    }

    bytes32 private constant _SCAN_TYPEHASH =
        // solhint-disable-next-line gas-small-strings
        keccak256("Scan(uint32 gantryId,uint256 vehicleId,uint64 timestamp,uint64 sequence)");

    IVehicleRegistry public immutable REGISTRY;
    IERC20 public immutable TOKEN;

    mapping(uint32 gantryId => Gantry) private _gantries;
    mapping(uint32 gantryId => mapping(uint8 vehicleClass => uint256 fee)) private _tariffs;
    mapping(bytes32 scanKey => bool settled) private _settled;
    mapping(bytes32 scanKey => Scan) private _scans;
    mapping(uint256 vehicleId => uint256 balance) private _balances;
    mapping(uint256 vehicleId => uint256 arrears) private _arrears;
    mapping(address operator => uint256 revenue) private _revenue;

    /// @notice A gantry was registered with its oracle key, operator and tariff.
    event GantryRegistered(uint32 indexed gantryId, address oracle, address operator, uint256[6] tariff);

    /// @notice `amount` was added to `vehicleId`'s balance by `payer`.
    event Deposited(uint256 indexed vehicleId, address indexed payer, uint256 amount);

    /// @notice A scan was charged, as TollEscrow's event of the same name.
    event ScanCharged(
        uint256 indexed vehicleId,
        uint32 indexed gantryId,
        uint64 sequence,
        uint64 timestamp,
        uint256 paid,
        uint256 unpaid
    );

    /// @notice A scan of a stolen vehicle.
    event StolenVehicleSighted(uint256 indexed vehicleId, uint32 indexed gantryId, uint64 timestamp);

    /// @notice `gantryId` has no oracle key.
    error NaiveTollUnknownGantry(uint32 gantryId);

    /// @notice The scan was not signed by the gantry's oracle key.
    error NaiveTollInvalidSignature(uint32 gantryId, address signer);

    /// @notice The scan `sequence` of `gantryId` was settled before.
    error NaiveTollAlreadySettled(uint32 gantryId, uint64 sequence);

    /// @notice The vehicle is unknown or scrapped.
    error NaiveTollVehicleNotChargeable(uint256 vehicleId, IVehicleRegistry.VehicleStatus status);

    /// @param vehicleRegistry The registry that says each vehicle's class and status.
    /// @param paymentToken The token balances are held in.
    constructor(IVehicleRegistry vehicleRegistry, IERC20 paymentToken)
        Ownable(msg.sender)
        EIP712("platechain NaiveToll", "1")
    {
        REGISTRY = vehicleRegistry;
        TOKEN = paymentToken;
    }

    /// @notice Registers (or replaces) a gantry.
    /// @dev Requirements: caller is the owner. Emits a {GantryRegistered} event.
    function registerGantry(uint32 gantryId, address oracle, address operator, uint256[6] calldata tariff)
        external
        onlyOwner
    {
        _gantries[gantryId] = Gantry({oracle: oracle, operator: operator});
        for (uint8 vehicleClass = 0; vehicleClass < 6; ++vehicleClass) {
            _tariffs[gantryId][vehicleClass] = tariff[vehicleClass];
        }
        emit GantryRegistered(gantryId, oracle, operator, tariff);
    }

    /// @notice Adds `amount` of the payment token to `vehicleId`'s balance, paying arrears first.
    /// @dev Requirements: the caller approved `amount`. Emits a {Deposited} event.
    function deposit(uint256 vehicleId, uint256 amount) external {
        uint256 arrears = _arrears[vehicleId];
        uint256 toArrears = arrears < amount ? arrears : amount;
        _arrears[vehicleId] = arrears - toArrears;
        _balances[vehicleId] += amount - toArrears;
        emit Deposited(vehicleId, msg.sender, amount);
        TOKEN.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Charges one scan signed by the gantry's oracle key.
    /// @dev Requirements: the gantry is registered; the signature is the oracle's EIP-712 signature of the scan; the
    /// scan was not settled before; the vehicle is registered and not scrapped.
    /// Emits a {ScanCharged} event, and {StolenVehicleSighted} for a stolen vehicle.
    function chargeScan(uint32 gantryId, uint256 vehicleId, uint64 timestamp, uint64 sequence, bytes calldata signature)
        external
    {
        Gantry memory gantry = _gantries[gantryId];
        if (gantry.oracle == address(0)) revert NaiveTollUnknownGantry(gantryId);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(_SCAN_TYPEHASH, gantryId, vehicleId, timestamp, sequence)));
        address signer = ECDSA.recover(digest, signature);
        if (signer != gantry.oracle) revert NaiveTollInvalidSignature(gantryId, signer);

        bytes32 scanKey = keccak256(abi.encode(gantryId, sequence));
        if (_settled[scanKey]) revert NaiveTollAlreadySettled(gantryId, sequence);
        _settled[scanKey] = true;
        (uint256 paid, uint256 unpaid) = _charge(gantryId, vehicleId, timestamp);
        _scans[scanKey] = Scan({
            vehicleId: vehicleId,
            gantryId: gantryId,
            sequence: sequence,
            timestamp: timestamp,
            paid: paid,
            unpaid: unpaid
        });
        _revenue[gantry.operator] += paid;
        emit ScanCharged(vehicleId, gantryId, sequence, timestamp, paid, unpaid);
    }

    /// @notice A vehicle's prepaid balance.
    function balanceOf(uint256 vehicleId) external view returns (uint256) {
        return _balances[vehicleId];
    }

    /// @notice Whether the scan `sequence` of `gantryId` was charged.
    function isScanSettled(uint32 gantryId, uint64 sequence) external view returns (bool) {
        return _settled[keccak256(abi.encode(gantryId, sequence))];
    }

    /// @notice The stored scan `sequence` of `gantryId` (all zero when not settled).
    function scan(uint32 gantryId, uint64 sequence) external view returns (Scan memory) {
        return _scans[keccak256(abi.encode(gantryId, sequence))];
    }

    /// @notice The EIP-712 domain separator oracles sign scans under.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev Debits the toll for the vehicle's class from its balance; what the balance cannot cover becomes arrears.
    function _charge(uint32 gantryId, uint256 vehicleId, uint64 timestamp)
        private
        returns (uint256 paid, uint256 unpaid)
    {
        (IVehicleRegistry.VehicleClass vehicleClass, IVehicleRegistry.VehicleStatus status) =
            REGISTRY.classAndStatus(vehicleId);
        if (status == IVehicleRegistry.VehicleStatus.None || status == IVehicleRegistry.VehicleStatus.Scrapped) {
            revert NaiveTollVehicleNotChargeable(vehicleId, status);
        }
        uint256 fee = _tariffs[gantryId][uint8(vehicleClass)];
        uint256 balance = _balances[vehicleId];
        paid = balance < fee ? balance : fee;
        unpaid = fee - paid;
        _balances[vehicleId] = balance - paid;
        if (unpaid != 0) _arrears[vehicleId] += unpaid;
        if (status == IVehicleRegistry.VehicleStatus.Stolen) emit StolenVehicleSighted(vehicleId, gantryId, timestamp);
    }
}
