import { abs, fromFloat, mul, wide, type Fixed, type Wide } from '../fixed/index.js';
import type { Mark, MarketTerms } from './mark.js';

export interface PositionTerms {
  size: Fixed;
  entryPrice: Fixed | null;
  fundingSnapshot: Fixed;
}

export interface MarketRiskTerms extends MarketTerms {
  initialMarginFraction: Fixed;
  maintenanceMarginFraction: Fixed;
  cumulativeFunding: Fixed;
}

/** SPEC section 4, per position, exact (`Wide`: round with `narrow` to serve). */
export interface PositionRisk {
  notional: Wide;
  unrealizedPnl: Wide;
  accruedFunding: Wide;
  initialMargin: Wide;
  maintenanceMargin: Wide;
  /** What the position adds to account equity: perpetual uPnL + accrued funding; option s * value. */
  equity: Wide;
}

/**
 * Risk of one position at a mark. Before the first index report of its underlying a
 * perpetual is marked at its entry price, and an option at its entry premium with the
 * strike standing in for M in its margin: the trade is known, its mark is not yet.
 */
export function positionRisk(position: PositionTerms, market: MarketRiskTerms, mark: Mark): PositionRisk {
  const size = position.size;
  const entry = position.entryPrice ?? 0n;
  const absSize = abs(size);
  if (market.kind === 'PERPETUAL') {
    const price = mark.indexPrice ?? entry;
    const unrealizedPnl = wide.product(size, price - entry);
    const accruedFunding = wide.product(-size, market.cumulativeFunding - position.fundingSnapshot);
    return {
      notional: wide.product(absSize, price),
      unrealizedPnl,
      accruedFunding,
      initialMargin: wide.product3(absSize, price, market.initialMarginFraction),
      maintenanceMargin: wide.product3(absSize, price, market.maintenanceMarginFraction),
      equity: unrealizedPnl + accruedFunding,
    };
  }
  const price = mark.indexPrice ?? market.strike;
  const value = mark.value ?? entry;
  const short = size < 0n;
  return {
    notional: wide.product(absSize, price),
    unrealizedPnl: wide.product(size, value - entry),
    accruedFunding: 0n,
    initialMargin: short ? wide.product3(absSize, price, market.initialMarginFraction) : 0n,
    maintenanceMargin: short ? wide.product3(absSize, price, market.maintenanceMarginFraction) : 0n,
    equity: wide.product(size, value),
  };
}

/** What a margin state is decided on (SPEC section 4), exact. */
export interface Margins {
  equity: Wide;
  initialMargin: Wide;
  maintenanceMargin: Wide;
}

/** Running sums of `addMargins` over an account's positions; `marginsOf` completes them. */
export interface MarginSums {
  /** Sum of what positions add to equity as two-factor products (36 decimals): scaled once, in `marginsOf`. */
  equityProducts: bigint;
  initialMargin: Wide;
  maintenanceMargin: Wide;
}

/**
 * Adds a position's equity and margins to `sums`: with `marginsOf`, the same exact
 * amounts as `positionRisk` (test/unit/risk/position.test.ts), without the rest and
 * without allocating. The ledger re-decides the state of every holder of a market whose
 * index moved, which on a busy venue is every account on every block; the regrouped
 * products (s(M - E) - s(F - f) as one, |s|M once for both margins, one scaling per
 * account) are exact integers, so equal.
 */
export function addMargins(sums: MarginSums, position: PositionTerms, market: MarketRiskTerms, mark: Mark): void {
  const size = position.size;
  const entry = position.entryPrice ?? 0n;
  if (market.kind === 'PERPETUAL') {
    const price = mark.indexPrice ?? entry;
    sums.equityProducts += size * (price - entry - (market.cumulativeFunding - position.fundingSnapshot));
    const exposure = abs(size) * price;
    sums.initialMargin += exposure * market.initialMarginFraction;
    sums.maintenanceMargin += exposure * market.maintenanceMarginFraction;
    return;
  }
  sums.equityProducts += size * (mark.value ?? entry);
  if (size < 0n) {
    const exposure = -size * (mark.indexPrice ?? market.strike);
    sums.initialMargin += exposure * market.initialMarginFraction;
    sums.maintenanceMargin += exposure * market.maintenanceMarginFraction;
  }
}

/** An account's equity and margins from its collateral and the sums over its positions. */
export function marginsOf(collateral: Fixed, sums: MarginSums): Margins {
  return {
    equity: wide.of(collateral) + wide.ofProducts(sums.equityProducts),
    initialMargin: sums.initialMargin,
    maintenanceMargin: sums.maintenanceMargin,
  };
}

export interface PositionGreeks {
  delta: Fixed;
  gamma: Fixed;
  theta: Fixed;
  vega: Fixed;
}

/** Greeks of a position: the per-unit Greeks of its mark times its size (a perpetual: delta = s). */
export function positionGreeks(size: Fixed, kind: MarketTerms['kind'], mark: Mark): PositionGreeks {
  if (kind === 'PERPETUAL') return { delta: size, gamma: 0n, theta: 0n, vega: 0n };
  const g = mark.greeks;
  return {
    delta: mul(size, fromFloat(g.delta)),
    gamma: mul(size, fromFloat(g.gamma)),
    theta: mul(size, fromFloat(g.theta)),
    vega: mul(size, fromFloat(g.vega)),
  };
}
