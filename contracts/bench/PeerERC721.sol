// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title PeerERC721
/// @notice Benchmark peer: a plain OpenZeppelin ERC-721 with an open mint, so `npm run bench` can set the cost of
/// registering a vehicle (which mints a passport) next to a bare NFT mint. Never deployed outside the benchmark.
contract PeerERC721 is ERC721 {
    constructor() ERC721("Peer NFT", "PEERNFT") {}

    /// @notice Mints token `tokenId` to `to`; anyone may call (benchmark only).
    /// @dev Reverts as OpenZeppelin's `_mint` does for the zero address or an existing id. Emits {Transfer}.
    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}
