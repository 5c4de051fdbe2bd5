import { abs, divRound, fromFloat, ONE, toFloat, wide, type Fixed, type Wide } from '../fixed/index.js';
import { blackScholesFloat64 } from './black-scholes.js';
import { optionAt, optionInputs, type Mark } from './mark.js';
import { positionRisk, type MarketRiskTerms, type PositionTerms } from './position.js';

export interface HeldPosition {
  position: PositionTerms;
  market: MarketRiskTerms & { underlying: string };
  mark: Mark;
}

/** Upper end of the search (SPEC: none beyond 100 * M). */
const RANGE = 100n;

/**
 * The index price of `underlying`, nearest to its current one M, at which the account's
 * equity equals its maintenance margin with every other input held (SPEC section 4); null
 * when there is none in (0, 100 * M].
 *
 * Perpetuals and option margins are linear in M, so without options on the underlying
 * equity - MM = a + b * M and the root is exact: M* = -a / b. Option values are not; with
 * options held the root is searched in float64 around M and refined by bisection, which
 * SPEC section 1 allows for root-finding over option pricing. The search evaluates the
 * plain float64 Black-Scholes (blackScholesFloat64, without the 40-digit fallback that
 * far out-of-the-money values would send to ~1 ms each); the root is then confirmed to
 * 1e-13 relative against that evaluation's error bound or the checked `blackScholes`.
 */
export function liquidationPrice(
  collateral: Fixed,
  held: readonly HeldPosition[],
  underlying: string,
  now: number,
  riskFreeRate: Fixed,
): Fixed | null {
  const exposed = held.filter((h) => h.market.underlying === underlying && h.position.size !== 0n);
  const current = exposed[0]?.mark.indexPrice;
  if (!current || current <= 0n) return null;

  // Everything that does not move with M, and the linear part of what does.
  let constant: Wide = wide.of(collateral); // scale 1e54
  let slope = 0n; // d(equity - MM)/dM of the linear part, scale 1e36
  const options: HeldPosition[] = [];
  for (const h of held) {
    const risk = positionRisk(h.position, h.market, h.mark);
    if (h.market.underlying !== underlying || h.position.size === 0n) {
      constant += risk.equity - risk.maintenanceMargin;
      continue;
    }
    const { size, entryPrice, fundingSnapshot } = h.position;
    const mmf = h.market.maintenanceMarginFraction;
    if (h.market.kind === 'PERPETUAL') {
      // s * (M - E) - s * (F - Fs) - |s| * M * MMF
      slope += size * ONE - abs(size) * mmf;
      constant += wide.product(-size, entryPrice ?? 0n) + risk.accruedFunding;
    } else {
      if (size < 0n) slope -= abs(size) * mmf;
      options.push(h);
    }
  }

  const upper = current * RANGE;
  if (options.length === 0) {
    if (slope === 0n) return null;
    const root = divRound(-constant, slope);
    return root > 0n && root <= upper ? root : null;
  }

  const constantFloat = Number(constant) / 1e54;
  const slopeFloat = Number(slope) / 1e36;
  const terms = options.map((h) => ({
    size: toFloat(h.position.size),
    inputs: optionInputs(h.market, 0, now, riskFreeRate),
  }));
  // The search runs on the plain float64 Black-Scholes (a fraction of a microsecond per
  // option); `bound` is an upper bound on its absolute error, from the per-output error
  // estimates of blackScholesFloat64 and the roundings of the linear part and the sums.
  let bound = 0;
  const fast = (price: number) => {
    let total = constantFloat + slopeFloat * price;
    let magnitude = Math.abs(constantFloat) + Math.abs(slopeFloat * price);
    let valueError = 0;
    for (const term of terms) {
      term.inputs.spot = price;
      const { greeks, error } = blackScholesFloat64(term.inputs);
      const v = term.size * greeks.value;
      total += v;
      magnitude += Math.abs(v);
      valueError += Math.abs(term.size) * error.value;
    }
    // Each term and partial sum rounds once or twice; the value estimates are doubled as a margin.
    bound = 4 * U * (terms.length + 3) * magnitude + 2 * valueError;
    return total;
  };
  // The checked evaluation: every option value within 1e-12 of a 40-digit one (SPEC section 1).
  const checked = (price: number) => {
    let total = constantFloat + slopeFloat * price;
    for (let i = 0; i < options.length; i++) {
      total += terms[i]!.size * optionAt(options[i]!.market, price, now, riskFreeRate).value;
    }
    return total;
  };
  // |d(excess)/dM| <= |slope| + sum |s| (an option's delta is within [-1, 1]): no root
  // lies closer to x than |excess(x)| / lipschitz, which lets the walk skip ahead.
  const lipschitz = Math.abs(slopeFloat) + terms.reduce((sum, t) => sum + Math.abs(t.size), 0);
  const found = nearestBracket(fast, toFloat(current), toFloat(upper), lipschitz);
  if (found === null) return null;
  return fromFloat(confirm(found, fast, () => bound, checked));
}

/** Relative width within which a root is confirmed: 1e-13, ten times inside SPEC's 1e-12. */
const CONFIRM = 1e-13;
const U = Number.EPSILON / 2;

