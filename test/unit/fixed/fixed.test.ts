import fc from 'fast-check';
import {
  ONE, divRound, div, fixed, formatFixed, fromFloat, mul, narrow, parseFixed, toFloat, toSql, wide, wideRatio,
} from '../../../src/fixed/index.js';

describe('parseFixed / formatFixed', () => {
  it('reads and writes exact decimal strings', () => {
    expect(parseFixed('1.5')).toBe(1_500_000_000_000_000_000n);
    expect(parseFixed('-0.000000000000000001')).toBe(-1n);
    expect(parseFixed('3000')).toBe(3000n * ONE);
    expect(parseFixed('2.500000000000000000000')).toBe(25n * ONE / 10n);
    expect(formatFixed(1_500_000_000_000_000_000n)).toBe('1.5');
    expect(formatFixed(-1n)).toBe('-0.000000000000000001');
    expect(formatFixed(0n)).toBe('0');
    // Around the decimal point: below 1 the leading zeros come from a constant.
    expect(formatFixed(ONE / 10n)).toBe('0.1');
    expect(formatFixed(-ONE / 10n)).toBe('-0.1');
    expect(formatFixed(123n)).toBe('0.000000000000000123');
    expect(formatFixed(ONE - 1n)).toBe('0.999999999999999999');
    expect(formatFixed(ONE)).toBe('1');
    expect(formatFixed(ONE + 1n)).toBe('1.000000000000000001');
    expect(formatFixed(-10n * ONE)).toBe('-10');
    expect(toSql(-15n * ONE / 10n)).toBe('-1.500000000000000000');
  });

  it('refuses what is not an exact 18-decimal number', () => {
    expect(() => parseFixed('1e18')).toThrow(RangeError);
    expect(() => parseFixed('0.0000000000000000001')).toThrow(/decimal places/);
    expect(() => parseFixed('abc')).toThrow(RangeError);
    expect(() => fixed(0.1)).toThrow(RangeError);
  });

  it('round-trips every value', () => {
    // Large values, and values near 1 (where the digits are fewer than the decimals).
    fc.assert(fc.property(fc.oneof(fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }), fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n })), (units) => {
      expect(parseFixed(formatFixed(units))).toBe(units);
      // Canonical: no leading zeros, no trailing fractional zeros, no "-0".
      expect(formatFixed(units)).toMatch(/^(0|-?[1-9]\d*|-?0\.\d*[1-9]|-?[1-9]\d*\.\d*[1-9])$/);
      expect(parseFixed(toSql(units))).toBe(units);
    }));
  });
});

describe('rounding', () => {
  it('rounds half to even', () => {
    expect(divRound(5n, 2n)).toBe(2n);
    expect(divRound(7n, 2n)).toBe(4n);
    expect(divRound(-5n, 2n)).toBe(-2n);
    expect(divRound(-7n, 2n)).toBe(-4n);
    expect(divRound(7n, -2n)).toBe(-4n);
    expect(divRound(10n, 3n)).toBe(3n);
    expect(divRound(-11n, 3n)).toBe(-4n);
    expect(() => divRound(1n, 0n)).toThrow(RangeError);
  });

  it('multiplies and divides with one rounding', () => {
    expect(mul(fixed(3), parseFixed('0.5'))).toBe(parseFixed('1.5'));
    expect(div(fixed(1), fixed(3))).toBe(parseFixed('0.333333333333333333'));
    expect(div(fixed(2), fixed(3))).toBe(parseFixed('0.666666666666666667'));
  });

  it('keeps wide products exact until narrowed', () => {
    const size = parseFixed('3.000000000000000001');
    const price = parseFixed('0.5');
    const fraction = parseFixed('0.05');
    expect(narrow(wide.product3(size, price, fraction))).toBe(parseFixed('0.075'));
    expect(narrow(wide.product(size, price))).toBe(parseFixed('1.5'));
    expect(wideRatio(wide.of(fixed(1)), wide.of(fixed(8)))).toBe(parseFixed('0.125'));
  });
});

describe('float bridges (option pricing only)', () => {
  it('converts to and from the nearest double', () => {
    expect(toFloat(parseFixed('2.4005'))).toBeCloseTo(2.4005, 15);
    expect(fromFloat(0.5)).toBe(ONE / 2n);
    expect(fromFloat(-1.25)).toBe(-125n * ONE / 100n);
    expect(() => fromFloat(Number.NaN)).toThrow(RangeError);
  });
});
