/**
 * The two custom scalars of schema.graphql. Both are strict: a value that would lose
 * precision or is not what the contract says is refused with a message naming the
 * problem, never coerced.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { DECIMALS, formatFixed, parseFixed, type Fixed } from '../fixed/index.js';

const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?$/;

function parseDecimal(value: unknown): Fixed {
  if (typeof value !== 'string') {
    // A JSON number has already lost digits beyond float64; only the string is exact.
    throw new GraphQLError(`Decimal must be a string such as "1.5", got ${describe(value)}`);
  }
  if (!DECIMAL_TEXT.test(value)) {
    throw new GraphQLError(`Decimal must be a plain decimal number such as "-12.5" (no exponent, sign "+" or spaces), got ${JSON.stringify(value)}`);
  }
  try {
    return parseFixed(value);
  } catch {
    throw new GraphQLError(`Decimal has more than ${DECIMALS} decimal places: ${JSON.stringify(value)}`);
  }
}

/** An exact amount: a `Fixed` (bigint of 1e-18 units) leaves as its exact decimal string. */
export const DecimalScalar = new GraphQLScalarType<Fixed, string>({
  name: 'Decimal',
  description: 'An exact decimal number as a string, rounded half to even to 18 decimal places.',
  serialize(value) {
    if (typeof value !== 'bigint') {
      // Resolvers hand Fixed values only; anything else is a bug that must not leak as a rounded float.
      throw new GraphQLError(`Decimal cannot serialize ${describe(value)}: resolvers must return a Fixed bigint`);
    }
    return formatFixed(value);
  },
  parseValue: parseDecimal,
  parseLiteral(node: ValueNode) {
    if (node.kind !== Kind.STRING) {
      throw new GraphQLError(`Decimal literals must be strings such as "1.5", got a ${node.kind} literal`, { nodes: node });
    }
    return parseDecimal(node.value);
  },
});

function parseSafeInt(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new GraphQLError(`SafeInt must be an integer JSON number, got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value)) {
    throw new GraphQLError(`SafeInt must be at most 2^53 - 1 in magnitude, got ${value}`);
  }
  return value;
}

/** Block numbers, timestamps and subaccounts: plain JSON numbers, exact up to 2^53 - 1. */
export const SafeIntScalar = new GraphQLScalarType<number, number>({
  name: 'SafeInt',
  description: 'An integer sent as a JSON number, exact up to 2^53 - 1.',
  serialize: parseSafeInt,
  parseValue: parseSafeInt,
  parseLiteral(node: ValueNode) {
    if (node.kind !== Kind.INT) {
      throw new GraphQLError(`SafeInt literals must be integers, got a ${node.kind} literal`, { nodes: node });
    }
    // Int literal text is exact; Number() of it is exact only within the safe range, checked next.
    const value = Number(node.value);
    if (!Number.isSafeInteger(value)) {
      throw new GraphQLError(`SafeInt must be at most 2^53 - 1 in magnitude, got ${node.value}`, { nodes: node });
    }
    return value;
  },
});

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  return `${typeof value} ${JSON.stringify(value) ?? String(value)}`;
}
