import decimalJs, { type Decimal as DecimalType } from 'decimal.js';
import fc from 'fast-check';
import {
  blackScholes, blackScholesFloat64, normal, type OptionGreeks, type OptionInputs,
} from '../../../src/risk/black-scholes.js';
import {
  blackScholesDecimal, exactDecimal, normal as normalDecimal, type DecimalGreeks, type DecimalOptionInputs,
} from '../../../src/risk/black-scholes-decimal.js';

// decimal.js's types are CommonJS-style; at run time the default import is the class.
const Decimal = decimalJs as unknown as DecimalType.Constructor;
const KEYS = ['value', 'delta', 'gamma', 'theta', 'vega'] as const;

/**
 * How "relative" is measured. Each output is compared with the 40-digit reference relative
 * to max(|reference|, 1e-12 * its natural scale): spot for the value (currency), 1 for delta
 * (dimensionless), 1/spot for gamma (per currency), spot/365 for theta (currency per day),
 * spot/100 for vega (currency per volatility point); the same scales blackScholes uses. The
 * floor only matters for outputs below 1e-12 of their scale, where it still demands 1e-24
 * of the scale in absolute terms: far below anything served at 18 decimals.
 */
function scaleOf(spot: number): OptionGreeks {
  return { value: spot, delta: 1, gamma: 1 / spot, theta: spot / 365, vega: spot / 100 };
}

function relativeErrors(got: OptionGreeks, ref: DecimalGreeks, spot: number): OptionGreeks {
  const scale = scaleOf(spot);
  const out = {} as OptionGreeks;
  for (const k of KEYS) {
    const reference = ref[k].toNumber();
    out[k] = Math.abs(got[k] - reference) / Math.max(Math.abs(reference), 1e-12 * scale[k]);
  }
  return out;
}

function describeCase(inputs: OptionInputs, got: OptionGreeks, ref: DecimalGreeks): string {
  return JSON.stringify({ inputs, got, reference: Object.fromEntries(KEYS.map((k) => [k, ref[k].toString()])) });
}

const HULL: OptionInputs = { kind: 'CALL', spot: 49, strike: 50, volatility: 0.2, years: 20 / 52, rate: 0.05 };

/** The property domain of the brief: wide, and dense in the hard corners (fc.double spreads over binades). */
const domain = fc.record({
  kind: fc.constantFrom<'CALL' | 'PUT'>('CALL', 'PUT'),
  spot: fc.double({ min: 1, max: 1e6, noNaN: true }),
  moneyness: fc.double({ min: 0.2, max: 5, noNaN: true }),
  volatility: fc.double({ min: 0.01, max: 3, noNaN: true }),
  years: fc.double({ min: 1 / 365 / 24, max: 5, noNaN: true }),
  rate: fc.double({ min: -0.02, max: 0.2, noNaN: true }),
}).map(({ moneyness, ...rest }): OptionInputs => ({ ...rest, strike: rest.spot * moneyness }));

describe('Hull, Options Futures and Other Derivatives: the 20-week call', () => {
  // S=49, K=50, r=5%, sigma=20%, T=20/52. Hull's theta is -4.31 per year; per day -4.3053/365.
  const expected = { value: 2.4005, delta: 0.5216, gamma: 0.06554, vega: 0.12105, theta: -0.011795 };
  const digits = { value: 4, delta: 4, gamma: 5, vega: 5, theta: 6 };

  it.each([
    ['float64', () => blackScholes(HULL)],
    ['decimal', () => {
      const g = blackScholesDecimal(HULL);
      return Object.fromEntries(KEYS.map((k) => [k, g[k].toNumber()])) as unknown as OptionGreeks;
    }],
  ])('%s matches the textbook', (_name, price) => {
    const g = price();
    for (const k of KEYS) expect(Math.abs(g[k] - expected[k])).toBeLessThanOrEqual(0.5 * 10 ** -digits[k]);
  });

  it('decimal matches an independent 50-digit evaluation (mpmath) to 40 digits', () => {
    // Decimal strings: mpmath took 0.05 as written, not as the double nearest to it.
    const g = blackScholesDecimal({
      kind: 'CALL', spot: '49', strike: '50', volatility: '0.2', rate: '0.05', years: '0.38461538461538461538461538461538461538461538461538',
    });
    const mp = {
      value: '2.4005273232717144928858433308799229411827719321453',
      delta: '0.52160466106639638875612293028816985684991790596129',
      gamma: '0.065544039347844397659737745313729440330215726339638',
      vega: '0.12105479882628799906233102038328029710219073764729',
      theta: '-0.011795424172418009324462508335965226648986628635143',
    };
    for (const k of KEYS) expect(g[k].minus(mp[k]).div(mp[k]).abs().toNumber()).toBeLessThan(1e-38);
  });
});

