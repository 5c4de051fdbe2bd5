// The bounds behind the margin index (src/risk/margin-bounds.ts), checked against exact
// re-evaluations: moving any one factor to the edge of its range changes each quantity that
// decides the state (E, E - MM, E - IM) by at most that factor's share of its budget, in the
// direction that could change the state; and moving all of them to their edges at once
// (time to the last second of its window) leaves the state as it was.
import fc from 'fast-check';
import { parseFixed, type Fixed, type Wide } from '../../../src/fixed/index.js';
import { MarginBounds, type MarketBounds, type RangeSink } from '../../../src/risk/margin-bounds.js';
import { marginStateOf, type MarginState } from '../../../src/risk/margin-state.js';
import { markOf } from '../../../src/risk/mark.js';
import { addMargins, marginsOf, type MarginSums, type MarketRiskTerms } from '../../../src/risk/position.js';

const NOW = 10_000_000;
const DAY = 86_400;
const x = (text: string | number): Fixed => parseFixed(String(text));
/** The Fixed nearest a float (toFixed rounds the exact binary value). */
const fixedOf = (value: number): Fixed => parseFixed(value.toFixed(18));

type Terms = MarketRiskTerms & { id: string; underlying: 'A' | 'B' };
const perp = (id: string, underlying: 'A' | 'B', imf: string, mmf: string): Terms => ({
  id, underlying, kind: 'PERPETUAL', strike: 0n, expiry: 0, impliedVolatility: null,
  initialMarginFraction: x(imf), maintenanceMarginFraction: x(mmf), cumulativeFunding: 0n,
});
const option = (id: string, underlying: 'A' | 'B', kind: 'CALL' | 'PUT', strike: number, days: number): Terms => ({
  id, underlying, kind, strike: x(strike), expiry: NOW + Math.round(days * DAY), impliedVolatility: null,
  initialMarginFraction: x('0.15'), maintenanceMarginFraction: x('0.1'), cumulativeFunding: 0n,
});
const MARKETS: Terms[] = [
  perp('A-PERP', 'A', '0.1', '0.05'), perp('B-PERP', 'B', '0.2', '0.25'),
  option('A-C-80', 'A', 'CALL', 80, 60), option('A-C-100', 'A', 'CALL', 100, 3), option('A-C-120', 'A', 'CALL', 120, 0.2),
  option('A-P-90', 'A', 'PUT', 90, 3), option('A-P-110', 'A', 'PUT', 110, 60), option('B-C-20', 'B', 'CALL', 20, 1),
];

interface World {
  prices: { A: Fixed; B: Fixed };
  volatility: Map<string, Fixed>;
  funding: Map<string, Fixed>;
  now: number;
}

interface Holding { market: Terms; size: Fixed; entry: Fixed; snapshot: Fixed }

function marginsAt(world: World, holdings: Holding[], collateral: Fixed, rate: Fixed) {
  const sums: MarginSums = { equityProducts: 0n, initialMargin: 0n, maintenanceMargin: 0n };
  for (const h of holdings) {
    const market = { ...h.market, impliedVolatility: world.volatility.get(h.market.id) ?? null, cumulativeFunding: world.funding.get(h.market.id) ?? 0n };
    addMargins(sums, { size: h.size, entryPrice: h.entry, fundingSnapshot: h.snapshot }, market, markOf(market, world.prices[h.market.underlying], world.now, rate));
  }
  return marginsOf(collateral, sums);
}

/** The quantities that decide `state`, each with the side of 0 it must stay on (true: < 0). */
function decisive(state: MarginState, m: { equity: Wide; initialMargin: Wide; maintenanceMargin: Wide }): [Wide, boolean][] {
  const { equity: e, initialMargin: im, maintenanceMargin: mm } = m;
  switch (state) {
    case 'HEALTHY': return [[e - mm, false], [e - im, false]];
    case 'MARGIN_CALL': return [[e - mm, false], [e - im, true]];
    case 'LIQUIDATABLE': return [[e, false], [e - mm, true]];
    case 'BANKRUPT': return [[e, true]];
  }
}

