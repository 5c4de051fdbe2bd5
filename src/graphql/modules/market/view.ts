import type { Fixed } from '../../../fixed/index.js';
import type { Market } from '../../../ledger/index.js';
import type { Mark } from '../../../risk/mark.js';
import type { UnderlyingRow } from '../underlying/sql.js';

/**
 * A market at the served block: the parent of `Market` fields, its row with the fields it
 * lacks or stores differently under their GraphQL names. graphql-jit reads a field without
 * a resolver as a plain property instead of calling a resolver per field and market; the
 * open interest and holder counts (a statement of their own) and the connections keep
 * their resolvers. Built once per block (risk.ts).
 */
export interface MarketView extends Omit<Market, 'strike' | 'expiry' | 'fundingInterval' | 'maxFundingRate'> {
  // Terms that only one kind has are null on the other (stored as 0).
  strike: Fixed | null;
  expiry: number | null;
  fundingInterval: number | null;
  maxFundingRate: Fixed | null;
  indexPrice: Fixed | null;
  indexPriceStale: boolean;
  value: Fixed | null;
}

/** `market` with its underlying's row (if an oracle has reported it) and its mark. */
export function marketView(market: Market, index: UnderlyingRow | undefined, mark: Mark | undefined): MarketView {
  const perpetual = market.kind === 'PERPETUAL';
  return {
    ...market,
    strike: perpetual ? null : market.strike,
    expiry: perpetual ? null : market.expiry,
    fundingInterval: perpetual ? market.fundingInterval : null,
    maxFundingRate: perpetual ? market.maxFundingRate : null,
    indexPrice: index?.indexPrice ?? null,
    indexPriceStale: index?.indexStale ?? true,
    value: mark?.value ?? null,
  };
}