/**
 * The root `found` (bisected on the float64 evaluation) confirmed to CONFIRM relative: the
 * true excess changes sign across [r - d, r + d] when the float64 one does with both ends
 * beyond its error bound, or else when the checked evaluation does. Failing both (a root
 * where the excess barely touches zero), the bracket is bisected again on the checked
 * evaluation, as the search did before the float64 path existed.
 */
function confirm(found: Bracket, fast: (x: number) => number, bound: () => number, checked: (x: number) => number): number {
  const { root } = found;
  if (found.exact) return root;
  const d = Math.abs(root) * CONFIRM;
  const lo = fast(root - d);
  const loBound = bound();
  const hi = fast(root + d);
  const hiBound = bound();
  if (Math.sign(lo) * Math.sign(hi) < 0 && Math.abs(lo) > loBound && Math.abs(hi) > hiBound) return root;
  const checkedLo = checked(root - d);
  const checkedHi = checked(root + d);
  if (checkedLo === 0 || checkedHi === 0 || Math.sign(checkedLo) !== Math.sign(checkedHi)) return root;
  const fa = checked(found.a);
  return fa === 0 ? found.a : bisect(checked, found.a, fa, found.b);
}

interface Bracket {
  root: number;
  /** The ends of the bracket it was bisected from (f changes sign between them). */
  a: number;
  b: number;
  /** f(root) is exactly 0. */
  exact: boolean;
}

/**
 * The root of `f` nearest to `start` in (0, upper]: walks outwards on both sides with
 * steps that start at 0.2% and widen by 5% each, so both ends are reached in about a
 * hundred evaluations, then bisects the first bracket found on each side. With
 * `lipschitz` (a bound on |f'|), a step is at least |f(x)| / lipschitz, a distance in
 * which f cannot reach zero.
 */
export function nearestRoot(f: (x: number) => number, start: number, upper: number, lipschitz = Infinity): number | null {
  return nearestBracket(f, start, upper, lipschitz)?.root ?? null;
}

/** The sides advance in turn, the nearer first; a side stops once past a root already found. */
function nearestBracket(f: (x: number) => number, start: number, upper: number, lipschitz: number): Bracket | null {
  const atStart = f(start);
  if (atStart === 0) return { root: start, a: start, b: start, exact: true };
  const up = new Walker(f, start, atStart, 1, upper, lipschitz);
  const down = new Walker(f, start, atStart, -1, start * 1e-12, lipschitz);
  for (let i = 0; i < 20_000; i++) {
    const upFound = up.found;
    const downFound = down.found;
    // Done when each side found its root or ran out, or a found root is nearer than
    // anything the other side has yet to look at.
    const upOpen = !up.done && !(downFound && up.distance >= start - downFound.root);
    const downOpen = !down.done && !(upFound && down.distance > upFound.root - start);
    if (!upOpen && !downOpen) break;
    if (upOpen && (!downOpen || up.distance <= down.distance)) up.step();
    else down.step();
  }
  const u = up.found;
  const d = down.found;
  if (!u) return d;
  if (!d) return u;
  return u.root - start <= start - d.root ? u : d;
}

class Walker {
  private x: number;
  private fx: number;
  private size = 0.002;
  private count = 0;
  found: Bracket | null = null;
  done = false;

  constructor(
    private readonly f: (x: number) => number,
    private readonly start: number,
    atStart: number,
    private readonly direction: 1 | -1,
    private readonly limit: number,
    private readonly lipschitz: number,
  ) {
    this.x = start;
    this.fx = atStart;
  }

  /** How far from the start this side has looked (everything closer holds no root). */
  get distance(): number {
    return Math.abs(this.x - this.start);
  }

  step(): void {
    const { x, fx } = this;
    const walked = this.direction > 0 ? x * Math.exp(this.size) : x * Math.exp(-this.size);
    const safe = x + this.direction * (Math.abs(fx) / this.lipschitz) * (1 - 1e-9);
    let y = this.direction > 0 ? Math.min(this.limit, Math.max(walked, safe)) : Math.max(this.limit, Math.min(walked, safe));
    if (!(y > 0)) y = this.limit;
    const fy = this.f(y);
    this.size *= 1.05;
    if (fy === 0) {
      this.found = { root: y, a: y, b: y, exact: true };
      this.done = true;
      return;
    }
    if (Math.sign(fy) !== Math.sign(fx)) {
      this.found = { root: bisect(this.f, x, fx, y), a: x, b: y, exact: false };
      this.done = true;
      return;
    }
    this.x = y;
    this.fx = fy;
    if (y === this.limit || ++this.count >= 10_000) this.done = true;
  }
}

function bisect(f: (x: number) => number, a: number, fa: number, b: number): number {
  for (let i = 0; i < 200; i++) {
    const middle = (a + b) / 2;
    if (middle === a || middle === b) break;
    const fm = f(middle);
    if (fm === 0) return middle;
    if (Math.sign(fm) === Math.sign(fa)) {
      a = middle;
      fa = fm;
    } else {
      b = middle;
    }
  }
  return (a + b) / 2;
}
