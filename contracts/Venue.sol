// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Reference venue (SPEC section 2, ABI v1)
/// @notice The tracker's devnet/demo/test venue. It holds no funds and keeps no market
/// state: its job is to emit exactly the SPEC events, cheaply. Nothing is validated
/// against markets on purpose, so tests can emit events for unknown markets, zero
/// prices, over-withdrawals and the like, which the tracker must handle itself.
/// Only the SPEC events are declared: any other event would reach the tracker as an
/// unknown log.
contract Venue {
    event MarketListed(bytes32 indexed marketId, bytes32 indexed underlying, uint8 kind,
        uint256 strike, uint64 expiry, uint256 initialMarginFraction,
        uint256 maintenanceMarginFraction, uint64 fundingInterval, uint256 maxFundingRate);
    event MarginFractionsUpdated(bytes32 indexed marketId, uint256 initialMarginFraction,
        uint256 maintenanceMarginFraction);
    event Deposited(address indexed owner, uint32 indexed subaccount, uint256 amount);
    event Withdrawn(address indexed owner, uint32 indexed subaccount, uint256 amount);
    event Filled(bytes32 indexed marketId, address indexed owner, uint32 indexed subaccount,
        int256 sizeDelta, uint256 price, uint256 fee);
    event Liquidated(bytes32 indexed marketId, address indexed owner, uint32 indexed subaccount,
        address liquidator, int256 sizeDelta, uint256 price, uint256 penalty);
    event PriceReported(bytes32 indexed underlying, address indexed source, uint256 price);
    event VolatilityReported(bytes32 indexed marketId, uint256 impliedVolatility);

    error NotOwner();
    error NotReporter();
    error ZeroAddress();
    error SizeTooLarge();

    address public owner;
    /// Oracle reporters besides the owner; each is a separate PriceReported `source`.
    mapping(address => bool) public reporters;

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        owner = newOwner;
    }

    function setReporter(address reporter, bool allowed) external onlyOwner {
        reporters[reporter] = allowed;
    }

    // ---- markets and oracle ----

    function listMarket(bytes32 marketId, bytes32 underlying, uint8 kind, uint256 strike, uint64 expiry,
        uint256 imf, uint256 mmf, uint64 fundingInterval, uint256 maxFundingRate) external onlyOwner {
        emit MarketListed(marketId, underlying, kind, strike, expiry, imf, mmf, fundingInterval, maxFundingRate);
    }

    function updateMarginFractions(bytes32 marketId, uint256 imf, uint256 mmf) external onlyOwner {
        emit MarginFractionsUpdated(marketId, imf, mmf);
    }

    /// The caller is the price source: the tracker takes the median over sources.
    function reportPrice(bytes32 underlying, uint256 price) external {
        if (msg.sender != owner && !reporters[msg.sender]) revert NotReporter();
        emit PriceReported(underlying, msg.sender, price);
    }

    function reportVolatility(bytes32 marketId, uint256 iv) external onlyOwner {
        emit VolatilityReported(marketId, iv);
    }

    // ---- trading ----

    /// A matched trade: the buyer's fill first (+size), then the seller's (-size).
    function settleTrade(bytes32 marketId, address buyer, uint32 buyerSub, address seller, uint32 sellerSub,
        uint256 size, uint256 price, uint256 buyerFee, uint256 sellerFee) external onlyOwner {
        // uint256 -> int256 conversion wraps silently in Solidity; refuse instead.
        if (size > uint256(type(int256).max)) revert SizeTooLarge();
        emit Filled(marketId, buyer, buyerSub, int256(size), price, buyerFee);
        emit Filled(marketId, seller, sellerSub, -int256(size), price, sellerFee);
    }

    /// The victim's Liquidated event, then the liquidator's fill taking the other side.
    function liquidate(bytes32 marketId, address victim, uint32 subaccount, address liquidator,
        uint32 liquidatorSub, int256 sizeDelta, uint256 price, uint256 penalty) external onlyOwner {
        emit Liquidated(marketId, victim, subaccount, liquidator, sizeDelta, price, penalty);
        emit Filled(marketId, liquidator, liquidatorSub, -sizeDelta, price, 0);
    }

    /// A single raw fill (one side only), for tests and benchmarks.
    function emitFill(bytes32 marketId, address trader, uint32 sub, int256 sizeDelta, uint256 price, uint256 fee)
        external onlyOwner {
        emit Filled(marketId, trader, sub, sizeDelta, price, fee);
    }

    // ---- collateral (no token: only the events the tracker books) ----

    function deposit(uint32 subaccount, uint256 amount) external {
        emit Deposited(msg.sender, subaccount, amount);
    }

    /// Not checked against deposits: the tracker must apply over-withdrawals (SPEC 2).
    function withdraw(uint32 subaccount, uint256 amount) external {
        emit Withdrawn(msg.sender, subaccount, amount);
    }

    /// Lets the demo fund many traders without a transaction from each.
    function depositFor(address trader, uint32 sub, uint256 amount) external onlyOwner {
        emit Deposited(trader, sub, amount);
    }

    // ---- many events per transaction ----

    /// Owner-only multicall: each entry is ABI-encoded calldata for a function of this
    /// contract, run by delegatecall to self so msg.sender (the owner) is kept and
    /// the events are emitted from this address. The first failure reverts all.
    function batch(bytes[] calldata calls) external onlyOwner {
        for (uint256 i; i < calls.length; ++i) {
            (bool ok, bytes memory ret) = address(this).delegatecall(calls[i]);
            if (!ok) {
                assembly ("memory-safe") { revert(add(ret, 32), mload(ret)) }
            }
        }
    }
}
