/**
 * Black-Scholes (European, no dividend) evaluated with decimal.js to 40 significant digits.
 * It is the reference the float64 pricer is tested against and the fallback it uses where
 * float64 would lose digits to cancellation; same inputs, units and edge cases as
 * `blackScholes` in ./black-scholes.ts.
 */
import decimalJs, { type Decimal } from 'decimal.js';
import type { OptionKind } from './black-scholes.js';

// decimal.js runs as ESM (decimal.mjs, whose default export is the class) but ships
// CommonJS-style types, which NodeNext reads as "the default import is the module object".
const DecimalClass = decimalJs as unknown as Decimal.Constructor;

export interface DecimalOptionInputs {
  kind: OptionKind;
  /** A number is taken at its exact binary value (what float64 code prices), a string as written. */
  spot: Decimal.Value;
  strike: Decimal.Value;
  volatility: Decimal.Value;
  years: Decimal.Value;
  rate: Decimal.Value;
}

export interface DecimalGreeks { value: Decimal; delta: Decimal; gamma: Decimal; theta: Decimal; vega: Decimal }

/** Significant digits every output is right to (within one unit of the last). */
export const DECIMAL_DIGITS = 40;
/** Extra digits carried so ordinary rounding never reaches the 40th; more are added on demand. */
const GUARD_DIGITS = 20;
/** Past this the inputs are so extreme (T or sigma near 1e-1000) that we stop chasing digits. */
const MAX_PRECISION = 2000;
const DAYS_PER_YEAR = 365;

type Ctx = Decimal.Constructor;
const contexts = new Map<number, { D: Ctx; sqrt2pi: Decimal }>();

/**
 * A decimal.js constructor per working precision (precision lives on the constructor),
 * rounded up to a multiple of 8 digits so that few are ever made.
 */
function context(minimumPrecision: number) {
  const precision = Math.ceil(minimumPrecision / 8) * 8;
  let c = contexts.get(precision);
  if (!c) {
    const D = DecimalClass.clone({ precision, rounding: DecimalClass.ROUND_HALF_EVEN });
    c = { D, sqrt2pi: D.acos(-1).times(2).sqrt() };
    contexts.set(precision, c);
  }
  return c;
}

export function blackScholesDecimal(inputs: DecimalOptionInputs): DecimalGreeks {
  const { kind } = inputs;
  if (kind !== 'CALL' && kind !== 'PUT') throw new RangeError(`option kind must be CALL or PUT, got ${String(kind)}`);
  const spot = parse('spot', inputs.spot);
  const strike = parse('strike', inputs.strike);
  const volatility = parse('volatility', inputs.volatility);
  const years = parse('years', inputs.years);
  const rate = parse('rate', inputs.rate);
  if (!spot.gt(0)) throw new RangeError(`spot must be > 0, got ${spot.toString()}`);
  if (!strike.gt(0)) throw new RangeError(`strike must be > 0, got ${strike.toString()}`);

  // Cancellation (an out-of-the-money value, theta near its zero) costs digits that the
  // first pass measures; the second pass carries that many more.
  let precision = DECIMAL_DIGITS + GUARD_DIGITS;
  for (;;) {
    const { greeks, lostDigits } = evaluate(context(precision), kind, spot, strike, volatility, years, rate);
    if (lostDigits + DECIMAL_DIGITS + 5 <= precision || precision >= MAX_PRECISION) {
      const round = (x: Decimal) => (x.isZero() ? x.abs() : x.toSignificantDigits(DECIMAL_DIGITS)); // abs: no -0
      return { value: round(greeks.value), delta: round(greeks.delta), gamma: round(greeks.gamma), theta: round(greeks.theta), vega: round(greeks.vega) };
    }
    const wanted = Number.isFinite(lostDigits) ? Math.ceil(lostDigits) + DECIMAL_DIGITS + GUARD_DIGITS : 2 * precision;
    precision = Math.min(MAX_PRECISION, Math.max(wanted, precision + 10));
  }
}

