// The risk engine (src/graphql/risk-engine) only picks the accounts that can be on a page;
// the page itself is ordered and served by SQL. So every risk-ordered page, with every
// filter, paged to the end, must be the same with the engine as without it, block after
// block while prices, volatilities, funding and books move, with ties, zero and negative
// equity, equity tiny against exposure, and markets never priced. And it must actually
// pick few: a first page of 10 costs about 10 candidates, not every account.
import { blocksCommitted, LedgerStore } from '../../../src/db/store/ledger-store.js';
import { RiskEngine } from '../../../src/graphql/risk-engine/engine.js';
import { evaluationOf, PastBlocks, pageCandidates, readColumns } from '../../../src/graphql/risk-engine/past.js';
import { loadMarkets } from '../../../src/graphql/modules/market/sql.js';
import { loadUnderlyings } from '../../../src/graphql/modules/underlying/sql.js';
import { marksOf } from '../../../src/risk/mark.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { silentLogger } from '../../../src/log/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { waitFor } from '../../support/wait.js';
import { LedgerChain } from '../../support/ledger.js';
import { data, PARAMS } from './queries-fixture.js';
import { blocks } from './risk-fixture.js';

const ORDERS = ['EQUITY_ASC', 'EQUITY_DESC', 'NOTIONAL_DESC', 'NOTIONAL_ASC', 'MARGIN_RATIO_DESC', 'MARGIN_RATIO_ASC', 'RISK_DESC'] as const;
// One database for the file: every test resets the ledger first.
let db: TestDatabase;
const schema = buildSchema();
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('risk engine candidates', () => {

  it.each([[11], [12]])('seed %i: every order and filter, paged to the end, equal with and without the engine at every block', async (seed) => {
    await new LedgerStore(db.pool).reset();
    const engine = new RiskEngine({ pool: db.pool, logger: silentLogger, params: PARAMS });
    const chain = new LedgerChain(PARAMS);
    const store = new LedgerStore(db.pool);
    // Whether the engine answered each page's ask for candidates (null: not holding the block).
    const answered: boolean[] = [];
    const candidates = engine.candidates.bind(engine);
    engine.candidates = async (...args) => {
      const picked = await candidates(...args);
      answered.push(picked !== null);
      return picked;
    };
    engine.start();
    try {
      for (const { time, events } of blocks(seed)) {
        chain.block(time, events);
        const batch = chain.history.slice(-1);
        await store.commit({ chainId: 31337, headBlockNumber: batch[0]!.block.number, batch, undo: new Map() });
        // As the server's feed would hand it the notification.
        engine.committed(blocksCommitted(batch, undefined));
        await waitFor(() => engine.currentBlock?.number === batch[0]!.block.number, 'the engine at the block');
        for (const order of ORDERS) {
          for (const filter of ['', 'marginState: [MARGIN_CALL, LIQUIDATABLE, BANKRUPT],', 'market: "ETH-C",']) {
            const args = `orderBy: ${order}, ${filter}`;
            const without = await pages(args, {});
            answered.length = 0;
            const withEngine = await pages(args, { riskEngine: engine });
            expect({ order, filter, block: batch[0]!.block.number, ids: withEngine }).toEqual({ order, filter, block: batch[0]!.block.number, ids: without });
            // The engine chose every page's candidates, those after a cursor (which names
            // its block, the newest here) included.
            expect(answered).toEqual(Array.from({ length: Math.max(1, Math.ceil(withEngine.length / 10)) }, () => true));
          }
        }
      }
      // Few candidates: the first page of 10 in the riskiest order, among 160+ accounts.
      const block = { chainId: 31337, number: chain.history.at(-1)!.block.number, hash: chain.history.at(-1)!.block.hash, timestamp: 0, headBlockNumber: 0 };
      const picked = await engine.candidates(block, 'RISK_DESC', {}, null, 10);
      expect(picked).not.toBeNull();
      expect(picked!.length).toBeGreaterThanOrEqual(11);
      expect(picked!.length).toBeLessThan(30);
    } finally {
      engine.stop();
      await engine.idle();
    }

    async function pages(args: string, deps: object): Promise<string[]> {
      const ids: string[] = [];
      let after: string | null = null;
      for (;;) {
        const result: any = await data(schema, db.pool, `query ($after: String) { accounts(${args} first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`, { after }, deps);
        ids.push(...result.accounts.edges.map((e: any) => e.node.id));
        if (!result.accounts.pageInfo.hasNextPage) {
          expect(result.accounts.totalCount).toBe(ids.length);
          return ids;
        }
        after = result.accounts.pageInfo.endCursor;
      }
    }
  });
});

