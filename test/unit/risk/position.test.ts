import fc from 'fast-check';
import { wide } from '../../../src/fixed/index.js';
import { addMargins, marginsOf, positionRisk, type MarginSums } from '../../../src/risk/position.js';

const amount = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n });
const positive = fc.bigInt({ min: 1n, max: 10n ** 30n });
const fraction = fc.bigInt({ min: 0n, max: 10n ** 18n });

describe('addMargins and marginsOf', () => {
  it('give exactly the equity and margins positionRisk gives, for every kind, with or without an index, value or entry', () => {
    const position = fc.record({ size: amount.filter((s) => s !== 0n), entryPrice: fc.option(positive), fundingSnapshot: amount });
    const market = fc.record({
      kind: fc.constantFrom('PERPETUAL' as const, 'CALL' as const, 'PUT' as const),
      strike: positive, expiry: fc.constant(0), impliedVolatility: fc.constant(null),
      initialMarginFraction: fraction, maintenanceMarginFraction: fraction, cumulativeFunding: amount,
    });
    const mark = fc.record({
      indexPrice: fc.option(positive),
      value: fc.option(fc.bigInt({ min: 0n, max: 10n ** 30n })),
      greeks: fc.constant({ delta: 0, gamma: 0, theta: 0, vega: 0 }),
    });
    fc.assert(fc.property(fc.array(fc.tuple(position, market, mark), { maxLength: 5 }), amount, (positions, collateral) => {
      const sums: MarginSums = { equityProducts: 0n, initialMargin: 0n, maintenanceMargin: 0n };
      const expected = { equity: wide.of(collateral), initialMargin: 0n, maintenanceMargin: 0n };
      for (const [p, m, k] of positions) {
        addMargins(sums, p, m, k);
        const risk = positionRisk(p, m, k);
        expected.equity += risk.equity;
        expected.initialMargin += risk.initialMargin;
        expected.maintenanceMargin += risk.maintenanceMargin;
      }
      expect(marginsOf(collateral, sums)).toEqual(expected);
    }), { numRuns: 500 });
  });
});
