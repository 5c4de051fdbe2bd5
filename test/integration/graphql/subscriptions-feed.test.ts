// Issue 4: cross-process delivery through LISTEN/NOTIFY. Blocks are committed here the
// way the ledger store commits them (rows, cursor and pg_notify in one transaction), with
// hand-made hashes so that branches differ; the feed must publish every committed block
// and transition once, in order, across duplicate and stale notifications, reorgs (noticed
// or missed) and a dropped LISTEN connection.
import type { ReorgInfo } from '../../../src/db/store/ledger-store.js';
import { BlockFeed, Hub, type BlockEvent, type HubEvent, type TransitionEvent } from '../../../src/graphql/subscriptions/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { capturingLogger } from '../../support/logger.js';
import { commitBlocks, notify, OWNER, range, rollBack } from './committed-blocks.js';
import { sleep, testLogger } from './server-support.js';

describe('subscription feed (LISTEN/NOTIFY)', () => {
  let db: TestDatabase;
  let feed: BlockFeed;
  let events: HubEvent[];

  const blocks = () => events.filter((e): e is BlockEvent => e.kind === 'block');
  const numbers = () => blocks().map((e) => e.blockNumber);
  async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out; published ${JSON.stringify(numbers())}`);
      await sleep(10);
    }
  }

  beforeEach(async () => {
    db = await createTestDatabase();
    await commitBlocks(db.pool, range(1, 3), { notify: false }); // history before the API started
    events = [];
    feed = new BlockFeed({
      connectionString: db.url,
      logger: testLogger,
      publish: (event) => void events.push(event),
      reconnect: { minMs: 20, maxMs: 200 },
    });
    await feed.start();
  });
  afterEach(async () => {
    await feed?.stop();
    await db?.drop();
  });

  it('publishes each committed block and its transitions once, in order, from the cursor on', async () => {
    await commitBlocks(db.pool, [{ number: 4, transitions: [{ subaccount: 1, to: 'MARGIN_CALL' }, { subaccount: 0, to: 'LIQUIDATABLE' }] }]);
    await commitBlocks(db.pool, range(5, 9)); // a backfill batch: five blocks, one notification
    await commitBlocks(db.pool, [{ number: 10, transitions: [{ subaccount: 0, to: 'HEALTHY' }] }], { head: 12 });
    await until(() => feed.lastDelivered === 10);
    expect(numbers()).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(events.map((e) => (e.kind === 'block' ? e.blockNumber : e.kind === 'transition' ? `${e.transition.blockNumber}:${e.subaccount}` : e.accountId))).toEqual([
      4, '4:0', '4:1', 5, 6, 7, 8, 9, 10, '10:0',
    ]);
    // headBlockNumber is the head the ingester had seen when the feed read the block.
    expect(blocks()[0]).toEqual({
      kind: 'block', chainId: 31337, blockNumber: 4, blockHash: '0xa4', blockTimestamp: 1004, headBlockNumber: expect.any(Number), reorg: null,
    });
    expect(blocks()[0]!.headBlockNumber).toBeGreaterThanOrEqual(4);
    expect(blocks().at(-1)!.headBlockNumber).toBe(12);
    const transition = events.find((e): e is TransitionEvent => e.kind === 'transition')!;
    expect(transition).toEqual({
      kind: 'transition',
      owner: OWNER,
      subaccount: 0,
      transition: {
        accountId: `${OWNER}:0`, blockNumber: 4, timestamp: 1004, from: 'HEALTHY', to: 'LIQUIDATABLE',
        equity: 1_500_000_000_000_000_000n, initialMargin: 2_000_000_000_000_000_000n, maintenanceMargin: 1_000_000_000_000_000_000n,
      },
    });
    // A repeated notification publishes nothing again.
    await notify(db.pool, { first: 10, last: 10, hash: '0xa10' });
    await commitBlocks(db.pool, range(11, 11));
    await until(() => feed.lastDelivered === 11);
    expect(numbers()).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('puts the reorg on the first block of the new branch, once', async () => {
    await commitBlocks(db.pool, range(4, 6));
    await until(() => feed.lastDelivered === 6);
    // The ingester rolls back to 4 and commits 5'..7' with the reorg.
    await rollBack(db.pool, 4);
    await commitBlocks(db.pool, range(5, 7, 'b'), { reorg: { depth: 2, commonAncestor: 4 } });
    await commitBlocks(db.pool, range(8, 8, 'b'));
    await until(() => feed.lastDelivered === 8 && numbers().length === 7);
    expect(blocks().map((e) => [e.blockNumber, e.blockHash, e.reorg])).toEqual([
      [4, '0xa4', null], [5, '0xa5', null], [6, '0xa6', null],
      [5, '0xb5', { depth: 2, commonAncestor: 4 }], [6, '0xb6', null], [7, '0xb7', null], [8, '0xb8', null],
    ]);
  });

  it('leaves a rolled-back batch to the notification of the branch that replaced it', async () => {
    // Both notifications reach the feed only after blocks 4-6 have been committed and
    // replaced by 5'-6' (as when the feed is slower than the ingester): the first is stale,
    // and block 4 (still canonical) comes with the second, followed by the new branch with its reorg.
    await commitBlocks(db.pool, range(4, 6), { notify: false });
    await rollBack(db.pool, 4);
    const reorg = { depth: 2, commonAncestor: 4 };
    await commitBlocks(db.pool, range(5, 6, 'b'), { notify: false, reorg });
    await notify(db.pool, { first: 4, last: 6, hash: '0xa6' });
    await notify(db.pool, { first: 5, last: 6, hash: '0xb6', reorg });
    await until(() => feed.lastDelivered === 6);
    await sleep(100);
    expect(blocks().map((e) => [e.blockNumber, e.blockHash, e.reorg])).toEqual([
      [4, '0xa4', null], [5, '0xb5', { depth: 2, commonAncestor: 4 }], [6, '0xb6', null],
    ]);
  });

  it('catches up after its LISTEN connection drops: nothing skipped, nothing twice', async () => {
    await commitBlocks(db.pool, range(4, 5));
    await until(() => feed.lastDelivered === 5);
    await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pts-api-listener' AND datname = current_database()`,
    );
    // Committed while the feed is disconnected: these notifications are lost.
    await commitBlocks(db.pool, range(6, 8));
    await commitBlocks(db.pool, [{ number: 9, transitions: [{ subaccount: 2, to: 'BANKRUPT' }] }]);
    await until(() => feed.lastDelivered === 9);
    await commitBlocks(db.pool, range(10, 10));
    await until(() => feed.lastDelivered === 10);
    expect(numbers()).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(events.filter((e) => e.kind === 'transition')).toHaveLength(1);
    expect(feed.connected).toBe(true);
  });

  it('waits out a database that refuses connections, saying so once, then catches up', async () => {
    await feed.stop();
    const logger = capturingLogger();
    feed = new BlockFeed({ connectionString: db.url, logger, publish: (event) => void events.push(event), reconnect: { minMs: 20, maxMs: 100 } });
    await feed.start();
    await commitBlocks(db.pool, range(4, 4));
    await until(() => feed.lastDelivered === 4);

    const writer = await db.pool.connect(); // stays connected meanwhile
    try {
      await db.allowConnections(false);
      expect(await db.terminate("a.application_name = 'pts-api-listener'")).toBe(1);
      await sleep(800); // several attempts, each refused
      await commitBlocks(db.pool, range(5, 6), { client: writer }); // its notification is lost
    } finally {
      await db.allowConnections(true);
      writer.release();
    }
    await until(() => feed.lastDelivered === 6);
    expect(numbers()).toEqual([4, 5, 6]);
    expect(logger.messages('warn')).toEqual(['subscription feed: LISTEN connection lost; reconnecting', 'subscription feed: reconnect failed; retrying with backoff']);
    const restored = logger.lines.find((l) => l.message === 'subscription feed: LISTEN connection restored; catching up');
    expect(restored?.fields).toMatchObject({ from: 5, attempts: expect.any(Number) });
    expect(restored!.fields.attempts).toBeGreaterThan(3);
  });

  it('works out a reorg it was not told about from the block hashes', async () => {
    await commitBlocks(db.pool, range(4, 7));
    await until(() => feed.lastDelivered === 7);
    await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pts-api-listener' AND datname = current_database()`,
    );
    await rollBack(db.pool, 5);
    await commitBlocks(db.pool, range(6, 8, 'c'), { reorg: { depth: 2, commonAncestor: 5 } }); // lost
    await until(() => feed.lastDelivered === 8 && blocks().at(-1)!.blockHash === '0xc8');
    expect(blocks().map((e) => [e.blockNumber, e.blockHash, e.reorg])).toEqual([
      [4, '0xa4', null], [5, '0xa5', null], [6, '0xa6', null], [7, '0xa7', null],
      [6, '0xc6', { depth: 2, commonAncestor: 5 }], [7, '0xc7', null], [8, '0xc8', null],
    ]);
  });
});

