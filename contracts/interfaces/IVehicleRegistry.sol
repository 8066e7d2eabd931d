// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IVehicleRegistry
/// @notice The on-chain identity of every vehicle: an ERC-721 passport bound to the key inside its electronic
/// licence plate. Other platechain contracts (the toll escrow, the driving-record ledger) and off-chain tools depend
/// on this interface only.
interface IVehicleRegistry {
    /// @dev Stored as uint8. The order is part of the ABI: append, never reorder.
    enum VehicleClass {
        Motorcycle,
        Car,
        Van,
        Truck,
        Bus,
        Emergency
    }

    /// @dev `None` is what an unknown vehicle reads as, so a default value is never mistaken for a real status.
    enum VehicleStatus {
        None,
        Active,
        Suspended,
        Stolen,
        Scrapped
    }

    /// @notice What other contracts learn about a vehicle in one call.
    struct VehicleInfo {
        address owner;
        address plate;
        VehicleClass vehicleClass;
        VehicleStatus status;
    }

    /// @notice A vehicle was registered and its passport minted to `owner`.
    event VehicleRegistered(
        uint256 indexed vehicleId,
        address indexed owner,
        address indexed plate,
        bytes32 vinCommitment,
        VehicleClass vehicleClass
    );

    /// @notice A vehicle's plate key was replaced; `oldPlate` is revoked for good.
    event PlateRotated(uint256 indexed vehicleId, address indexed oldPlate, address indexed newPlate);

    /// @notice The traffic authority changed a vehicle's status.
    event VehicleStatusChanged(
        uint256 indexed vehicleId,
        VehicleStatus previousStatus,
        VehicleStatus newStatus,
        uint32 indexed reasonCode
    );

    /// @notice `owner` is not an address a passport can be minted to.
    error VehicleRegistryInvalidOwner(address owner);

    /// @notice `plate` is not a usable plate key (the zero address).
    error VehicleRegistryInvalidPlate(address plate);

    /// @notice `plate` already identifies `vehicleId`.
    error VehicleRegistryPlateInUse(address plate, uint256 vehicleId);

    /// @notice `plate` was revoked by a rotation and can never be registered again.
    error VehicleRegistryPlateRevoked(address plate);

    /// @notice The VIN commitment is zero, which commits to nothing.
    error VehicleRegistryInvalidVinCommitment(bytes32 vinCommitment);

    /// @notice `vinCommitment` already belongs to `vehicleId`.
    error VehicleRegistryVinInUse(bytes32 vinCommitment, uint256 vehicleId);

    /// @notice `vehicleClass` is not one of {VehicleClass}.
    error VehicleRegistryInvalidClass(uint8 vehicleClass);

    /// @notice `status` is not one of {VehicleStatus}.
    error VehicleRegistryInvalidStatus(uint8 status);

    /// @notice No vehicle has id `vehicleId`.
    error VehicleRegistryUnknownVehicle(uint256 vehicleId);

    /// @notice No vehicle currently carries `plate`.
    error VehicleRegistryUnknownPlate(address plate);

    /// @notice A vehicle in status `current` cannot move to `requested`.
    error VehicleRegistryInvalidStatusChange(uint256 vehicleId, VehicleStatus current, VehicleStatus requested);

    /// @notice A vehicle in `status` cannot do what was asked: only an active vehicle changes hands, and a scrapped
    /// one never gets a new plate.
    error VehicleRegistryVehicleNotActive(uint256 vehicleId, VehicleStatus status);

    /// @notice Registers a vehicle and mints its passport to `owner`; the vehicle starts out active.
    /// @dev Requirements:
    /// - the caller holds `REGISTRAR_ROLE`;
    /// - `owner` is not the zero address;
    /// - `plate` is not the zero address and was never bound to a vehicle (current or revoked);
    /// - `vinCommitment` is not zero and was never registered;
    /// - `vehicleClass` is a {VehicleClass}.
    /// Emits an ERC-721 {Transfer} event and a {VehicleRegistered} event.
    /// @param owner The vehicle's owner, who receives the passport (minted without a receiver callback).
    /// @param plate The address of the key inside the plate's chip.
    /// @param vinCommitment A salted hash committing to the VIN; the VIN never goes on-chain.
    /// @param vehicleClass A {VehicleClass} as uint8.
    /// @return vehicleId The new vehicle's id, stable for its whole life; ids start at 1.
    function registerVehicle(address owner, address plate, bytes32 vinCommitment, uint8 vehicleClass)
        external
        returns (uint256 vehicleId);

