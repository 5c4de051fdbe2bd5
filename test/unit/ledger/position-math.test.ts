import { trade } from '../../../src/ledger/position-math.js';
import { x } from '../../support/ledger.js';

describe('trade (SPEC 3: fills and liquidations on a position)', () => {
  it('opens at the fill price', () => {
    expect(trade(0n, null, x(2), x(100))).toEqual({ size: x(2), entryPrice: x(100), realized: 0n });
  });

  it('averages the entry when adding in the same direction', () => {
    // (|s|E + |d|p) / (|s| + |d|) = (2*100 + 1*130) / 3 = 110
    expect(trade(x(2), x(100), x(1), x(130))).toEqual({ size: x(3), entryPrice: x(110), realized: 0n });
    expect(trade(x(-2), x(100), x(-2), x(90))).toEqual({ size: x(-4), entryPrice: x(95), realized: 0n });
  });

  it('rounds a non-terminating average half to even at 18 decimals', () => {
    expect(trade(x(1), x(100), x(2), x(101)).entryPrice).toBe(x('100.666666666666666667'));
  });

  it('realizes closed * (p - E) * sign(s) when reducing', () => {
    expect(trade(x(3), x(100), x(-1), x(120))).toEqual({ size: x(2), entryPrice: x(100), realized: x(20) });
    expect(trade(x(-3), x(100), x(2), x(120))).toEqual({ size: x(-1), entryPrice: x(100), realized: x(-40) });
  });

  it('closes at zero and clears the entry', () => {
    expect(trade(x(3), x(100), x(-3), x(90))).toEqual({ size: 0n, entryPrice: null, realized: x(-30) });
  });

  it('flips: closes the whole position and opens the rest at the fill price', () => {
    expect(trade(x(2), x(100), x(-5), x(110))).toEqual({ size: x(-3), entryPrice: x(110), realized: x(20) });
    expect(trade(x(-1), x(50), x(4), x(40))).toEqual({ size: x(3), entryPrice: x(40), realized: x(10) });
  });
});
