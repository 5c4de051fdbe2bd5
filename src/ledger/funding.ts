import { divRound, max, min, mul, type Fixed } from '../fixed/index.js';
import type { FundingSettlementRecord } from './changes.js';
import type { FundingClock, Market } from './state.js';

/** A new market's clock: no sample yet, accumulating the period that contains `now`. */
export function startClock(interval: number, now: number): FundingClock {
  return {
    premium: null,
    period: interval > 0 ? Math.floor(now / interval) : 0,
    weightedPremium: 0n,
    coveredSeconds: 0,
    accountedUntil: now,
  };
}

/**
 * Moves a perpetual's funding clock to block time `now`, before that block's events
 * (SPEC section 3, funding). The held sample is accumulated up to `now`; every period that
 * ended at or before `now` is settled in order at the time-weighted mean premium of its
 * covered part (0 when uncovered), clamped to +-maxFundingRate, and the cumulative index
 * grows by rate * index. Periods fully covered by one held sample share one rate, so a
 * long gap settles in three steps at most, recorded as ranges of periods.
 */
export function advanceFunding(
  market: Market,
  now: number,
  indexPrice: Fixed | null,
  block: { number: number; timestamp: number },
): { market: Market; settlements: FundingSettlementRecord[] } {
  const interval = market.fundingInterval;
  const clock = market.funding;
  if (interval <= 0 || now <= clock.accountedUntil) return { market, settlements: [] };

  const settlements: FundingSettlementRecord[] = [];
  let { period, weightedPremium, coveredSeconds, accountedUntil: from } = clock;
  let cumulativeFunding = market.cumulativeFunding;
  let lastFundingRate = market.lastFundingRate;

  const settle = (first: number, count: number, rate: Fixed) => {
    if (indexPrice !== null) cumulativeFunding += BigInt(count) * mul(rate, indexPrice);
    lastFundingRate = rate;
    settlements.push({
      marketId: market.id,
      period: first,
      periods: count,
      rate,
      indexPrice: indexPrice ?? 0n,
      cumulativeFunding,
      blockNumber: block.number,
      timestamp: block.timestamp,
    });
  };
  const accumulate = (until: number) => {
    if (clock.premium !== null && until > from) {
      weightedPremium += clock.premium * BigInt(until - from);
      coveredSeconds += until - from;
    }
    from = until;
  };

  // The period in progress, if it has ended.
  if ((period + 1) * interval <= now) {
    accumulate((period + 1) * interval);
    settle(period, 1, rateOf(weightedPremium, coveredSeconds, market.maxFundingRate));
    period += 1;
    weightedPremium = 0n;
    coveredSeconds = 0;
    // Whole periods inside the gap: the held sample covers each of them entirely.
    const whole = Math.floor(now / interval) - period;
    if (whole > 0) {
      const rate = clock.premium === null ? 0n : clamp(clock.premium, market.maxFundingRate);
      settle(period, whole, rate);
      period += whole;
      from = period * interval;
    }
  }
  accumulate(now);

  return {
    market: {
      ...market,
      cumulativeFunding,
      lastFundingRate,
      funding: { premium: clock.premium, period, weightedPremium, coveredSeconds, accountedUntil: now },
      updatedBlock: block.number,
    },
    settlements,
  };
}

function rateOf(weightedPremium: Fixed, coveredSeconds: number, cap: Fixed): Fixed {
  if (coveredSeconds === 0) return 0n;
  return clamp(divRound(weightedPremium, BigInt(coveredSeconds)), cap);
}

function clamp(rate: Fixed, cap: Fixed): Fixed {
  return max(-cap, min(cap, rate));
}

/** The premium sampled after a block: (lastFillPrice - index) / index, if both exist. */
export function premiumOf(lastFillPrice: Fixed | null, indexPrice: Fixed | null): Fixed | null {
  if (lastFillPrice === null || indexPrice === null || indexPrice === 0n) return null;
  return divRound((lastFillPrice - indexPrice) * 10n ** 18n, indexPrice);
}

/** Funding a position has accrued since its snapshot: -s * (F_now - F_snapshot), exact (scale 1e36). */
export function accruedFundingExact(size: Fixed, cumulativeFunding: Fixed, snapshot: Fixed): bigint {
  return -size * (cumulativeFunding - snapshot);
}
