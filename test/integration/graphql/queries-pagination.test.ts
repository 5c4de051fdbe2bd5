// Keyset pagination of every list, the orders of Query.accounts (SQL order = order of the
// values the API computes in TypeScript, in the same snapshot), filters, and bad input.
import type { GraphQLError } from 'graphql';
import { parseFixed, type Fixed } from '../../../src/fixed/index.js';
import { encodeCursor } from '../../../src/graphql/pagination.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { LedgerChain, ORACLE_1, ORACLE_2, ev } from '../../support/ledger.js';
import { commit, data, execute, PARAMS, YEAR } from './queries-fixture.js';

const ORDERS = ['ID_ASC', 'EQUITY_ASC', 'EQUITY_DESC', 'NOTIONAL_DESC', 'NOTIONAL_ASC', 'MARGIN_RATIO_DESC', 'MARGIN_RATIO_ASC', 'RISK_DESC'] as const;
type Order = (typeof ORDERS)[number];

const owner = (i: number) => `0x${(0xa000 + i).toString(16).padStart(40, '0')}`;

/** A deterministic generator (no Math.random: a failure must replay). */
function generator(seed: number) {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648);
  // The high bits: the low bits of a power-of-two LCG cycle quickly.
  const int = (n: number) => Math.floor(next() / 65536) % n;
  return { int, pick: <T>(xs: readonly T[]) => xs[int(xs.length)]! };
}

/**
 * About fifty accounts over perpetuals, a call with volatility, a put without any (priced in
 * the deterministic limit), and a perpetual and a call on SOL that is never priced (marked
 * at entry, the strike standing in for M); twins with identical books (ties in every
 * order), accounts without positions (ties too), one at exactly zero equity and two below
 * zero; several subaccounts of one owner; anomalies and transitions for the history lists.
 */
function history(): LedgerChain {
  const chain = new LedgerChain(PARAMS);
  const rng = generator(7);
  const accounts: { owner: string; sub: number }[] = [];
  for (let i = 0; i < 36; i++) accounts.push({ owner: owner(i), sub: 0 });
  for (let i = 0; i < 4; i++) accounts.push({ owner: owner(0), sub: i + 1 });
  chain.block(1000, [
    ev.perp('ETH-PERP', 'ETH', { interval: 3600 }),
    ev.option('ETH-C', 'ETH', 'CALL', 3000, 1000 + YEAR / 2),
    ev.option('ETH-P', 'ETH', 'PUT', 2800, 1000 + YEAR / 4, { imf: '0.15', mmf: '0.08' }),
    ev.perp('BTC-PERP', 'BTC', { interval: 3600, imf: '0.2', mmf: '0.1' }),
    ev.perp('SOL-PERP', 'SOL'),
    ev.option('SOL-C', 'SOL', 'CALL', 25, 1000 + YEAR),
    ev.price('ETH', 3000), ev.price('BTC', 100), ev.vol('ETH-C', '0.6'),
    ...accounts.map((a) => ev.deposit(a.owner, `${100 + rng.int(5000)}.${rng.int(1000)}`, a.sub)),
    // Without positions: two with the same collateral.
    ev.deposit(owner(40), 777), ev.deposit(owner(41), 777), ev.deposit(owner(42), 1),
    // Twins, zero and negative equity (ETH ends at 3000).
    ev.deposit(owner(43), 2000), ev.deposit(owner(44), 2000), ev.deposit(owner(45), 100), ev.deposit(owner(46), 50), ev.deposit(owner(47), 50),
  ]);
  const prices: Record<string, () => string> = {
    'ETH-PERP': () => `${2950 + rng.int(100)}`,
    'ETH-C': () => `${150 + rng.int(150)}.${rng.int(100)}`,
    'ETH-P': () => `${40 + rng.int(60)}`,
    'BTC-PERP': () => `${95 + rng.int(10)}.5`,
    'SOL-PERP': () => `${20 + rng.int(10)}`,
    'SOL-C': () => `${1 + rng.int(3)}.25`,
  };
  const trades = () =>
    accounts.flatMap((a) =>
      Array.from({ length: rng.int(4) }, () => {
        const market = rng.pick(Object.keys(prices));
        const size = `${rng.int(2) ? '-' : ''}${1 + rng.int(4)}.${rng.int(10)}`;
        return ev.fill(market, a.owner, size, prices[market]!(), `0.${rng.int(10)}`, a.sub);
      }),
    );
  chain.block(1100, [
    ...trades(),
    ev.fill('ETH-PERP', owner(43), '2.5', 3010), ev.fill('ETH-C', owner(43), -1, 200),
    ev.fill('ETH-PERP', owner(44), '2.5', 3010), ev.fill('ETH-C', owner(44), -1, 200),
    // Explicit holders of the put (no volatility) and of SOL (never priced).
    ev.fill('ETH-P', owner(0), -2, 60, 0, 1), ev.fill('SOL-C', owner(0), 3, '1.25', 0, 1), ev.fill('SOL-PERP', owner(0), -1, 22, 0, 1),
    ev.fill('ETH-PERP', owner(45), 1, 3100), ev.fill('ETH-PERP', owner(46), 1, 3100), ev.fill('ETH-PERP', owner(47), 1, 3100),
  ]);
  chain.block(1200, [ev.price('ETH', 3150), ev.price('BTC', 90, ORACLE_2), ev.price('BTC', 0), ev.fill('NOPE', owner(1), 1, 1), ...trades()]);
  chain.block(1300, [ev.price('ETH', 2900), ev.malformed(), ...trades()]);
  chain.block(1400, [ev.price('ETH', 3000, ORACLE_1), ev.price('ETH', 3000, ORACLE_2), ev.price('BTC', 95, ORACLE_1), ev.vol('ETH-C', '0.7')]);
  return chain;
}

