/**
 * The marks of a shocked block (SPEC section 8, ShockInput): each shocked underlying's index
 * becomes M * (1 + priceMove), rounded half to even to 18 decimals; `volatilityMove` is
 * added to the implied volatility of every option on it; nothing else moves (time,
 * funding, collateral), so every market is valued again at the block's own time.
 */
import { mul, ONE, type Fixed } from '../../../fixed/index.js';
import type { Market } from '../../../ledger/index.js';
import { markOf } from '../../../risk/mark.js';
import type { RequestContext } from '../../context.js';
import { badUserInput } from '../../pagination.js';
import type { Marked } from '../../risk-engine/stress.js';

export interface Shock {
  underlying: string;
  priceMove: Fixed;
  volatilityMove?: Fixed | null;
}

/** The block's markets and marks, and the same after the shocks. */
export async function shockedMarks(ctx: RequestContext, shocks: readonly Shock[]): Promise<{ now: Marked; shocked: Marked }> {
  const [markets, marks, block] = await Promise.all([ctx.loaders.markets(), ctx.loaders.risk.marks(), ctx.block()]);
  const byUnderlying = new Map<string, Shock>();
  for (const shock of shocks) {
    if (byUnderlying.has(shock.underlying)) throw badUserInput(`underlying ${shock.underlying} is shocked twice`, 'shocks');
    if (![...markets.values()].some((m) => m.underlying === shock.underlying)) {
      throw badUserInput(`no market has the underlying ${JSON.stringify(shock.underlying)}`, 'shocks');
    }
    if (shock.priceMove <= -ONE) throw badUserInput(`priceMove must be above -1 (a price cannot fall to zero or below), got ${shock.priceMove}`, 'shocks');
    byUnderlying.set(shock.underlying, shock);
  }
  const shockedMarkets = new Map<string, Market>();
  const shockedMarks = new Map(marks);
  for (const market of markets.values()) {
    const shock = byUnderlying.get(market.underlying);
    if (!shock) {
      shockedMarkets.set(market.id, market);
      continue;
    }
    let moved = market;
    if (market.kind !== 'PERPETUAL' && shock.volatilityMove != null) {
      const volatility = (market.impliedVolatility ?? 0n) + shock.volatilityMove;
      if (volatility < 0n) throw badUserInput(`volatilityMove makes the implied volatility of ${market.id} negative`, 'shocks');
      moved = { ...market, impliedVolatility: volatility };
    }
    shockedMarkets.set(market.id, moved);
    const index = marks.get(market.id)?.indexPrice ?? null;
    const shockedIndex = index === null ? null : mul(index, ONE + shock.priceMove);
    shockedMarks.set(market.id, markOf(moved, shockedIndex, block.timestamp, ctx.params.riskFreeRate));
  }
  return { now: { markets, marks }, shocked: { markets: shockedMarkets, marks: shockedMarks } };
}
