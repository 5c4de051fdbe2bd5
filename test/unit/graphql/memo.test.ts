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

  it('then() stays synchronous for settled values', async () => {
    expect(then(2, (x) => x * 3)).toBe(6);
    expect(await then(Promise.resolve(2), (x) => x * 3)).toBe(6);
  });
});
