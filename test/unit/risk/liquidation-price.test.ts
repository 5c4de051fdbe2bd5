import fc from 'fast-check';
import { narrow, toFloat } from '../../../src/fixed/index.js';
import { accountRisk } from '../../../src/risk/account.js';
import { liquidationPrice, nearestRoot, type HeldPosition } from '../../../src/risk/liquidation-price.js';
import { markOf } from '../../../src/risk/mark.js';
import { positionRisk } from '../../../src/risk/position.js';
import { x } from '../../support/ledger.js';

const YEAR = 365 * 86400;

function perp(underlying: string, mmf = '0.05') {
  return { underlying, kind: 'PERPETUAL' as const, strike: 0n, expiry: 0, impliedVolatility: null, initialMarginFraction: x('0.1'), maintenanceMarginFraction: x(mmf), cumulativeFunding: 0n };
}

function held(market: HeldPosition['market'], size: string, entry: string, index: string): HeldPosition {
  return { market, position: { size: x(size), entryPrice: x(entry), fundingSnapshot: 0n }, mark: markOf(market, x(index), 0, 0n) };
}

/** equity - MM of the account with every mark on `underlying` moved to `price`. */
function excessAt(collateral: bigint, positions: HeldPosition[], underlying: string, price: bigint): number {
  const risks = positions.map((h) => positionRisk(h.position, h.market, h.market.underlying === underlying ? markOf(h.market, price, 0, 0n) : h.mark));
  const risk = accountRisk(collateral, risks);
  return toFloat(narrow(risk.equity - risk.maintenanceMargin));
}

