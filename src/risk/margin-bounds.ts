/**
 * Validity ranges of a margin state: around one exact evaluation of an account, a box of
 * market factors (index price per underlying, implied volatility per option market,
 * cumulative funding per perpetual, block time) inside which its margin state (SPEC
 * section 4) provably cannot change. The ledger re-evaluates an account only once a factor
 * leaves its range (src/ledger/margin-index). The state itself is always decided exactly;
 * these bounds only choose whom to decide again, so they may run in float64 as long as
 * they are conservative. The soundness argument, in short (src/ledger/README.md has it too):
 *
 * - The state depends on q = E (equity), E - MM and E - IM staying on their side of 0.
 *   Each relevant q has an exact budget B (its distance to 0, bigint), converted to float
 *   rounding down and less the float error of option marks (below).
 * - Along a path that moves one factor at a time (time first, then volatilities, then
 *   prices; funding anywhere), q changes by at most the sum of per-leg bounds: perpetual terms
 *   and all margins are exactly linear (s M, |s| M f, -s F); over calendar time, at the
 *   evaluation's own S0 and sigma0, an option moves by at most
 *   K' sigma0 (sqrt(T0) - sqrt(T1)) / sqrt(2 pi) + |r| K' (T0 - T1) (the integral of theta,
 *   as S phi(d1) = K e^{-rT} phi(d2); K' = K max(1, e^{-r T0})), signed: with r = 0 a long
 *   option only loses value with time, a short one only gains; then at any S and T <= T0,
 *   0 <= vega <= K' sqrt(T0) / sqrt(2 pi); and at any sigma and T, delta is in [0, 1] for
 *   calls and [-1, 0] for puts (1-Lipschitz in S). None of these depends on where the other
 *   factors are in their ranges.
 * - Each factor gets a share of the budget (by expected movement) and its range is where its
 *   bound stays inside that share, in each direction separately (one-sided where a direction
 *   cannot hurt: a long perpetual on a rising index).
 * - Float error: every rate is computed then widened by SAFETY (1e-9 relative of the sum of
 *   the magnitudes it came from, far above the ~1e-15 of the few float operations involved),
 *   budgets shrunk by SAFETY, ranges shrunk by 1e-14 of the coordinate (covering the <= 3 ulp
 *   of Fixed -> float64 on both ends) and rounded inward to float32. Option marks are float64
 *   Black-Scholes within 1e-12 relative of exact (SPEC section 1, V <= S + K'), plus the
 *   rounding of its inputs (S, sigma, T, r to float64: at most 3u (S + K')(1 + |r| T), as
 *   sigma vega <= max(S, K e^{-rT}) / 2 for any sigma) and `fromFloat`: budgeted at
 *   MARK_ERROR = 1e-11 of (S + K')(1 + |r| T) per unit at both ends of a move, 10x that.
 * - A range that would be narrower than these margins is "pinned": any exact change of that
 *   factor re-evaluates the account. NaN never passes (every test is written to fail on it).
 */
import type { Fixed, Wide } from '../fixed/index.js';
import type { MarginState } from './margin-state.js';
import { SECONDS_PER_YEAR, type MarketTerms } from './mark.js';

/** Relative widening of every float rate and shrinking of every budget and width. */
export const SAFETY = 1e-9;
/** Relative error budget of an option mark (value per unit), per end of a move. */
export const MARK_ERROR = 1e-11;
/** Range shrink per coordinate magnitude: Fixed -> float64 rounding of both ends, and the range arithmetic. */
const COORDINATE_SLOP = 1e-14;
/** Absolute error of `fromFloat` per unit of value (its float multiply and rounding). */
const FROM_FLOAT_ERROR = 1e-15;
const INV_SQRT_2PI = 0.3989422804014327;
const DAY_YEARS = 1 / 365;

export type FactorKind = 'PRICE' | 'VOLATILITY' | 'FUNDING';
const PRICE = 0;
const VOLATILITY = 1;
const FUNDING = 2;

