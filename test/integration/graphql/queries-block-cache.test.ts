// The server's block cache: requests at the same block share rows and derived values; a
// new block replaces them; a request still reading an older block never sees the newer
// block's values (nor leaves its own behind).
import { graphql } from 'graphql';
import type pg from 'pg';
import { BlockCache } from '../../../src/graphql/block-cache.js';
import { RequestContext } from '../../../src/graphql/context.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ALICE, BOB, CAROL, ORACLE_1, ORACLE_2, ev } from '../../support/ledger.js';
import { commit, data, PARAMS, scenario } from './queries-fixture.js';

const QUERY = `{
  meta { blockNumber }
  markets { id indexPrice value openInterest longCount }
  a: account(owner: "${ALICE}") { collateral equity marginRatio greeks { underlying delta liquidationPrice }
       positions { markPrice value unrealizedPnl liquidationPrice delta market { indexPrice openInterest } } }
  c: account(owner: "${CAROL}") { equity positions { value liquidationPrice } }
  b: account(owner: "${BOB}") { equity greeks { liquidationPrice } }
  nobody: account(owner: "0x00000000000000000000000000000000000000aa") { id }
}`;

/** A pool that counts the statements run on connections it hands out. */
function counting(pool: pg.Pool): { pool: pg.Pool; count: () => number } {
  let statements = 0;
  const wrapped = {
    connect: async () => {
      const client = await pool.connect();
      return {
        query: (...args: unknown[]) => {
          statements++;
          return (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
        },
        release: (error?: Error | boolean) => client.release(error),
      };
    },
  } as unknown as pg.Pool;
  return { pool: wrapped, count: () => statements };
}

describe('block cache', () => {
  let db: TestDatabase;
  const schema = buildSchema();
  const chain = scenario();
  chain.block(1050, [ev.price('ETH', 3200, ORACLE_1), ev.price('ETH', 3200, ORACLE_2), ev.deposit(ALICE, 50), ev.fill('ETH-C', ALICE, 1, 600)]);
  chain.block(1060, [ev.price('ETH', 2900, ORACLE_1), ev.price('ETH', 2900, ORACLE_2)]);

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function run(pool: pg.Pool, cache: BlockCache | undefined, context?: RequestContext) {
    const contextValue = context ?? new RequestContext({ pool, params: PARAMS, blockCache: cache });
    try {
      const result = await graphql({ schema, source: QUERY, contextValue });
      expect(result.errors).toBeUndefined();
      return result.data as any;
    } finally {
      if (!context) await contextValue.release();
    }
  }

  it('serves what an uncached request computes, reads less the second time, and moves with the block', async () => {
    const cache = new BlockCache();
    await commit(db.pool, chain, 0, 5);
    const fresh5 = await data(schema, db.pool, QUERY);
    const counted = counting(db.pool);
    expect(await run(counted.pool, cache)).toEqual(fresh5);
    const first = counted.count();
    expect(await run(counted.pool, cache)).toEqual(fresh5);
    const second = counted.count() - first;
    expect(second).toBeLessThan(first);
    expect(second).toBe(2); // open the snapshot (with the cursor), end it

    // A request that opened its snapshot at block 5 ...
    const old = new RequestContext({ pool: db.pool, params: PARAMS, blockCache: cache });
    try {
      expect((await old.block()).number).toBe(5);
      // ... while block 6 is committed and read through the cache.
      await commit(db.pool, chain, 5, 6);
      const fresh6 = await data(schema, db.pool, QUERY);
      expect(fresh6).not.toEqual(fresh5);
      expect(await run(db.pool, cache)).toEqual(fresh6);
      expect(await run(db.pool, cache)).toEqual(fresh6);
      // The old request still computes everything at block 5.
      expect(await run(db.pool, cache, old)).toEqual(fresh5);
    } finally {
      await old.release();
    }
    // And left nothing of block 5 behind.
    expect(await run(db.pool, cache)).toEqual(await data(schema, db.pool, QUERY));
    await commit(db.pool, chain, 6);
    expect(await run(db.pool, cache)).toEqual(await data(schema, db.pool, QUERY));
    expect((await run(db.pool, cache)).meta.blockNumber).toBe(7);
  });

  it('keys by chain, number and hash; stops adding accounts at its bound', () => {
    const cache = new BlockCache(1);
    const block = { chainId: 1, number: 5, hash: '0xa', timestamp: 1, headBlockNumber: 5 };
    const shared = cache.at(block);
    expect(cache.at({ ...block, headBlockNumber: 9 })).toBe(shared);
    const reorged = cache.at({ ...block, hash: '0xb' });
    expect(reorged).not.toBe(shared);
    expect(cache.at({ ...block, number: 4, hash: '0xc' })).not.toBe(reorged); // older: private
    expect(cache.at({ ...block, hash: '0xb' })).toBe(reorged);
    reorged.accounts.set('x', null);
    reorged.accounts.set('y', null);
    expect(reorged.accounts.size).toBe(1);
    expect(reorged.accounts.has('y')).toBe(false);
  });
});
