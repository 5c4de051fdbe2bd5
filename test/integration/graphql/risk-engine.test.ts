// The risk engine (src/graphql/risk-engine) only picks the accounts that can be on a page;
// the page itself is ordered and served by SQL. So every risk-ordered page, with every
// filter, paged to the end, must be the same with the engine as without it, block after
// block while prices, volatilities, funding and books move, with ties, zero and negative
// equity, equity tiny against exposure, and markets never priced. And it must actually
// pick few: a first page of 10 costs about 10 candidates, not every account.
import { blocksCommitted, LedgerStore } from '../../../src/db/store/ledger-store.js';
import { RiskEngine } from '../../../src/graphql/risk-engine/engine.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { silentLogger } from '../../../src/log/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { LedgerChain } from '../../support/ledger.js';
import { data, PARAMS } from './queries-fixture.js';
import { blocks } from './risk-fixture.js';

const ORDERS = ['EQUITY_ASC', 'EQUITY_DESC', 'NOTIONAL_DESC', 'NOTIONAL_ASC', 'MARGIN_RATIO_DESC', 'MARGIN_RATIO_ASC', 'RISK_DESC'] as const;
describe('risk engine candidates', () => {
  let db: TestDatabase;
  const schema = buildSchema();
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each([[11], [12]])('seed %i: every order and filter, paged to the end, equal with and without the engine at every block', async (seed) => {
    await new LedgerStore(db.pool).reset();
    const engine = new RiskEngine({ pool: db.pool, logger: silentLogger });
    const chain = new LedgerChain(PARAMS);
    const store = new LedgerStore(db.pool);
    engine.start();
    try {
      for (const { time, events } of blocks(seed)) {
        chain.block(time, events);
        const batch = chain.history.slice(-1);
        await store.commit({ chainId: 31337, headBlockNumber: batch[0]!.block.number, batch, undo: new Map() });
        // As the server's feed would hand it the notification.
        engine.committed(blocksCommitted(batch, undefined));
        await until(() => engine.currentBlock?.number === batch[0]!.block.number);
        for (const order of ORDERS) {
          for (const filter of ['', 'marginState: [MARGIN_CALL, LIQUIDATABLE, BANKRUPT],', 'market: "ETH-C",']) {
            const args = `orderBy: ${order}, ${filter}`;
            const without = await pages(args, {});
            const withEngine = await pages(args, { riskEngine: engine });
            expect({ order, filter, block: batch[0]!.block.number, ids: withEngine }).toEqual({ order, filter, block: batch[0]!.block.number, ids: without });
          }
        }
      }
      // Few candidates: the first page of 10 in the riskiest order, among 160+ accounts.
      const block = { chainId: 31337, number: chain.history.at(-1)!.block.number, hash: chain.history.at(-1)!.block.hash, timestamp: 0, headBlockNumber: 0 };
      const markets = chain.state.markets;
      const { RequestContext } = await import('../../../src/graphql/context.js');
      const ctx = new RequestContext({ pool: db.pool, params: PARAMS });
      const marks = await ctx.loaders.risk.marks();
      await ctx.release();
      const picked = engine.candidates(block, markets, marks, 'RISK_DESC', {}, null, 10);
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

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

