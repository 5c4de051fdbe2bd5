// Issue 4: subscriptions over graphql-ws against a real chain: a price move on anvil makes
// a margin transition that a subscriber receives once, after its block's commit;
// blockCommitted arrives in order, each block once, with the reorg on the first block of a
// new branch after anvil_reorg; the API in another process (`pts serve`) delivers what the
// ingester in this one commits; refusals (keys, rates, limits, bad input) are clear; a
// subscriber that stops reading is disconnected instead of buffered without bound.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import WebSocket from 'ws';
import { BLOCKS_CHANNEL } from '../../../src/db/store/ledger-store.js';
import type { PtsServer } from '../../../src/graphql/server.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { startDevnet, TRADERS, type Devnet, type FollowingIngester } from '../../support/devnet.js';
import { reorg } from '../../support/reorgs.js';
import { Collected, commitLedger, ledger, raw, sleep, startTestServer, wsClient, type WsClient } from './server-support.js';
import { waitFor } from '../../support/wait.js';

const [ALICE, BOB] = TRADERS as [`0x${string}`, `0x${string}`];

const BLOCKS = `subscription { blockCommitted { chainId blockNumber blockHash blockTimestamp headBlockNumber reorg { depth commonAncestor } } }`;
const TRANSITIONS = `subscription ($owner: String, $to: [MarginState!]) {
  marginStateChanged(owner: $owner, to: $to) {
    from to blockNumber blockTimestamp equity initialMargin maintenanceMargin
    account { id owner subaccount marginState }
  }
}`;

interface BlockCommitted {
  blockCommitted: { chainId: number; blockNumber: number; blockHash: string; blockTimestamp: number; headBlockNumber: number; reorg: { depth: number; commonAncestor: number } | null };
}

/** Alice: 300 collateral, 1 ETH-PERP long at 2000 (IM 200, MM 100 at 2000): healthy. */
async function leveragedAlice(net: Devnet): Promise<number> {
  const c = net.venue.call;
  await net.venue.send([
    c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 3600, maxFundingRate: '0.01' }),
    c.price('ETH', 2000),
    c.depositFor(ALICE, 0, 300),
    c.depositFor(BOB, 0, 5000),
  ]);
  return (await net.venue.send([c.trade('ETH-PERP', { trader: ALICE, sub: 0 }, { trader: BOB, sub: 0 }, 1, 2000)])).blockNumber;
}

/** Every block from the first received to the last, once, in order; a reorg restarts at its ancestor + 1. */
function expectInOrderOnce(events: BlockCommitted[]): void {
  for (let i = 1; i < events.length; i++) {
    const { blockNumber, reorg } = events[i]!.blockCommitted;
    if (reorg) expect(blockNumber).toBe(reorg.commonAncestor + 1);
    else expect(blockNumber).toBe(events[i - 1]!.blockCommitted.blockNumber + 1);
  }
}

