import fc from 'fast-check';
import { FixedRecords } from '../../../src/ledger/tables/columns.js';

// The margin pass reads positions and accounts through these records: every value must
// come back exactly, across growth, negatives, the 128-bit edge and the side map beyond it.
describe('FixedRecords', () => {
  const edge = 1n << 127n;
  const amount = fc.oneof(
    fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }),
    fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }),
    fc.constantFrom(0n, -1n, 1n, edge - 1n, -edge, edge, -edge - 1n, (1n << 64n) - 1n, -(1n << 64n), 1n << 64n),
  );

  it('reads back every amount and int of every row, in any order of writes and growth', () => {
    fc.assert(
      fc.property(
        fc.constantFrom([1, 1], [3, 2], [2, 3]),
        fc.array(fc.tuple(fc.nat(300), fc.nat(2), amount, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), { maxLength: 400 }),
        ([amounts, ints], writes) => {
          const records = new FixedRecords(4, amounts, ints);
          const fixed = new Map<string, bigint>();
          const int = new Map<string, number>();
          for (const [row, field, value, n] of writes) {
            records.setFixed(row, field % amounts, value);
            fixed.set(`${row}|${field % amounts}`, value);
            records.setInt(row, field % ints, n);
            int.set(`${row}|${field % ints}`, n);
          }
          for (const [key, value] of fixed) {
            const [row, field] = key.split('|').map(Number) as [number, number];
            expect(records.fixed(row, field)).toBe(value);
          }
          for (const [key, value] of int) {
            const [row, field] = key.split('|').map(Number) as [number, number];
            expect(records.int(row, field)).toBe(value);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the fields of a row apart from each other and from the next row', () => {
    const records = new FixedRecords(1, 3, 2);
    for (let row = 0; row < 50; row++) {
      for (let f = 0; f < 3; f++) records.setFixed(row, f, -(BigInt(row * 3 + f) << 70n) - 1n);
      records.setInt(row, 0, -row - 1);
      records.setInt(row, 1, row * 7);
    }
    for (let row = 0; row < 50; row++) {
      for (let f = 0; f < 3; f++) expect(records.fixed(row, f)).toBe(-(BigInt(row * 3 + f) << 70n) - 1n);
      expect(records.int(row, 0)).toBe(-row - 1);
      expect(records.int(row, 1)).toBe(row * 7);
    }
  });

  it('replaces a value beyond 128 bits with a smaller one', () => {
    const records = new FixedRecords(2, 1, 1);
    records.setFixed(0, 0, 10n ** 59n);
    expect(records.fixed(0, 0)).toBe(10n ** 59n);
    records.setFixed(0, 0, -5n);
    expect(records.fixed(0, 0)).toBe(-5n);
  });
});
