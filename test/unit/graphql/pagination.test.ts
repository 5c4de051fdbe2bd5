import { connectionOf, decodeCursor, encodeCursor, pageOf } from '../../../src/graphql/pagination.js';

describe('keyset cursors', () => {
  it('round-trip the sort key, opaque and URL-safe', () => {
    const cursor = encodeCursor('fill', ['12', '3']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'fill', ['int8', 'int4'])).toEqual(['12', '3']);
    expect(decodeCursor(encodeCursor('account:ID_ASC', ['0xab:0']), 'account:ID_ASC', ['text'])).toEqual(['0xab:0']);
  });

  it('take every value its column holds, to the ends of its range', () => {
    expect(decodeCursor(encodeCursor('fill', ['9223372036854775807', '-2147483648']), 'fill', ['int8', 'int4'])).toEqual(['9223372036854775807', '-2147483648']);
    const huge = `-${'9'.repeat(60)}`;
    expect(decodeCursor(encodeCursor('account:RISK_DESC', ['1', huge, 'a']), 'account:RISK_DESC', ['int4', 'numeric', 'text'])).toEqual(['1', huge, 'a']);
    expect(() => decodeCursor(encodeCursor('account:ID_ASC', ['a\u0000b']), 'account:ID_ASC', ['text'])).toThrow(/is not a cursor/);
  });

  it('refuse malformed, foreign and ill-typed cursors as BAD_USER_INPUT', () => {
    const bad = [
      'not base64!', encodeCursor('position', ['1', '2']), encodeCursor('fill', ['1']), encodeCursor('fill', ['1', '2', '3']),
      encodeCursor('fill', ['1', 'x']), Buffer.from('[1,2,3]').toString('base64url'), Buffer.from('nope').toString('base64url'),
      Buffer.from(JSON.stringify(['fill', 1, 2])).toString('base64url'),
      // Well formed, but each would fail inside PostgreSQL: out of the column's range, a NUL in text.
      encodeCursor('fill', ['9223372036854775808', '0']), encodeCursor('fill', ['-9223372036854775809', '0']),
      encodeCursor('fill', ['1', '2147483648']),
    ];
    for (const cursor of bad) {
      try {
        decodeCursor(cursor, 'fill', ['int8', 'int4']);
        throw new Error(`accepted ${cursor}`);
      } catch (error) {
        expect((error as { extensions?: { code?: string } }).extensions?.code).toBe('BAD_USER_INPUT');
        expect((error as Error).message).toMatch(/"after" is not a cursor of this list \(fill\)/);
      }
    }
  });
});

describe('pages', () => {
  it('first defaults to 50 and must be 0..1000', () => {
    expect(pageOf({}, 'fill', ['int8'])).toEqual({ first: 50, after: null });
    expect(pageOf({ first: null, after: null }, 'fill', ['int8'])).toEqual({ first: 50, after: null });
    expect(pageOf({ first: 0 }, 'fill', ['int8']).first).toBe(0);
    expect(pageOf({ first: 1000 }, 'fill', ['int8']).first).toBe(1000);
    expect(() => pageOf({ first: 1001 }, 'fill', ['int8'])).toThrow(/"first" must be between 0 and 1000, got 1001/);
    expect(() => pageOf({ first: -1 }, 'fill', ['int8'])).toThrow(/got -1/);
  });

  it('a page of first + 1 rows says whether there is a next page', async () => {
    const rows = [{ k: '1' }, { k: '2' }, { k: '3' }];
    const count = async () => 3;
    const page = await connectionOf(rows, { first: 2, after: null }, 'x', (r) => [r.k], (r) => r.k, count);
    expect(page.edges.map((e) => e.node)).toEqual(['1', '2']);
    expect(page.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: encodeCursor('x', ['1']), endCursor: encodeCursor('x', ['2']) });
    const last = await connectionOf(rows.slice(2), { first: 2, after: ['2'] }, 'x', (r) => [r.k], (r) => r.k, count);
    expect(last.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: encodeCursor('x', ['3']), endCursor: encodeCursor('x', ['3']) });
    const empty = await connectionOf([], { first: 0, after: null }, 'x', (r: { k: string }) => [r.k], (r) => r.k, count);
    expect(empty.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(await page.totalCount()).toBe(3);
  });

  it('waits for nodes still being derived: an edge holds the node itself, never a promise', async () => {
    const rows = [{ k: '1' }, { k: '2' }];
    const page = connectionOf(rows, { first: 2, after: null }, 'x', (r) => [r.k], (r) => (r.k === '2' ? Promise.resolve(`n${r.k}`) : `n${r.k}`), async () => 2);
    expect(page).toBeInstanceOf(Promise);
    expect((await page).edges.map((e) => e.node)).toEqual(['n1', 'n2']);
  });
});