interface Row {
  id: string;
  owner: string;
  equity: Fixed;
  marginRatio: Fixed | null;
  notional: Fixed;
  marginState: string;
  markets: string[];
}

const cmp = (a: bigint | string, b: bigint | string) => (a < b ? -1 : a > b ? 1 : 0);

/** The documented orders, applied to the values the resolvers computed (TypeScript). */
function sortRows(rows: Row[], order: Order): string[] {
  const byId = (a: Row, b: Row) => cmp(a.id, b.id);
  const ratioAsc = (a: Row, b: Row) => (a.marginRatio === null ? (b.marginRatio === null ? 0 : 1) : b.marginRatio === null ? -1 : cmp(a.marginRatio, b.marginRatio));
  const compare: Record<Order, (a: Row, b: Row) => number> = {
    ID_ASC: () => 0,
    EQUITY_ASC: (a, b) => cmp(a.equity, b.equity),
    EQUITY_DESC: (a, b) => cmp(b.equity, a.equity),
    NOTIONAL_ASC: (a, b) => cmp(a.notional, b.notional),
    NOTIONAL_DESC: (a, b) => cmp(b.notional, a.notional),
    MARGIN_RATIO_ASC: ratioAsc,
    MARGIN_RATIO_DESC: (a, b) => ratioAsc(b, a),
    // Equity <= 0 (margin ratio null) first, lowest equity first; then the highest ratio.
    RISK_DESC: (a, b) =>
      a.marginRatio === null
        ? b.marginRatio === null ? cmp(a.equity, b.equity) : -1
        : b.marginRatio === null ? 1 : cmp(b.marginRatio, a.marginRatio),
  };
  return [...rows].sort((a, b) => compare[order](a, b) || byId(a, b)).map((r) => r.id);
}

const FIELDS = 'id owner equity marginRatio notional marginState positions { market { id } }';

function rowOf(node: any): Row {
  return {
    id: node.id,
    owner: node.owner,
    equity: parseFixed(node.equity),
    marginRatio: node.marginRatio === null ? null : parseFixed(node.marginRatio),
    notional: parseFixed(node.notional),
    marginState: node.marginState,
    markets: node.positions.map((p: any) => p.market.id),
  };
}

