import { LedgerStore, ReorgTooDeepError } from '../../../src/db/store/ledger-store.js';
import { undoEntries, type UndoEntry } from '../../../src/db/store/undo.js';
import { commitBlock, applyBlock, emptyState, type BlockChanges } from '../../../src/ledger/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ALICE, BOB, LedgerChain, ev, stored } from '../../support/ledger.js';
import { snapshotTables, snapshotTablesAt, STATE_TABLES } from '../../support/snapshot.js';

/** A short history touching every table: listings, trades, funding, expiry, anomalies. */
function scenario(): LedgerChain {
  const chain = new LedgerChain({ oracleStalenessSeconds: 1_000_000, riskFreeRate: 0n });
  chain.block(1000, [
    ev.perp('ETH-PERP', 'ETH', { interval: 100 }), ev.option('ETH-C', 'ETH', 'CALL', 100, 1300), ev.price('ETH', 100),
    ev.deposit(ALICE, 1000), ev.deposit(BOB, 50), ev.vol('ETH-C', '0.8'),
  ]);
  chain.block(1050, [ev.fill('ETH-PERP', ALICE, 5, 101, '0.1'), ev.fill('ETH-PERP', BOB, -5, 101, '0.1'), ev.fill('ETH-C', ALICE, 1, 4), ev.fill('ETH-C', BOB, -1, 4)]);
  chain.block(1100, [ev.price('ETH', 104), ev.fractions('ETH-PERP', '0.2', '0.1'), ev.malformed()]);
  chain.block(1250, [ev.withdraw(BOB, 100), ev.fill('NOPE', ALICE, 1, 1)]);
  chain.block(1300, [ev.fill('ETH-PERP', ALICE, -5, 110), ev.liquidate('ETH-PERP', BOB, 5, 111, 2)]);
  chain.block(1301, [ev.fill('ETH-PERP', ALICE, 1, 110)]);
  return chain;
}

async function commitAll(store: LedgerStore, blocks: BlockChanges[], withUndo: boolean) {
  // Re-derive undo entries the way the ingester does: from the state before each block.
  const state = emptyState();
  const undo = new Map<number, UndoEntry[]>();
  for (const changes of blocks) {
    if (withUndo) undo.set(changes.block.number, undoEntries(state, changes));
    commitBlock(state, changes);
  }
  await store.commit({ chainId: 31337, headBlockNumber: blocks.at(-1)!.block.number, batch: blocks, undo });
}