/** A Fixed as a float64 coordinate (at most 3 ulp off): how factors are compared with their ranges. */
export function coordinate(value: Fixed): number {
  return Number(value) * 1e-18;
}

function wideToFloat(value: Wide): number {
  return Number(value) * 1e-54;
}

/** What one unit of a market adds to an account's factor sensitivities at this block (float). */
export interface MarketBounds {
  /** 0 perpetual, 1 call, 2 put, -1 static (no factor moves it: no usable index). */
  readonly kind: number;
  readonly price: number;
  readonly volatility: number;
  readonly funding: number;
  readonly initialMarginFraction: number;
  readonly maintenanceMarginFraction: number;
  /** Options: K max(1, e^{-r T0}) (inflated), T0 in years, expiry (seconds). */
  readonly strikeBound: number;
  readonly years: number;
  readonly expiry: number;
  /** Options: bound on |dV/dsigma| over the box, per unit. */
  readonly vegaBound: number;
  /** Options: K' sigma0 / sqrt(2 pi), times sqrt(T0) - sqrt(T1) the decay part of theta over a window. */
  readonly decayBound: number;
  /** Options: |r| K', bound on the carry part of theta per year. */
  readonly carry: number;
  /** Options: mark error per unit at both ends of a move (money), and per unit of index move. */
  readonly markError: number;
  readonly markErrorSlope: number;
}

const STATIC: MarketBounds = {
  kind: -1, price: -1, volatility: -1, funding: -1, initialMarginFraction: 0, maintenanceMarginFraction: 0,
  strikeBound: 0, years: 0, expiry: 0, vegaBound: 0, decayBound: 0, carry: 0, markError: 0, markErrorSlope: 0,
};

/** Where the ranges of one evaluated account go: heap keys as the ledger's index stores them. */
export interface RangeSink {
  /**
   * One factor's range. The account must be evaluated again once `lowKey < -x` or
   * `highKey < x`, x being the factor's new `coordinate`; Infinity: no bound on that side;
   * lowKey -Infinity: pinned (any change of the factor). Keys are float32 values. `share`:
   * the fraction of each budget this factor may use inside its range (what the tests check).
   */
  range(factor: number, lowKey: number, highKey: number, share: number): void;
  /** Block time up to which (inclusive) time decay cannot change the state, using at most `share`. */
  until(time: number, share: number): void;
}

/**
 * Computes validity ranges for the accounts evaluated in one block. Factors are registered
 * first (`factor`), then markets (`market`), then per account: `begin`, `add` per open
 * position, `finish` with the exact amounts and state.
 */
export class MarginBounds {
  private readonly rate: number;
  // Per factor: kind, coordinate, expected movement.
  private kinds: Uint8Array = new Uint8Array(16);
  private origins: Float64Array = new Float64Array(16);
  private moves: Float64Array = new Float64Array(16);
  private factorCount = 0;
  // Per account scratch, by factor: slope interval of equity, the magnitudes summed into each
  // end (their float error; an end made of exact zeros stays exactly 0), margin slopes.
  private equityLow = new Float64Array(16);
  private equityHigh = new Float64Array(16);
  private lowMagnitude = new Float64Array(16);
  private highMagnitude = new Float64Array(16);
  private initialSlope = new Float64Array(16);
  private maintenanceSlope = new Float64Array(16);
  private seen = new Int32Array(16);
  private shares = new Float64Array(16);
  private upRates = new Float64Array(16);
  private downRates = new Float64Array(16);
  private touched: number[] = [];
  private stamp = 0;
  private markError = 0;
  private options: MarketBounds[] = [];
  private optionSizes: number[] = [];

  constructor(
    private readonly now: number,
    riskFreeRate: Fixed,
  ) {
    this.rate = coordinate(riskFreeRate);
  }

