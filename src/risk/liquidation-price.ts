import { abs, divRound, fromFloat, ONE, toFloat, wide, type Fixed, type Wide } from '../fixed/index.js';
import { optionAt, type Mark } from './mark.js';
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
 * SPEC section 1 allows for root-finding over option pricing.
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
  const sizes = options.map((h) => toFloat(h.position.size));
  const excess = (price: number) => {
    let total = constantFloat + slopeFloat * price;
    for (let i = 0; i < options.length; i++) {
      total += sizes[i]! * optionAt(options[i]!.market, price, now, riskFreeRate).value;
    }
    return total;
  };
  const root = nearestRoot(excess, toFloat(current), toFloat(upper));
  return root === null ? null : fromFloat(root);
}

/**
 * The root of `f` nearest to `start` in (0, upper]: walks outwards on both sides with
 * steps that start at 0.2% and widen by 5% each, so both ends are reached in about a
 * hundred evaluations, then bisects the first bracket found on each side.
 */
export function nearestRoot(f: (x: number) => number, start: number, upper: number): number | null {
  const atStart = f(start);
  if (atStart === 0) return start;
  const up = firstCrossing(f, start, atStart, (x, step) => Math.min(upper, x * Math.exp(step)), upper);
  const down = firstCrossing(f, start, atStart, (x, step) => x * Math.exp(-step), start * 1e-12);
  if (up === null) return down;
  if (down === null) return up;
  return up - start <= start - down ? up : down;
}

function firstCrossing(
  f: (x: number) => number,
  start: number,
  atStart: number,
  next: (x: number, step: number) => number,
  limit: number,
): number | null {
  let x = start;
  let fx = atStart;
  let step = 0.002;
  for (let i = 0; i < 10_000; i++) {
    const y = next(x, step);
    const fy = f(y);
    if (fy === 0) return y;
    if (Math.sign(fy) !== Math.sign(fx)) return bisect(f, x, fx, y);
    if (y === limit || (y < start ? y <= limit : y >= limit)) return null;
    x = y;
    fx = fy;
    step *= 1.05;
  }
  return null;
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
