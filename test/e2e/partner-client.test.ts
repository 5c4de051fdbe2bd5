// Issue 4: the typed partner client against a real server on a real chain: every
// generated operation runs, a margin change caused on anvil arrives over the client's
// subscription, errors are typed, the persisted-document manifest matches the documents,
// and examples/partner-client.ts runs end to end.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AccountDocument,
  AccountsDocument,
  BlockCommittedDocument,
  createPtsClient,
  FillsDocument,
  MarginStateChangedDocument,
  MarketsDocument,
  PtsError,
  TransitionsDocument,
  type BlockCommittedSubscription,
  type MarginStateChangedSubscription,
} from '../../packages/client/src/index.js';
import * as generated from '../../packages/client/src/generated/graphql.js';
import type { PtsServer } from '../../src/graphql/server.js';
import { startDevnet, TRADERS, type Devnet, type FollowingIngester } from '../support/devnet.js';
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

  it('reports refusals as PtsError with the status and code', async () => {
    const pts = createPtsClient({ url: server.url, apiKey: API_KEY });
    const invalid = await pts.request(FillsDocument, { first: 5000 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(PtsError);
    expect(invalid).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/"first" must be between 0 and 1000/) });
    const stranger = createPtsClient({ url: server.url, apiKey: 'wrong' });
    const refused = await stranger.request(MarketsDocument).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', message: 'Invalid API key' });
    const closed = await new Promise<PtsError>((resolve) => stranger.subscribe(BlockCommittedDocument, {}, () => undefined, { onError: resolve }));
    expect(closed.closeCode).toBe(4403);
    await stranger.close();
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
      ['AccountDocument', 'AccountsDocument', 'BlockCommittedDocument', 'FillsDocument', 'MarginStateChangedDocument', 'MarketsDocument', 'TransitionsDocument'],
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

  it('runs examples/partner-client.ts: the account, then its next margin change', async () => {
    const child = spawn(process.execPath, ['bin/run-ts.js', 'examples/partner-client.ts', ALICE, '0', '--events', '1'], {
      env: { ...process.env, PTS_API_URL: server.url, PTS_API_KEY: API_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await until(() => output.includes('watching'), `the example to subscribe (${output})`, 30_000);
      expect(output).toMatch(new RegExp(`^${ALICE}:0 at block \\d+: MARGIN_CALL$`, 'm'));
      expect(output).toMatch(/^ {2}ETH-PERP +size 1 {2}entry 2000 {2}mark 1850 /m);
      await until(() => server.hub.subscriberCount === 1, 'the example subscriber');
      const up = await net.venue.send([net.venue.call.price('ETH', 2000)]); // back above the initial margin
      expect(await exited).toBe(0);
      expect(output).toContain(`block ${up.blockNumber}: ${ALICE}:0 MARGIN_CALL -> HEALTHY (equity 299.5, initial margin 200, maintenance margin 100)`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