  /**
   * Registers a factor at its value in this block and returns its id. `scale`: for funding,
   * the index times the max funding rate per interval (how far one interval can move it).
   */
  factor(kind: FactorKind, value: Fixed, scale: Fixed = 0n): number {
    const id = this.factorCount++;
    if (id === this.kinds.length) this.grow();
    const x = coordinate(value);
    const k = kind === 'PRICE' ? PRICE : kind === 'VOLATILITY' ? VOLATILITY : FUNDING;
    this.kinds[id] = k;
    this.origins[id] = x;
    // Expected movement: what the budget is shared by (a heuristic; soundness does not depend on it).
    const move = k === PRICE ? 0.05 * Math.abs(x) : k === VOLATILITY ? 0.1 * Math.abs(x) + 0.02 : Math.abs(coordinate(scale));
    this.moves[id] = move > 0 ? move : 1e-12;
    return id;
  }

  /** The float coordinate of a factor at this block. */
  origin(factor: number): number {
    return this.origins[factor]!;
  }

  /**
   * One unit of a market at this block, given its factor ids (-1: the factor does not move
   * it). A market with no price factor (no usable index, or settled) is static: its positions'
   * amounts stand still (a perpetual marked at its entry has no funding without an index)
   * until its terms change, when the ledger re-evaluates its holders.
   */
  market(terms: MarketTerms & { initialMarginFraction: Fixed; maintenanceMarginFraction: Fixed }, factors: { price: number; volatility: number; funding: number }): MarketBounds {
    if (factors.price < 0) return STATIC;
    const imf = coordinate(terms.initialMarginFraction);
    const mmf = coordinate(terms.maintenanceMarginFraction);
    if (terms.kind === 'PERPETUAL') {
      return { ...STATIC, kind: 0, price: factors.price, funding: factors.funding, initialMarginFraction: imf, maintenanceMarginFraction: mmf };
    }
    const spot = this.origins[factors.price]!;
    const years = Math.max(0, terms.expiry - this.now) / SECONDS_PER_YEAR;
    const strikeBound = coordinate(terms.strike) * Math.max(1, Math.exp(-this.rate * years)) * (1 + SAFETY);
    const spread = 1 + Math.abs(this.rate) * years;
    return {
      kind: terms.kind === 'CALL' ? 1 : 2,
      price: factors.price,
      volatility: years > 0 ? factors.volatility : -1,
      funding: -1,
      initialMarginFraction: imf,
      maintenanceMarginFraction: mmf,
      strikeBound,
      years,
      expiry: terms.expiry,
      vegaBound: strikeBound * Math.sqrt(years) * INV_SQRT_2PI * (1 + SAFETY),
      decayBound: strikeBound * (factors.volatility < 0 ? 0 : this.origins[factors.volatility]!) * INV_SQRT_2PI * (1 + SAFETY),
      carry: Math.abs(this.rate) * strikeBound * (1 + SAFETY),
      markError: 2 * MARK_ERROR * (spot + strikeBound) * spread + 2 * FROM_FLOAT_ERROR,
      markErrorSlope: MARK_ERROR * spread,
    };
  }

  begin(): void {
    this.stamp++;
    this.touched.length = 0;
    this.markError = 0;
    this.options.length = 0;
    this.optionSizes.length = 0;
  }

  /** Adds one open position of `size` in a market with these bounds. */
  add(size: Fixed, bounds: MarketBounds): void {
    if (bounds.kind < 0) return;
    const s = coordinate(size);
    const a = Math.abs(s);
    if (bounds.kind === 0) {
      if (bounds.price >= 0) this.slope(bounds.price, s, s, a * bounds.initialMarginFraction, a * bounds.maintenanceMarginFraction);
      if (bounds.funding >= 0) this.slope(bounds.funding, -s, -s, 0, 0);
      return;
    }
    // Options: dV/dS in [0, 1] (call) or [-1, 0] (put), widened by the marks' error per unit of move.
    const widen = a * bounds.markErrorSlope;
    const low = bounds.kind === 1 ? Math.min(0, s) : Math.min(0, -s);
    const high = bounds.kind === 1 ? Math.max(0, s) : Math.max(0, -s);
    const short = s < 0;
    this.slope(bounds.price, low - widen, high + widen, short ? a * bounds.initialMarginFraction : 0, short ? a * bounds.maintenanceMarginFraction : 0);
    this.markError += a * bounds.markError;
    if (bounds.volatility >= 0) {
      const vega = s * bounds.vegaBound;
      this.slope(bounds.volatility, Math.min(0, vega), Math.max(0, vega), 0, 0);
      this.options.push(bounds);
      this.optionSizes.push(s);
    }
  }

