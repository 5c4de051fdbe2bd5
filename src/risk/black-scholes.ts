/**
 * European Black-Scholes (no dividend) in float64, which SPEC section 1 allows for option
 * pricing as long as every output stays within 1e-12 relative of a 40-digit evaluation.
 *
 * The common path is plain float64 (about a microsecond). Alongside each output it keeps a
 * running bound on its rounding error; an output whose bound exceeds 4e-13 of its size is
 * taken from the 40-digit evaluation instead (./black-scholes-decimal.ts). That happens
 * where the formula cancels: far out-of-the-money values of options with little
 * sigma * sqrt(T) left, thetas near their zero crossing (about 0.1% of inputs for options
 * a venue would list, about 0.5% over the test's wide domain).
 *
 * "Relative" has a floor: an output below 1e-12 of its natural scale (spot for the value,
 * 1 for delta, 1/spot for gamma, spot/365 for theta, spot/100 for vega) is held to 1e-24 of
 * that scale in absolute terms instead; such amounts are invisible at 18 decimals.
 */
import { blackScholesDecimal } from './black-scholes-decimal.js';

export type OptionKind = 'CALL' | 'PUT';

export interface OptionInputs {
  kind: OptionKind;
  spot: number;
  strike: number;
  /** Annualised; <= 0 prices the deterministic limit. */
  volatility: number;
  /** Time to expiry in years of 365 days; <= 0 means expired (intrinsic value). */
  years: number;
  /** Continuously compounded, annual. */
  rate: number;
}

/** Per one unit of the option (not times a position size). */
export interface OptionGreeks {
  value: number;
  /** dV/dS */
  delta: number;
  /** d2V/dS2 */
  gamma: number;
  /** dV/dt per calendar day, t being calendar time: negative for a long call's decay. */
  theta: number;
  /** dV/dsigma per one volatility point (0.01). */
  vega: number;
}

const DAYS_PER_YEAR = 365;
/** Unit roundoff of float64. */
const U = Number.EPSILON / 2;
/**
 * Error budget per output: 2.5x inside the SPEC's 1e-12, and the estimates it is compared
 * with run at least twice the real error (the tests check they bound it). A tighter budget
 * buys nothing visible and sends many more out-of-the-money values to the ~2 ms fallback.
 */
export const ERROR_BUDGET = 4e-13;
/** Outputs below this fraction of their natural scale are held to an absolute budget. */
export const NOISE_FLOOR = 1e-12;
const INV_SQRT_2PI = 0.3989422804014327;

/**
 * Prices one unit. Throws RangeError for a non-positive spot or strike, a non-finite input
 * or an unknown kind. Edge cases: `years <= 0` gives the intrinsic value with delta 1/-1 in
 * the money, 0 out of it and 0.5/-0.5 exactly at it, other Greeks 0; `volatility <= 0`
 * gives the deterministic limit max(0, S - K e^{-rT}) (puts mirrored), its delta (0.5 at
 * S = K e^{-rT}) and its time derivative as theta, with gamma = vega = 0.
 */
export function blackScholes(inputs: OptionInputs): OptionGreeks {
  validate(inputs);
  const { greeks, error } = blackScholesFloat64(inputs);
  const { spot } = inputs;
  const scale = naturalScale(spot);
  let reference: OptionGreeks | undefined;
  for (const key of KEYS) {
    if (!(error[key] <= ERROR_BUDGET * Math.max(Math.abs(greeks[key]), NOISE_FLOOR * scale[key]))) {
      reference ??= toNumbers(blackScholesDecimal(inputs));
      greeks[key] = reference[key];
    }
    if (greeks[key] === 0) greeks[key] = 0; // no -0 from sign flips of an underflowed tail
  }
  // Rounding can push a worthless option a hair below zero; the true value never is.
  if (greeks.value < 0) greeks.value = 0;
  return greeks;
}

const KEYS = ['value', 'delta', 'gamma', 'theta', 'vega'] as const;

/** The unit each output is measured in: spot, 1, 1/spot, spot per day, spot per vol point. */
export function naturalScale(spot: number): OptionGreeks {
  return { value: spot, delta: 1, gamma: 1 / spot, theta: spot / DAYS_PER_YEAR, vega: spot / 100 };
}

function toNumbers(g: ReturnType<typeof blackScholesDecimal>): OptionGreeks {
  return { value: g.value.toNumber(), delta: g.delta.toNumber(), gamma: g.gamma.toNumber(), theta: g.theta.toNumber(), vega: g.vega.toNumber() };
}

