// The server's block cache: requests at the same block share rows and derived values; a
// new block replaces them, keeping the rows of the accounts its commit did not change; a
// request still reading an older block never sees the newer block's values (nor leaves
// its own behind).
import { graphql } from 'graphql';
import pg from 'pg';
import { BLOCKS_CHANNEL, type BlocksCommitted } from '../../../src/db/store/ledger-store.js';
import { accountId } from '../../../src/ledger/index.js';
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

  it('carries rows over only from the block a commit was made on, never across a reorg or an unknown change set', () => {
    const block = (number: number, hash: string) => ({ chainId: 1, number, hash, timestamp: number, headBlockNumber: number });
    const commit = (first: number, parentHash: string, last: number, hash: string, accounts?: string[]): BlocksCommitted => ({
      first, last, hash, parentHash, ...(accounts ? { accounts } : {}),
    });
    const fill = (shared: ReturnType<BlockCache['at']>) => {
      shared.accounts.set('x', null);
      shared.accounts.set('y', null);
    };
    const cache = new BlockCache();
    fill(cache.at(block(5, '0x5')));
    cache.committed(commit(6, '0xother', 6, '0x6', [])); // another parent
    cache.committed(commit(6, '0x5', 6, '0x6')); // change set unknown (too long to notify)
    expect(cache.at(block(6, '0x6')).accounts.size).toBe(0);

    fill(cache.at(block(6, '0x6')));
    cache.committed(commit(7, '0x6', 9, '0x9', ['x'])); // a batch of three blocks
    const at9 = cache.at(block(9, '0x9'));
    expect([...at9.accounts.entries()]).toEqual([['y', null]]);

    cache.committed({ ...commit(8, '0x7', 8, '0x8b', ['x']), reorg: { depth: 2, commonAncestor: 7 } });
    const at8 = cache.at(block(8, '0x8b'));
    expect(at8.accounts.size).toBe(0); // the new branch is cached again, though lower than block 9
    expect(cache.at(block(8, '0x8b'))).toBe(at8);
  });
});

describe('block cache across commits', () => {
  let db: TestDatabase;
  let listener: pg.Client;
  const notified: BlocksCommitted[] = [];
  const schema = buildSchema();
  const chain = scenario();
  chain.block(1050, [ev.price('ETH', 3200, ORACLE_1), ev.price('ETH', 3200, ORACLE_2), ev.deposit(ALICE, 50), ev.fill('ETH-C', ALICE, 1, 600)]);
  chain.block(1060, [ev.price('ETH', 2900, ORACLE_1), ev.price('ETH', 2900, ORACLE_2), ev.deposit(CAROL, 5)]);

  beforeAll(async () => {
    db = await createTestDatabase();
    listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    listener.on('notification', (message) => notified.push(JSON.parse(message.payload!) as BlocksCommitted));
    await listener.query(`LISTEN ${BLOCKS_CHANNEL}`);
  });
  afterAll(async () => {
    await listener?.end();
    await db?.drop();
  });

  async function commitAndHear(from: number, to: number): Promise<BlocksCommitted> {
    const heard = notified.length;
    await commit(db.pool, chain, from, to);
    while (notified.length === heard) await new Promise((resolve) => setTimeout(resolve, 5));
    return notified.at(-1)!;
  }

  async function run(cache: BlockCache) {
    const contextValue = new RequestContext({ pool: db.pool, params: PARAMS, blockCache: cache });
    try {
      const result = await graphql({ schema, source: QUERY, contextValue });
      expect(result.errors).toBeUndefined();
      return { data: result.data as any, shared: cache.at(await contextValue.block()) };
    } finally {
      await contextValue.release();
    }
  }

  it('keeps the rows of the accounts a commit did not change, and serves what an uncached request computes', async () => {
    const [alice, bob, carol] = [accountId(ALICE, 0), accountId(BOB, 0), accountId(CAROL, 0)];
    const cache = new BlockCache();
    const at5 = await commitAndHear(0, 5);
    expect(at5).toMatchObject({ first: chain.history[0]!.block.number, last: chain.history[4]!.block.number });
    cache.committed(at5); // nothing cached before: nothing to carry over
    const before = (await run(cache)).shared;
    expect(before.accounts.get(bob)).toBeDefined();

    // Block 6 changes Alice's rows and ETH's price: the notification names Alice only.
    const at6 = await commitAndHear(5, 6);
    expect(at6.parentHash).toBe(chain.history[4]!.block.hash);
    expect(at6.accounts).toEqual([alice]);
    cache.committed(at6);
    const after = await run(cache);
    expect(after.data).toEqual(await data(schema, db.pool, QUERY));
    expect(after.shared).not.toBe(before);
    expect(after.shared.accounts.get(bob)).toBe(before.accounts.get(bob)); // carried over, not read again
    expect(after.shared.openPositions.get(carol)).toBe(before.openPositions.get(carol));
    expect(after.shared.accounts.get(alice)).not.toBe(before.accounts.get(alice)); // read anew: it changed
    expect(after.shared.accounts.get(alice)!.collateral).not.toEqual(before.accounts.get(alice)!.collateral);

    // A request that reaches block 7 before its notification: the rows come over afterwards.
    const at7 = await commitAndHear(6, 7);
    const reached = cache.at({ ...(await blockOfCursor()), chainId: 31337 });
    expect(reached.accounts.size).toBe(0);
    cache.committed(at7);
    expect(reached.accounts.get(bob)).toBe(before.accounts.get(bob));
    expect(reached.accounts.has(carol)).toBe(false); // block 7 changed Carol
    expect((await run(cache)).data).toEqual(await data(schema, db.pool, QUERY));
  });

  async function blockOfCursor() {
    const { rows } = await db.pool.query('SELECT block_number, block_hash FROM cursor');
    return { number: Number(rows[0].block_number), hash: rows[0].block_hash as string, timestamp: 0, headBlockNumber: 0 };
  }
});
