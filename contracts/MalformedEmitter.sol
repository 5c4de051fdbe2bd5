// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Emits malformed venue logs, for tests of the tracker's anomaly handling.
/// @notice Configure its address as a venue: its logs look like venue events by topic0
/// but cannot be decoded with the SPEC section 2 ABI.
contract MalformedEmitter {
    /// topic0 of `Filled(bytes32,address,uint32,int256,uint256,uint256)`.
    bytes32 public constant FILLED_TOPIC =
        keccak256("Filled(bytes32,address,uint32,int256,uint256,uint256)");

    /// A Filled log with the right four topics but 32 bytes of data instead of 96.
    function emitShortFill(bytes32 marketId, address trader, uint32 subaccount, int256 sizeDelta) external {
        bytes32 topic0 = FILLED_TOPIC;
        assembly ("memory-safe") {
            mstore(0, sizeDelta)
            log4(0, 32, topic0, marketId, trader, subaccount)
        }
    }

    /// Any log: 0 to 4 topics and arbitrary data (e.g. a Filled topic0 with 3 topics).
    function emitRaw(bytes32[] calldata topics, bytes calldata data) external {
        uint256 n = topics.length;
        require(n <= 4, "at most 4 topics");
        bytes memory payload = data;
        assembly ("memory-safe") {
            let p := add(payload, 32)
            let len := mload(payload)
            let t := topics.offset
            switch n
            case 0 { log0(p, len) }
            case 1 { log1(p, len, calldataload(t)) }
            case 2 { log2(p, len, calldataload(t), calldataload(add(t, 32))) }
            case 3 { log3(p, len, calldataload(t), calldataload(add(t, 32)), calldataload(add(t, 64))) }
            default {
                log4(p, len, calldataload(t), calldataload(add(t, 32)), calldataload(add(t, 64)),
                    calldataload(add(t, 96)))
            }
        }
    }
}
