// One request, one block: a request that began reading before a block was committed
// computes every field, `meta` included, at the block it began at; refresh() moves on.
import { graphql, parse } from 'graphql';
import { compiledExecutor } from '../../../src/graphql/compiled-executor.js';
import { LatestBlock } from '../../../src/graphql/latest-block.js';
import type pg from 'pg';
import { RequestContext } from '../../../src/graphql/context.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ALICE, ORACLE_1, ORACLE_2, ev } from '../../support/ledger.js';
import { commit, data, execute, PARAMS, scenario } from './queries-fixture.js';

const QUERY = `{
  meta { blockNumber blockTimestamp }
  account(owner: "${ALICE}") { collateral equity marginRatio positions { markPrice unrealizedPnl liquidationPrice market { indexPrice } } }
  markets(underlying: "ETH") { id indexPrice value }
  underlying(id: "ETH") { indexPrice sources { price blockNumber stale } }
  accounts(orderBy: EQUITY_DESC, first: 2) { totalCount edges { node { id equity } } }
  fills(newestFirst: true, first: 1) { edges { node { blockNumber } } }
}`;

/** A pool whose first statement of each checked-out connection runs `after` before answering. */
function poolWithHook(pool: pg.Pool, after: () => Promise<void>): pg.Pool {
  return {
    connect: async () => {
      const client = await pool.connect();
      let first = true;
      return {
        query: async (...args: unknown[]) => {
          const result = await (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
          if (first) {
            first = false;
            await after();
          }
          return result;
        },
        release: (error?: Error | boolean) => client.release(error),
      };
    },
  } as unknown as pg.Pool;
}

describe('GraphQL snapshot per request', () => {
  let db: TestDatabase;
  const schema = buildSchema();
  const chain = scenario();
  // Block 6 (t=1050): ETH to 3200, ALICE deposits 50.
  chain.block(1050, [ev.price('ETH', 3200, ORACLE_1), ev.price('ETH', 3200, ORACLE_2), ev.deposit(ALICE, 50), ev.fill('ETH-C', ALICE, 1, 600)]);

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('says clearly when nothing is ingested yet', async () => {
    const result = await execute(schema, db.pool, '{ meta { blockNumber } markets { id } }');
    expect(result.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
      ['No block has been ingested yet: the API serves data once the ingester has committed its first block.', 'NOT_READY'],
    ]);
    expect(result.data).toBeNull(); // meta is non-null
    expect(await data(schema, db.pool, '{ markets { id } accounts { totalCount } }')).toEqual({ markets: [], accounts: { totalCount: 0 } });
  });

  it('a block committed mid-request changes nothing in the response; refresh() sees it', async () => {
    await commit(db.pool, chain, 0, 5);
    const before = await data(schema, db.pool, QUERY);
    expect(before.meta).toEqual({ blockNumber: 5, blockTimestamp: 1041 });

    let committed = false;
    const pool = poolWithHook(db.pool, async () => {
      if (committed) return;
      // The snapshot is open (its first statement ran): commit block 6 from another connection.
      await commit(db.pool, chain, 5);
      const { rows } = await db.pool.query('SELECT block_number FROM cursor');
      expect(rows[0].block_number).toBe('6');
      committed = true;
    });
    const context = new RequestContext({ pool, params: PARAMS });
    try {
      const during = await graphql({ schema, source: QUERY, contextValue: context });
      expect(committed).toBe(true);
      expect(during.errors).toBeUndefined();
      expect(during.data).toEqual(before);

      await context.refresh();
      const after = (await graphql({ schema, source: QUERY, contextValue: context })).data as any;
      expect(after.meta).toEqual({ blockNumber: 6, blockTimestamp: 1050 });
      expect(after.account.collateral).toBe('450'); // 1000 + 50 - 600 premium
      expect(after.underlying.indexPrice).toBe('3200');
      expect(after).not.toEqual(before);
      expect(await data(schema, db.pool, QUERY)).toEqual(after);
    } finally {
      await context.release();
    }
  });

  it('a request that assumed the newest known block runs again when a read finds a newer one, and answers at that one', async () => {
    const db3 = await createTestDatabase();
    const { executor } = await compiledExecutor(schema).load({} as never);
    const run = async (context: RequestContext) => {
      const document = parse(QUERY);
      const result = await executor!({ document, operation: document.definitions[0], request: { query: QUERY }, context } as never);
      return result as { data?: any; errors?: unknown };
    };
    try {
      await commit(db3.pool, chain, 0, 5);
      const latestBlock = new LatestBlock({ listening: () => true });
      const deps = { pool: db3.pool, params: PARAMS, latestBlock };
      const first = new RequestContext(deps);
      const before = await run(first);
      await first.release();
      expect(before.data.meta.blockNumber).toBe(5);
      expect(latestBlock.current()?.number).toBe(5); // the snapshot reported what it saw

      // Nothing read beyond the block: it is taken without opening a transaction.
      const idle = new RequestContext(deps, { assumeLatestBlock: true });
      expect((await idle.block()).number).toBe(5);
      expect(db3.pool.totalCount - db3.pool.idleCount).toBe(0);
      await idle.release();

      // Block 6 commits and no notification has arrived yet: a request assumes 5, reads, sees 6.
      await commit(db3.pool, chain, 5);
      const context = new RequestContext(deps, { assumeLatestBlock: true });
      try {
        const after = await run(context);
        expect(after.errors).toBeUndefined();
        expect(after.data.meta).toEqual({ blockNumber: 6, blockTimestamp: 1050 });
        expect(after.data.account.collateral).toBe('450');
        expect(after.data).toEqual(await data(schema, db3.pool, QUERY));
        expect(context.blockMoved).toBe(false);
      } finally {
        await context.release();
      }
      expect(db3.pool.idleCount).toBe(db3.pool.totalCount);
    } finally {
      await db3.drop();
    }
  });

  it('oracle sources go stale with block time', async () => {
    const later = scenario();
    later.block(1050, []);
    later.block(1020 + 3601, []); // ETH reports are now 3601 s old; the window is 3600
    const db2 = await createTestDatabase();
    try {
      await commit(db2.pool, later);
      expect(await data(schema, db2.pool, '{ underlying(id: "ETH") { indexPrice indexPriceStale sources { stale } } }')).toEqual({
        underlying: { indexPrice: '3100', indexPriceStale: true, sources: [{ stale: true }, { stale: true }] },
      });
    } finally {
      await db2.drop();
    }
  });

  it('the snapshot is read only, release() is idempotent and gives the connection back', async () => {
    const context = new RequestContext({ pool: db.pool, params: PARAMS }, { requestId: 'r-1' });
    expect(context.requestId).toBe('r-1');
    expect(new RequestContext({ pool: db.pool, params: PARAMS }).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await context.block()).number).toBe(6);
    await expect(context.query("UPDATE cursor SET head_block_number = 99")).rejects.toThrow(/read-only transaction/);
    await Promise.all([context.release(), context.release()]);
    await context.release();
    await expect(context.query('SELECT 1')).rejects.toThrow(/snapshot is closed/);
    expect(db.pool.idleCount).toBe(db.pool.totalCount);
    // Never read: nothing to give back, and release still resolves.
    await new RequestContext({ pool: db.pool, params: PARAMS }).release();
  });

  it('runs the statements asked for at once one after another on its connection, and closes after them', async () => {
    // pg queues a query sent while another runs on the connection, but deprecates it
    // (pg 9 will refuse it): count the statements each connection has running at once.
    let running = 0;
    let most = 0;
    const pool = {
      connect: async () => {
        const client = await db.pool.connect();
        return {
          query: (...args: unknown[]) => {
            most = Math.max(most, ++running);
            return (client.query as (...a: unknown[]) => Promise<unknown>)(...args).finally(() => running--);
          },
          release: (error?: Error | boolean) => client.release(error),
        };
      },
    } as unknown as pg.Pool;
    const context = new RequestContext({ pool, params: PARAMS });
    const reads = Array.from({ length: 5 }, (_, i) => context.query<{ n: number; at: string }>(`SELECT ${i}::int4 AS n, clock_timestamp()::text AS at FROM pg_sleep(0.01)`));
    const failing = context.query('SELECT 1/0');
    const closed = context.release(); // asked for while the reads run: they still answer
    const rows = (await Promise.all(reads)).map(([row]) => row!);
    await expect(failing).rejects.toThrow(/division by zero/);
    await closed;
    expect(rows.map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
    expect(rows.map((r) => r.at)).toEqual(rows.map((r) => r.at).sort()); // in the order asked
    expect(most).toBe(1);
    expect(running).toBe(0);
    expect(db.pool.idleCount).toBe(db.pool.totalCount);
  });
});
