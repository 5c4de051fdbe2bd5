// Issue 14: the probes that got through, replayed on a real server over every transport
// they reach (HTTP POST and GET, WebSocket queries and subscriptions). Each refusal is a
// clear error with the code to act on, nothing is logged as an internal error, and the
// server goes on answering.
import { once } from 'node:events';
import WebSocket from 'ws';
import type { PtsServer } from '../../../src/graphql/server.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ALICE, BOB, ev, LedgerChain } from '../../support/ledger.js';
import { capturingLogger } from '../../support/logger.js';
import { Collected, commitLedger, post, raw, startTestServer, wsClient, wsUrl } from './server-support.js';
import { waitFor } from '../../support/wait.js';

/** 1,000 fills on ETH-PERP between 50 traders: enough for answers of tens of megabytes. */
function manyFills(): LedgerChain {
  const chain = new LedgerChain({ oracleStalenessSeconds: 3600, riskFreeRate: 0n });
  const traders = Array.from({ length: 50 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}`);
  chain.block(1000, [ev.perp('ETH-PERP', 'ETH'), ev.price('ETH', 3000), ev.deposit(ALICE, 1000), ev.deposit(BOB, 1000), ...traders.map((t) => ev.deposit(t, 1_000_000))]);
  chain.block(1010, traders.flatMap((t, i) => Array.from({ length: 20 }, (_, k) => ev.fill('ETH-PERP', t, (i + k) % 2 === 0 ? 1 : -1, 3000 + k))));
  chain.block(1020, [ev.price('ETH', 3010)]);
  return chain;
}

const BOMB = `query B($n: Int = 1000) { a0: fills(first: $n) { edges { node { id market { fills(first: $n) { edges { node { id price } } } } } } } }`;
/** Admitted (about 900,000 values: variables get past the static pre-check, not the estimate), and about 20 MB of answer. */
const HEAVY = `query Heavy($outer: Int = 1000, $inner: Int = 150) { fills(first: $outer) { edges { node { id market { fills(first: $inner) { edges { node { id price size fee } } } } } } } }`;

/** The first result of an operation over WebSocket (query or subscription), or the error. */
async function overWebSocket(url: string, query: string, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: any[] }> {
  const { client, dispose } = wsClient(url);
  try {
    return await new Promise((resolve, reject) => {
      const stop = client.subscribe(
        { query, ...(variables ? { variables } : {}) },
        {
          next: (result) => {
            stop();
            resolve(result as never);
          },
          error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
          complete: () => undefined,
        },
      );
    });
  } finally {
    await dispose();
  }
}

/** The same operation over HTTP POST, HTTP GET and WebSocket: each transport's first error (or null). */
async function everyTransport(url: string, query: string) {
  const postResult = await post(url, query);
  const getResult = await raw(`${url}?query=${encodeURIComponent(query)}`, { headers: { 'apollo-require-preflight': 'true' } });
  const wsResult = await overWebSocket(url, query);
  return {
    post: { status: postResult.status, error: postResult.body.errors?.[0] ?? null },
    get: { status: getResult.status, error: getResult.body.errors?.[0] ?? null },
    ws: { error: wsResult.errors?.[0] ?? null },
  };
}

describe('hostile requests', () => {
  let db: TestDatabase;
  let server: PtsServer;
  const logger = capturingLogger();
  beforeAll(async () => {
    db = await createTestDatabase();
    await commitLedger(db.pool, manyFills());
    server = await startTestServer(db.url, {}, { logger });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });
  afterEach(() => {
    expect(logger.messages('error')).toEqual([]);
    logger.lines.length = 0;
  });

  it('costs a variable left out at its default: the 2 KB bomb is refused on every transport, subscriptions included', async () => {
    const refused = await everyTransport(server.url, BOMB);
    for (const [transport, { error }] of Object.entries(refused)) {
      expect({ transport, code: error?.extensions?.code, limit: error?.extensions?.limit }).toEqual({ transport, code: 'QUERY_LIMIT_EXCEEDED', limit: 'cost' });
    }
    expect(refused.post.status).toBe(400);
    expect(refused.get.status).toBe(400);
    const subscription = `subscription S($n: Int = 1000) { marginStateChanged { account { fills(first: $n) { edges { node { market { fills(first: $n) { edges { node { id } } } } } } } } } }`;
    const ws = await overWebSocket(server.url, subscription);
    expect(ws.errors?.[0]).toMatchObject({ extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: 'cost' } });
    // Twenty aliases of it, too.
    const twenty = `query B($n: Int = 1000) { ${Array.from({ length: 20 }, (_, i) => `a${i}: fills(first: $n) { edges { node { id market { fills(first: $n) { edges { node { id } } } } } } }`).join(' ')} }`;
    expect((await post(server.url, twenty)).body.errors[0].extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED' });
  });

  it('answers NUL characters in any string argument and out-of-range cursors as BAD_USER_INPUT, literal or variable', async () => {
    const nul = 'a\u0000b';
    const literal = JSON.stringify(nul);
    const overflowFill = Buffer.from(JSON.stringify(['fill', '9223372036854775808', '0'])).toString('base64url');
    const overflowRisk = Buffer.from(JSON.stringify(['account:RISK_DESC', '2147483648', '0', 'x'])).toString('base64url');
    const queries = [
      `{ fills(market: ${literal}) { totalCount } }`,
      `{ position(id: ${literal}) { id } }`,
      `{ positions(market: ${literal}) { totalCount } }`,
      `{ indexPrices(underlying: ${literal}) { totalCount } }`,
      `{ priceReports(underlying: ${literal}) { totalCount } }`,
      `{ fundingHistory(market: ${literal}) { totalCount } }`,
      `{ anomalies(kind: ${literal}) { totalCount } }`,
      `{ market(id: ${literal}) { id } }`,
      `{ fills(after: "${overflowFill}") { totalCount } }`,
      `{ accounts(orderBy: RISK_DESC, after: "${overflowRisk}") { totalCount } }`,
    ];
    for (const query of queries) {
      const result = await everyTransport(server.url, query);
      for (const [transport, { error }] of Object.entries(result)) expect({ query, transport, code: error?.extensions?.code }).toEqual({ query, transport, code: 'BAD_USER_INPUT' });
    }
    const variable = await post(server.url, 'query ($m: String) { fills(market: $m) { totalCount } }', { m: nul });
    expect(variable.body.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    // Variables of the wrong type, or missing, are the executor's to refuse: as clearly.
    for (const [query, variables] of [['query ($n: Int!) { accounts(first: $n) { totalCount } }', {}], ['query ($n: Int) { accounts(first: $n) { totalCount } }', { n: 'ten' }]] as const) {
      const http = await post(server.url, query, variables);
      expect({ status: http.status, code: http.body.errors[0].extensions.code }).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect((await overWebSocket(server.url, query, variables)).errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    }
    const overWs = await overWebSocket(server.url, 'subscription ($o: String) { marginStateChanged(owner: $o) { to } }', { o: nul });
    expect(overWs.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('refuses a subscription over HTTP, a text nested past the parser, and bad persisted queries, with the codes to act on', async () => {
    const subscription = await post(server.url, 'subscription { blockCommitted { blockNumber } }');
    expect(subscription.status).toBe(400);
    expect(subscription.body.errors[0]).toMatchObject({ message: expect.stringMatching(/over WebSocket/), extensions: { code: 'BAD_REQUEST' } });

    const deep = `{ accounts(marginState: ${'['.repeat(1990)}HEALTHY${']'.repeat(1990)}) { totalCount } }`;
    const nested = await everyTransport(server.url, deep);
    for (const [transport, { error }] of Object.entries(nested)) {
      expect({ transport, code: error?.extensions?.code, message: error?.message }).toEqual({ transport, code: 'QUERY_LIMIT_EXCEEDED', message: expect.stringMatching(/nested too deep/) });
    }
    expect(nested.post.status).toBe(400);

    const mismatch = await raw(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ meta { blockNumber } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }),
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors[0]).toMatchObject({ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } });
    const unknown = await raw(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'e'.repeat(64) } } }),
    });
    expect(unknown.body.errors[0]).toMatchObject({ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
  });

  it('answers an admitted query past the answer cap with RESPONSE_TOO_LARGE, and goes on answering', async () => {
    // The whole answer is about 8 MB: over a cap of 4 MiB, it is refused without being written.
    const capped = await startTestServer(db.url, { maxResponseBytes: 4 * 2 ** 20, requestTimeoutMs: 120_000 }, { logger });
    try {
      const http = await post(capped.url, HEAVY);
      expect(http.body).toEqual({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'RESPONSE_TOO_LARGE', maxBytes: 4 * 2 ** 20 }) })] });
      expect(http.body.errors[0].extensions.requestId).toBe(http.headers.get('x-request-id'));
      const ws = await overWebSocket(capped.url, HEAVY);
      expect(ws.errors?.[0]).toMatchObject({ extensions: { code: 'RESPONSE_TOO_LARGE' } });
      expect((await post(capped.url, '{ meta { blockNumber } }')).body).toEqual({ data: { meta: { blockNumber: 3 } } });
      // Under the default cap (16 MiB) the same query is answered whole.
      const whole = await post(server.url, HEAVY);
      expect(whole.body.errors).toBeUndefined();
      expect(whole.body.data.fills.edges).toHaveLength(1000);
      expect(whole.body.data.fills.edges[999].node.market.fills.edges).toHaveLength(150);
    } finally {
      await capped.stop();
    }
  });
});

describe('budgets and caps', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await commitLedger(db.pool, manyFills());
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('ends a WebSocket query past PTS_REQUEST_TIMEOUT_MS with REQUEST_TIMEOUT instead of running it to the end', async () => {
    const server = await startTestServer(db.url, { requestTimeoutMs: 50, maxResponseBytes: 2 ** 30 });
    try {
      const result = await overWebSocket(server.url, HEAVY);
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'REQUEST_TIMEOUT', timeoutMs: 50 } });
      expect(result.data?.fills?.edges?.length ?? 0).toBeLessThan(1000);
    } finally {
      await server.stop();
    }
  });

  it('caps a subscription event at PTS_MAX_RESPONSE_BYTES: that subscriber gets RESPONSE_TOO_LARGE, a smaller one its event', async () => {
    const server = await startTestServer(db.url, { maxResponseBytes: 200 });
    const { client, dispose } = wsClient(server.url);
    try {
      const fields = Array.from({ length: 20 }, (_, i) => `h${i}: blockHash`).join(' ');
      const big = new Collected(client, `subscription { blockCommitted { blockNumber ${fields} } }`);
      const small = new Collected(client, 'subscription { blockCommitted { blockNumber } }');
      await waitFor(() => server.hub.subscriberCount === 2);
      const chain = manyFills();
      chain.block(1030, []);
      await commitLedger(db.pool, chain, { from: 3 }); // block 4
      await small.until((s) => s.results.length === 1);
      await big.until((s) => s.results.length === 1);
      expect(small.results[0]).toEqual({ data: { blockCommitted: { blockNumber: 4 } } });
      expect(big.results[0]).toEqual({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'RESPONSE_TOO_LARGE', maxBytes: 200 }) })] });
    } finally {
      await dispose();
      await server.stop();
    }
  });

  it('caps subscriptions per connection: the one over is refused, the connection and the others carry on', async () => {
    const server = await startTestServer(db.url, { maxSubscriptionsPerConnection: 3 });
    const { client, dispose, closes } = wsClient(server.url);
    try {
      const held = Array.from({ length: 3 }, () => new Collected(client, 'subscription { blockCommitted { blockNumber } }'));
      await waitFor(() => server.hub.subscriberCount === 3);
      const over = new Collected(client, 'subscription { blockCommitted { blockNumber } }');
      await over.until((s) => s.error !== undefined).catch(() => undefined);
      expect(over.error).toEqual([expect.objectContaining({ message: expect.stringMatching(/at most 3 \(PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION\)/), extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: 'subscriptions', maxSubscriptions: 3 } })]);
      // Queries are not subscriptions: still answered on the same connection.
      const query = new Collected(client, '{ meta { blockNumber } }');
      await query.until((s) => s.completed);
      expect(query.results).toEqual([{ data: { meta: { blockNumber: expect.any(Number) } } }]);
      // Completing one makes room for another.
      held[0]!.unsubscribe();
      await waitFor(() => server.hub.subscriberCount === 2);
      const again = new Collected(client, 'subscription { blockCommitted { blockNumber } }');
      await waitFor(() => server.hub.subscriberCount === 3);
      expect(again.error).toBeUndefined();
      expect(closes).toEqual([]);
    } finally {
      await dispose();
      await server.stop();
    }
  });

  it('caps WebSocket connections per client: per address on an open API, per key with keys; the one over closes with 4029', async () => {
    const open = await startTestServer(db.url, { maxConnectionsPerClient: 2 });
    const keyed = await startTestServer(db.url, { maxConnectionsPerClient: 2, apiKeys: ['k1', 'k2'] });
    const clients: ReturnType<typeof wsClient>[] = [];
    const connect = (url: string, key?: string) => {
      const c = wsClient(url, key ? { authorization: `Bearer ${key}` } : undefined);
      clients.push(c);
      return c;
    };
    const connected = async (c: ReturnType<typeof wsClient>) => {
      const q = new Collected(c.client, '{ meta { blockNumber } }');
      await q.until((s) => s.completed || s.error !== undefined);
      return q.completed;
    };
    try {
      expect(await connected(connect(open.url))).toBe(true);
      expect(await connected(connect(open.url))).toBe(true);
      const third = connect(open.url);
      expect(await connected(third)).toBe(false);
      expect(third.closes).toEqual([{ code: 4029, reason: 'Too many connections: at most 2 per client (PTS_MAX_CONNECTIONS_PER_CLIENT)' }]);
      // A closed connection gives its place back.
      await clients[0]!.dispose();
      await waitFor(async () => connected(connect(open.url)));

      expect(await connected(connect(keyed.url, 'k1'))).toBe(true);
      expect(await connected(connect(keyed.url, 'k1'))).toBe(true);
      expect(await connected(connect(keyed.url, 'k1'))).toBe(false);
      expect(await connected(connect(keyed.url, 'k2'))).toBe(true); // another key counts apart
    } finally {
      for (const c of clients) await c.dispose();
      await open.stop();
      await keyed.stop();
    }
  });

  it('cuts a slow connection with many subscriptions off once: one warning, one close', async () => {
    const logger = capturingLogger();
    const server = await startTestServer(db.url, { subscriptionBufferSize: 5 }, { logger, subscriptionGraceMs: 200 });
    try {
      const slow = new WebSocket(wsUrl(server.url), 'graphql-transport-ws');
      const closed = once(slow, 'close');
      await once(slow, 'open');
      slow.send(JSON.stringify({ type: 'connection_init' }));
      await once(slow, 'message');
      for (let i = 0; i < 100; i++) slow.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: 'subscription { blockCommitted { blockNumber blockHash } }' } }));
      await waitFor(() => server.hub.subscriberCount === 100);
      (slow as unknown as { _socket: { pause(): void } })._socket.pause();
      // 5,000 blocks committed at once (a backfill): far more than socket buffers hold.
      const { rows } = await db.pool.query<{ n: string }>('SELECT block_number::text AS n FROM cursor');
      const from = Number(rows[0]!.n) + 1;
      const last = from + 4999;
      await db.pool.query(`BEGIN;
        INSERT INTO block (number, hash, parent_hash, timestamp, event_count)
          SELECT n, '0x' || md5(n::text) || md5(n::text), '0x', 2000 + n, 0 FROM generate_series(${from}, ${last}) n;
        UPDATE cursor SET block_number = ${last}, block_hash = '0x' || md5('${last}') || md5('${last}'), head_block_number = ${last};
        SELECT pg_notify('pts_blocks', '{"first":${from},"last":${last},"hash":"0x' || md5('${last}') || md5('${last}') || '"}');
        COMMIT`);
      await waitFor(() => server.hub.subscriberCount === 0, 'every subscription ended', 60_000);
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      const [code] = (await closed) as [number];
      expect(code).toBe(4008);
      expect(logger.messages('warn').filter((m) => m.includes('does not keep up'))).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });
});

describe('/metrics and /ready', () => {
  it('/metrics needs a key and counts against its rate when keys are set; /ready and /health stay open', async () => {
    const db = await createTestDatabase();
    await commitLedger(db.pool, manyFills());
    const server = await startTestServer(db.url, { apiKeys: ['k1'], rateLimitPerSecond: 5 });
    const base = server.url.replace('/graphql', '');
    try {
      expect((await raw(`${base}/metrics`, {})).status).toBe(401);
      const authorized = { headers: { authorization: 'Bearer k1' } };
      expect((await raw(`${base}/metrics`, authorized)).status).toBe(200);
      const statuses = [];
      for (let i = 0; i < 10; i++) statuses.push((await raw(`${base}/metrics`, authorized)).status);
      expect(statuses).toContain(429);
      expect((await raw(`${base}/ready`, {})).status).toBe(200);
      expect((await raw(`${base}/health`, {})).status).toBe(200);
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});