describe('liquidation price (SPEC 4)', () => {
  it("matches dYdX's isolated example: equity 1000, size -3 at 3000, MMF 0.05 -> 3174.6032", () => {
    const price = liquidationPrice(x(1000), [held(perp('ETH'), '-3', '3000', '3000')], 'ETH', 0, 0n);
    expect(price).toBe(x('3174.603174603174603175'));
  });

  it('solves the closed form with several positions, holding other underlyings fixed', () => {
    const positions = [held(perp('ETH'), '2', '100', '100'), held(perp('ETH'), '1', '90', '100'), held(perp('BTC'), '-1', '1000', '990')];
    const price = liquidationPrice(x(50), positions, 'ETH', 0, 0n)!;
    // 50 + 2(M-100) + (M-90) + 10 - 0.05*3M - 0.05*990 = 0, so 2.85 M = 279.5
    expect(price).toBe(x('98.070175438596491228'));
    expect(Math.abs(excessAt(x(50), positions, 'ETH', price))).toBeLessThan(1e-15);
  });

  it('is null when no price in (0, 100 M] liquidates the account', () => {
    expect(liquidationPrice(x(1_000_000), [held(perp('ETH'), '1', '100', '100')], 'ETH', 0, 0n)).toBeNull();
    expect(liquidationPrice(x(10), [held(perp('ETH'), '-1', '100', '100')], 'ETH', 0, 0n)).toBe(x('104.761904761904761905'));
    expect(liquidationPrice(x(10), [held(perp('ETH', '1'), '1', '100', '100')], 'ETH', 0, 0n)).toBeNull(); // slope 0
    expect(liquidationPrice(x(10), [held(perp('ETH'), '1', '100', '100')], 'BTC', 0, 0n)).toBeNull();
    // A short's root (C + 100) / 1.05 exists but lies beyond 100 M = 10,000: none; inside it, it is found.
    expect(liquidationPrice(x(20_000), [held(perp('ETH'), '-1', '100', '100')], 'ETH', 0, 0n)).toBeNull();
    expect(liquidationPrice(x(10_000), [held(perp('ETH'), '-1', '100', '100')], 'ETH', 0, 0n)).toBe(x('9619.047619047619047619'));
  });

  it('finds the nearest root by search when options on the underlying are held', () => {
    const call = { ...perp('ETH'), kind: 'CALL' as const, strike: x(100), expiry: YEAR / 4, impliedVolatility: x('0.6') };
    const positions = [held(call, '-10', '12', '100'), held(perp('ETH'), '5', '100', '100')];
    const price = liquidationPrice(x(1000), positions, 'ETH', 0, 0n)!;
    expect(price).not.toBeNull();
    expect(Math.abs(excessAt(x(1000), positions, 'ETH', price))).toBeLessThan(1e-9);
    // Nearest: no root between the current index and the one found.
    const found = toFloat(price);
    for (let i = 1; i < 200; i++) {
      const between = 100 + ((found - 100) * i) / 200;
      expect(Math.sign(excessAt(x(1000), positions, 'ETH', x(between.toFixed(12))))).toBe(Math.sign(excessAt(x(1000), positions, 'ETH', x(100))));
    }
  });

  it('searches in float64 yet lands within 1e-12 of a root of the checked excess, the nearest one', () => {
    // Random portfolios of calls, puts and a perpetual on ETH (and a BTC perpetual held fixed):
    // the float64 search must agree with the checked Black-Scholes (values within 1e-12 of a
    // 40-digit evaluation) and exact ledger arithmetic.
    const option = fc.record({
      kind: fc.constantFrom('CALL' as const, 'PUT' as const),
      strike: fc.integer({ min: 50, max: 200 }),
      days: fc.integer({ min: 1, max: 400 }),
      vol: fc.integer({ min: 5, max: 150 }),
      size: fc.integer({ min: -20, max: 20 }).filter((s) => s !== 0),
      entry: fc.integer({ min: 1, max: 40 }),
    });
    fc.assert(
      fc.property(fc.array(option, { minLength: 1, maxLength: 8 }), fc.integer({ min: -10, max: 10 }), fc.integer({ min: 10, max: 3000 }), (options, perpSize, collateral) => {
        const positions = options.map((o, i) => {
          const market = { ...perp('ETH'), id: `O${i}`, kind: o.kind, strike: x(o.strike), expiry: o.days * 86400, impliedVolatility: x(o.vol / 100) };
          return held(market, String(o.size), String(o.entry), '100');
        });
        if (perpSize !== 0) positions.push(held(perp('ETH'), String(perpSize), '100', '100'));
        positions.push(held(perp('BTC'), '-1', '1000', '990'));
        const price = liquidationPrice(x(collateral), positions, 'ETH', 0, 0n);
        const atStart = Math.sign(excessAt(x(collateral), positions, 'ETH', x(100)));
        if (price === null) {
          // No crossing on a coarse grid either (the search's own grid is finer).
          for (const m of [1e-6, 0.01, 1, 10, 50, 90, 99, 101, 110, 200, 1000, 5000, 10_000]) {
            expect(Math.sign(excessAt(x(collateral), positions, 'ETH', x(m.toFixed(12))))).toBe(atStart);
          }
          return;
        }
        const found = toFloat(price);
        expect(found).toBeGreaterThan(0);
        expect(found).toBeLessThanOrEqual(10_000);
        // A sign change of the checked excess within 1e-12 relative of the result (or a zero).
        const below = excessAt(x(collateral), positions, 'ETH', x((found * (1 - 1e-12)).toFixed(18)));
        const above = excessAt(x(collateral), positions, 'ETH', x((found * (1 + 1e-12)).toFixed(18)));
        expect(below === 0 || above === 0 || Math.sign(below) !== Math.sign(above)).toBe(true);
        // Nearest: the checked excess keeps its sign at M between the index and the result.
        for (let i = 1; i < 20; i++) {
          const between = 100 + ((found - 100) * i) / 20;
          expect(Math.sign(excessAt(x(collateral), positions, 'ETH', x(between.toFixed(12))))).toBe(atStart);
        }
      }),
      { numRuns: 150, seed: 4 },
    );
  });

  it('nearestRoot with a Lipschitz bound skips ahead but finds the same nearest root', () => {
    const f = (m: number) => (m - 90) * (m - 120) * (m - 400);
    // |f'| on (0, 1000] is below 2e6.
    expect(nearestRoot(f, 100, 10_000, 2e6)).toBeCloseTo(90, 9);
    expect(nearestRoot((m) => 50 - m, 10, 1000, 1)).toBeCloseTo(50, 9);
    expect(nearestRoot((m) => 5 + Math.sin(m), 10, 1000, 1)).toBeNull();
    // Roots on both sides at the same distance: the upper one, as without the bound.
    expect(nearestRoot((m) => (m - 90) * (m - 110), 100, 1000, 1000)).toBeCloseTo(110, 9);
  });

  it('nearestRoot prefers the closer side and returns null without a crossing', () => {
    expect(nearestRoot((m) => (m - 90) * (m - 120), 100, 10_000)).toBeCloseTo(90, 9);
    expect(nearestRoot((m) => (m - 80) * (m - 105), 100, 10_000)).toBeCloseTo(105, 9);
    expect(nearestRoot((m) => m * m + 1, 100, 10_000)).toBeNull();
  });
});