describe('subscriptions on a real chain', () => {
  let net: Devnet;
  let following: FollowingIngester;
  let server: PtsServer;
  let ws: WsClient;
  beforeAll(async () => {
    net = await startDevnet();
    following = net.follow();
    server = await startTestServer(net.db.url);
    ws = wsClient(server.url);
  });
  afterAll(async () => {
    await ws?.dispose();
    await server?.stop();
    await net?.close();
  });

  it('delivers the transition a price drop causes once, after its block, and every block once in order', async () => {
    const setup = await leveragedAlice(net);
    await following.reached(setup);
    await waitFor(() => server.feed.lastDelivered >= setup, 'the feed'); // events from here on are new

    const blocks = new Collected<BlockCommitted>(ws.client, BLOCKS);
    // Owner in mixed case: the filter is case-insensitive.
    const mine = new Collected(ws.client, TRANSITIONS, { owner: ALICE.toUpperCase().replace('0X', '0x') });
    const others = new Collected(ws.client, TRANSITIONS, { owner: BOB });
    const liquidatable = new Collected(ws.client, TRANSITIONS, { to: ['LIQUIDATABLE', 'BANKRUPT'] });
    await waitFor(() => server.hub.subscriberCount === 4, 'subscribers');

    // 2000 -> 1850: equity 150 < IM 185, >= MM 92.5.
    const drop = await net.venue.send([net.venue.call.price('ETH', 1850)]);
    const after = await net.venue.mine();
    await following.reached(after);
    await mine.until((m) => m.results.length >= 1);
    await blocks.until((b) => b.results.some((r) => r.data?.blockCommitted.blockNumber === after));
    await sleep(300); // nothing more may come

    const chainBlock = await net.deployment.publicClient.getBlock({ blockNumber: BigInt(drop.blockNumber) });
    expect(mine.data).toEqual([
      {
        marginStateChanged: {
          from: 'HEALTHY',
          to: 'MARGIN_CALL',
          blockNumber: drop.blockNumber,
          blockTimestamp: Number(chainBlock.timestamp),
          equity: '150',
          initialMargin: '185',
          maintenanceMargin: '92.5',
          account: { id: `${ALICE}:0`, owner: ALICE, subaccount: 0, marginState: 'MARGIN_CALL' },
        },
      },
    ]);
    expect(others.results).toEqual([]);
    expect(liquidatable.results).toEqual([]);

    const got = blocks.data;
    expect(got.map((b) => b.blockCommitted.blockNumber)).toEqual([drop.blockNumber, after]);
    expect(got[0]!.blockCommitted).toEqual({
      chainId: 31337,
      blockNumber: drop.blockNumber,
      blockHash: chainBlock.hash,
      blockTimestamp: Number(chainBlock.timestamp),
      headBlockNumber: expect.any(Number),
      reorg: null,
    });
    expectInOrderOnce(got);
    for (const c of [blocks, mine, others, liquidatable]) c.unsubscribe();
    await waitFor(() => server.hub.subscriberCount === 0, 'unsubscribed');
  });

  it('marks the first block of a new branch after anvil_reorg, and carries on in order', async () => {
    await waitFor(() => server.hub.subscriberCount === 0, 'no subscribers');
    const blocks = new Collected<BlockCommitted>(ws.client, BLOCKS);
    await waitFor(() => server.hub.subscriberCount === 1, 'subscriber');
    const c = net.venue.call;
    for (const price of [1860, 1870, 1880]) await net.venue.send([c.price('ETH', price)]);
    const tip = Number(await net.deployment.publicClient.getBlockNumber({ cacheTime: 0 }));
    await following.reached(tip);
    await blocks.until((b) => b.results.some((r) => r.data?.blockCommitted.blockNumber === tip));

    // The last two blocks are replaced; the chain then grows on the new branch.
    await reorg(net, 2, [{ offset: 0, calls: [c.price('ETH', 1990)] }, { offset: 1, calls: [c.price('ETH', 1995)] }]);
    const next = await net.venue.mine();
    await following.reached(next);
    await blocks.until((b) => b.results.some((r) => r.data?.blockCommitted.blockNumber === next));
    await sleep(200);

    const got = blocks.data.map((b) => b.blockCommitted);
    const marked = got.filter((b) => b.reorg);
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatchObject({ blockNumber: tip - 1, reorg: { depth: 2, commonAncestor: tip - 2 } });
    const canonical = await net.deployment.publicClient.getBlock({ blockNumber: BigInt(tip - 1) });
    expect(marked[0]!.blockHash).toBe(canonical.hash);
    expectInOrderOnce(blocks.data);
    expect(got.at(-1)!.blockNumber).toBe(next);
    blocks.unsubscribe();
  });
});