const accountArb = fc.record({
  holdings: fc.uniqueArray(fc.record({ market: fc.constantFrom(...MARKETS), size: fc.integer({ min: -500, max: 500 }).filter((n) => n !== 0) }), { minLength: 1, maxLength: 4, selector: (h) => h.market.id }),
  prices: fc.record({ A: fc.integer({ min: 60, max: 140 }), B: fc.integer({ min: 12, max: 28 }) }),
  volatility: fc.array(fc.integer({ min: 0, max: 250 }), { minLength: 6, maxLength: 6 }),
  funding: fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 2, maxLength: 2 }),
  rate: fc.constantFrom('0', '0', '0.05', '-0.03'),
  threshold: fc.constantFrom('IM', 'MM', 'ZERO'),
  offset: fc.integer({ min: -100_000, max: 100_000 }), // 1e-7 of notional
  sides: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
});

type Account = typeof accountArb extends fc.Arbitrary<infer T> ? T : never;

function check(a: Account): void {
  const rate = x(a.rate);
  const world: World = {
    prices: { A: x(a.prices.A), B: x(a.prices.B) },
    volatility: new Map(MARKETS.filter((m) => m.kind !== 'PERPETUAL').map((m, i) => [m.id, x((a.volatility[i]! / 100).toFixed(2))])),
    funding: new Map([['A-PERP', x(a.funding[0]! / 10)], ['B-PERP', x(a.funding[1]! / 10)]]),
    now: NOW,
  };
  const holdings: Holding[] = a.holdings.map((h) => ({ market: h.market, size: x(h.size / 100), entry: x(h.market.kind === 'PERPETUAL' ? a.prices[h.market.underlying] : 5), snapshot: 0n }));
  // Collateral that puts the account at its threshold plus the offset.
  const bare = marginsAt(world, holdings, 0n, rate);
  const notional = holdings.reduce((sum, h) => sum + (h.size < 0n ? -h.size : h.size) * world.prices[h.market.underlying], 0n) * 10n ** 18n;
  const target = a.threshold === 'IM' ? bare.initialMargin : a.threshold === 'MM' ? bare.maintenanceMargin : 0n;
  const collateral = (target - bare.equity + (notional * BigInt(a.offset)) / 10_000_000n) / 10n ** 36n;
  const margins = marginsAt(world, holdings, collateral, rate);
  const state = marginStateOf(margins.equity, margins.initialMargin, margins.maintenanceMargin);
  const quantities = decisive(state, margins);

  // The bounds, as the ledger builds them.
  const bounds = new MarginBounds(NOW, rate);
  const factors: { id: number; apply: (w: World, v: number) => World; origin: number }[] = [];
  const ids = new Map<string, { price: number; volatility: number; funding: number }>();
  const priceIds = new Map<'A' | 'B', number>();
  for (const u of ['A', 'B'] as const) {
    const id = bounds.factor('PRICE', world.prices[u]);
    priceIds.set(u, id);
    factors[id] = { id, origin: bounds.origin(id), apply: (w, v) => ({ ...w, prices: { ...w.prices, [u]: fixedOf(Math.max(v, 1e-3)) } }) };
  }
  for (const m of MARKETS) {
    let volatility = -1;
    let funding = -1;
    if (m.kind !== 'PERPETUAL') {
      volatility = bounds.factor('VOLATILITY', world.volatility.get(m.id)!);
      factors[volatility] = { id: volatility, origin: bounds.origin(volatility), apply: (w, v) => ({ ...w, volatility: new Map(w.volatility).set(m.id, fixedOf(Math.max(v, 0))) }) };
    } else {
      funding = bounds.factor('FUNDING', world.funding.get(m.id)!, (world.prices[m.underlying] * x('0.01')) / 10n ** 18n);
      factors[funding] = { id: funding, origin: bounds.origin(funding), apply: (w, v) => ({ ...w, funding: new Map(w.funding).set(m.id, fixedOf(v)) }) };
    }
    ids.set(m.id, { price: priceIds.get(m.underlying)!, volatility, funding });
  }
  const unit = new Map<string, MarketBounds>(MARKETS.map((m) => [m.id, bounds.market({ ...m, impliedVolatility: world.volatility.get(m.id) ?? null }, ids.get(m.id)!)]));
  bounds.begin();
  for (const h of holdings) bounds.add(h.size, unit.get(h.market.id)!);
  const ranges = new Map<number, { bottom: number; top: number; share: number }>();
  let window = { until: Infinity, share: 0 };
  const sink: RangeSink = {
    range: (f, lowKey, highKey, share) => ranges.set(f, { bottom: -lowKey, top: highKey, share }),
    until: (until, share) => (window = { until, share }),
  };
  bounds.finish(margins.equity, margins.initialMargin, margins.maintenanceMargin, state, sink);

  const harmOf = (moved: ReturnType<typeof marginsAt>) => decisive(state, moved).map(([q1], i) => {
    const [q0, below] = quantities[i]!;
    const change = q1 - q0;
    return below ? (change > 0n ? change : 0n) : (change < 0n ? -change : 0n);
  });
  const scale = notional / 10n ** 18n + 10n ** 36n; // tolerance: 1e-12 of notional, in Wide units
  const within = (harm: Wide[], share: number) => harm.forEach((h, i) => {
    const budget = quantities[i]![0] < 0n ? -quantities[i]![0] : quantities[i]![0];
    const allowed = (budget * BigInt(Math.ceil(share * 1e9))) / 1_000_000_000n + budget / 1_000_000_000n + scale / 1_000_000_000_000n;
    expect(h <= allowed ? 'within its share' : `harm ${h} > ${share} of ${budget}`).toBe('within its share');
  });

  // One factor at a time, to each finite edge; a factor without a range claims it cannot hurt
  // at all (share 0), anywhere a factor can go. Far edges are brought in to there: still inside.
  const moves: { world: (w: World) => World; share: number }[] = [];
  for (const factor of factors) {
    const range = ranges.get(factor.id) ?? { bottom: -Infinity, top: Infinity, share: 0 };
    if (range.bottom === Infinity) continue; // pinned: any move re-evaluates
    const reach = 1000 * (Math.abs(factor.origin) + 1);
    for (const edge of [Math.max(range.bottom, factor.origin - reach), Math.min(range.top, factor.origin + reach)]) {
      const move = { world: (w: World) => factor.apply(w, edge), share: range.share };
      within(harmOf(marginsAt(move.world(world), holdings, collateral, rate)), move.share);
      moves.push(move);
    }
  }
  const earliest = Math.min(...holdings.filter((h) => h.market.kind !== 'PERPETUAL').map((h) => h.market.expiry));
  const until = window.until < Infinity ? window.until : Number.isFinite(earliest) ? earliest : NOW;
  if (until > NOW) {
    const move = { world: (w: World) => ({ ...w, now: until }), share: window.until < Infinity ? window.share : 0 };
    within(harmOf(marginsAt(move.world(world), holdings, collateral, rate)), move.share);
    moves.push(move);
  }
  // Several at once (time, and one edge per factor at most): within the sum of their shares;
  // and with every factor at an edge, the state holds.
  let subset = world;
  let shares = 0;
  let corner = world;
  moves.forEach((move, i) => {
    const edgeOfSame = i % 2 === 0 && i + 1 < moves.length && moves[i + 1]!.share === move.share;
    if (a.sides[i % a.sides.length]) {
      subset = move.world(subset);
      shares += move.share;
    }
    if (!edgeOfSame || a.sides[(i + 3) % a.sides.length]) corner = move.world(corner);
  });
  within(harmOf(marginsAt(subset, holdings, collateral, rate)), Math.min(1, shares));
  const moved = marginsAt(corner, holdings, collateral, rate);
  expect(marginStateOf(moved.equity, moved.initialMargin, moved.maintenanceMargin)).toBe(state);
}