describe('normal distribution', () => {
  // 45-digit values from mpmath (hence 1e-43 below, though the decimal code carries 60).
  const known: Array<[number, string]> = [
    [-1, '0.158655253931457051414767454367962077522087033'],
    [-3, '0.00134989803163009452665181476759497737782936816'],
    [-8, '6.22096057427178412351599517258818842248871728e-16'],
    [-10, '7.61985302416052606597334325159930836350403328e-24'],
    [-37.5, '4.60535300958195484382796909761089623892069264e-308'],
  ];

  it.each(known)('N(%d) is right in the tail, in both implementations', (x, value) => {
    const D = Decimal.clone({ precision: 60 });
    expect(normalDecimal(new D(x)).lower.minus(value).div(value).abs().toNumber()).toBeLessThan(1e-43);
    expect(normalDecimal(new D(-x)).upper.minus(value).div(value).abs().toNumber()).toBeLessThan(1e-43);
    expect(Math.abs(normal(x).lower / Number(value) - 1)).toBeLessThan(2e-15);
    expect(Math.abs(normal(-x).upper / Number(value) - 1)).toBeLessThan(2e-15);
  });

  it('float64 N(x), N(-x) and phi(x) keep their relative precision over [-37, 37]', () => {
    const D = Decimal.clone({ precision: 50 });
    fc.assert(fc.property(fc.double({ min: -37, max: 37, noNaN: true }), (x) => {
      const f = normal(x);
      // exactDecimal: new Decimal(x) would read the shortest decimal string of x, off by up
      // to half an ulp, which the tail amplifies by x^2.
      const d = normalDecimal(new D(exactDecimal(x)));
      for (const k of ['lower', 'upper', 'pdf'] as const) {
        const ref = d[k].toNumber();
        expect(Math.abs(f[k] - ref)).toBeLessThanOrEqual(1e-15 * ref); // about 9 ulps
      }
    }), { numRuns: 300 });
  });
});

describe('put-call parity', () => {
  it('holds to 1e-12 for the value, and exactly in form for the Greeks', () => {
    fc.assert(fc.property(domain, (inputs) => {
      const call = blackScholes({ ...inputs, kind: 'CALL' });
      const put = blackScholes({ ...inputs, kind: 'PUT' });
      const { spot: S, strike: K, rate: r, years: T } = inputs;
      const Kd = K * Math.exp(-r * T);
      // C - P = S - K e^{-rT}; the float64 check itself rounds at the size of S and K.
      expect(Math.abs(call.value - put.value - (S - Kd))).toBeLessThanOrEqual(1e-12 * Math.max(S, Kd));
      // The Greeks, to 1e-12 of their size with the floors of scaleOf.
      const floor = scaleOf(S);
      expect(Math.abs(call.delta - put.delta - 1)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(call.gamma - put.gamma)).toBeLessThanOrEqual(1e-12 * call.gamma + 1e-24 * floor.gamma);
      expect(Math.abs(call.vega - put.vega)).toBeLessThanOrEqual(1e-12 * call.vega + 1e-24 * floor.vega);
      expect(Math.abs(call.theta - put.theta + (r * Kd) / 365))
        .toBeLessThanOrEqual(1e-12 * (Math.abs(call.theta) + Math.abs(put.theta)) + 1e-24 * floor.theta);
    }), { numRuns: 500 });
  });
});

