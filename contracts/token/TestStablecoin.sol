// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestStablecoin
/// @notice A USDC-like test token for local networks and testnets: 6 decimals, EIP-2612 permit, and a mint gated to
/// `MINTER_ROLE`. It has no value and must never be deployed to a network where real money moves.
/// @dev Minting is role-gated rather than owner-gated so a faucet contract or a simulator key can hold the minter role
/// next to the deployer, and the admin can revoke it, without handing over control of the token.
contract TestStablecoin is ERC20, ERC20Permit, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (grants and revokes minters) and `MINTER_ROLE`.
    constructor(address admin) ERC20("platechain Test USD", "tUSD") ERC20Permit("platechain Test USD") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Mints `amount` (6-decimal units) to `to`.
    /// @dev Requirements: the caller holds `MINTER_ROLE`; `to` non-zero. Emits an ERC-20 {Transfer} event.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @notice 6, like USDC.
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