describe('margin bounds', () => {
  it('keep every factor within its share of the budget at its range edges, and the state inside the box', () => {
    fc.assert(fc.property(accountArb, check), { numRuns: 1500 });
  });

  it('price ranges of a single perpetual end at its threshold (closed form)', () => {
    // 10 long at 100 on 200, IMF 0.1: E - IM = 9M - 800 and E - MM = 9.5M - 800.
    const bounds = new MarginBounds(NOW, 0n);
    const price = bounds.factor('PRICE', x(100));
    const unit = bounds.market(perp('P', 'A', '0.1', '0.05'), { price, volatility: -1, funding: -1 });
    bounds.begin();
    bounds.add(x(10), unit);
    const e = x(200) * 10n ** 36n;
    const got: number[][] = [];
    bounds.finish(e, x(100) * 10n ** 36n, x(50) * 10n ** 36n, 'HEALTHY', { range: (f, lo, hi, share) => got.push([f, -lo, hi, share]), until: () => {} });
    expect(got).toHaveLength(1);
    const [, bottom, top, share] = got[0]!;
    expect(share).toBe(1);
    expect(top).toBe(Infinity);
    expect(bottom).toBeGreaterThan(800 / 9);
    expect(bottom! - 800 / 9).toBeLessThan(1e-4);
  });
});
