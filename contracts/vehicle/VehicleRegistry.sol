// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";

/// @title VehicleRegistry
/// @notice Makes an electronic licence plate a vehicle's on-chain identity: each vehicle is an ERC-721 passport
/// owned by its owner and bound to the key inside its plate's chip.
/// @dev Admin handover is two-step with a delay (OpenZeppelin's default-admin rules), so one leaked admin key cannot
/// hand the registry over at once.
contract VehicleRegistry is IVehicleRegistry, ERC721, AccessControlDefaultAdminRules {
    /// @dev One slot per vehicle, read by every toll scan:
    /// [ plate (160) | vehicleClass (8) | status (8) | reasonCode (32) | unused (48) ]
    struct Vehicle {
        address plate;
        VehicleClass vehicleClass;
        VehicleStatus status;
        uint32 reasonCode;
    }

    /// @dev One slot per plate key ever used: [ vehicleId (96) | revoked (8) | unused (152) ].
    struct PlateRecord {
        uint96 vehicleId;
        bool revoked;
    }

    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");

    uint96 private _vehicleCount;
    mapping(uint256 vehicleId => Vehicle) private _vehicles;
    mapping(address plate => PlateRecord) private _plates;
    mapping(bytes32 vinCommitment => uint256 vehicleId) private _vehicleOfVin;

    /// @param initialAdminDelay Seconds a new default admin must wait before accepting the role.
    /// @param initialAdmin Holder of `DEFAULT_ADMIN_ROLE`, who grants the registrar and regulator roles.
    constructor(uint48 initialAdminDelay, address initialAdmin)
        ERC721("platechain Vehicle Passport", "PLATE")
        AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin)
    {}

    /// @inheritdoc IVehicleRegistry
    function registerVehicle(address owner, address plate, bytes32 vinCommitment, uint8 vehicleClass)
        external
        onlyRole(REGISTRAR_ROLE)
        returns (uint256 vehicleId)
    {
        if (owner == address(0)) revert VehicleRegistryInvalidOwner(owner);
        if (vinCommitment == bytes32(0)) revert VehicleRegistryInvalidVinCommitment(vinCommitment);
        if (vehicleClass > uint8(type(VehicleClass).max)) revert VehicleRegistryInvalidClass(vehicleClass);
        uint256 vinOwner = _vehicleOfVin[vinCommitment];
        if (vinOwner != 0) revert VehicleRegistryVinInUse(vinCommitment, vinOwner);

        // Ids are sequential from 1; 2^96 vehicles cannot be reached.
        unchecked {
            vehicleId = ++_vehicleCount;
        }
        _bindPlate(vehicleId, plate);
        _vehicleOfVin[vinCommitment] = vehicleId;
        _vehicles[vehicleId] = Vehicle({
            plate: plate,
            vehicleClass: VehicleClass(vehicleClass),
            status: VehicleStatus.Active,
            reasonCode: 0
        });
        _mint(owner, vehicleId);
        emit VehicleRegistered(vehicleId, owner, plate, vinCommitment, VehicleClass(vehicleClass));
    }

    /// @inheritdoc IVehicleRegistry
    function rotatePlate(uint256 vehicleId, address newPlate) external onlyRole(REGISTRAR_ROLE) {
        Vehicle storage record = _existingVehicle(vehicleId);
        if (record.status == VehicleStatus.Scrapped) {
            revert VehicleRegistryVehicleNotActive(vehicleId, VehicleStatus.Scrapped);
        }
        address oldPlate = record.plate;
        _bindPlate(vehicleId, newPlate);
        _plates[oldPlate].revoked = true;
        record.plate = newPlate;
        emit PlateRotated(vehicleId, oldPlate, newPlate);
    }

    /// @inheritdoc IVehicleRegistry
    function setStatus(uint256 vehicleId, uint8 newStatus, uint32 reasonCode) external onlyRole(REGULATOR_ROLE) {
        Vehicle storage record = _existingVehicle(vehicleId);
        VehicleStatus current = record.status;
        if (newStatus > uint8(type(VehicleStatus).max)) {
            // Not representable as a VehicleStatus: report it as `None`, the one status nothing may move to.
            revert VehicleRegistryInvalidStatusChange(vehicleId, current, VehicleStatus.None);
        }
        VehicleStatus requested = VehicleStatus(newStatus);
        if (requested == VehicleStatus.None || requested == current || current == VehicleStatus.Scrapped) {
            revert VehicleRegistryInvalidStatusChange(vehicleId, current, requested);
        }
        record.status = requested;
        record.reasonCode = reasonCode;
        emit VehicleStatusChanged(vehicleId, current, requested, reasonCode);
    }

    /// @inheritdoc IVehicleRegistry
    function vehicle(uint256 vehicleId) external view returns (VehicleInfo memory info) {
        return _info(vehicleId, _existingVehicle(vehicleId));
    }

    /// @inheritdoc IVehicleRegistry
    function vehicleByPlate(address plate) external view returns (uint256 vehicleId, VehicleInfo memory info) {
        PlateRecord memory plateRecord = _plates[plate];
        if (plateRecord.revoked) revert VehicleRegistryPlateRevoked(plate);
        vehicleId = plateRecord.vehicleId;
        if (vehicleId == 0) revert VehicleRegistryUnknownPlate(plate);
        info = _info(vehicleId, _vehicles[vehicleId]);
    }

    /// @inheritdoc IVehicleRegistry
    function vehicleIdOfPlate(address plate) external view returns (uint256 vehicleId) {
        PlateRecord memory plateRecord = _plates[plate];
        return plateRecord.revoked ? 0 : plateRecord.vehicleId;
    }

    /// @inheritdoc IVehicleRegistry
    function classAndStatus(uint256 vehicleId)
        external
        view
        returns (VehicleClass vehicleClass, VehicleStatus status)
    {
        Vehicle storage record = _vehicles[vehicleId];
        return (record.vehicleClass, record.status);
    }

    /// @inheritdoc IVehicleRegistry
    function isPlateRevoked(address plate) external view returns (bool) {
        return _plates[plate].revoked;
    }

    /// @inheritdoc IVehicleRegistry
    function isPlateSignature(uint256 vehicleId, bytes32 digest, bytes calldata signature)
        external
        view
        returns (bool)
    {
        address plate = _vehicles[vehicleId].plate;
        if (plate == address(0)) return false;
        // tryRecover refuses high-s and malformed signatures instead of reverting.
        (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecover(digest, signature);
        return recoverError == ECDSA.RecoverError.NoError && signer == plate;
    }

    /// @inheritdoc IVehicleRegistry
    function totalVehicles() external view returns (uint256) {
        return _vehicleCount;
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, AccessControlDefaultAdminRules)
        returns (bool)
    {
        return interfaceId == type(IVehicleRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @dev Every passport movement passes here: a sale (or any transfer) is allowed only for an active vehicle.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = _ownerOf(tokenId);
        if (from != address(0)) {
            VehicleStatus status = _vehicles[tokenId].status;
            if (status != VehicleStatus.Active) revert VehicleRegistryVehicleNotActive(tokenId, status);
            if (to == address(0)) revert VehicleRegistryInvalidOwner(to);
        }
        return super._update(to, tokenId, auth);
    }

    /// @dev Binds a never-used plate key to `vehicleId`.
    function _bindPlate(uint256 vehicleId, address plate) private {
        if (plate == address(0)) revert VehicleRegistryInvalidPlate(plate);
        PlateRecord storage plateRecord = _plates[plate];
        if (plateRecord.revoked) revert VehicleRegistryPlateRevoked(plate);
        uint256 holder = plateRecord.vehicleId;
        if (holder != 0) revert VehicleRegistryPlateInUse(plate, holder);
        // vehicleId comes from the uint96 counter.
        plateRecord.vehicleId = uint96(vehicleId);
    }

    function _existingVehicle(uint256 vehicleId) private view returns (Vehicle storage record) {
        record = _vehicles[vehicleId];
        if (record.status == VehicleStatus.None) revert VehicleRegistryUnknownVehicle(vehicleId);
    }

    function _info(uint256 vehicleId, Vehicle storage record) private view returns (VehicleInfo memory) {
        return VehicleInfo({
            owner: _ownerOf(vehicleId),
            plate: record.plate,
            vehicleClass: record.vehicleClass,
            status: record.status
        });
    }
}
