// The SQL that orders accounts rounds exactly as the TypeScript that serves the values:
// NUMERIC half-to-even rounding and the margin ratio's quotient against `narrow` and
// `wideRatio`, on random values and on exact ties.
import fc from 'fast-check';
import type pg from 'pg';
import { narrow, wideRatio } from '../../../src/fixed/index.js';
import { halfEven, quotientHalfEven } from '../../../src/graphql/modules/account/order.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** A Wide (scale 1e54) as the NUMERIC text of its value. */
function numeric(wide: bigint): string {
  const negative = wide < 0n;
  const digits = (negative ? -wide : wide).toString().padStart(55, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -54)}.${digits.slice(-54)}`;
}

describe('exact rounding in the account order SQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const HALF = 5n * 10n ** 35n; // 0.5e-18 at scale 1e54: an exact tie at 18 decimals
  const wides = fc.oneof(
    fc.bigInt({ min: -(10n ** 66n), max: 10n ** 66n }),
    fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }).map((k) => k * 10n ** 36n + HALF),
    fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }).map((k) => k * 10n ** 36n - HALF),
    fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }).map((k) => k * 10n ** 36n + HALF + (k % 2n)),
  );

  async function sql(pool: pg.Pool, text: string, a: string[], b: string[]): Promise<string[]> {
    const { rows } = await pool.query(`SELECT (${text})::text AS v FROM unnest($1::numeric[], $2::numeric[]) WITH ORDINALITY AS t(a, b, i) ORDER BY i`, [a, b]);
    return rows.map((r) => r.v as string);
  }

  it('halfEven(x * 1e18) = narrow(x)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(wides, { minLength: 1, maxLength: 200 }), async (values) => {
        const served = await sql(db.pool, halfEven('(t.a * 1e18)'), values.map(numeric), values.map(() => '1'));
        expect(served.map((v) => BigInt(v))).toEqual(values.map(narrow));
      }),
      { numRuns: 30 },
    );
  });

  it('the margin ratio quotient = wideRatio(MM, equity), ties included', async () => {
    const pairs = fc.tuple(
      fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 66n }), fc.bigInt({ min: 0n, max: 10n ** 40n })),
      fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 66n }), fc.bigInt({ min: 1n, max: 10n ** 40n })),
    );
    // Exact ties: MM / equity = (2k + 1) / 2 * 1e-18 for equity = 2 * 1e36 (2e-18 at scale 1e54).
    const ties = fc.bigInt({ min: 0n, max: 10n ** 20n }).map((k) => [(2n * k + 1n) * 10n ** 36n, 2n * 10n ** 54n] as [bigint, bigint]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(pairs, ties), { minLength: 1, maxLength: 200 }), async (values) => {
        const text = quotientHalfEven('(t.a * 1e18)', 't.b', 'div(t.a * 1e18, t.b)');
        const served = await sql(db.pool, text, values.map(([mm]) => numeric(mm)), values.map(([, equity]) => numeric(equity)));
        expect(served.map((v) => BigInt(v))).toEqual(values.map(([mm, equity]) => wideRatio(mm, equity)));
      }),
      { numRuns: 30 },
    );
  });
});
