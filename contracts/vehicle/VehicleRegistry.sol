// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC165} from "@openzeppelin/contracts/interfaces/IERC165.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";

/// @title VehicleRegistry
/// @notice Makes an electronic licence plate a vehicle's on-chain identity: each vehicle is an ERC-721 passport
/// owned by its owner and bound to the key inside its plate's chip.
/// @dev Admin handover is two-step with a delay (OpenZeppelin's default-admin rules), so one leaked admin key cannot
/// hand the registry over at once. Passports are never burned: a scrapped vehicle keeps its passport as history.
/// The passport's metadata is built on-chain from the registry's own state (see {tokenURI}); {IERC4906} events tell
/// indexers when it changes.
contract VehicleRegistry is IVehicleRegistry, IERC4906, ERC721, AccessControlDefaultAdminRules {
    using Strings for uint256;
    using Strings for address;

    /// @dev One slot per vehicle, read by every toll scan:
    /// [ plate (160) | vehicleClass (8) | status (8) | unused (80) ]
    /// The regulator's reason code lives in {VehicleStatusChanged} only: no contract needs to read it.
    struct Vehicle {
        address plate;
        VehicleClass vehicleClass;
        VehicleStatus status;
    }

    /// @dev One slot per plate key ever bound: [ vehicleId (96) | revoked (8) | unused (152) ].
    /// A revoked record keeps its vehicleId, so a revoked key is told apart from one never used.
    struct PlateRecord {
        uint96 vehicleId;
        bool revoked;
    }

    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");
    /// @dev ERC-4906 names this id explicitly: its interface declares events only, so type(...).interfaceId is 0.
    bytes4 private constant _ERC4906_INTERFACE_ID = 0x49064906;

    /// @dev The id the next registration gets. Starts at 1 (ids start at 1, and the first registration then pays a
    /// nonzero-to-nonzero write like every later one instead of a fresh slot).
    uint96 private _nextVehicleId;
    mapping(uint256 vehicleId => Vehicle) private _vehicles;
    mapping(address plate => PlateRecord) private _plates;
    mapping(bytes32 vinCommitment => uint256 vehicleId) private _vehicleOfVin;

    /// @param initialAdminDelay Seconds a new default admin must wait before accepting the role.
    /// @param initialAdmin Holder of `DEFAULT_ADMIN_ROLE`, who grants the registrar and regulator roles.
    constructor(uint48 initialAdminDelay, address initialAdmin)
        ERC721("platechain Vehicle Passport", "PLATE")
        AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin)
    {
        _nextVehicleId = 1;
    }

    /// @inheritdoc IVehicleRegistry
    function registerVehicle(address owner, address plate, bytes32 vinCommitment, uint8 vehicleClass)
        external
        onlyRole(REGISTRAR_ROLE)
        returns (uint256 vehicleId)
    {
        if (owner == address(0)) revert VehicleRegistryInvalidOwner(owner);
        if (vinCommitment == bytes32(0)) revert VehicleRegistryInvalidVinCommitment(vinCommitment);
        if (vehicleClass > uint8(type(VehicleClass).max)) revert VehicleRegistryInvalidClass(vehicleClass);
        uint256 vinHolder = _vehicleOfVin[vinCommitment];
        if (vinHolder != 0) revert VehicleRegistryVinInUse(vinCommitment, vinHolder);

        uint96 id = _nextVehicleId;
        // One id per registration transaction: 2^96 of them cannot be reached.
        unchecked {
            _nextVehicleId = id + 1;
        }
        vehicleId = id;
        _bindPlate(vehicleId, plate);
        _vehicleOfVin[vinCommitment] = vehicleId;
        _vehicles[vehicleId] =
            Vehicle({plate: plate, vehicleClass: VehicleClass(vehicleClass), status: VehicleStatus.Active});
        // _mint, not _safeMint: no call into the owner's code while registering; the registrar chose the owner.
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
        emit MetadataUpdate(vehicleId);
    }

    /// @inheritdoc IVehicleRegistry
    function setStatus(uint256 vehicleId, uint8 newStatus, uint32 reasonCode) external onlyRole(REGULATOR_ROLE) {
        Vehicle storage record = _existingVehicle(vehicleId);
        if (newStatus > uint8(type(VehicleStatus).max)) revert VehicleRegistryInvalidStatus(newStatus);
        VehicleStatus current = record.status;
        VehicleStatus requested = VehicleStatus(newStatus);
        if (requested == VehicleStatus.None || requested == current || current == VehicleStatus.Scrapped) {
            revert VehicleRegistryInvalidStatusChange(vehicleId, current, requested);
        }
        record.status = requested;
        emit VehicleStatusChanged(vehicleId, current, requested, reasonCode);
        emit MetadataUpdate(vehicleId);
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
    function resolvePlates(address[] calldata plates)
        external
        view
        returns (uint256[] memory vehicleIds, bool[] memory revoked)
    {
        uint256 count = plates.length;
        vehicleIds = new uint256[](count);
        revoked = new bool[](count);
        for (uint256 i; i < count; ++i) {
            PlateRecord memory plateRecord = _plates[plates[i]];
            if (plateRecord.revoked) revoked[i] = true;
            else vehicleIds[i] = plateRecord.vehicleId;
        }
    }

    /// @inheritdoc IVehicleRegistry
    function isPlateSignature(uint256 vehicleId, bytes32 digest, bytes calldata signature)
        external
        view
        returns (bool)
    {
        address plate = _vehicles[vehicleId].plate;
        if (plate == address(0)) return false;
        // tryRecover refuses high-s, wrong-length and unrecoverable signatures instead of reverting.
        (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecoverCalldata(digest, signature);
        return recoverError == ECDSA.RecoverError.NoError && signer == plate;
    }

    /// @inheritdoc IVehicleRegistry
    function totalVehicles() external view returns (uint256) {
        // _nextVehicleId starts at 1 and only grows.
        unchecked {
            return _nextVehicleId - 1;
        }
    }

    /// @notice The passport's metadata, built on-chain: a base64 JSON data URI with the vehicle's name, class,
    /// status and current plate key. No off-chain server is involved, and the VIN (private) is not part of it.
    /// @dev Reverts with {IERC721Errors-ERC721NonexistentToken} for an unknown id.
    /// @inheritdoc ERC721
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        Vehicle storage record = _vehicles[tokenId];
        // Long literals cost deployment bytes only: metadata is read off-chain through eth_call, never in a transaction.
        // solhint-disable gas-small-strings
        string memory json = string.concat(
            "{\"name\":\"platechain vehicle #",
            tokenId.toString(),
            "\",\"description\":\"Vehicle passport of the platechain VehicleRegistry: the vehicle's on-chain identity,",
            " bound to the key inside its electronic licence plate.\",\"attributes\":[{\"trait_type\":\"Class\",",
            "\"value\":\"",
            _className(record.vehicleClass),
            "\"},{\"trait_type\":\"Status\",\"value\":\"",
            _statusName(record.status),
            "\"},{\"trait_type\":\"Plate key\",\"value\":\"",
            record.plate.toChecksumHexString(),
            "\"}]}"
        );
        // solhint-enable gas-small-strings
        return string.concat("data:application/json;base64,", Base64.encode(bytes(json)));
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, AccessControlDefaultAdminRules, IERC165)
        returns (bool)
    {
        return interfaceId == type(IVehicleRegistry).interfaceId || interfaceId == _ERC4906_INTERFACE_ID
            || super.supportsInterface(interfaceId);
    }

    /// @dev Every passport movement passes here. Minting (no previous owner) happens only in {registerVehicle};
    /// every later move, whoever makes it, needs an active vehicle. There is no burn path.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        if (_ownerOf(tokenId) != address(0)) {
            VehicleStatus status = _vehicles[tokenId].status;
            if (status != VehicleStatus.Active) revert VehicleRegistryVehicleNotActive(tokenId, status);
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
        // Safe cast: vehicleId comes from the uint96 counter.
        plateRecord.vehicleId = uint96(vehicleId);
    }

    /// @dev The stored vehicle, or a revert naming the id when none was registered under it.
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

    function _className(VehicleClass vehicleClass) private pure returns (string memory) {
        string[6] memory names = ["Motorcycle", "Car", "Van", "Truck", "Bus", "Emergency"];
        return names[uint8(vehicleClass)];
    }

    function _statusName(VehicleStatus status) private pure returns (string memory) {
        string[5] memory names = ["None", "Active", "Suspended", "Stolen", "Scrapped"];
        return names[uint8(status)];
    }
}