function validate({ kind, spot, strike, volatility, years, rate }: OptionInputs): void {
  if (kind !== 'CALL' && kind !== 'PUT') throw new RangeError(`option kind must be CALL or PUT, got ${String(kind)}`);
  for (const [name, x] of [['spot', spot], ['strike', strike], ['volatility', volatility], ['years', years], ['rate', rate]] as const) {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new RangeError(`${name} must be a finite number, got ${String(x)}`);
  }
  if (spot <= 0) throw new RangeError(`spot must be > 0, got ${spot}`);
  if (strike <= 0) throw new RangeError(`strike must be > 0, got ${strike}`);
}

/**
 * The float64 evaluation and, per output, a bound on its absolute rounding error
 * (a few units of roundoff per operation, plus the propagated error of d1 and d2).
 * Exported for the tests and the benchmark; callers want `blackScholes`.
 */
export function blackScholesFloat64(inputs: OptionInputs): { greeks: OptionGreeks; error: OptionGreeks } {
  const { kind, spot: S, strike: K, volatility: sigma, years: T, rate: r } = inputs;
  const call = kind === 'CALL';
  const sign = call ? 1 : -1;

  if (T <= 0) {
    const itm = call ? S > K : S < K;
    const value = itm ? Math.abs(S - K) : 0;
    const delta = sign * (S === K ? 0.5 : itm ? 1 : 0);
    return { greeks: { value, delta, gamma: 0, theta: 0, vega: 0 }, error: { value: U * value, delta: 0, gamma: 0, theta: 0, vega: 0 } };
  }

  const Kd = K * Math.exp(-r * T); // error (2 + |rT|) U relative
  const KdError = U * (2 + Math.abs(r * T));

  if (sigma <= 0) {
    const itm = call ? S > Kd : S < Kd;
    const weight = S === Kd ? 0.5 : itm ? 1 : 0;
    const value = itm ? Math.abs(S - Kd) : 0;
    const theta = (-sign * r * Kd * weight) / DAYS_PER_YEAR;
    // Near S = Kd the subtraction cancels and the side of the kink is uncertain: the
    // estimates below then send value, delta and theta to the decimal evaluation.
    const near = Math.abs(S - Kd) <= 4 * KdError * Kd;
    return {
      greeks: { value, delta: sign * weight, gamma: 0, theta, vega: 0 },
      error: {
        value: itm || near ? U * Math.abs(value) + KdError * Kd + U * S : 0,
        delta: near ? 1 : 0,
        gamma: 0,
        theta: near ? Infinity : 3 * U * Math.abs(theta),
        vega: 0,
      },
    };
  }

  const sqrtT = Math.sqrt(T);
  const v = sigma * sqrtT;
  const lnSK = logRatio(S, K);
  const drift = (r + 0.5 * sigma * sigma) * T;
  const d1 = (lnSK + drift) / v;
  // d2 = d1 - v exactly, as d2 + d2low (Knuth's two-sum): the value's deep out-of-the-money
  // tail is sensitive to d2 alone, while an error common to d1 and d2 cancels out of it.
  const d2 = d1 - v;
  const back = d2 - d1;
  const d2low = (d1 - (d2 - back)) + (-v - back);
  // Absolute error of d1: ln(S/K) and the drift to a few ulps each, divided by v.
  const d1Error = U * ((2.5 * Math.abs(lnSK) + 3 * Math.abs(drift)) / v + 3 * Math.abs(d1));
  const d2Error = d1Error + 2 * U * v;

  const n1 = normal(d1);
  const n2 = normal(d2);
  const pdf1 = n1.pdf;
  const pdf2 = n2.pdf;
  const cdf1 = call ? n1.lower : n1.upper; // N(d1) or N(-d1)
  const cdf2 = call ? n2.lower + pdf2 * d2low : n2.upper - pdf2 * d2low; // N(d2) or N(-d2)

  const A = S * cdf1;
  const B = Kd * cdf2;
  const value = sign * (A - B);
  const delta = sign * cdf1;
  const gamma = pdf1 / (S * v);
  const vega = (S * pdf1 * sqrtT) / 100;
  const decay = (-S * pdf1 * sigma) / (2 * sqrtT);
  const carry = -sign * r * B;
  const theta = (decay + carry) / DAYS_PER_YEAR;

  // N and phi come out of Cody's algorithm within 6 units of roundoff (measured: the
  // rational function, the two exponentials and their products).
  const cN = 6;
  const shapeError = U * (cN + 3) + Math.abs(d1) * d1Error; // relative, of phi(d1)-based outputs
  return {
    greeks: { value, delta, gamma, theta, vega },
    error: {
      // An error shared by d1 and d2 cancels out of the value to first order (V is stationary
      // in d1 with d1 - d2 = v fixed); what is left is v's own rounding and a second-order term.
      value: U * ((cN + 1) * (A + B) + Math.abs(value)) + KdError * B + 2 * U * v * Kd * pdf2 + 0.5 * S * pdf1 * v * d1Error * d1Error,
      delta: U * cN * cdf1 + pdf1 * d1Error,
      gamma: gamma * shapeError,
      theta: (Math.abs(decay) * (shapeError + U) + Math.abs(carry) * (U * (cN + 2) + KdError) + Math.abs(r) * Kd * pdf2 * d2Error + U * Math.abs(decay + carry)) / DAYS_PER_YEAR + U * Math.abs(theta),
      vega: vega * shapeError,
    },
  };
}