describe('hub', () => {
  const block = (n: number): BlockEvent => ({
    kind: 'block', chainId: 1, blockNumber: n, blockHash: `0x${n}`, blockTimestamp: n, headBlockNumber: n, reorg: null,
  });

  it('cuts off a subscriber whose buffer overflows, dropping its buffer, and keeps the others', async () => {
    const counts = { subscribed: 0, unsubscribed: 0, delivered: 0, dropped: 0 };
    const hub = new Hub({
      bufferSize: 3,
      graceMs: 50,
      metrics: {
        subscribed: () => counts.subscribed++,
        unsubscribed: () => counts.unsubscribed++,
        delivered: () => counts.delivered++,
        dropped: (_kind, n) => (counts.dropped += n),
      },
    });
    const overflowed: string[] = [];
    const slow = hub.subscribe('blockCommitted', (e) => e, { onOverflow: (message) => overflowed.push(message) });
    const fast = hub.subscribe('blockCommitted', (e) => e);
    const received: number[] = [];
    const reading = (async () => {
      for await (const e of fast) {
        received.push((e as BlockEvent).blockNumber);
        if (received.length === 10) break;
      }
    })();
    const started = Date.now();
    for (let n = 1; n <= 10; n++) await hub.publish(block(n));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45); // held for the grace period, once
    await reading;
    expect(received).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(overflowed).toEqual(['subscriber too slow: buffer of 3 events overflowed']);
    await expect(slow.next()).rejects.toMatchObject({
      message: 'subscriber too slow: buffer of 3 events overflowed',
      extensions: { code: 'SUBSCRIBER_TOO_SLOW', bufferSize: 3 },
    });
    expect(await slow.next()).toEqual({ value: undefined, done: true });
    expect(hub.subscriberCount).toBe(0);
    expect(counts).toEqual({ subscribed: 2, unsubscribed: 2, delivered: 10, dropped: 4 });
  });

  it('absorbs a burst larger than the buffer for a subscriber that keeps reading', async () => {
    const hub = new Hub({ bufferSize: 10, graceMs: 1000 });
    const overflowed: string[] = [];
    const sub = hub.subscribe('blockCommitted', (e) => e, { onOverflow: (message) => overflowed.push(message) });
    const received: number[] = [];
    const reading = (async () => {
      for await (const e of sub) {
        received.push((e as BlockEvent).blockNumber);
        await new Promise((resolve) => setImmediate(resolve)); // slower than the publisher, but steady
        if (received.length === 1000) break;
      }
    })();
    for (let n = 1; n <= 1000; n++) await hub.publish(block(n));
    await reading;
    expect(overflowed).toEqual([]);
    expect(received).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('ends a waiting subscriber at once on return()', async () => {
    const hub = new Hub({ bufferSize: 10 });
    const sub = hub.subscribe('blockCommitted', (e) => e);
    const pending = sub.next();
    await sub.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(hub.subscriberCount).toBe(0);
  });
});