function evaluate(
  { D, sqrt2pi }: { D: Ctx; sqrt2pi: Decimal },
  kind: OptionKind, spotIn: Decimal, strikeIn: Decimal, volIn: Decimal, yearsIn: Decimal, rateIn: Decimal,
): { greeks: DecimalGreeks; lostDigits: number } {
  const [S, K, sigma, T, r] = [spotIn, strikeIn, volIn, yearsIn, rateIn].map((x) => new D(x)) as [Decimal, Decimal, Decimal, Decimal, Decimal];
  const call = kind === 'CALL';
  const zero = new D(0);

  if (T.lte(0)) {
    // Expired: intrinsic value; at the money the delta is the average of the two one-sided slopes.
    const cmp = S.cmp(K);
    const itm = call ? cmp > 0 : cmp < 0;
    const value = itm ? S.minus(K).abs() : zero;
    const delta = new D(cmp === 0 ? 0.5 : itm ? 1 : 0).times(call ? 1 : -1);
    return { greeks: { value, delta, gamma: zero, theta: zero, vega: zero }, lostDigits: 0 };
  }

  const Kd = K.times(r.neg().times(T).exp()); // strike discounted to today
  if (sigma.lte(0)) {
    // Deterministic limit: the forward decides; theta is the time derivative of S - K e^{-rT}
    // (halved at the kink, as the sigma -> 0 limit of the Black-Scholes theta is).
    const cmp = S.cmp(Kd);
    const itm = call ? cmp > 0 : cmp < 0;
    const weight = new D(cmp === 0 ? 0.5 : itm ? 1 : 0);
    const sign = call ? 1 : -1;
    const value = itm ? S.minus(Kd).abs() : zero;
    const theta = r.times(Kd).times(weight).times(-sign).div(DAYS_PER_YEAR);
    const lost = cmp === 0 || !itm ? 0 : digitsLost(S.plus(Kd), value);
    return { greeks: { value, delta: weight.times(sign), gamma: zero, theta, vega: zero }, lostDigits: lost };
  }

  const sqrtT = T.sqrt();
  const v = sigma.times(sqrtT);
  const lnSK = S.div(K).ln();
  const drift = r.plus(sigma.times(sigma).div(2)).times(T);
  const d1 = lnSK.plus(drift).div(v);
  const d2 = d1.minus(v);
  const n1 = normal(d1, sqrt2pi);
  const n2 = normal(d2, sqrt2pi);

  const A = S.times(call ? n1.lower : n1.upper);
  const B = Kd.times(call ? n2.lower : n2.upper);
  const value = call ? A.minus(B) : B.minus(A);
  const delta = call ? n1.lower : n1.upper.neg();
  const gamma = n1.pdf.div(S.times(v));
  const vega = S.times(n1.pdf).times(sqrtT).div(100);
  const decay = S.times(n1.pdf).times(sigma).div(sqrtT.times(2)).neg();
  const carry = r.times(B).times(call ? -1 : 1);
  const theta = decay.plus(carry).div(DAYS_PER_YEAR);

  // d1 carries an absolute error of ~(|ln| + |drift|)/v units of the working precision,
  // which phi(d1) and the tails of N amplify by |d1|.
  const dDigits = n1.pdf.isZero() ? 0 : Math.log10(1 + d1.abs().toNumber() * lnSK.abs().plus(drift.abs()).div(v).plus(d1.abs()).toNumber());
  const lostDigits = Math.max(digitsLost(A.plus(B), value), digitsLost(decay.abs().plus(carry.abs()), theta.times(DAYS_PER_YEAR)), dDigits);
  return { greeks: { value, delta, gamma, theta, vega }, lostDigits };
}

/** Decimal digits lost when `result` comes out of terms summing to `scale` in magnitude. */
function digitsLost(scale: Decimal, result: Decimal): number {
  if (scale.isZero()) return 0;
  if (result.isZero()) return Infinity;
  return Math.max(0, scale.div(result.abs()).log(10).toNumber());
}

/**
 * N(x), N(-x) and the density phi(x), each to the working precision of x's constructor
 * in relative terms (so deep tails keep all their digits).
 */
export function normal(x: Decimal, sqrt2pi?: Decimal): { lower: Decimal; upper: Decimal; pdf: Decimal } {
  const D = x.constructor as Ctx;
  const y = x.abs();
  let pdf: Decimal;
  let tail: Decimal;
  if (y.lt(SERIES_BELOW)) {
    ({ pdf, tail } = seriesTail(y));
  } else {
    pdf = density(y, sqrt2pi ?? context(D.precision).sqrt2pi);
    tail = pdf.div(millsDenominator(y));
  }
  const body = new D(1).minus(tail);
  return x.isNegative() ? { lower: tail, upper: body, pdf } : { lower: body, upper: tail, pdf };
}

