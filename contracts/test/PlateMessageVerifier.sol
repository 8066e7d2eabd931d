// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";

/// @title PlateMessageVerifier
/// @notice Test-only consumer of {IVehicleRegistry-isPlateSignature}: it builds its own EIP-712 digest, as the toll
/// escrow and the driving-record ledger do, and asks the registry whether the vehicle's current plate signed it.
/// @dev The message is `PlateMessage(uint256 vehicleId,bytes32 payload)` in the domain
/// { name: "platechain PlateMessageVerifier", version: "1", chainId, verifyingContract: this }.
contract PlateMessageVerifier is EIP712 {
    // Hashed at compile time: the long string never reaches the bytecode.
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant PLATE_MESSAGE_TYPEHASH = keccak256("PlateMessage(uint256 vehicleId,bytes32 payload)");

    IVehicleRegistry public immutable REGISTRY;

    /// @param registry The registry whose plate keys sign the messages.
    constructor(IVehicleRegistry registry) EIP712("platechain PlateMessageVerifier", "1") {
        REGISTRY = registry;
    }

    /// @notice Whether the current plate of `vehicleId` signed `PlateMessage(vehicleId, payload)` for this contract.
    function isSignedByPlate(uint256 vehicleId, bytes32 payload, bytes calldata signature)
        external
        view
        returns (bool)
    {
        return REGISTRY.isPlateSignature(vehicleId, digest(vehicleId, payload), signature);
    }

    /// @notice The EIP-712 digest of `PlateMessage(vehicleId, payload)` in this contract's domain.
    function digest(uint256 vehicleId, bytes32 payload) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(PLATE_MESSAGE_TYPEHASH, vehicleId, payload)));
    }
}
