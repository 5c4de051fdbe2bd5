import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { DecimalScalar, SafeIntScalar } from '../../../src/graphql/scalars.js';

const literal = (kind: Kind, value: string) => ({ kind, value }) as unknown as ValueNode;

describe('Decimal', () => {
  it('serializes a Fixed as its exact decimal string', () => {
    expect(DecimalScalar.serialize(1_500_000_000_000_000_000n)).toBe('1.5');
    expect(DecimalScalar.serialize(-1n)).toBe('-0.000000000000000001');
    expect(DecimalScalar.serialize(0n)).toBe('0');
    expect(DecimalScalar.serialize(10n ** 60n)).toBe('1' + '0'.repeat(42));
  });

  it('refuses to serialize anything but a bigint (a float would have rounded)', () => {
    expect(() => DecimalScalar.serialize(1.5)).toThrow(/must return a Fixed bigint/);
    expect(() => DecimalScalar.serialize('1.5')).toThrow(GraphQLError);
  });

  it('parses strings strictly, from variables and literals', () => {
    expect(DecimalScalar.parseValue('-12.5')).toBe(-12_500_000_000_000_000_000n);
    expect(DecimalScalar.parseValue('0.000000000000000001')).toBe(1n);
    expect(DecimalScalar.parseLiteral(literal(Kind.STRING, '3000'), {})).toBe(3000n * 10n ** 18n);
    expect(() => DecimalScalar.parseValue(1.5)).toThrow(/Decimal must be a string such as "1.5", got number 1.5/);
    for (const bad of ['1e18', '+1', ' 1', '1.', '.5', '0x10', '', 'NaN']) {
      expect(() => DecimalScalar.parseValue(bad)).toThrow(/plain decimal number/);
    }
    expect(() => DecimalScalar.parseValue('0.0000000000000000001')).toThrow(/more than 18 decimal places/);
    expect(() => DecimalScalar.parseLiteral(literal(Kind.FLOAT, '1.5'), {})).toThrow(/Decimal literals must be strings/);
  });
});

describe('SafeInt', () => {
  it('passes integers up to 2^53 - 1 in magnitude', () => {
    expect(SafeIntScalar.serialize(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(SafeIntScalar.parseValue(-Number.MAX_SAFE_INTEGER)).toBe(-Number.MAX_SAFE_INTEGER);
    expect(SafeIntScalar.parseLiteral(literal(Kind.INT, '9007199254740991'), {})).toBe(9007199254740991);
  });

  it('refuses fractions, strings, bigints and unsafe integers with a clear message', () => {
    expect(() => SafeIntScalar.parseValue(1.5)).toThrow(/SafeInt must be an integer JSON number, got number 1.5/);
    expect(() => SafeIntScalar.parseValue('1')).toThrow(/got "1"/);
    expect(() => SafeIntScalar.serialize(5n)).toThrow(/got 5n/);
    expect(() => SafeIntScalar.parseValue(2 ** 53)).toThrow(/at most 2\^53 - 1/);
    expect(() => SafeIntScalar.parseLiteral(literal(Kind.INT, '9007199254740992'), {})).toThrow(/at most 2\^53 - 1 in magnitude, got 9007199254740992/);
    expect(() => SafeIntScalar.parseLiteral(literal(Kind.FLOAT, '1.0'), {})).toThrow(/SafeInt literals must be integers/);
  });
});
