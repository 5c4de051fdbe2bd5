import { divRound, formatFixed, max, min, mul, type Fixed } from '../fixed/index.js';
import { fitsStorage } from './accounts.js';
import type { AnomalyRecord, FundingSettlementRecord } from './changes.js';
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
 *
 * Range (SPEC section 2: bad events never stop ingestion): a step that would take the
 * cumulative index beyond NUMERIC(78,18), or that `fits` refuses (the caller checks every
 * open position's accrued funding at the new index), is not applied: those periods settle
 * at rate 0, the index stays, and the step is returned in `overflows` for an anomaly. The
 * same holds for a held sample whose premium x seconds would take the period's weighted sum
 * beyond range (samples are bounded when taken, so only a state stored before that bound can
 * hit it): that span counts as uncovered, like a null sample.
 */
export function advanceFunding(
  market: Market,
  now: number,
  indexPrice: Fixed | null,
  block: { number: number; timestamp: number },
  fits: (cumulativeFunding: Fixed) => boolean = () => true,
): { market: Market; settlements: FundingSettlementRecord[]; overflows: FundingOverflow[] } {
  const interval = market.fundingInterval;
  const clock = market.funding;
  if (interval <= 0 || now <= clock.accountedUntil) return { market, settlements: [], overflows: [] };

  const settlements: FundingSettlementRecord[] = [];
  const overflows: FundingOverflow[] = [];
  let { period, weightedPremium, coveredSeconds, accountedUntil: from } = clock;
  let cumulativeFunding = market.cumulativeFunding;
  let lastFundingRate = market.lastFundingRate;

  const settle = (first: number, count: number, due: Fixed) => {
    let rate = due;
    if (indexPrice !== null) {
      const next = cumulativeFunding + BigInt(count) * mul(rate, indexPrice);
      if (fitsStorage(next) && fits(next)) {
        cumulativeFunding = next;
      } else {
        overflows.push({
          message: `funding of ${market.id} for ${count} period(s) from ${first} at rate ${formatFixed(due)} on index ${formatFixed(indexPrice)} would take the cumulative index or a position's accrued funding beyond NUMERIC(78,18): not applied (settled at rate 0)`,
          data: { market: market.id, period: first, periods: count, rate: formatFixed(due), indexPrice: formatFixed(indexPrice), cumulativeFunding: formatFixed(cumulativeFunding) },
        });
        rate = 0n;
      }
    }
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
      const weighted = weightedPremium + clock.premium * BigInt(until - from);
      if (fitsStorage(weighted)) {
        weightedPremium = weighted;
        coveredSeconds += until - from;
      } else {
        overflows.push({
          message: `premium ${formatFixed(clock.premium)} of ${market.id} over ${until - from} s would take the weighted premium beyond NUMERIC(78,18): span not covered`,
          data: { market: market.id, premium: formatFixed(clock.premium), from, until },
        });
      }
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
    overflows,
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

/** A funding step or premium span `advanceFunding` did not apply because it would not fit storage. */
export interface FundingOverflow {
  message: string;
  data: AnomalyRecord['data'];
}

/**
 * Whether a premium sample can be held: it and its weight over a whole funding period
 * (premium x interval seconds, the most one period's weighted sum accumulates from it) fit
 * NUMERIC(78,18). A sample that does not is taken as null (VALUE_OUT_OF_RANGE).
 */
export function premiumFits(premium: Fixed, interval: number): boolean {
  return fitsStorage(premium * BigInt(interval > 1 ? interval : 1));
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