    /// @notice Replaces a lost or damaged plate: `vehicleId` and its history stay, the old key is revoked for good.
    /// @dev A suspended or stolen vehicle may get a new plate (its status follows the vehicle, not the plate).
    /// Requirements:
    /// - the caller holds `REGISTRAR_ROLE`;
    /// - the vehicle exists and is not scrapped;
    /// - `newPlate` is not the zero address and was never bound to a vehicle (current or revoked).
    /// Emits a {PlateRotated} event.
    function rotatePlate(uint256 vehicleId, address newPlate) external;

    /// @notice Sets a vehicle's status with a reason code the authority's tools understand.
    /// @dev Any move between active, suspended and stolen is allowed, and each of them may move to scrapped, which
    /// is final. The reason code is recorded in the event only.
    /// Requirements:
    /// - the caller holds `REGULATOR_ROLE`;
    /// - the vehicle exists;
    /// - `newStatus` is a {VehicleStatus}, not `None`, and differs from the current status;
    /// - the vehicle is not scrapped.
    /// Emits a {VehicleStatusChanged} event.
    function setStatus(uint256 vehicleId, uint8 newStatus, uint32 reasonCode) external;

    /// @notice Everything other contracts need about a vehicle, in one call.
    /// @dev Reverts with {VehicleRegistryUnknownVehicle} for an unknown id.
    function vehicle(uint256 vehicleId) external view returns (VehicleInfo memory info);

    /// @notice The vehicle currently carrying `plate`, and what {vehicle} returns for it.
    /// @dev Reverts with {VehicleRegistryPlateRevoked} for a revoked plate and {VehicleRegistryUnknownPlate} for a
    /// plate never registered.
    function vehicleByPlate(address plate) external view returns (uint256 vehicleId, VehicleInfo memory info);

    /// @notice The vehicle currently carrying `plate`, or 0 when none does (unknown or revoked plate).
    function vehicleIdOfPlate(address plate) external view returns (uint256 vehicleId);

    /// @notice Class and status from a single storage slot: the hot path of toll settlement.
    /// @dev Never reverts: an unknown vehicle reads as class `Motorcycle` (0) with status `None`, so callers check
    /// the status first.
    function classAndStatus(uint256 vehicleId)
        external
        view
        returns (VehicleClass vehicleClass, VehicleStatus status);

    /// @notice Whether `plate` was revoked by a rotation.
    function isPlateRevoked(address plate) external view returns (bool);

    /// @notice {vehicleIdOfPlate} and {isPlateRevoked} for many plates in one call, for off-chain readers resolving
    /// plates in bulk (a relayer starting with an empty cache asks once per few hundred plates, not twice per plate).
    /// @dev Never reverts: an unknown plate reads as vehicle 0, not revoked.
    /// @return vehicleIds For each plate, the vehicle carrying it, or 0 when none does (unknown or revoked).
    /// @return revoked For each plate, whether a rotation revoked it.
    function resolvePlates(address[] calldata plates)
        external
        view
        returns (uint256[] memory vehicleIds, bool[] memory revoked);

    /// @notice Whether `signature` over `digest` was made by the current plate key of `vehicleId`.
    /// @dev `digest` is the caller's own EIP-712 digest, so the signature stays bound to the caller's domain
    /// (chain id and verifying contract). Only 65-byte (r, s, v) signatures are accepted; malleable (high-s),
    /// malformed and unrecoverable signatures, revoked plates and unknown vehicles all return false instead of
    /// reverting. The vehicle's status is not checked: callers decide what a suspended or stolen vehicle may do.
    function isPlateSignature(uint256 vehicleId, bytes32 digest, bytes calldata signature)
        external
        view
        returns (bool);

    /// @notice How many vehicles were ever registered; ids run from 1 to this number.
    function totalVehicles() external view returns (uint256);
}
