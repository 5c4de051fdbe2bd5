import { Memo, MemoMap, then } from '../../../src/graphql/memo.js';

describe('request memos', () => {
  it('compute once, answer with the promise until settled and with the value after', async () => {
    let calls = 0;
    const memo = new MemoMap<string, number>();
    const compute = async () => ++calls;
    const first = memo.now('a', compute);
    expect(first).toBeInstanceOf(Promise);
    expect(memo.now('a', compute)).toBe(first);
    expect(await first).toBe(1);
    expect(memo.now('a', compute)).toBe(1);
    expect(await memo.get('a', compute)).toBe(1);
    expect(calls).toBe(1);
    memo.settle('b', 7);
    expect(memo.now('b', compute)).toBe(7);
    const single = new Memo(async () => 'v');
    await single.get();
    expect(single.now()).toBe('v');
  });

  it('answer synchronously from peek (another request computed it) and compute only when peek has nothing', async () => {
    let calls = 0;
    const memo = new MemoMap<string, number | null>();
    const compute = async () => ++calls;
    expect(memo.now('shared', compute, () => 5)).toBe(5);
    expect(memo.now('shared', compute)).toBe(5);
    expect(memo.now('unknown', compute, () => null)).toBeNull(); // null is a value (an unknown account)
    const pending = memo.now('absent', compute, () => undefined);
    expect(pending).toBeInstanceOf(Promise);
    // Once computing, the promise stands even if the shared cache fills meanwhile.
    expect(memo.now('absent', compute, () => 9)).toBe(pending);
    expect(await pending).toBe(1);
    expect(calls).toBe(1);
    const single = new Memo(async () => 'computed', () => 'peeked');
    expect(single.settled()).toBeUndefined();
    expect(single.now()).toBe('peeked');
    expect(single.settled()).toBe('peeked');
  });

  it('then() stays synchronous for settled values', async () => {
    expect(then(2, (x) => x * 3)).toBe(6);
    expect(await then(Promise.resolve(2), (x) => x * 3)).toBe(6);
  });
});
