// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

import {ITokenHooks} from "./HostileToken.sol";

/// @title HostileReceiver
/// @notice Test-only contract wallet of an attacker: it owns passports, pays in and takes out money through
/// {execute}, and whenever code of its own runs during someone else's call (a passport arriving by `safeTransferFrom`,
/// a {HostileToken} transfer hook) it re-enters with the calls it was armed with. Every attempt is recorded so tests
/// can show each one was refused (or did only what was allowed).
/// @dev Never deploy outside tests. Armed calls fire once: the first callback consumes them, so a re-entrant call
/// that itself triggers a callback does not loop forever.
contract HostileReceiver is IERC721Receiver, ITokenHooks {
    /// @notice A call to make from inside a callback.
    struct ArmedCall {
        address target;
        bytes data;
    }

    /// @notice What one re-entry attempt did.
    struct Attempt {
        address target;
        bytes4 selector;
        bool success;
        bytes returnData;
    }

    /// @notice The account that may make this contract act ({execute}, {arm}).
    address public immutable CONTROLLER;

    ArmedCall[] private _armed;
    Attempt[] private _attempts;

    /// @notice A re-entrant call was attempted from inside a callback.
    event ReentryAttempted(address indexed target, bytes4 selector, bool success, bytes returnData);

    /// @notice Someone other than the controller tried to make this contract act.
    error HostileReceiverNotController(address caller);

    constructor() {
        CONTROLLER = msg.sender;
    }

    /// @notice Makes a call as this contract and bubbles up its revert.
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        _checkController();
        bool success;
        // A contract wallet forwards arbitrary calls by design.
        // solhint-disable-next-line avoid-low-level-calls
        (success, result) = target.call(data);
        if (!success) {
            // Re-throws the callee's revert data unchanged.
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    /// @notice Replaces the calls to make on the next callback.
    function arm(address[] calldata targets, bytes[] calldata data) external {
        _checkController();
        delete _armed;
        for (uint256 i; i < targets.length; ++i) {
            _armed.push(ArmedCall({target: targets[i], data: data[i]}));
        }
    }

    /// @inheritdoc IERC721Receiver
    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        _fire();
        return IERC721Receiver.onERC721Received.selector;
    }

    /// @inheritdoc ITokenHooks
    function beforeTokenSent(address, address, uint256) external {
        _fire();
    }

    /// @inheritdoc ITokenHooks
    function afterTokenReceived(address, address, uint256) external {
        _fire();
    }

    /// @notice How many re-entries were attempted.
    function attemptCount() external view returns (uint256) {
        return _attempts.length;
    }

    /// @notice The re-entry attempt number `index` (from 0).
    function attempt(uint256 index) external view returns (Attempt memory) {
        return _attempts[index];
    }

    /// @notice How many calls are armed for the next callback.
    function armedCount() external view returns (uint256) {
        return _armed.length;
    }

    /// @dev Makes the armed calls, each allowed to fail, and records what happened.
    function _fire() private {
        ArmedCall[] memory calls = _armed;
        delete _armed;
        for (uint256 i; i < calls.length; ++i) {
            // The attack is an arbitrary re-entrant call.
            // solhint-disable-next-line avoid-low-level-calls
            (bool success, bytes memory returnData) = calls[i].target.call(calls[i].data);
            bytes4 selector = bytes4(calls[i].data);
            _attempts.push(
                Attempt({target: calls[i].target, selector: selector, success: success, returnData: returnData})
            );
            emit ReentryAttempted(calls[i].target, selector, success, returnData);
        }
    }

    function _checkController() private view {
        if (msg.sender != CONTROLLER) revert HostileReceiverNotController(msg.sender);
    }
}