/**
 * Below this the power series is cheaper; above it the continued fraction converges in
 * fewer terms (about 130 at 65 digits for y = 8, fewer further out).
 */
const SERIES_BELOW = 8;

function density(x: Decimal, sqrt2pi: Decimal): Decimal {
  return x.times(x).div(-2).exp().div(sqrt2pi);
}

/**
 * N(-y) for 0 <= y < 8 by N(y) - 1/2 = phi(y) * sum y^(2n+1) / (1*3*...*(2n+1)).
 * Subtracting that from 1/2 cancels about y^2 / (2 ln 10) digits, so the sum runs with
 * that many extra digits.
 */
function seriesTail(yIn: Decimal): { pdf: Decimal; tail: Decimal } {
  const D = yIn.constructor as Ctx;
  const y0 = yIn.toNumber();
  const { D: W, sqrt2pi } = context(D.precision + Math.ceil((y0 * y0) / (2 * Math.LN10)) + 3);
  const y = new W(yIn);
  const y2 = y.times(y);
  let term = y;
  let sum = y;
  // Stop once a term falls below the last digit kept (`e` is the decimal exponent).
  for (let n = 1; !term.isZero() && term.e >= sum.e - W.precision - 1; n++) {
    term = term.times(y2).div(2 * n + 1);
    sum = sum.plus(term);
  }
  const pdf = density(y, sqrt2pi);
  return { pdf: new D(pdf).toSignificantDigits(D.precision), tail: new D(new W(0.5).minus(pdf.times(sum))).toSignificantDigits(D.precision) };
}

/**
 * The denominator of Laplace's continued fraction for N(-y) / phi(y) (y >= SERIES_BELOW):
 * y + 1/(y + 2/(y + 3/(y + ...))). Its convergents P_n / Q_n follow the three-term
 * recurrence X_n = y X_{n-1} + n X_{n-2}, which needs no division (decimal.js divides
 * slowly); all terms are positive, so nothing cancels. Convergence is checked every 8 terms.
 */
function millsDenominator(yIn: Decimal): Decimal {
  // Five guard digits, so that rounding noise sits well below the convergence test.
  const D = yIn.constructor as Ctx;
  const { D: W } = context(D.precision + 5);
  const y = new W(yIn);
  let [p0, p1] = [new W(1), y];
  let [q0, q1] = [new W(0), new W(1)];
  let previous = y;
  for (let n = 1; ; n++) {
    [p0, p1] = [p1, p1.times(y).plus(p0.times(n))];
    [q0, q1] = [q1, q1.times(y).plus(q0.times(n))];
    if (n % 8 === 0) {
      const current = p1.div(q1);
      const change = current.minus(previous);
      if (change.isZero() || change.e < current.e - D.precision - 1 || n > 100_000) return new D(current).toSignificantDigits(D.precision);
      previous = current;
    }
  }
}

function parse(name: string, input: Decimal.Value): Decimal {
  let x: Decimal;
  try {
    x = typeof input === 'number' ? exactDecimal(input) : new DecimalClass(input);
  } catch {
    throw new RangeError(`${name} must be a finite number, got ${String(input)}`);
  }
  if (!x.isFinite()) throw new RangeError(`${name} must be a finite number, got ${String(input)}`);
  return x;
}

/**
 * The exact value of a double. decimal.js would read 0.1 as 1/10, but float64 code
 * prices 0.1000000000000000055511...; the reference must price the same option.
 */
export function exactDecimal(x: number): Decimal {
  if (!Number.isFinite(x)) return new DecimalClass(x);
  let mantissa = x;
  let shift = 0;
  while (!Number.isInteger(mantissa)) {
    mantissa *= 2; // exact: only the exponent changes
    shift++;
  }
  // mantissa / 2^shift = mantissa * 5^shift / 10^shift
  return new DecimalClass(`${(BigInt(mantissa) * 5n ** BigInt(shift)).toString()}e-${shift}`);
}