  private slope(factor: number, low: number, high: number, initial: number, maintenance: number): void {
    if (this.seen[factor] !== this.stamp) {
      this.seen[factor] = this.stamp;
      this.touched.push(factor);
      this.equityLow[factor] = 0;
      this.equityHigh[factor] = 0;
      this.lowMagnitude[factor] = 0;
      this.highMagnitude[factor] = 0;
      this.initialSlope[factor] = 0;
      this.maintenanceSlope[factor] = 0;
    }
    this.equityLow[factor]! += low;
    this.equityHigh[factor]! += high;
    this.lowMagnitude[factor]! += Math.abs(low);
    this.highMagnitude[factor]! += Math.abs(high);
    this.initialSlope[factor]! += initial;
    this.maintenanceSlope[factor]! += maintenance;
  }

  /**
   * Ranges of the account just added, around its exact equity and margins and the state they
   * give (`state` must be `marginStateOf(equity, initialMargin, maintenanceMargin)`).
   */
  finish(equity: Wide, initialMargin: Wide, maintenanceMargin: Wide, state: MarginState, sink: RangeSink): void {
    const touched = this.touched;
    if (touched.length === 0) return;
    // The quantities that decide the state (q = E - m, m = 0, MM or IM), the side of 0 each
    // must stay on (below: q < 0 must hold), and the inverse of its float budget.
    // HEALTHY: E-MM >= 0, E-IM >= 0; MARGIN_CALL: E-MM >= 0, E-IM < 0;
    // LIQUIDATABLE: E >= 0, E-MM < 0; BANKRUPT: E < 0 (MM >= 0 always, so E >= MM implies E >= 0).
    let m1 = 0; let below1 = false; let b1: Wide = 0n; // m: 0 none, 1 MM, 2 IM
    let m2 = -1; let below2 = false; let b2: Wide = 0n;
    switch (state) {
      case 'HEALTHY': m1 = 1; b1 = equity - maintenanceMargin; m2 = 2; b2 = equity - initialMargin; break;
      case 'MARGIN_CALL': m1 = 1; b1 = equity - maintenanceMargin; m2 = 2; below2 = true; b2 = initialMargin - equity; break;
      case 'LIQUIDATABLE': m1 = 0; b1 = equity; m2 = 1; below2 = true; b2 = maintenanceMargin - equity; break;
      case 'BANKRUPT': m1 = 0; below1 = true; b1 = -equity; break;
    }
    const error = this.markError * (1 + SAFETY);
    const inverse1 = inverseBudget(b1, error);
    const inverse2 = m2 < 0 ? 0 : inverseBudget(b2, error);

    // Per factor and direction, the largest fraction of a budget one unit of move can use.
    let total = 0;
    for (const f of touched) {
      const low = this.equityLow[f]!;
      const high = this.equityHigh[f]!;
      const lowSlop = SAFETY * this.lowMagnitude[f]!;
      const highSlop = SAFETY * this.highMagnitude[f]!;
      let up = 0;
      let down = 0;
      for (let q = 0; q < 2; q++) {
        const m = q === 0 ? m1 : m2;
        if (m < 0) break;
        const margin = m === 0 ? 0 : m === 1 ? this.maintenanceSlope[f]! : this.initialSlope[f]!;
        const lo = low - margin - lowSlop - SAFETY * margin;
        const hi = high - margin + highSlop + SAFETY * margin;
        const below = q === 0 ? below1 : below2;
        const inverse = q === 0 ? inverse1 : inverse2;
        // Staying >= 0 fears decreases (up: slope lo < 0; down: slope hi > 0); staying < 0 the opposite.
        up = Math.max(up, usage(below ? hi : -lo, inverse));
        down = Math.max(down, usage(below ? -lo : hi, inverse));
      }
      this.upRates[f] = up;
      this.downRates[f] = down;
      const share = Math.max(up, down) * this.moves[f]!;
      this.shares[f] = share;
      if (share < Infinity) total += share;
    }
    // Time gets a share by its decay over a day.
    const options = this.options;
    let timeShare = 0;
    let inverseKeep = 0; // over budgets of quantities that must stay >= 0
    let inverseStay = 0; // ... that must stay < 0
    if (options.length > 0) {
      for (let q = 0; q < 2; q++) {
        const m = q === 0 ? m1 : m2;
        if (m < 0) break;
        const below = q === 0 ? below1 : below2;
        const inverse = q === 0 ? inverse1 : inverse2;
        if (below) inverseStay = Math.max(inverseStay, inverse);
        else inverseKeep = Math.max(inverseKeep, inverse);
      }
      timeShare = this.timeUsage(Math.min(DAY_YEARS, this.earliest()), inverseKeep, inverseStay);
      if (timeShare < Infinity) total += timeShare;
    }

    for (const f of touched) {
      const share = this.shares[f]! < Infinity && total > 0 ? this.shares[f]! / total : 0;
      const x = this.origins[f]!;
      const up = width(share, this.upRates[f]!);
      const down = width(share, this.downRates[f]!);
      const lowEdge = inward(x, down);
      const highEdge = inward(x, up);
      if (!(lowEdge >= 0 && highEdge >= 0)) {
        sink.range(f, -Infinity, Infinity, 0); // pinned (NaN lands here too)
        continue;
      }
      const lowKey = lowEdge === Infinity ? Infinity : -roundUp32(x - lowEdge);
      const highKey = highEdge === Infinity ? Infinity : roundDown32(x + highEdge);
      if (lowKey < Infinity || highKey < Infinity) sink.range(f, lowKey, highKey, share);
    }

    if (options.length > 0) {
      const share = timeShare < Infinity && total > 0 ? timeShare / total : 0;
      const years = this.window(share, inverseKeep, inverseStay);
      if (years === Infinity) return;
      if (!(years > 0)) {
        sink.until(this.now, 0); // pinned (NaN too)
        return;
      }
      const horizon = this.earliest();
      sink.until(years >= horizon ? this.expiryOfEarliest() : this.now + Math.floor(years * SECONDS_PER_YEAR), share);
    }
  }

