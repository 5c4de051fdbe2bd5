// The order index must pick exactly the candidates of the linear pass (bounds.ts), for
// every cursor and page size, on random bounds: ties, accounts whose bucket is in doubt,
// wide and zero-width bounds, non-finite keys, filters that keep few or none.
import { candidates, emptyBounds, type Bounds } from '../../../../src/graphql/risk-engine/bounds.js';
import { OrderIndex } from '../../../../src/graphql/risk-engine/order-index.js';
import { random } from '../../../../src/devnet/workload.js';

function randomBounds(next: () => number, n: number): Bounds {
  const b = emptyBounds(n);
  const keys = Array.from({ length: 20 }, () => (next() - 0.5) * 100); // a few repeated keys: ties
  for (let i = 0; i < n; i++) {
    const r = next();
    const key = r < 0.3 ? keys[Math.floor(next() * keys.length)]! : (next() - 0.5) * 10 ** Math.floor(next() * 6);
    const width = r < 0.5 ? 0 : next() < 0.95 ? Math.abs(key) * 1e-10 : next() * 50;
    b.bLo[i] = next() < 0.2 ? 0 : 1;
    b.kLo[i] = key - width;
    b.bHi[i] = next() < 0.05 ? Math.max(b.bLo[i]!, 1) : b.bLo[i]!; // a few in doubt between buckets
    b.kHi[i] = b.bHi[i] === b.bLo[i] ? key + width : (next() - 0.5) * 10;
    const odd = next();
    if (odd < 0.005) b.kHi[i] = Infinity;
    else if (odd < 0.01) b.kLo[i] = -Infinity;
    else if (odd < 0.012) b.kLo[i] = NaN;
  }
  return b;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('OrderIndex', () => {
  it.each([1, 2, 3, 4, 5, 6])('seed %i: the same candidates as the linear pass, page after page', (seed) => {
    const next = random(seed);
    for (const n of [0, 1, 50, 129, 3_000, 20_000]) {
      const bounds = randomBounds(next, n);
      const keep = next();
      const chosen = Uint8Array.from({ length: n }, () => (next() < keep ? 1 : 0));
      const include = keep < 0.1 ? (i: number) => chosen[i] === 1 : () => true;
      const index = OrderIndex.of(bounds, n, include);
      let expectedSize = 0;
      for (let i = 0; i < n; i++) if (include(i)) expectedSize++;
      expect(index.size).toBe(expectedSize);
      const cursors = [null, ...Array.from({ length: 25 }, () => {
        const i = Math.floor(next() * Math.max(1, n));
        return n > 0 && next() < 0.7 && Number.isFinite(bounds.kLo[i]!) ? { bucket: bounds.bLo[i]!, key: bounds.kLo[i]! } : { bucket: next() < 0.5 ? 0 : 1, key: (next() - 0.5) * 200 };
      })];
      for (const cursor of cursors) {
        for (const first of [1, 10, 50]) {
          expect({ n, cursor, first, picked: sorted(index.candidates(cursor, first)) }).toEqual({ n, cursor, first, picked: sorted(candidates(bounds, n, include, cursor, first)) });
        }
      }
    }
  });

  it('walks past a group left empty by tied keys', () => {
    // Every finite key equal: the group below the one boundary is empty; the odd accounts
    // (no finite lower bound) fill the page's limit before the walk reaches the others.
    const n = 1_000;
    const bounds = emptyBounds(n);
    for (let i = 0; i < n; i++) {
      bounds.bLo[i] = bounds.bHi[i] = 1;
      bounds.kLo[i] = i < 60 ? -Infinity : 5;
      bounds.kHi[i] = i < 60 ? 100 : 5;
    }
    const index = OrderIndex.of(bounds, n, () => true);
    expect(sorted(index.candidates(null, 50))).toEqual(sorted(candidates(bounds, n, () => true, null, 50)));
  });

  it('walks a few groups around the cursor, not every account', () => {
    const n = 100_000;
    const bounds = emptyBounds(n);
    const next = random(9);
    for (let i = 0; i < n; i++) {
      const key = next();
      bounds.bLo[i] = bounds.bHi[i] = 1;
      bounds.kLo[i] = key - 1e-12;
      bounds.kHi[i] = key + 1e-12;
    }
    const index = OrderIndex.of(bounds, n, () => true);
    const picked = index.candidates({ bucket: 1, key: 0.5 }, 50);
    expect(picked.length).toBeGreaterThanOrEqual(51);
    expect(picked.length).toBeLessThan(60);
    expect(sorted(picked)).toEqual(sorted(candidates(bounds, n, () => true, { bucket: 1, key: 0.5 }, 50)));
  });
});
