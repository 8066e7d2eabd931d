// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ITokenHooks
/// @notice What {HostileToken} calls on an account that asked for hooks, as ERC-777's `tokensToSend` and
/// `tokensReceived` do: code of the sender runs before its tokens leave, code of the recipient after they arrive.
interface ITokenHooks {
    /// @notice Called on `from` before `amount` moves from `from` to `to`.
    function beforeTokenSent(address from, address to, uint256 amount) external;

    /// @notice Called on `to` after `amount` moved from `from` to `to`.
    function afterTokenReceived(address from, address to, uint256 amount) external;
}

/// @title HostileToken
/// @notice Test-only ERC-20 that misbehaves on request, to show the toll escrow cannot be robbed or corrupted by the
/// token it is deployed with: it calls back into accounts that asked for hooks (re-entrancy), can skim a fee on every
/// transfer (the escrow must notice it received less than asked), and can report failure by returning false instead
/// of reverting (SafeERC20 must turn that into a revert).
/// @dev Never deploy outside tests. Anyone may mint and configure it: it stands for a token an attacker controls.
contract HostileToken is ERC20 {
    /// @notice Accounts whose code runs on their transfers.
    mapping(address account => bool enabled) public hooked;

    /// @notice Share of every transfer burnt on the way, in basis points (fee-on-transfer behaviour).
    uint256 public feeBasisPoints;

    /// @notice When set, `transfer` and `transferFrom` move nothing and return false.
    bool public failSilently;

    /// @notice The token's configuration changed.
    event HostileTokenConfigured(uint256 feeBasisPoints, bool failSilently);

    /// @notice `account` asked for (`enabled`) or dropped its transfer hooks.
    event HostileTokenHookSet(address indexed account, bool enabled);

    /// @notice A fee above 100% was asked for.
    error HostileTokenInvalidFee(uint256 feeBasisPoints);

    constructor() ERC20("Hostile Test Token", "HOSTILE") {}

    /// @notice Mints `amount` to `to`; open to anyone.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Turns the calling account's transfer hooks on or off.
    /// @dev Emits a {HostileTokenHookSet} event.
    function setHooked(bool enabled) external {
        hooked[msg.sender] = enabled;
        emit HostileTokenHookSet(msg.sender, enabled);
    }

    /// @notice Sets the fee skimmed per transfer and whether transfers fail silently.
    /// @dev Requirements: `feeBasisPoints_` at most 10,000. Emits a {HostileTokenConfigured} event.
    function configure(uint256 feeBasisPoints_, bool failSilently_) external {
        if (feeBasisPoints_ > 10_000) revert HostileTokenInvalidFee(feeBasisPoints_);
        feeBasisPoints = feeBasisPoints_;
        failSilently = failSilently_;
        emit HostileTokenConfigured(feeBasisPoints_, failSilently_);
    }

    /// @notice 6, like the stablecoins the escrow is meant for (it refuses tokens with more than 9 decimals).
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (failSilently) return false;
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (failSilently) return false;
        return super.transferFrom(from, to, value);
    }

    /// @dev Runs the sender's hook, moves the tokens less the fee (burnt), then runs the recipient's hook.
    function _update(address from, address to, uint256 value) internal override {
        if (hooked[from]) ITokenHooks(from).beforeTokenSent(from, to, value);
        uint256 fee = (value * feeBasisPoints) / 10_000;
        if (fee != 0 && from != address(0) && to != address(0)) {
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
        if (hooked[to]) ITokenHooks(to).afterTokenReceived(from, to, value);
    }
}
