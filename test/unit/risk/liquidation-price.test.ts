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

  it('nearestRoot prefers the closer side and returns null without a crossing', () => {
    expect(nearestRoot((m) => (m - 90) * (m - 120), 100, 10_000)).toBeCloseTo(90, 9);
    expect(nearestRoot((m) => (m - 80) * (m - 105), 100, 10_000)).toBeCloseTo(105, 9);
    expect(nearestRoot((m) => m * m + 1, 100, 10_000)).toBeNull();
  });
});
