import type { Fixed } from '../../../fixed/index.js';
import type { Market, MarketKind } from '../../../ledger/index.js';
import type { Mark } from '../../../risk/mark.js';
import type { UnderlyingRow } from '../underlying/sql.js';

/**
 * A market at the served block: the parent of `Market` fields. Like PositionView it holds
 * the fields under their GraphQL names, so that graphql-jit reads them as properties
 * instead of calling a resolver per field and market; the open interest and holder counts
 * (a statement of their own) and the connections keep their resolvers.
 */
export class MarketView {
  constructor(
    readonly market: Market,
    /** Its underlying's row (index price), if an oracle has reported it. */
    private readonly index: UnderlyingRow | undefined,
    private readonly mark: Mark | undefined,
  ) {}

  private get perpetual(): boolean {
    return this.market.kind === 'PERPETUAL';
  }

  get id(): string {
    return this.market.id;
  }
  get underlying(): string {
    return this.market.underlying;
  }
  get kind(): MarketKind {
    return this.market.kind;
  }
  // Terms that only one kind has are null on the other (stored as 0).
  get strike(): Fixed | null {
    return this.perpetual ? null : this.market.strike;
  }
  get expiry(): number | null {
    return this.perpetual ? null : this.market.expiry;
  }
  get fundingInterval(): number | null {
    return this.perpetual ? this.market.fundingInterval : null;
  }
  get maxFundingRate(): Fixed | null {
    return this.perpetual ? this.market.maxFundingRate : null;
  }
  get initialMarginFraction(): Fixed {
    return this.market.initialMarginFraction;
  }
  get maintenanceMarginFraction(): Fixed {
    return this.market.maintenanceMarginFraction;
  }
  get indexPrice(): Fixed | null {
    return this.index?.indexPrice ?? null;
  }
  get indexPriceStale(): boolean {
    return this.index?.indexStale ?? true;
  }
  get impliedVolatility(): Fixed | null {
    return this.market.impliedVolatility;
  }
  get cumulativeFunding(): Fixed {
    return this.market.cumulativeFunding;
  }
  get lastFundingRate(): Fixed | null {
    return this.market.lastFundingRate;
  }
  get lastFillPrice(): Fixed | null {
    return this.market.lastFillPrice;
  }
  get value(): Fixed | null {
    return this.mark?.value ?? null;
  }
  get settlementPrice(): Fixed | null {
    return this.market.settlementPrice;
  }
  get settledBlock(): number | null {
    return this.market.settledBlock;
  }
  get listedBlock(): number {
    return this.market.listedBlock;
  }
  get venue(): string {
    return this.market.venue;
  }
}