describe('float64 accuracy against the 40-digit evaluation', () => {
  it('every output is within 1e-12 relative over the wide domain', () => {
    fc.assert(fc.property(domain, (inputs) => {
      const got = blackScholes(inputs);
      const ref = blackScholesDecimal(inputs);
      const errors = relativeErrors(got, ref, inputs.spot);
      for (const k of KEYS) {
        if (!(errors[k] <= 1e-12)) throw new Error(`${k} off by ${errors[k]}: ${describeCase(inputs, got, ref)}`);
      }
    }), { numRuns: 2000 });
  }, 180_000); // each run prices the 40-digit reference, a few ms on a loaded machine

  it('the error estimates that decide the decimal fallback bound the real float64 error', () => {
    // blackScholes trusts a float64 output when its estimate is small; this checks the
    // estimate is an upper bound, including where it sends outputs to the fallback.
    fc.assert(fc.property(domain, (inputs) => {
      const { greeks, error } = blackScholesFloat64(inputs);
      const ref = blackScholesDecimal(inputs);
      const scale = scaleOf(inputs.spot);
      for (const k of KEYS) {
        const actual = Math.abs(greeks[k] - ref[k].toNumber());
        if (!(actual <= error[k] + 1e-40 * scale[k])) {
          throw new Error(`${k} error ${actual} above its estimate ${error[k]}: ${describeCase(inputs, greeks, ref)}`);
        }
      }
    }), { numRuns: 500 });
  }, 180_000);

  it('stays exact where plain float64 cannot: little sigma * sqrt(T) left, out of the money', () => {
    const cases: OptionInputs[] = [
      { kind: 'CALL', spot: 3000, strike: 3010, volatility: 0.1, years: 1 / 8760, rate: 0 },
      { kind: 'CALL', spot: 3000, strike: 3001, volatility: 0.02, years: 1 / 8760, rate: 0 },
      { kind: 'CALL', spot: 3000, strike: 3003, volatility: 0.05, years: 1 / 8760, rate: 0.05 },
      { kind: 'PUT', spot: 3000, strike: 2990, volatility: 0.02, years: 1 / 365, rate: 0 },
    ];
    for (const inputs of cases) {
      const raw = blackScholesFloat64(inputs).greeks;
      const got = blackScholes(inputs);
      const ref = blackScholesDecimal(inputs);
      // Plain float64 loses visible digits here (about 1e-12: why the fallback exists) ...
      expect(relativeErrors(raw, ref, inputs.spot).value).toBeGreaterThan(5e-13);
      // ... and the result does not.
      const errors = relativeErrors(got, ref, inputs.spot);
      for (const k of KEYS) expect(errors[k]).toBeLessThanOrEqual(1e-13);
    }
  });

  it('theta stays exact through its zero crossing (deep in-the-money put, r > 0)', () => {
    const at = (spot: number): OptionInputs => ({ kind: 'PUT', spot, strike: 100, volatility: 0.2, years: 1, rate: 0.1 });
    let [lo, hi] = [1, 100]; // theta > 0 deep in the money, < 0 near the strike
    expect(blackScholes(at(lo)).theta).toBeGreaterThan(0);
    expect(blackScholes(at(hi)).theta).toBeLessThan(0);
    while (hi - lo > 1e-12 * hi) {
      const mid = (lo + hi) / 2;
      if (blackScholes(at(mid)).theta > 0) lo = mid;
      else hi = mid;
    }
    for (const spot of [lo, hi, lo * (1 - 1e-9), hi * (1 + 1e-9), lo * (1 - 1e-6)]) {
      const ref = blackScholesDecimal(at(spot));
      const got = blackScholes(at(spot));
      expect(relativeErrors(got, ref, spot).theta).toBeLessThanOrEqual(1e-12);
    }
  });
});