  /** The largest window (years) whose time bound stays within `share`; Infinity when time cannot move the state. */
  private window(share: number, inverseKeep: number, inverseStay: number): number {
    const horizon = this.earliest();
    const atHorizon = this.timeUsage(horizon, inverseKeep, inverseStay);
    if (atHorizon === 0) return Infinity;
    if (atHorizon <= share) return horizon;
    if (!(share > 0)) return 0;
    // sqrt(T0) - sqrt(T0 - w) lies in [w / (2 sqrt(T0)), w / sqrt(T0)]: the linear bound gives a
    // safe window, the true one is at most twice it; bisect in between.
    let safe = share / this.timeUsage(-1, inverseKeep, inverseStay);
    if (!(safe > 0)) return 0;
    let over = Math.min(2 * safe, horizon);
    if (this.timeUsage(over, inverseKeep, inverseStay) <= share) return over;
    for (let i = 0; i < 12; i++) {
      const mid = 0.5 * (safe + over);
      if (this.timeUsage(mid, inverseKeep, inverseStay) <= share) safe = mid;
      else over = mid;
    }
    return safe;
  }

  /**
   * The fraction of a budget time decay can use over a window of `years` (-1: the linear
   * upper bound per year, sqrt(T0) - sqrt(T0 - w) <= w / sqrt(T0)).
   */
  private timeUsage(years: number, inverseKeep: number, inverseStay: number): number {
    let loss = 0;
    let gain = 0;
    const linear = years < 0;
    const w = linear ? 1 : years;
    for (let i = 0; i < this.options.length; i++) {
      const o = this.options[i]!;
      const s = this.optionSizes[i]!;
      const T0 = o.years;
      const root = Math.sqrt(T0);
      const decayed = linear ? 1 / root : w / (root + Math.sqrt(Math.max(0, T0 - w)));
      const decay = o.decayBound * decayed;
      const carry = o.carry * w;
      // s dV with dV in [-(decay + carry), carry]: a long option loses, a short one gains by decay.
      const a = Math.abs(s);
      if (s > 0) {
        loss += a * (decay + carry);
        gain += a * carry;
      } else {
        loss += a * carry;
        gain += a * (decay + carry);
      }
    }
    return Math.max(usage(loss, inverseKeep), usage(gain, inverseStay)) * (1 + SAFETY);
  }

