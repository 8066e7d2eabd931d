// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @title PassportReceiver
/// @notice Test-only contract that accepts ERC-721 safe transfers (a fleet operator's contract wallet, say) and
/// reports each one, so tests can check what `safeTransferFrom` hands over.
contract PassportReceiver is IERC721Receiver {
    /// @notice A passport arrived through a safe transfer.
    event PassportReceived(address operator, address from, uint256 tokenId, bytes data);

    /// @inheritdoc IERC721Receiver
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4)
    {
        emit PassportReceived(operator, from, tokenId, data);
        return IERC721Receiver.onERC721Received.selector;
    }
}