describe('edge cases', () => {
  const base = { strike: 100, volatility: 0.5, rate: 0.05 };
  const both = (inputs: OptionInputs): OptionGreeks[] => {
    const d = blackScholesDecimal(inputs);
    return [blackScholes(inputs), Object.fromEntries(KEYS.map((k) => [k, d[k].toNumber()])) as unknown as OptionGreeks];
  };

  it.each([
    ['CALL', 120, 20, 1], ['CALL', 80, 0, 0], ['CALL', 100, 0, 0.5],
    ['PUT', 80, 20, -1], ['PUT', 120, 0, 0], ['PUT', 100, 0, -0.5],
  ] as const)('expired %s at spot %d: intrinsic %d, delta %d, no other Greeks', (kind, spot, value, delta) => {
    for (const years of [0, -1]) {
      for (const g of both({ ...base, kind, spot, years })) {
        expect(g).toEqual({ value, delta, gamma: 0, theta: 0, vega: 0 });
      }
    }
  });

  it('expiring options converge to their intrinsic value', () => {
    const g = blackScholes({ ...base, kind: 'CALL', spot: 120, years: 1e-9 });
    expect(g.value).toBeCloseTo(20, 6);
    expect(g.delta).toBeCloseTo(1, 12);
  });

  it('zero volatility gives the deterministic limit, with theta its time derivative', () => {
    const years = 0.5;
    const Kd = 100 * Math.exp(-0.05 * years);
    for (const volatility of [0, -0.3]) {
      const cases: Array<[OptionInputs, OptionGreeks]> = [
        [{ ...base, volatility, years, kind: 'CALL', spot: 120 }, { value: 120 - Kd, delta: 1, gamma: 0, theta: (-0.05 * Kd) / 365, vega: 0 }],
        [{ ...base, volatility, years, kind: 'CALL', spot: 90 }, { value: 0, delta: 0, gamma: 0, theta: 0, vega: 0 }],
        [{ ...base, volatility, years, kind: 'PUT', spot: 90 }, { value: Kd - 90, delta: -1, gamma: 0, theta: (0.05 * Kd) / 365, vega: 0 }],
        [{ ...base, volatility, years, kind: 'PUT', spot: 120 }, { value: 0, delta: 0, gamma: 0, theta: 0, vega: 0 }],
        // At the forward-money point (r = 0 so that S = K e^{-rT} exactly) the kink is split.
        [{ ...base, volatility, years, rate: 0, kind: 'CALL', spot: 100 }, { value: 0, delta: 0.5, gamma: 0, theta: 0, vega: 0 }],
        [{ ...base, volatility, years, rate: 0, kind: 'PUT', spot: 100 }, { value: 0, delta: -0.5, gamma: 0, theta: 0, vega: 0 }],
      ];
      for (const [inputs, expected] of cases) {
        for (const g of both(inputs)) {
          for (const k of KEYS) expect(Math.abs(g[k] - expected[k])).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(expected[k])));
        }
      }
    }
  });

  it('low volatility converges to the deterministic limit', () => {
    const g = blackScholes({ ...base, kind: 'PUT', spot: 90, volatility: 1e-6, years: 0.5 });
    const Kd = 100 * Math.exp(-0.025);
    expect(g.value).toBeCloseTo(Kd - 90, 10);
    expect(g.theta).toBeCloseTo((0.05 * Kd) / 365, 10);
  });

  it('refuses what is not an option', () => {
    const good: OptionInputs = { kind: 'CALL', spot: 100, strike: 100, volatility: 0.5, years: 1, rate: 0 };
    const bad: Array<[Partial<Record<keyof OptionInputs, unknown>>, RegExp]> = [
      [{ spot: 0 }, /spot must be > 0/], [{ spot: -1 }, /spot must be > 0/],
      [{ strike: 0 }, /strike must be > 0/], [{ strike: -5 }, /strike must be > 0/],
      [{ spot: NaN }, /spot must be a finite number/], [{ strike: Infinity }, /strike must be a finite number/],
      [{ volatility: NaN }, /volatility must be a finite number/], [{ years: -Infinity }, /years must be a finite number/],
      [{ rate: NaN }, /rate must be a finite number/], [{ kind: 'STRADDLE' }, /kind must be CALL or PUT/],
    ];
    for (const [patch, message] of bad) {
      expect(() => blackScholes({ ...good, ...patch } as OptionInputs)).toThrow(RangeError);
      expect(() => blackScholes({ ...good, ...patch } as OptionInputs)).toThrow(message);
      expect(() => blackScholesDecimal({ ...good, ...patch } as DecimalOptionInputs)).toThrow(RangeError);
      expect(() => blackScholesDecimal({ ...good, ...patch } as DecimalOptionInputs)).toThrow(message);
    }
    expect(() => blackScholesDecimal({ ...good, spot: 'abc' })).toThrow(RangeError);
  });
});

describe('Greeks are the derivatives of the value (decimal, central differences)', () => {
  const cases: DecimalOptionInputs[] = [
    { kind: 'CALL', spot: '49', strike: '50', volatility: '0.2', years: '0.3846', rate: '0.05' },
    { kind: 'PUT', spot: '3000', strike: '2500', volatility: '0.8', years: '0.02', rate: '0.03' },
    { kind: 'CALL', spot: '1', strike: '3', volatility: '1.5', years: '2', rate: '-0.01' },
    { kind: 'PUT', spot: '100', strike: '140', volatility: '0.05', years: '4', rate: '0.15' },
  ];

  it.each(cases)('%j', (inputs) => {
    const value = (patch: Partial<DecimalOptionInputs>) => blackScholesDecimal({ ...inputs, ...patch }).value;
    const g = blackScholesDecimal(inputs);
    const S = new Decimal(inputs.spot);
    const sigma = new Decimal(inputs.volatility);
    const T = new Decimal(inputs.years);
    const rel = 1e-9; // truncation error ~rel^2 = 1e-18; cancellation costs 9 of the 40 digits
    const hS = S.times(rel);
    const hV = sigma.times(rel);
    const hT = T.times(rel);
    const numeric = {
      delta: value({ spot: S.plus(hS) }).minus(value({ spot: S.minus(hS) })).div(hS.times(2)),
      gamma: value({ spot: S.plus(hS) }).minus(g.value.times(2)).plus(value({ spot: S.minus(hS) })).div(hS.times(hS)),
      vega: value({ volatility: sigma.plus(hV) }).minus(value({ volatility: sigma.minus(hV) })).div(hV.times(2)).div(100),
      // t is calendar time, so dV/dt = -dV/dT.
      theta: value({ years: T.minus(hT) }).minus(value({ years: T.plus(hT) })).div(hT.times(2)).div(365),
    };
    for (const k of ['delta', 'gamma', 'vega', 'theta'] as const) {
      expect(numeric[k].minus(g[k]).div(g[k]).abs().toNumber()).toBeLessThan(1e-14);
    }
  });
});
