// Issue 4: the typed partner client against a real server on a real chain: every
// generated operation runs, a margin change caused on anvil arrives over the client's
// subscription, errors are typed, and the persisted-document manifest matches the
// documents. Issue 17: transport failures are PtsTransportErrors; a subscription survives
// a server restart, reconnecting with jittered backoff, and gives up after its attempts.
// (The built package and examples/partner-client.ts: client-package.test.ts.)
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import {
  AccountDocument,
  AccountsDocument,
  BlockCommittedDocument,
  createPtsClient,
  FillsDocument,
  MarginStateChangedDocument,
  MarketsDocument,
  PtsClosedError,
  PtsError,
  PtsGraphQLError,
  PtsHttpError,
  PtsRateLimitedError,
  PtsTransportError,
  reconnectDelayMs,
  RECONNECT_DEFAULTS,
  TransitionsDocument,
  type BlockCommittedSubscription,
  type MarginStateChangedSubscription,
} from '../../packages/client/src/index.js';
import * as generated from '../../packages/client/src/generated/graphql.js';
import type { PtsServer } from '../../src/graphql/server.js';
import { startDevnet, TRADERS, type Devnet, type FollowingIngester } from '../support/devnet.js';
import { random } from '../support/operation-generator.js';
import { sleep, startTestServer } from '../integration/graphql/server-support.js';

const [ALICE, BOB] = TRADERS as [`0x${string}`, `0x${string}`];
const API_KEY = 'partner-key';