describe('risk-ordered pages at a past block (risk-engine/past.ts)', () => {

  it.each([[13], [14]])('seed %i: every order and filter at every past block, paged to the end, equal to the SQL pass over every account', async (seed) => {
    await new LedgerStore(db.pool).reset();
    const chain = new LedgerChain(PARAMS);
    const store = new LedgerStore(db.pool);
    for (const { time, events } of blocks(seed)) {
      chain.block(time, events);
      const batch = chain.history.slice(-1);
      await store.commit({ chainId: 31337, headBlockNumber: batch[0]!.block.number, batch, undo: new Map() });
    }
    // The engine at the last block: past blocks' columns are its own rolled back.
    const engine = new RiskEngine({ pool: db.pool, logger: silentLogger, params: PARAMS });
    engine.start();
    await waitFor(() => engine.currentBlock?.number === chain.history.at(-1)!.block.number, 'the engine at the last block');
    // One process's kept blocks for every request, as the server's: later pages of a block come back to them.
    const past = new PastBlocks();
    const rolledBack = new PastBlocks(engine);
    try {
      for (const { block } of chain.history) {
        for (const order of ORDERS) {
          for (const filter of ['', 'marginState: [MARGIN_CALL, LIQUIDATABLE, BANKRUPT],', 'market: "ETH-C",']) {
            const args = `orderBy: ${order}, ${filter} block: { number: ${block.number} },`;
            const without = await pastPages(args, {});
            const read = await pastPages(args, { pastBlocks: past });
            const fromEngine = await pastPages(args, { pastBlocks: rolledBack });
            expect({ order, filter, block: block.number, page: read }).toEqual({ order, filter, block: block.number, page: without });
            expect({ order, filter, block: block.number, page: fromEngine }).toEqual({ order, filter, block: block.number, page: without });
          }
        }
      }
    } finally {
      engine.stop();
      await engine.idle();
    }
    // Few candidates: the first page of 10 in the riskiest order, among 160+ accounts.
    const last = chain.history.at(-1)!.block;
    const query = <R>(sql: string, params?: unknown[]) => db.pool.query(sql, params).then((r) => r.rows as R[]);
    const markets = await loadMarkets(query);
    const underlyings = await loadUnderlyings(query);
    const at = evaluationOf(await readColumns(query, last.number), markets, marksOf(markets.values(), (u) => underlyings.get(u)?.indexPrice ?? null, last.timestamp, PARAMS.riskFreeRate));
    const picked = pageCandidates(at, 'RISK_DESC', {}, null, 10);
    expect(picked.length).toBeGreaterThanOrEqual(11);
    expect(picked.length).toBeLessThan(30);

    /** Every page of the list, every value served (not only ids). */
    async function pastPages(args: string, deps: object): Promise<unknown[]> {
      const pages: unknown[] = [];
      let after: string | null = null;
      for (;;) {
        const result: any = await data(
          schema,
          db.pool,
          `query ($after: String) { meta { blockNumber } accounts(${args} first: 40, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id collateral equity maintenanceMargin marginRatio notional marginState } } } }`,
          { after },
          deps,
        );
        pages.push(result);
        if (!result.accounts.pageInfo.hasNextPage) return pages;
        after = result.accounts.pageInfo.endCursor;
      }
    }
  }, 240_000);
});

describe('risk engine blocks', () => {
  /** A chain of the fixture's blocks, committed one at a time; the engine told after each when `tell`. */
  async function setUp() {
    await new LedgerStore(db.pool).reset();
    const engine = new RiskEngine({ pool: db.pool, logger: silentLogger, params: PARAMS, catchUpMs: 30_000 });
    const chain = new LedgerChain(PARAMS);
    const store = new LedgerStore(db.pool);
    const all = blocks(13);
    let next = 0;
    const commitNext = async (tell = true) => {
      const { time, events } = all[next++]!;
      chain.block(time, events);
      const batch = chain.history.slice(-1);
      await store.commit({ chainId: 31337, headBlockNumber: batch[0]!.block.number, batch, undo: new Map() });
      if (tell) engine.committed(blocksCommitted(batch, undefined));
      const { number, hash } = batch[0]!.block;
      return { chainId: 31337, number, hash, timestamp: 0, headBlockNumber: number };
    };
    return { engine, commitNext };
  }

  it('a request at a block the engine is still reading waits for it instead of going without', async () => {
    const { engine, commitNext } = await setUp();
    engine.start();
    try {
      await commitNext();
      const second = await commitNext();
      // Asked at once: the refresh that reads the second block has not even begun.
      const picked = await engine.candidates(second, 'RISK_DESC', {}, null, 10);
      expect(picked).not.toBeNull();
      expect(engine.currentBlock).toEqual({ number: second.number, hash: second.hash });
      // A block the engine has moved past is gone from its columns: no answer, at once.
      const third = await commitNext();
      expect(await engine.candidates(third, 'EQUITY_ASC', {}, null, 5)).not.toBeNull();
      expect(await engine.candidates(second, 'RISK_DESC', {}, null, 10)).toBeNull();
    } finally {
      engine.stop();
      await engine.idle();
    }
  });

  it('a refresh waits for the request work reading the columns (a stress) before it changes them', async () => {
    const { engine, commitNext } = await setUp();
    engine.start();
    try {
      const first = await commitNext();
      let release!: () => void;
      const holding = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      let seen = -1;
      const stress = engine.stressAt(first, 'test', async (columns) => {
        entered();
        await holding;
        seen = columns.accountCount;
        return { changed: [] } as never;
      });
      await inside;
      const before = engine.currentBlock;
      const second = await commitNext(); // adds accounts (the fixture deposits in every block's first events)
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The refresh for the second block has not changed the columns under the lease.
      expect(engine.currentBlock).toEqual(before);
      release();
      await stress;
      expect(seen).toBeGreaterThan(0);
      expect(await engine.candidates(second, 'RISK_DESC', {}, null, 10)).not.toBeNull();
      expect(engine.currentBlock).toEqual({ number: second.number, hash: second.hash });
    } finally {
      engine.stop();
      await engine.idle();
    }
  });
});
