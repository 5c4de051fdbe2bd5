// The legitimate heavy analytics query the limits are calibrated on (protection.test.ts,
// test/integration/graphql/server.test.ts).
const MARKET = `id underlying kind strike expiry initialMarginFraction maintenanceMarginFraction indexPrice indexPriceStale
  impliedVolatility cumulativeFunding lastFundingRate fundingInterval maxFundingRate lastFillPrice value openInterest
  shortInterest longCount shortCount settlementPrice settledBlock listedBlock venue`;
const POSITION = `id size entryPrice markPrice value notional unrealizedPnl realizedPnl accruedFunding settledFunding feesPaid
  initialMargin maintenanceMargin liquidationPrice delta gamma theta vega open openedBlock closedBlock`;
const ACCOUNT = `id owner subaccount collateral equity initialMargin maintenanceMargin freeCollateral marginRatio leverage marginState
  notional unrealizedPnl accruedFunding createdBlock updatedBlock
  greeks { underlying indexPrice delta gamma theta vega notional liquidationPrice }`;
/** Every scalar and risk field of a whole page of accounts, their positions and markets. */
export const HEAVY_QUERY = `query Export { accounts(first: 1000) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { ${ACCOUNT} positions { ${POSITION} market { ${MARKET} } } } } } }`;

