// SPEC sections 3 and 4: how an option is valued at a block (no dividend, the market's latest
// implied volatility, PTS_RISK_FREE_RATE, T = (expiry - blockTimestamp) / (365 * 86400)) and
// the Greeks of a position (per unit times s; theta per calendar day, vega per volatility point).
import { fromFloat, narrow, toFloat } from '../../../src/fixed/index.js';
import { blackScholes } from '../../../src/risk/black-scholes.js';
import { liquidationPrice, type HeldPosition } from '../../../src/risk/liquidation-price.js';
import { markOf, SECONDS_PER_YEAR } from '../../../src/risk/mark.js';
import { positionGreeks, positionRisk } from '../../../src/risk/position.js';
import { x } from '../../support/ledger.js';

const option = (kind: 'CALL' | 'PUT', strike: string, expiry: number, iv: string | null) => ({
  kind, strike: x(strike), expiry, impliedVolatility: iv === null ? null : x(iv),
  initialMarginFraction: x('0.1'), maintenanceMarginFraction: x('0.05'), cumulativeFunding: 0n,
});

describe('option marks (SPEC 3, options)', () => {
  it('price with T = (expiry - block time) / (365 * 86400), the latest volatility and the risk-free rate', () => {
    expect(SECONDS_PER_YEAR).toBe(365 * 86_400);
    const now = 1_700_000_000;
    const market = option('PUT', '2500', now + 30 * 86_400, '0.8');
    const mark = markOf(market, x(3000), now, x('0.03'));
    const expected = blackScholes({ kind: 'PUT', spot: 3000, strike: 2500, volatility: 0.8, years: (30 * 86_400) / SECONDS_PER_YEAR, rate: 0.03 });
    expect(mark.greeks).toEqual(expected);
    expect(Math.abs(toFloat(mark.value!) - expected.value)).toBeLessThan(1e-12 * expected.value);
    expect(mark.indexPrice).toBe(x(3000));
  });

  it('without a volatility report price the deterministic limit, and nothing without an index', () => {
    const market = option('CALL', '100', 2 * SECONDS_PER_YEAR, null);
    expect(markOf(market, x(130), 0, 0n).value).toBe(x(30));
    expect(markOf(market, x(90), 0, 0n).value).toBe(0n);
    expect(markOf(market, null, 0, 0n)).toEqual({ indexPrice: null, value: null, greeks: { delta: 0, gamma: 0, theta: 0, vega: 0 } });
  });

  it('at or past expiry value the intrinsic', () => {
    const market = option('PUT', '100', 5000, '0.5');
    expect(markOf(market, x(80), 5000, 0n).value).toBe(x(20));
    expect(markOf(market, x(80), 9000, 0n).value).toBe(x(20));
  });
});

describe("position Greeks (SPEC 4) on Hull's 20-week call", () => {
  // S=49, K=50, r=0.05, sigma=0.20, T=20/52 (to the second).
  const expiry = Math.round((20 / 52) * SECONDS_PER_YEAR);
  const call = option('CALL', '50', expiry, '0.2');
  const mark = markOf(call, x(49), 0, x('0.05'));

  it('per unit: call 2.4005, delta 0.5216, gamma 0.06554, vega 0.12105 per point, theta -0.011795 per day', () => {
    expect(toFloat(mark.value!)).toBeCloseTo(2.4005, 4);
    expect(mark.greeks.delta).toBeCloseTo(0.5216, 4);
    expect(mark.greeks.gamma).toBeCloseTo(0.06554, 5);
    expect(mark.greeks.vega).toBeCloseTo(0.12105, 5);
    expect(mark.greeks.theta).toBeCloseTo(-0.011795, 6);
  });

  it('times the signed size: a short of 3 has -3 times each Greek', () => {
    const g = positionGreeks(x(-3), 'CALL', mark);
    expect(g).toEqual({
      delta: -3n * fromFloat(mark.greeks.delta), gamma: -3n * fromFloat(mark.greeks.gamma),
      theta: -3n * fromFloat(mark.greeks.theta), vega: -3n * fromFloat(mark.greeks.vega),
    });
    expect(toFloat(g.theta)).toBeCloseTo(3 * 0.0117954, 6); // a short call earns the decay
    expect(positionGreeks(x('2.5'), 'PERPETUAL', markOf({ ...call, kind: 'PERPETUAL' }, x(49), 0, 0n))).toEqual({ delta: x('2.5'), gamma: 0n, theta: 0n, vega: 0n });
  });

  it('notional |s| * M, uPnL s * (value - E), no margin for a long', () => {
    const risk = positionRisk({ size: x(4), entryPrice: x(2), fundingSnapshot: 0n }, call, mark);
    expect(narrow(risk.notional)).toBe(x(196));
    expect(narrow(risk.unrealizedPnl)).toBe(4n * (mark.value! - x(2)));
    expect([risk.initialMargin, risk.maintenanceMargin, risk.accruedFunding]).toEqual([0n, 0n, 0n]);
  });
});

describe('liquidation price inputs (SPEC 4)', () => {
  const perp = {
    underlying: 'ETH', kind: 'PERPETUAL' as const, strike: 0n, expiry: 0, impliedVolatility: null,
    initialMarginFraction: x('0.1'), maintenanceMarginFraction: x('0.05'), cumulativeFunding: x(10),
  };

  it('holds accrued funding in C\': (s*E - C\') / (s - |s| * MMF)', () => {
    // Short 3 at 3000 with snapshot 0 and F = 10: accrued -s * (F - Fs) = +30, so C' = 1030.
    const held: HeldPosition = { market: perp, position: { size: x(-3), entryPrice: x(3000), fundingSnapshot: 0n }, mark: markOf(perp, x(3000), 0, 0n) };
    // (-9000 - 1030) / (-3.15) = 3184.126984126984126984...
    expect(liquidationPrice(x(1000), [held], 'ETH', 0, 0n)).toBe(x('3184.126984126984126984'));
  });

  it('is null where the underlying has no index price', () => {
    const held: HeldPosition = { market: perp, position: { size: x(-3), entryPrice: x(3000), fundingSnapshot: x(10) }, mark: markOf(perp, null, 0, 0n) };
    expect(liquidationPrice(x(1000), [held], 'ETH', 0, 0n)).toBeNull();
  });
});
