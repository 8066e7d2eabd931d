// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PeerERC20
/// @notice Benchmark peer: a plain OpenZeppelin ERC-20, so `npm run bench` can set platechain's gas figures next to
/// the cost of an ordinary token transfer measured in the same run. Never deployed outside the benchmark.
contract PeerERC20 is ERC20 {
    /// @param initialHolder Receives the whole supply.
    /// @param supply The fixed supply, in the token's smallest unit.
    constructor(address initialHolder, uint256 supply) ERC20("Peer Token", "PEER") {
        _mint(initialHolder, supply);
    }
}