  private earliest(): number {
    let years = Infinity;
    for (const o of this.options) years = Math.min(years, o.years);
    return years;
  }

  private expiryOfEarliest(): number {
    let expiry = Infinity;
    for (const o of this.options) expiry = Math.min(expiry, o.expiry);
    return expiry;
  }

  private grow(): void {
    const n = this.kinds.length * 2;
    const grow64 = (a: Float64Array) => { const b = new Float64Array(n); b.set(a); return b; };
    const kinds = new Uint8Array(n); kinds.set(this.kinds); this.kinds = kinds;
    const seen = new Int32Array(n); seen.set(this.seen); this.seen = seen;
    this.origins = grow64(this.origins);
    this.moves = grow64(this.moves);
    this.equityLow = grow64(this.equityLow);
    this.equityHigh = grow64(this.equityHigh);
    this.lowMagnitude = grow64(this.lowMagnitude);
    this.highMagnitude = grow64(this.highMagnitude);
    this.initialSlope = grow64(this.initialSlope);
    this.maintenanceSlope = grow64(this.maintenanceSlope);
    this.shares = grow64(this.shares);
    this.upRates = grow64(this.upRates);
    this.downRates = grow64(this.downRates);
  }
}

/** 1 / (budget rounded down, less the marks' error); Infinity when nothing is left. */
function inverseBudget(budget: Wide, error: number): number {
  const b = wideToFloat(budget) * (1 - SAFETY) - error;
  return b > 0 ? 1 / b : Infinity;
}

/** Fraction of a budget used per unit: 0 when the rate cannot hurt (also against an exhausted budget). */
function usage(rate: number, inverse: number): number {
  return rate > 0 ? rate * inverse : 0;
}

/** How far a factor may move in one direction: Infinity when it cannot hurt, 0 when any move may. */
function width(share: number, rate: number): number {
  if (rate === 0) return Infinity;
  return share / rate;
}

/** A width shrunk for the float error of the range arithmetic and of the coordinates; <= 0: none. */
function inward(x: number, w: number): number {
  if (w === Infinity) return Infinity;
  return w * (1 - SAFETY) - COORDINATE_SLOP * (Math.abs(x) + w);
}

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** The smallest float32 >= x. */
export function roundUp32(x: number): number {
  const f = Math.fround(x);
  if (f >= x || Number.isNaN(x)) return f;
  F32[0] = f;
  if (f === 0) I32[0] = 1; // -0 or 0 below a positive x: the smallest subnormal
  else I32[0]! += f > 0 ? 1 : -1;
  return F32[0]!;
}

/** The largest float32 <= x. */
export function roundDown32(x: number): number {
  return -roundUp32(-x);
}
