import { narrow } from '../../../src/fixed/index.js';
import { accountRisk, freeCollateral, leverage, marginRatio, marginState } from '../../../src/risk/account.js';
import { markOf } from '../../../src/risk/mark.js';
import { positionGreeks, positionRisk } from '../../../src/risk/position.js';
import { x } from '../../support/ledger.js';

const perp = {
  kind: 'PERPETUAL' as const, strike: 0n, expiry: 0, impliedVolatility: null,
  initialMarginFraction: x('0.1'), maintenanceMarginFraction: x('0.05'), cumulativeFunding: x(2),
};

describe('position risk (SPEC 4)', () => {
  it('computes notional, uPnL, funding and margins of a perpetual at the index', () => {
    const mark = markOf(perp, x(110), 0, 0n);
    const risk = positionRisk({ size: x(-3), entryPrice: x(100), fundingSnapshot: x('0.5') }, perp, mark);
    expect(narrow(risk.notional)).toBe(x(330));
    expect(narrow(risk.unrealizedPnl)).toBe(x(-30));
    expect(narrow(risk.accruedFunding)).toBe(x('4.5')); // -s * (F - Fs): shorts receive
    expect(narrow(risk.initialMargin)).toBe(x(33));
    expect(narrow(risk.maintenanceMargin)).toBe(x('16.5'));
    expect(narrow(risk.equity)).toBe(x('-25.5'));
    expect(positionGreeks(x(-3), 'PERPETUAL', mark)).toEqual({ delta: x(-3), gamma: 0n, theta: 0n, vega: 0n });
  });

  it('values options with Black-Scholes and margins only short ones on M', () => {
    const call = { ...perp, kind: 'CALL' as const, strike: x(50), expiry: Math.round((20 / 52) * 365 * 86400), impliedVolatility: x('0.2'), cumulativeFunding: 0n };
    const mark = markOf(call, x(49), 0, x('0.05'));
    expect(Number(mark.value!) / 1e18).toBeCloseTo(2.4005, 3);
    const long = positionRisk({ size: x(2), entryPrice: x(2), fundingSnapshot: 0n }, call, mark);
    expect(long.initialMargin).toBe(0n);
    expect(long.equity).toBe(2n * mark.value! * 10n ** 36n);
    const short = positionRisk({ size: x(-2), entryPrice: x(2), fundingSnapshot: 0n }, call, mark);
    expect(narrow(short.maintenanceMargin)).toBe(x('4.9')); // |s| * M * MMF = 2 * 49 * 0.05
    expect(narrow(short.unrealizedPnl)).toBe(-2n * (mark.value! - x(2)));
  });

  it('marks at entry before the first index', () => {
    const risk = positionRisk({ size: x(2), entryPrice: x(100), fundingSnapshot: 0n }, { ...perp, cumulativeFunding: 0n }, markOf(perp, null, 0, 0n));
    expect(risk.unrealizedPnl).toBe(0n);
    expect(narrow(risk.initialMargin)).toBe(x(20));
  });
});

describe('account risk (SPEC 4)', () => {
  const positions = [
    positionRisk({ size: x(10), entryPrice: x(100), fundingSnapshot: 0n }, { ...perp, cumulativeFunding: 0n }, markOf(perp, x(95), 0, 0n)),
  ];

  it('sums equity, margins, free collateral, margin ratio and leverage', () => {
    const risk = accountRisk(x(100), positions);
    expect(narrow(risk.equity)).toBe(x(50));
    expect(narrow(risk.initialMargin)).toBe(x(95));
    expect(narrow(risk.maintenanceMargin)).toBe(x('47.5'));
    expect(freeCollateral(risk)).toBe(x(-45));
    expect(marginRatio(risk)).toBe(x('0.95'));
    expect(leverage(risk)).toBe(x(19));
    expect(marginState(risk)).toBe('MARGIN_CALL');
  });

  it('has no margin ratio or leverage without positive equity', () => {
    const risk = accountRisk(x(50), positions);
    expect(narrow(risk.equity)).toBe(0n);
    expect(marginRatio(risk)).toBeNull();
    expect(leverage(risk)).toBeNull();
    expect(marginState(risk)).toBe('LIQUIDATABLE');
    expect(marginState(accountRisk(x(49), positions))).toBe('BANKRUPT');
    expect(marginState(accountRisk(x(0), []))).toBe('HEALTHY');
  });
});
