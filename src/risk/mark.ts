import { fromFloat, toFloat, type Fixed } from '../fixed/index.js';
import type { MarketKind } from '../ledger/events.js';
import { blackScholes, type OptionInputs } from './black-scholes.js';

export const SECONDS_PER_YEAR = 365 * 86_400;

/** What valuing a market needs. */
export interface MarketTerms {
  kind: MarketKind;
  strike: Fixed;
  expiry: number;
  impliedVolatility: Fixed | null;
}

export interface Greeks {
  delta: number;
  gamma: number;
  theta: number;
  vega: number;
}

/** One unit of a market, valued at one block. */
export interface Mark {
  /** The underlying's index price M; null before its first report. */
  indexPrice: Fixed | null;
  /** Value of one unit: M for a perpetual, the Black-Scholes value for an option; null without M. */
  value: Fixed | null;
  /** Per unit (SPEC section 4 units: theta per calendar day, vega per volatility point). */
  greeks: Greeks;
}

const PERPETUAL_GREEKS: Greeks = { delta: 1, gamma: 0, theta: 0, vega: 0 };
const NO_GREEKS: Greeks = { delta: 0, gamma: 0, theta: 0, vega: 0 };

/**
 * Values one unit of a market at block time `now`. Options use Black-Scholes with no
 * dividend, the market's latest implied volatility (0 before any report: the deterministic
 * limit), risk-free rate `riskFreeRate` and T = (expiry - now) / 365 days, in float64 as
 * SPEC section 1 allows; the value comes back as an exact Fixed.
 */
export function markOf(market: MarketTerms, indexPrice: Fixed | null, now: number, riskFreeRate: Fixed): Mark {
  if (market.kind === 'PERPETUAL') return { indexPrice, value: indexPrice, greeks: PERPETUAL_GREEKS };
  if (indexPrice === null || indexPrice <= 0n) return { indexPrice, value: null, greeks: NO_GREEKS };
  const priced = optionAt(market, toFloat(indexPrice), now, riskFreeRate);
  return { indexPrice, value: fromFloat(priced.value), greeks: priced };
}

/** The float64 Black-Scholes evaluation behind `markOf`, at a hypothetical spot. */
export function optionAt(market: MarketTerms, spot: number, now: number, riskFreeRate: Fixed) {
  return blackScholes(optionInputs(market, spot, now, riskFreeRate));
}

/** Black-Scholes inputs of one unit of an option market at `spot` and block time `now` (SPEC section 3). */
export function optionInputs(market: MarketTerms, spot: number, now: number, riskFreeRate: Fixed): OptionInputs {
  return {
    kind: market.kind === 'CALL' ? 'CALL' : 'PUT',
    spot,
    strike: toFloat(market.strike),
    volatility: market.impliedVolatility === null ? 0 : toFloat(market.impliedVolatility),
    years: Math.max(0, market.expiry - now) / SECONDS_PER_YEAR,
    rate: toFloat(riskFreeRate),
  };
}

/** Every market's mark at block time `now`, each from its underlying's index price. */
export function marksOf<M extends MarketTerms & { id: string; underlying: string }>(
  markets: Iterable<M>,
  indexPrice: (underlying: string) => Fixed | null,
  now: number,
  riskFreeRate: Fixed,
): Map<string, Mark> {
  const marks = new Map<string, Mark>();
  for (const market of markets) marks.set(market.id, markOf(market, indexPrice(market.underlying), now, riskFreeRate));
  return marks;
}
