/**
 * Exact amounts. Every price, size, collateral, fee, fraction and rate is a `Fixed`:
 * a bigint counting units of 1e-18, which is exactly how the chain writes it and how
 * PostgreSQL stores it (NUMERIC(78,18)). Nothing here touches a JavaScript number,
 * except the two explicitly named float bridges used by option pricing (SPEC section 1).
 */
export type Fixed = bigint;

export const DECIMALS = 18;
export const ONE: Fixed = 10n ** 18n;
export const ZERO: Fixed = 0n;

const FIXED_PATTERN = /^([+-]?)(\d+)(?:\.(\d*))?$/;

/** Parses a plain decimal string ("-12.5", "3000", "0.000000000000000001"). */
export function parseFixed(text: string): Fixed {
  const match = FIXED_PATTERN.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > DECIMALS && /[1-9]/.test(fraction.slice(DECIMALS))) {
    throw new RangeError(`more than ${DECIMALS} decimal places: ${text}`);
  }
  const units = BigInt(whole!) * ONE + BigInt(fraction.slice(0, DECIMALS).padEnd(DECIMALS, '0'));
  return sign === '-' ? -units : units;
}

/** Converts a small integer (a literal in code or a test) to a Fixed. */
export function fixed(value: number | bigint | string): Fixed {
  if (typeof value === 'string') return parseFixed(value);
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`fixed(number) takes safe integers only, got ${value}; pass a string`);
  }
  return BigInt(value) * ONE;
}

/** The exact decimal string, without trailing zeros: "1.5", "-0.000000000000000001", "3000". */
export function formatFixed(value: Fixed): string {
  // Every Decimal the API serves passes here (over 100,000 in an accounts(first: 1000)
  // response): trailing zeros are trimmed with a loop rather than a regular expression
  // (~30% faster), and a value below 1 takes its leading zeros from a constant instead of
  // padding its digits to a new string first (another ~30%, and less garbage).
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  const point = digits.length - DECIMALS; // digits before the decimal point; <= 0 below 1
  let end = digits.length;
  while (end > 0 && end > point && digits.charCodeAt(end - 1) === 48 /* '0' */) end--;
  let text: string;
  if (point > 0) text = end === point ? digits.slice(0, point) : digits.slice(0, point) + '.' + digits.slice(point, end);
  else text = end === 0 ? '0' : '0.' + LEADING_ZEROS.slice(0, -point) + digits.slice(0, end);
  return negative ? '-' + text : text;
}

const LEADING_ZEROS = '0'.repeat(DECIMALS);

/** The string PostgreSQL NUMERIC(78,18) takes: all 18 decimals, no exponent. */
export function toSql(value: Fixed): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(DECIMALS + 1, '0');
  return (negative ? '-' : '') + digits.slice(0, -DECIMALS) + '.' + digits.slice(-DECIMALS);
}

/** numerator / denominator rounded half to even: the rounding of every quotient and product. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  let quotient = numerator / denominator;
  const remainder = numerator - quotient * denominator;
  if (remainder === 0n) return quotient;
  const twice = 2n * (remainder < 0n ? -remainder : remainder);
  const away = remainder < 0n ? -1n : 1n;
  if (twice > denominator || (twice === denominator && quotient % 2n !== 0n)) quotient += away;
  return quotient;
}

export function mul(a: Fixed, b: Fixed): Fixed {
  return divRound(a * b, ONE);
}

export function div(a: Fixed, b: Fixed): Fixed {
  return divRound(a * ONE, b);
}

export function abs(a: Fixed): Fixed {
  return a < 0n ? -a : a;
}

export function sign(a: Fixed): -1n | 0n | 1n {
  return a > 0n ? 1n : a < 0n ? -1n : 0n;
}

export function min(a: Fixed, b: Fixed): Fixed {
  return a < b ? a : b;
}

export function max(a: Fixed, b: Fixed): Fixed {
  return a > b ? a : b;
}

/** Float bridge for option pricing only (SPEC section 1): the nearest double. */
export function toFloat(value: Fixed): number {
  const whole = value / ONE;
  const fraction = value - whole * ONE;
  return Number(whole) + Number(fraction) / 1e18;
}

/** Float bridge back from option pricing: the nearest multiple of 1e-18 to the double. */
export function fromFloat(value: number): Fixed {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  const whole = Math.trunc(value);
  return BigInt(whole) * ONE + BigInt(Math.round((value - whole) * 1e18));
}

/**
 * Wide values: exact intermediate results of risk formulas, scaled by 1e54 so that a sum
 * of products of up to three Fixed factors (|s| * M * MMF) is held without rounding.
 * Round once, at the end, with `narrow`.
 */
export type Wide = bigint;
const WIDE_FROM_FIXED = 10n ** 36n;

export const wide = {
  of: (a: Fixed): Wide => a * WIDE_FROM_FIXED,
  product: (a: Fixed, b: Fixed): Wide => a * b * ONE,
  product3: (a: Fixed, b: Fixed, c: Fixed): Wide => a * b * c,
  /** A sum of two-factor products (a * b, 36 decimals), scaled once instead of per product. */
  ofProducts: (sum: bigint): Wide => sum * ONE,
} as const;

/** Rounds a wide value half to even to 18 decimals. */
export function narrow(value: Wide): Fixed {
  return divRound(value, WIDE_FROM_FIXED);
}

/** a / b of two wide values, rounded half to even to 18 decimals. */
export function wideRatio(a: Wide, b: Wide): Fixed {
  return divRound(a * ONE, b);
}