describe('GraphQL pagination and orders', () => {
  let db: TestDatabase;
  const schema = buildSchema();
  const q = <T = any>(source: string, variables?: Record<string, unknown>) => data<T>(schema, db.pool, source, variables);

  /** Follows endCursor until the last page; returns the nodes and the pages' sizes. */
  async function allPages(field: string, args: string, selection: string, first: number): Promise<{ nodes: any[]; pages: number[] }> {
    const nodes: any[] = [];
    const pages: number[] = [];
    let after: string | null = null;
    for (;;) {
      const result: any = await q(`query ($after: String) { list: ${field}(${args} first: ${first}, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ${selection} } } } }`, { after });
      const { edges, pageInfo } = result.list;
      expect(pageInfo.hasPreviousPage).toBe(after !== null);
      expect(pageInfo.startCursor).toBe(edges[0]?.cursor ?? null);
      expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
      nodes.push(...edges.map((e: any) => e.node));
      pages.push(edges.length);
      if (!pageInfo.hasNextPage) {
        expect(result.list.totalCount).toBe(nodes.length);
        return { nodes, pages };
      }
      expect(edges.length).toBe(first);
      after = pageInfo.endCursor;
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    await commit(db.pool, history());
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('the scenario has the cases the orders must handle', async () => {
    const { accounts } = await q(`{ accounts(first: 1000) { edges { node { ${FIELDS} } } } }`);
    const rows: Row[] = accounts.edges.map((e: any) => rowOf(e.node));
    expect(rows.length).toBe(48);
    expect(rows.filter((r) => r.marginRatio === null && r.equity === 0n).length).toBe(1);
    expect(rows.filter((r) => r.equity < 0n).length).toBeGreaterThanOrEqual(2);
    expect(rows.filter((r) => r.markets.length === 0).length).toBeGreaterThanOrEqual(3);
    expect(rows.some((r) => r.markets.includes('SOL-C')) && rows.some((r) => r.markets.includes('ETH-P'))).toBe(true);
    expect(new Set(rows.map((r) => r.marginState)).size).toBeGreaterThanOrEqual(3);
  });

  it('in one snapshot, each order in SQL equals the order of the values computed in TypeScript', async () => {
    const aliases = ORDERS.map((order) => `${order}: accounts(first: 1000, orderBy: ${order}) { edges { node { ${FIELDS} } } }`).join('\n');
    const result = await q(`{ ${aliases} }`);
    const rows: Row[] = result.ID_ASC.edges.map((e: any) => rowOf(e.node));
    for (const order of ORDERS) {
      const served: string[] = result[order].edges.map((e: any) => e.node.id);
      expect({ order, ids: served }).toEqual({ order, ids: sortRows(rows, order) });
      // Every node of every order carries the same values as in the ID order (one snapshot).
      expect(result[order].edges.map((e: any) => rowOf(e.node)).sort((a: Row, b: Row) => cmp(a.id, b.id))).toEqual(rows);
    }
  });

  it.each(ORDERS)('pages through %s, 7 at a time, to the same order', async (order) => {
    const { accounts } = await q(`{ accounts(first: 1000) { edges { node { ${FIELDS} } } } }`);
    const rows: Row[] = accounts.edges.map((e: any) => rowOf(e.node));
    const { nodes, pages } = await allPages('accounts', `orderBy: ${order},`, 'id', 7);
    expect(pages).toEqual([7, 7, 7, 7, 7, 7, 6]);
    expect(nodes.map((n) => n.id)).toEqual(sortRows(rows, order));
  });

  it('filters accounts by owner, margin state and market, in any order', async () => {
    const { accounts } = await q(`{ accounts(first: 1000) { edges { node { ${FIELDS} } } } }`);
    const rows: Row[] = accounts.edges.map((e: any) => rowOf(e.node));
    const cases: { args: string; keep: (r: Row) => boolean }[] = [
      { args: `owner: "${owner(0).toUpperCase().replace('0X', '0x')}",`, keep: (r) => r.owner === owner(0) },
      { args: 'marginState: [LIQUIDATABLE, BANKRUPT],', keep: (r) => r.marginState === 'LIQUIDATABLE' || r.marginState === 'BANKRUPT' },
      { args: 'market: "ETH-C",', keep: (r) => r.markets.includes('ETH-C') },
      { args: 'market: "ETH-PERP", marginState: [HEALTHY],', keep: (r) => r.markets.includes('ETH-PERP') && r.marginState === 'HEALTHY' },
    ];
    for (const { args, keep } of cases) {
      const expected = rows.filter(keep);
      expect(expected.length).toBeGreaterThan(1);
      for (const order of ['ID_ASC', 'RISK_DESC', 'NOTIONAL_ASC'] as const) {
        const { nodes } = await allPages('accounts', `${args} orderBy: ${order},`, 'id', 2);
        expect({ args, order, ids: nodes.map((n) => n.id) }).toEqual({ args, order, ids: sortRows(expected, order) });
      }
    }
  });

  it('pages fills, transitions, positions and oracle history with filters; concatenated pages equal one page', async () => {
    const lists: { field: string; args: string; selection: string }[] = [
      { field: 'fills', args: '', selection: 'id' },
      { field: 'fills', args: 'newestFirst: true, fromBlock: 2, toBlock: 3,', selection: 'id blockNumber' },
      { field: 'fills', args: `owner: "${owner(0)}",`, selection: 'id account { owner }' },
      { field: 'fills', args: `owner: "${owner(0)}", subaccount: 2, market: "ETH-C", liquidation: false,`, selection: 'id' },
      { field: 'fills', args: 'subaccount: 1,', selection: 'id account { subaccount }' },
      { field: 'transitions', args: '', selection: 'blockNumber account { id } to' },
      { field: 'transitions', args: 'newestFirst: true, to: [BANKRUPT, LIQUIDATABLE],', selection: 'blockNumber account { id } to' },
      { field: 'positions', args: '', selection: 'id open' },
      { field: 'positions', args: 'includeClosed: true, underlying: "ETH",', selection: 'id open market { underlying }' },
      { field: 'positions', args: 'market: "SOL-C",', selection: 'id' },
      { field: 'priceReports', args: 'underlying: "BTC",', selection: 'blockNumber logIndex source' },
      { field: 'indexPrices', args: 'underlying: "ETH", newestFirst: true,', selection: 'blockNumber price' },
      { field: 'anomalies', args: '', selection: 'blockNumber kind' },
      { field: 'fundingHistory', args: 'market: "ETH-PERP",', selection: 'period' },
    ];
    for (const { field, args, selection } of lists) {
      const whole: any = await q(`{ list: ${field}(${args} first: 1000) { totalCount pageInfo { hasNextPage } edges { node { ${selection} } } } }`);
      expect(whole.list.pageInfo.hasNextPage).toBe(false);
      const { nodes } = await allPages(field, args, selection, 3);
      expect({ field, args, nodes }).toEqual({ field, args, nodes: whole.list.edges.map((e: any) => e.node) });
      expect(whole.list.totalCount).toBe(nodes.length);
    }
    // The filters did filter.
    const some = await q(`{ a: fills(subaccount: 1) { edges { node { account { subaccount } } } }
      b: transitions(to: [BANKRUPT]) { edges { node { to } } }
      c: positions(includeClosed: true, underlying: "SOL") { edges { node { market { underlying } } } }
      d: anomalies(kind: "ZERO_PRICE") { totalCount } e: anomalies { totalCount } }`);
    expect(some.a.edges.length).toBeGreaterThan(0);
    expect(some.a.edges.every((e: any) => e.node.account.subaccount === 1)).toBe(true);
    expect(some.b.edges.length).toBeGreaterThan(0);
    expect(some.b.edges.every((e: any) => e.node.to === 'BANKRUPT')).toBe(true);
    expect(some.c.edges.every((e: any) => e.node.market.underlying === 'SOL')).toBe(true);
    expect(some.d.totalCount).toBe(1);
    expect(some.e.totalCount).toBe(3);
  });

  it('nested connections page per parent with one cursor for all parents', async () => {
    const whole = await q(`{ accounts(owner: "${owner(0)}") { edges { node { id fills(first: 1000) { edges { cursor node { id } } } } } } }`);
    const byAccount = new Map<string, { cursor: string; node: { id: string } }[]>(whole.accounts.edges.map((e: any) => [e.node.id, e.node.fills.edges]));
    // A cursor is a position in chain order: after it, every parent lists its later fills.
    const pivot = [...byAccount.values()].flat().sort((a, b) => cmp(a.node.id, b.node.id))[0]!;
    const paged = await q(`query ($after: String) { accounts(owner: "${owner(0)}") { edges { node { id fills(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage } edges { node { id } } } } } } }`, { after: pivot.cursor });
    for (const edge of paged.accounts.edges) {
      const all = byAccount.get(edge.node.id)!;
      const later = all.filter((f) => chainOrder(f.node.id) > chainOrder(pivot.node.id));
      expect(edge.node.fills.edges.map((e: any) => e.node.id)).toEqual(later.slice(0, 2).map((f) => f.node.id));
      expect(edge.node.fills.pageInfo.hasNextPage).toBe(later.length > 2);
      expect(edge.node.fills.totalCount).toBe(all.length);
    }
  });

  describe('bad input', () => {
    const error = async (source: string, variables?: Record<string, unknown>): Promise<GraphQLError> => {
      const result = await execute(schema, db.pool, source, variables);
      expect(result.errors?.length).toBe(1);
      return result.errors![0]!;
    };
    const badUserInput = async (source: string, message: RegExp, variables?: Record<string, unknown>) => {
      const e = await error(source, variables);
      expect(e.message).toMatch(message);
      expect(e.extensions?.code).toBe('BAD_USER_INPUT');
    };

    it('first outside 0..1000', async () => {
      await badUserInput('{ accounts(first: -1) { totalCount } }', /"first" must be between 0 and 1000, got -1/);
      await badUserInput('{ fills(first: 1001) { totalCount } }', /"first" must be between 0 and 1000, got 1001/);
      await badUserInput(`{ account(owner: "${owner(0)}") { fills(first: 5000) { totalCount } } }`, /"first" must be between 0 and 1000/);
      const zero = await q('{ accounts(first: 0) { totalCount pageInfo { hasNextPage endCursor } edges { cursor } } }');
      expect(zero.accounts).toEqual({ totalCount: 48, pageInfo: { hasNextPage: true, endCursor: null }, edges: [] });
      const fifty = await q('{ accounts { edges { cursor } } }');
      expect(fifty.accounts.edges.length).toBe(48); // default 50
    });

    it('malformed or foreign cursors', async () => {
      const fills = await q('{ fills(first: 1) { pageInfo { endCursor } } }');
      const byId = await q('{ accounts(first: 1) { pageInfo { endCursor } } }');
      const cursors = [
        '!!!', 'abc', encodeCursor('fill', ['1']), encodeCursor('fill', ['x', '1']), Buffer.from('{"a":1}').toString('base64url'),
        fills.fills.pageInfo.endCursor,
      ];
      for (const after of cursors) {
        await badUserInput('query ($after: String) { accounts(after: $after) { totalCount } }', /"after" is not a cursor of this list/, { after });
      }
      // A cursor of one order is refused by another (its key means something else there).
      await badUserInput('query ($after: String) { accounts(after: $after, orderBy: EQUITY_ASC) { totalCount } }', /not a cursor of this list \(account:EQUITY_ASC\)/, {
        after: byId.accounts.pageInfo.endCursor,
      });
      await badUserInput('query ($after: String) { fills(after: $after) { totalCount } }', /not a cursor of this list \(fill\)/, { after: encodeCursor('fill', ['1; DROP TABLE fill', '0']) });
    });

    it('SafeInt: integers within 2^53 - 1 only', async () => {
      expect((await error(`{ account(owner: "${owner(0)}", subaccount: 1.5) { id } }`)).message).toMatch(/SafeInt literals must be integers/);
      expect((await error(`{ account(owner: "${owner(0)}", subaccount: 9007199254740992) { id } }`)).message).toMatch(/at most 2\^53 - 1/);
      expect((await error(`{ account(owner: "${owner(0)}", subaccount: "1") { id } }`)).message).toMatch(/SafeInt literals must be integers/);
      const variable = `query ($s: SafeInt) { account(owner: "${owner(0)}", subaccount: $s) { id } }`;
      expect((await error(variable, { s: '1' })).message).toMatch(/SafeInt must be an integer JSON number, got "1"/);
      expect((await error(variable, { s: 2 ** 53 })).message).toMatch(/at most 2\^53 - 1/);
      expect(await q(variable, { s: 1 })).toEqual({ account: { id: `${owner(0)}:1` } });
      expect(await q(`{ fills(fromBlock: 9007199254740991) { totalCount } }`)).toEqual({ fills: { totalCount: 0 } });
    });
  });
});

/** "block:log" ids compare in chain order as numbers. */
function chainOrder(id: string): number {
  const [block, log] = id.split(':').map(Number) as [number, number];
  return block * 1e6 + log;
}