async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('partner client', () => {
  let net: Devnet;
  let following: FollowingIngester;
  let server: PtsServer;
  let setup: number;
  beforeAll(async () => {
    net = await startDevnet();
    following = net.follow();
    server = await startTestServer(net.db.url, { apiKeys: [API_KEY], rateLimitPerSecond: 1000 });
    const c = net.venue.call;
    await net.venue.send([
      c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 3600, maxFundingRate: '0.01' }),
      c.price('ETH', 2000),
      c.depositFor(ALICE, 0, 300),
      c.depositFor(BOB, 0, 5000),
    ]);
    setup = (await net.venue.send([c.trade('ETH-PERP', { trader: ALICE, sub: 0, fee: '0.5' }, { trader: BOB, sub: 0 }, 1, 2000)])).blockNumber;
    await following.reached(setup);
  });
  afterAll(async () => {
    await server?.stop();
    await net?.close();
  });

  it('runs every generated query, typed', async () => {
    const pts = createPtsClient({ url: server.url, apiKey: API_KEY });
    const { meta, account } = await pts.request(AccountDocument, { owner: ALICE });
    expect(meta.blockNumber).toBe(setup);
    expect(account).toMatchObject({
      id: `${ALICE}:0`,
      collateral: '299.5',
      marginState: 'HEALTHY',
      positions: [{ size: '1', entryPrice: '2000', market: { id: 'ETH-PERP', kind: 'PERPETUAL' } }],
    });
    const { accounts } = await pts.request(AccountsDocument, { first: 10, orderBy: 'RISK_DESC' });
    expect(accounts.edges.map((e) => e.node.id)).toEqual([`${ALICE}:0`, `${BOB}:0`]);
    const { markets } = await pts.request(MarketsDocument);
    expect(markets.map((m) => [m.id, m.indexPrice, m.openInterest])).toEqual([['ETH-PERP', '2000', '1']]);
    const { fills } = await pts.request(FillsDocument, { owner: ALICE });
    expect(fills.edges.map((e) => [e.node.market.id, e.node.size, e.node.price, e.node.fee])).toEqual([['ETH-PERP', '1', '2000', '0.5']]);
    const { transitions } = await pts.request(TransitionsDocument, {});
    expect(transitions.totalCount).toBe(0);
  });

  it('reports refusals as typed PtsErrors with the status and code', async () => {
    const pts = createPtsClient({ url: server.url, apiKey: API_KEY });
    const invalid = await pts.request(FillsDocument, { first: 5000 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(PtsGraphQLError);
    expect(invalid).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/"first" must be between 0 and 1000/) });
    const stranger = createPtsClient({ url: server.url, apiKey: 'wrong' });
    const refused = await stranger.request(MarketsDocument).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PtsGraphQLError);
    expect(refused).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', message: 'Invalid API key' });
    const closed = await new Promise<PtsError>((resolve) => stranger.subscribe(BlockCommittedDocument, {}, () => undefined, { onError: resolve }));
    expect(closed).toBeInstanceOf(PtsClosedError);
    expect(closed.closeCode).toBe(4403);
    await stranger.close();
  });

  it('reports rate limits as PtsRateLimitedError with retryAfter, after waiting out Retry-After as often as asked', async () => {
    const limited = await startTestServer(net.db.url, { apiKeys: [API_KEY], rateLimitPerSecond: 1 });
    try {
      const impatient = createPtsClient({ url: limited.url, apiKey: API_KEY, rateLimitRetries: 0 });
      const answers = await Promise.all([1, 2, 3, 4].map(() => impatient.request(MarketsDocument).catch((e: unknown) => e)));
      const refusals = answers.filter((a) => a instanceof PtsError);
      expect(refusals.length).toBeGreaterThan(0);
      for (const refusal of refusals) {
        expect(refusal).toBeInstanceOf(PtsRateLimitedError);
        expect(refusal).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
        expect((refusal as PtsRateLimitedError).retryAfter).toBeGreaterThanOrEqual(1);
      }
      // Subscriptions are operations too: a refused one is rate limited, with the server's retryAfterSeconds.
      const refused = await new Promise<PtsError>((resolve) => {
        for (let i = 0; i < 4; i++) impatient.subscribe(BlockCommittedDocument, {}, () => undefined, { onError: resolve });
      });
      expect(refused).toBeInstanceOf(PtsRateLimitedError);
      expect(refused).toMatchObject({ status: 0, code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
      await impatient.close();
      // The default client waits Retry-After and tries again: both answers arrive.
      const patient = createPtsClient({ url: limited.url, apiKey: API_KEY });
      const [first, second] = await Promise.all([patient.request(MarketsDocument), patient.request(MarketsDocument)]);
      expect([first.markets.length, second.markets.length]).toEqual([1, 1]);
    } finally {
      await limited.stop();
    }
  });

  it('reports an answer that is not GraphQL (a proxy page) as PtsHttpError, and an unreachable API as PtsTransportError', async () => {
    const proxy = createHttpServer((_, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>'));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxied = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`;
    const bad = await createPtsClient({ url: proxied }).request(MarketsDocument).catch((e: unknown) => e);
    await new Promise((resolve) => proxy.close(resolve));
    expect(bad).toBeInstanceOf(PtsHttpError);
    expect(bad).toMatchObject({ status: 502, body: '<html>502 Bad Gateway</html>', message: 'HTTP 502: <html>502 Bad Gateway</html>' });

    // The proxy is gone: its port refuses connections, over HTTP and WebSocket alike.
    const gone = createPtsClient({ url: proxied, reconnect: { attempts: 1, baseDelayMs: 10 } });
    const unreachable = await gone.request(MarketsDocument).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(PtsTransportError);
    expect(unreachable).toMatchObject({ url: proxied, status: 0, cause: expect.objectContaining({ code: 'ECONNREFUSED' }) });
    expect((unreachable as Error).message).toMatch(new RegExp(`^pts API unreachable at ${proxied}: connect ECONNREFUSED`));
    const lost = await new Promise<PtsError>((resolve) => gone.subscribe(BlockCommittedDocument, {}, () => undefined, { onError: resolve }));
    expect(lost).toBeInstanceOf(PtsTransportError);
    expect(lost).toMatchObject({ url: proxied.replace(/^http/, 'ws'), cause: expect.objectContaining({ code: 'ECONNREFUSED' }) });
    await gone.close();
  });

  it('subscribes over WebSocket: the transition of a price drop and its block', async () => {
    const pts = createPtsClient({ url: server.url, apiKey: API_KEY });
    const changes: MarginStateChangedSubscription[] = [];
    const blocks: BlockCommittedSubscription[] = [];
    const stopChanges = pts.subscribe(MarginStateChangedDocument, { owner: ALICE, subaccount: 0 }, (d) => changes.push(d));
    const stopBlocks = pts.subscribe(BlockCommittedDocument, {}, (d) => blocks.push(d));
    await until(() => server.hub.subscriberCount === 2, 'subscribers');
    const drop = await net.venue.send([net.venue.call.price('ETH', 1850)]);
    await until(() => changes.length === 1 && blocks.some((b) => b.blockCommitted.blockNumber === drop.blockNumber), 'events');
    expect(changes[0]!.marginStateChanged).toMatchObject({
      from: 'HEALTHY',
      to: 'MARGIN_CALL',
      blockNumber: drop.blockNumber,
      equity: '149.5',
      account: { id: `${ALICE}:0` },
    });
    stopChanges();
    stopBlocks();
    await pts.close();
    await until(() => server.hub.subscriberCount === 0, 'unsubscribed');
  });

  it('ships a sha256 manifest of exactly the documents it sends', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../../packages/client/src/generated/persisted-documents.json', import.meta.url), 'utf8')) as Record<string, string>;
    const documents = Object.entries(generated).filter(([name]) => name.endsWith('Document'));
    expect(documents.map(([name]) => name).sort()).toEqual(
      ['AccountDocument', 'AccountHistoryDocument', 'AccountsDocument', 'BlockCommittedDocument', 'FillsDocument', 'MarginStateChangedDocument', 'MarketsDocument', 'TransitionsDocument'],
    );
    expect(Object.keys(manifest).sort()).toEqual(documents.map(([, d]) => (d as unknown as { __meta__: { hash: string } }).__meta__.hash).sort());
    for (const [hash, text] of Object.entries(manifest)) {
      expect(hash).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
    }
    // The manifest's text is a document the server accepts as is (what a gateway allowlist forwards).
    const accountText = manifest[(AccountDocument as unknown as { __meta__: { hash: string } }).__meta__.hash]!;
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ query: accountText, variables: { owner: BOB } }),
    });
    expect(((await response.json()) as { data: { account: { id: string } } }).data.account.id).toBe(`${BOB}:0`);
  });

  it('spreads reconnections: a uniform draw under a ceiling that doubles up to maxDelayMs', () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => reconnectDelayMs(n, {}, top))).toEqual([999, 1999, 3999, 7999, 15999, 29999, 29999]);
    expect([0, 1, 2, 3].map((n) => reconnectDelayMs(n, { baseDelayMs: 50, maxDelayMs: 200 }, top))).toEqual([49, 99, 199, 199]);
    expect(reconnectDelayMs(4, {}, () => 0)).toBe(0);
    expect(RECONNECT_DEFAULTS).toEqual({ attempts: 10, baseDelayMs: 1000, maxDelayMs: 30_000 });
    // 10,000 clients dropped at once by a restart: their first attempts spread evenly over
    // the first second (each tenth holds 10% of them, give or take 1.5%), not one burst.
    const draw = random(17);
    const tenths = Array.from({ length: 10 }, () => 0);
    for (let i = 0; i < 10_000; i++) tenths[Math.floor(reconnectDelayMs(0, {}, draw) / 100)]! += 1;
    for (const count of tenths) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });

  // Last: it replaces the server.
  it('keeps a subscription through a server restart on the same port; a client out of attempts gets PtsTransportError', async () => {
    const url = server.url;
    const patient = createPtsClient({ url, apiKey: API_KEY, reconnect: { attempts: Infinity, baseDelayMs: 20, maxDelayMs: 200 } });
    const impatient = createPtsClient({ url, apiKey: API_KEY, reconnect: { attempts: 1, baseDelayMs: 20 } });
    const blocks: number[] = [];
    const failures: PtsError[] = [];
    const stop = patient.subscribe(BlockCommittedDocument, {}, (d) => blocks.push(d.blockCommitted.blockNumber), { onError: (e) => failures.push(e) });
    const lost = new Promise<PtsError>((resolve) => impatient.subscribe(BlockCommittedDocument, {}, () => undefined, { onError: resolve }));
    await until(() => server.hub.subscriberCount === 2, 'subscribers');
    const before = await net.venue.send([net.venue.call.price('ETH', 2010)]);
    await until(() => blocks.includes(before.blockNumber), 'a block before the restart');

    await server.stop();
    const gaveUp = await lost;
    expect(gaveUp).toBeInstanceOf(PtsTransportError);
    expect(gaveUp).toMatchObject({ url: url.replace(/^http/, 'ws') });
    const down = await patient.request(MarketsDocument).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(PtsTransportError);

    server = await startTestServer(net.db.url, { apiKeys: [API_KEY], rateLimitPerSecond: 1000 }, { port: Number(new URL(url).port) });
    expect(server.url).toBe(url);
    await until(() => server.hub.subscriberCount === 1, 'the patient subscriber back');
    const after = await net.venue.send([net.venue.call.price('ETH', 2020)]);
    await until(() => blocks.includes(after.blockNumber), 'a block after the restart');
    expect(failures).toEqual([]);
    stop();
    await Promise.all([patient.close(), impatient.close()]);
  });
});