describe('subscription refusals', () => {
  let db: TestDatabase;
  let server: PtsServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    await commitLedger(db.pool, ledger());
    server = await startTestServer(db.url, { apiKeys: ['ws-key'], rateLimitPerSecond: 2 });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('closes connections without a valid key with 4403', async () => {
    for (const params of [undefined, { authorization: 'Bearer wrong' }]) {
      const ws = wsClient(server.url, params);
      const result = new Collected(ws.client, BLOCKS);
      await waitFor(() => ws.closes.length > 0, 'close');
      expect(ws.closes[0]!.code).toBe(4403);
      expect(ws.closes[0]!.reason).toMatch(/^Forbidden: (API key required|Invalid API key)/);
      expect(result.results).toEqual([]);
      await ws.dispose();
    }
  });

  it('answers a WebSocket upgrade on another path than /graphql with 404', async () => {
    const url = server.url.replace('http', 'ws').replace('/graphql', '/elsewhere');
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(url, 'graphql-transport-ws');
      ws.once('unexpected-response', (_request, response) => resolve(`HTTP ${response.statusCode}`));
      ws.once('open', () => resolve('open'));
      ws.once('error', (error) => resolve(error.message));
    });
    expect(refused).toBe('HTTP 404');
  });

  it('refuses subscribes over the key rate with a clear error, and bad operations likewise', async () => {
    const ws = wsClient(server.url, { authorization: 'Bearer ws-key' });
    try {
      await sleep(1100); // a full bucket of 2
      const subs = Array.from({ length: 4 }, () => new Collected(ws.client, BLOCKS));
      await waitFor(() => subs.filter((s) => s.error !== undefined).length === 2, 'refusals');
      expect(subs.filter((s) => s.error === undefined)).toHaveLength(2);
      expect(subs.find((s) => s.error)!.error).toEqual([
        {
          message: 'Rate limit exceeded: at most 2 requests per second per API key (PTS_RATE_LIMIT); retry after 1 s',
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 },
        },
      ]);
      expect(ws.closes).toEqual([]); // the connection stays up

      await sleep(1100);
      const badOwner = new Collected(ws.client, TRANSITIONS, { owner: 'alice' });
      await badOwner.until((s) => s.results.length > 0 || s.error !== undefined);
      expect(badOwner.results[0]?.errors ?? badOwner.error).toEqual([
        expect.objectContaining({ message: 'owner must be a 0x-prefixed 20-byte hex address, got "alice"', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
      ]);
      const unknown = new Collected(ws.client, 'subscription { blockComitted { blockNumber } }');
      await unknown.until((s) => s.error !== undefined);
      expect(unknown.error).toEqual([
        expect.objectContaining({ message: expect.stringMatching(/^Cannot query field "blockComitted" on type "Subscription"/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
      ]);

      await sleep(1100);
      let deep = 'id';
      for (let level = 9; level >= 0; level--) deep = level % 2 === 0 ? `positions { ${deep} }` : `account { ${deep} }`;
      const tooDeep = new Collected(ws.client, `subscription { marginStateChanged { account { ${deep} } } }`);
      await tooDeep.until((s) => s.error !== undefined);
      expect(tooDeep.error).toEqual([
        expect.objectContaining({ message: 'Query depth limit of 10 exceeded, found 13.', extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: 'depth' } }),
      ]);
      // Queries over the socket work too.
      const query = new Collected(ws.client, '{ meta { blockNumber } }');
      await query.until((s) => s.completed);
      expect(query.data).toEqual([{ meta: { blockNumber: 5 } }]);
    } finally {
      await ws.dispose();
    }
  });
});

describe('a subscriber that stops reading', () => {
  it('is disconnected with 4008 once its buffer overflows; the others and the server carry on', async () => {
    const db = await createTestDatabase();
    await commitLedger(db.pool, ledger());
    // A generous grace: a loaded machine must not stall the reading subscriber long enough to cut it too.
    const server = await startTestServer(db.url, { subscriptionBufferSize: 50 }, { subscriptionGraceMs: 10_000 });
    const healthy = wsClient(server.url);
    try {
      // A raw graphql-transport-ws client whose socket stops reading after subscribing.
      const slow = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        slow.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      await new Promise((resolve) => slow.once('open', resolve));
      slow.send(JSON.stringify({ type: 'connection_init' }));
      await new Promise((resolve) => slow.once('message', resolve)); // connection_ack
      const fields = 'chainId blockNumber blockHash blockTimestamp headBlockNumber reorg { depth commonAncestor }';
      for (let i = 0; i < 10; i++) {
        slow.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: `subscription { blockCommitted { ${fields} } }` } }));
      }
      const steady = new Collected<BlockCommitted>(healthy.client, 'subscription { blockCommitted { blockNumber } }');
      await waitFor(() => server.hub.subscriberCount === 11, 'subscribers');
      (slow as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

      // 20,000 blocks committed at once (a backfill): far more than socket buffers hold.
      await db.pool.query(`BEGIN;
        INSERT INTO block (number, hash, parent_hash, timestamp, event_count)
          SELECT n, '0x' || md5(n::text) || md5(n::text), '0x', 2000 + n, 0 FROM generate_series(6, 20005) n;
        UPDATE cursor SET block_number = 20005, block_hash = '0x' || md5('20005') || md5('20005'), head_block_number = 20005;
        SELECT pg_notify('${BLOCKS_CHANNEL}', '{"first":6,"last":20005,"hash":"0x' || md5('20005') || md5('20005') || '"}');
        COMMIT`);
      await waitFor(() => server.hub.subscriberCount <= 1, 'the slow subscriber to be cut off', 60_000);
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await closed).toEqual({ code: 4008, reason: 'subscriber too slow: buffer of 50 events overflowed' });

      // The reading subscriber got every block, in order.
      await steady.until((s) => s.results.length === 20_000, 60_000);
      expect(steady.data.map((d) => d.blockCommitted.blockNumber)).toEqual(Array.from({ length: 20_000 }, (_, i) => 6 + i));
      const metrics = (await raw(server.url.replace('/graphql', '/metrics'), {})).body as string;
      const dropped = Number(/^pts_api_subscription_events_dropped_total\{subscription="blockCommitted"\} (\d+)/m.exec(metrics)?.[1]);
      expect(dropped).toBeGreaterThan(0);
      expect(metrics).toMatch(/^pts_api_subscribers\{subscription="blockCommitted"\} 1$/m);
      expect(metrics).toMatch(/^pts_api_subscription_events_delivered_total\{subscription="blockCommitted"\} \d{5,}$/m);
    } finally {
      await healthy.dispose();
      await server.stop();
      await db.drop();
    }
  });
});

