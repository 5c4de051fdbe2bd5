// The answer serializer (protection/serialize.ts): the same text as JSON.stringify, a cap
// that stops as soon as it is passed, and a walk that lets the event loop turn.
import fc from 'fast-check';
import { ExecutionBudget, timeoutError } from '../../../src/graphql/protection/budget.js';
import { ResponseTooLargeError, serializeJson as serializeNow } from '../../../src/graphql/protection/serialize.js';

/** The serializer answers small values at once and large ones as a promise: always a promise here. */
const serializeJson = async (...args: Parameters<typeof serializeNow>) => serializeNow(...args);

describe('serializeJson', () => {
  it('answers a small value at once, a large one in slices', () => {
    expect(serializeNow({ data: { a: 1 } }, 1e9)).toBe('{"data":{"a":1}}');
    expect(serializeNow({ rows: Array.from({ length: 10_000 }, (_, i) => ({ i })) }, 1e9)).toBeInstanceOf(Promise);
  });

  it('writes exactly what JSON.stringify writes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        expect(await serializeJson(value, 1e9)).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves out undefined properties, writes null for undefined array items, and serializes null-prototype objects', async () => {
    const bare = Object.assign(Object.create(null), { a: 1, b: { c: [1, undefined, 'x'] } });
    const value = { data: bare, skipped: undefined, nested: [{ k: undefined, v: [{ deep: true }] }] };
    expect(await serializeJson(value, 1e9)).toBe(JSON.stringify(value));
  });

  it('refuses an answer over the cap, counted in UTF-8 bytes', async () => {
    const value = { data: { items: Array.from({ length: 100 }, (_, i) => ({ id: `item-${i}`, nested: { n: i } })) } };
    const text = JSON.stringify(value);
    expect(await serializeJson(value, text.length)).toBe(text);
    await expect(serializeJson(value, text.length - 1)).rejects.toBeInstanceOf(ResponseTooLargeError);
    // "é" is one UTF-16 unit and two UTF-8 bytes.
    await expect(serializeJson({ s: 'é'.repeat(10) }, 20)).rejects.toBeInstanceOf(ResponseTooLargeError);
  });

  it('stops as soon as the cap is passed, not after writing the whole answer', async () => {
    let read = 0;
    const items = Array.from({ length: 100_000 }, (_, i) => ({
      get nested() {
        read++;
        return { i };
      },
    }));
    await expect(serializeJson({ items }, 1000)).rejects.toBeInstanceOf(ResponseTooLargeError);
    expect(read).toBeLessThan(20_000);
  });

  it('lets the event loop turn while it walks a large answer', async () => {
    const value = { data: { rows: Array.from({ length: 200_000 }, (_, i) => ({ id: String(i), inner: { price: '1.5', size: String(i) } })) } };
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const text = await serializeJson(value, 1e9);
      expect(text).toBe(JSON.stringify(value));
    } finally {
      clearInterval(ticker);
    }
    expect(turns).toBeGreaterThan(0);
  });

  it('stops with the budget reason once the budget is spent', async () => {
    const budget = new ExecutionBudget(0);
    const value = { rows: Array.from({ length: 500_000 }, (_, i) => ({ a: { i } })) };
    const serializing = serializeJson(value, 1e9, budget);
    setImmediate(() => budget.abort(timeoutError(5)));
    await expect(serializing).rejects.toMatchObject({ extensions: { code: 'REQUEST_TIMEOUT' } });
  });
});