/**
 * ln(S/K) to a few ulps of itself. Near S = K, S - K is exact (Sterbenz) and log1p keeps
 * the small logarithm's relative precision; rounding S/K first would cost up to 1e-16
 * absolute, which 1/(sigma sqrt T) turns into visible error in d1.
 */
function logRatio(S: number, K: number): number {
  return S >= K / 2 && S <= 2 * K ? Math.log1p((S - K) / K) : Math.log(S / K);
}

/**
 * N(x), N(-x) and phi(x), each with relative accuracy of a few ulps (both tails computed
 * directly, never as 1 - the other), by W. J. Cody's rational Chebyshev approximations
 * (Math. Comp. 1969; the ANORM routine, as in R's pnorm).
 */
export function normal(x: number): { lower: number; upper: number; pdf: number } {
  const y = Math.abs(x);
  if (y <= 0.67448975) {
    const z = x * x;
    let num = CODY_A[4] * z;
    let den = z;
    for (let i = 0; i < 3; i++) {
      num = (num + CODY_A[i]!) * z;
      den = (den + CODY_B[i]!) * z;
    }
    const half = (x * (num + CODY_A[3])) / (den + CODY_B[3]);
    return { lower: 0.5 + half, upper: 0.5 - half, pdf: INV_SQRT_2PI * Math.exp(-0.5 * z) };
  }
  if (y > 40) return x > 0 ? { lower: 1, upper: 0, pdf: 0 } : { lower: 0, upper: 1, pdf: 0 };

  let ratio: number; // N(-y) e^{y^2/2}
  if (y <= 5.656854249492381) {
    let num = CODY_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + CODY_C[i]!) * y;
      den = (den + CODY_D[i]!) * y;
    }
    ratio = (num + CODY_C[7]) / (den + CODY_D[7]);
  } else {
    const z = 1 / (y * y);
    let num = CODY_P[5] * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + CODY_P[i]!) * z;
      den = (den + CODY_Q[i]!) * z;
    }
    ratio = (INV_SQRT_2PI - (z * (num + CODY_P[4])) / (den + CODY_Q[4])) / y;
  }
  // e^{-y^2/2} split as e^{-r^2/2} e^{-(y-r)(y+r)/2} with r = y rounded down to 1/16:
  // r^2 is exact, so the rounding of y*y is never amplified by the exponential.
  const r = Math.trunc(y * 16) / 16;
  const gauss = Math.exp(-0.5 * r * r) * Math.exp(-0.5 * (y - r) * (y + r));
  const tail = gauss * ratio;
  const pdf = gauss * INV_SQRT_2PI;
  return x > 0 ? { lower: 1 - tail, upper: tail, pdf } : { lower: tail, upper: 1 - tail, pdf };
}

const CODY_A = [2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249, 0.065682337918207449113] as const;
const CODY_B = [47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956] as const;
const CODY_C = [
  0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226, 2494.5375852903726711,
  6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218, 1.0765576773720192317e-8,
] as const;
const CODY_D = [
  22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755, 18615.571640885098091,
  34900.952721145977266, 38912.003286093271411, 19685.429676859990727,
] as const;
const CODY_P = [0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466, 2.9112874951168792e-5, 0.02307344176494017303] as const;
const CODY_Q = [1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244, 7.29751555083966205e-5] as const;