describe('two processes', () => {
  let net: Devnet;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    net = await startDevnet();
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await net?.close();
  });

  it('a subscriber of `pts serve` receives what the ingester of another process commits', async () => {
    const following = net.follow();
    const setup = await leveragedAlice(net);
    await following.reached(setup);

    const port = await freePort();
    let output = '';
    child = spawn(process.execPath, ['bin/pts.js', 'serve'], {
      env: { ...process.env, DATABASE_URL: net.db.url, PORT: String(port), PTS_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}/graphql`;
    await waitFor(async () => (await raw(url.replace('/graphql', '/ready'), {}).catch(() => null))?.status === 200, `pts serve (${output})`, 60_000);

    const ws = wsClient(url);
    try {
      const mine = new Collected(ws.client, TRANSITIONS, { owner: ALICE });
      const blocks = new Collected<BlockCommitted>(ws.client, BLOCKS);
      // Subscribed once the server has answered something on the same socket.
      const ping = new Collected(ws.client, '{ meta { blockNumber } }');
      await ping.until((s) => s.completed);
      await sleep(200);

      const drop = await net.venue.send([net.venue.call.price('ETH', 1850)]);
      await following.reached(drop.blockNumber);
      await mine.until((m) => m.results.length >= 1);
      await blocks.until((b) => b.results.length >= 1);
      await sleep(300);
      expect(mine.data).toEqual([
        expect.objectContaining({
          marginStateChanged: expect.objectContaining({ from: 'HEALTHY', to: 'MARGIN_CALL', blockNumber: drop.blockNumber }),
        }),
      ]);
      expect(blocks.data.map((b) => b.blockCommitted.blockNumber)).toEqual([drop.blockNumber]);
    } finally {
      await ws.dispose();
    }
    // SIGTERM drains and exits cleanly.
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