describe('LedgerStore', () => {
  let a: TestDatabase;
  let b: TestDatabase;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([a?.drop(), b?.drop()]);
  });

  it('loads back exactly the state it committed, batch or block by block', async () => {
    const chain = scenario();
    const store = new LedgerStore(a.pool);
    await commitAll(store, chain.history.slice(0, 2), true);
    for (const changes of chain.history.slice(2)) await commitAll(store, [changes], true);
    expect(stored(await store.loadState())).toEqual(stored(chain.state));
    const byBlock = new LedgerStore(b.pool);
    await commitAll(byBlock, chain.history, false);
    expect(stored(await byBlock.loadState())).toEqual(stored(chain.state));
    expect(await snapshotTables(b.pool)).toEqual(await snapshotTables(a.pool));
  });

  it('rolls back to an ancestor: tables equal a fresh commit of the shorter history', async () => {
    const chain = scenario();
    const rolled = await createTestDatabase();
    const fresh = await createTestDatabase();
    try {
      const store = new LedgerStore(rolled.pool);
      // Blocks 1-2 final (no undo log), 3-6 reversible, committed one by one.
      let state = emptyState();
      for (const changes of chain.history) {
        const undo = new Map(changes.block.number > 2 ? [[changes.block.number, undoEntries(state, changes)]] : []);
        commitBlock(state, changes);
        await store.commit({ chainId: 31337, headBlockNumber: 6, batch: [changes], undo });
      }
      expect(await store.rollbackTo(3)).toBe(3);
      const again = scenario().history.slice(0, 3);
      state = emptyState();
      for (const changes of again) commitBlock(state, changes);
      await new LedgerStore(fresh.pool).commit({ chainId: 31337, headBlockNumber: 6, batch: again, undo: new Map() });
      expect(await snapshotTables(rolled.pool)).toEqual(await snapshotTables(fresh.pool));
      expect(stored(await store.loadState())).toEqual(stored(state));
      // Block 2 has no undo log: going back past it is refused and changes nothing.
      const before = await snapshotTables(rolled.pool);
      await expect(store.rollbackTo(1)).rejects.toBeInstanceOf(ReorgTooDeepError);
      expect(await snapshotTables(rolled.pool)).toEqual(before);
      // Applying a different block 4 on the rolled-back state works like on a fresh one.
      const next = applyBlock(state, { number: 4, hash: '0xother', parentHash: '0xh3', timestamp: 1200 }, []);
      await store.commit({ chainId: 31337, headBlockNumber: 4, batch: [next], undo: new Map() });
      expect((await store.cursor())!.block).toMatchObject({ number: 4, hash: '0xother' });
    } finally {
      await Promise.all([rolled.drop(), fresh.drop()]);
    }
  });

  it('keeps every past block: its tables read back through the versions equal a fresh commit stopped there, across a rollback', async () => {
    const chain = scenario();
    const fresh = await Promise.all(chain.history.map(() => createTestDatabase()));
    const rolled = await createTestDatabase();
    try {
      // In two batches, the last one reversible; then blocks 5-6 undone and committed again one by one.
      const store = new LedgerStore(rolled.pool);
      await commitAll(store, chain.history.slice(0, 3), false);
      await commitAll(store, chain.history.slice(3), true);
      expect(await store.rollbackTo(4)).toBe(2);
      // A rollback leaves no version above the ancestor.
      const { rows } = await rolled.pool.query(`SELECT greatest(${['market', 'underlying', 'oracle_source', 'account', 'position'].map((t) => `(SELECT max(version_block) FROM ${t}_version)`).join(', ')})::int AS b`);
      expect(rows[0].b).toBe(4);
      for (const changes of chain.history.slice(4)) await store.commit({ chainId: 31337, headBlockNumber: 6, batch: [changes], undo: new Map() });
      for (const [i, db] of fresh.entries()) {
        await new LedgerStore(db.pool).commit({ chainId: 31337, headBlockNumber: 6, batch: chain.history.slice(0, i + 1), undo: new Map() });
        expect(await snapshotTablesAt(rolled.pool, i + 1)).toEqual(await snapshotTables(db.pool, STATE_TABLES));
      }
      // Pruning before block 5 keeps blocks 5-6 whole and drops versions only older ones need.
      const count = async () => (await rolled.pool.query('SELECT count(*)::int AS n FROM position_version')).rows[0].n as number;
      const before = await count();
      await store.pruneHistory(5);
      expect(await count()).toBeLessThan(before);
      for (const b of [5, 6]) expect(await snapshotTablesAt(rolled.pool, b)).toEqual(await snapshotTables(fresh[b - 1]!.pool, STATE_TABLES));
      expect((await rolled.pool.query('SELECT first_block::int AS b FROM history_horizon')).rows).toEqual([{ b: 5 }]);
    } finally {
      await Promise.all([rolled.drop(), ...fresh.map((db) => db.drop())]);
    }
  });

  it('stores history text exactly as recorded, whatever characters it carries (COPY escaping)', async () => {
    const db = await createTestDatabase();
    try {
      const chain = new LedgerChain();
      const reason = 'back\\slash \\N tab\t newline\n return\r "quoted" \'single\' ünïcödé';
      const changes = chain.block(1000, [ev.malformed(reason), ev.malformed('\\')]);
      await new LedgerStore(db.pool).commit({ chainId: 31337, headBlockNumber: 1, batch: [changes], undo: new Map() });
      const { rows } = await db.pool.query('SELECT message, data FROM anomaly ORDER BY seq');
      expect(rows).toEqual(changes.anomalies.map((a) => ({ message: a.message, data: a.data })));
      expect(rows[0].message).toContain(reason);
    } finally {
      await db.drop();
    }
  });

  it('upserts and deletes rows exactly, whatever characters their text carries (array literal escaping)', async () => {
    const db = await createTestDatabase();
    try {
      const chain = new LedgerChain();
      const id = 'q"uote\\slash{brace},comma NULL \'';
      const blocks = [
        chain.block(1000, [ev.perp(id, 'NULL', { interval: 100 }), ev.price('NULL', 100), ev.deposit(ALICE, 1000)]),
        chain.block(1001, [ev.fill(id, ALICE, 2, 100)]),
      ];
      const store = new LedgerStore(db.pool);
      await commitAll(store, blocks, true);
      expect((await store.loadState()).markets.get(id)).toEqual(chain.state.markets.get(id));
      const { rows } = await db.pool.query('SELECT market_id, size FROM position');
      expect(rows).toEqual([{ market_id: id, size: '2.000000000000000000' }]);
      // Undoing block 2 deletes the position by its key and restores the market row.
      await store.rollbackTo(1);
      expect(await db.pool.query('SELECT count(*)::int AS n FROM position')).toMatchObject({ rows: [{ n: 0 }] });
      expect((await store.loadState()).markets.get(id)?.lastFillPrice).toBeNull();
    } finally {
      await db.drop();
    }
  });

  it('refuses a batch that does not follow the last stored block, changing nothing', async () => {
    const db = await createTestDatabase();
    try {
      const chain = scenario();
      const store = new LedgerStore(db.pool);
      await commitAll(store, chain.history.slice(0, 2), false);
      const before = await snapshotTables(db.pool);
      const gap = { chainId: 31337, headBlockNumber: 6, batch: chain.history.slice(3), undo: new Map() };
      await expect(store.commit(gap)).rejects.toThrow(/block 4 .* does not follow the last stored block 2/);
      const fork = chain.history[2]!;
      const forked = { ...fork, block: { ...fork.block, parentHash: '0xnot-block-2' } };
      await expect(store.commit({ ...gap, batch: [forked] })).rejects.toThrow(/does not follow/);
      expect(await snapshotTables(db.pool)).toEqual(before);
    } finally {
      await db.drop();
    }
  });
});
