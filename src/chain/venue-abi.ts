// The venue events the tracker decodes (SPEC section 2, ABI v1), written from the SPEC
// rather than taken from the compiled contract: any contract emitting these is a venue.
// test/unit/chain/venue-abi.test.ts proves contracts/Venue.sol declares exactly these.
import { parseAbi } from 'viem';

export const venueAbi = parseAbi([
  'event MarketListed(bytes32 indexed marketId, bytes32 indexed underlying, uint8 kind, uint256 strike, uint64 expiry, uint256 initialMarginFraction, uint256 maintenanceMarginFraction, uint64 fundingInterval, uint256 maxFundingRate)',
  'event MarginFractionsUpdated(bytes32 indexed marketId, uint256 initialMarginFraction, uint256 maintenanceMarginFraction)',
  'event Deposited(address indexed owner, uint32 indexed subaccount, uint256 amount)',
  'event Withdrawn(address indexed owner, uint32 indexed subaccount, uint256 amount)',
  'event Filled(bytes32 indexed marketId, address indexed owner, uint32 indexed subaccount, int256 sizeDelta, uint256 price, uint256 fee)',
  'event Liquidated(bytes32 indexed marketId, address indexed owner, uint32 indexed subaccount, address liquidator, int256 sizeDelta, uint256 price, uint256 penalty)',
  'event PriceReported(bytes32 indexed underlying, address indexed source, uint256 price)',
  'event VolatilityReported(bytes32 indexed marketId, uint256 impliedVolatility)',
] as const);

export const venueEventNames = [
  'MarketListed',
  'MarginFractionsUpdated',
  'Deposited',
  'Withdrawn',
  'Filled',
  'Liquidated',
  'PriceReported',
  'VolatilityReported',
] as const;

export type VenueEventName = (typeof venueEventNames)[number];
