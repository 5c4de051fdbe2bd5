// Issue 14, item 6: cross-origin access in a real browser. A page on an origin in
// PTS_CORS_ORIGINS reads a query over HTTP (the preflight answered) and receives a
// subscription event over WebSocket; a page on another origin can do neither (the browser
// hides the HTTP answer, the WebSocket upgrade is refused), and a plain GET from it is
// refused as a potential CSRF before anything runs.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import type { PtsServer } from '../../../src/graphql/server.js';
import { launchBrowser } from '../../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { commitLedger, ledger, startTestServer } from './server-support.js';

/** Serves one empty page on its own origin (127.0.0.1:port). */
async function pageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>page</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Runs in the page: a query over fetch (JSON, so preflighted), and the first event of a graphql-transport-ws subscription. */
async function inPage({ url, block }: { url: string; block: boolean }) {
  const query = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'from-the-page' },
    body: JSON.stringify({ query: '{ meta { blockNumber } }' }),
  })
    .then(async (r) => ({ ok: true, body: await r.json(), requestId: r.headers.get('x-request-id') }))
    .catch((e: Error) => ({ ok: false, error: String(e) }));
  const subscription = await new Promise<unknown>((resolve) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const done = (value: unknown) => {
      socket.close();
      resolve(value);
    };
    socket.onerror = () => done({ ok: false, error: 'websocket error' });
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init' }));
    socket.onmessage = (message) => {
      const data = JSON.parse(String(message.data));
      if (data.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { blockCommitted { blockNumber } }' } }));
        // Tell the test the subscription stands, so it commits a block.
        if (block) (globalThis as unknown as { subscribed: boolean }).subscribed = true;
      }
      if (data.type === 'next') done({ ok: true, payload: data.payload });
    };
  });
  return { query, subscription };
}

describe('cross-origin pages in a real browser', () => {
  let db: TestDatabase;
  let server: PtsServer;
  let browser: Browser;
  let allowed: Awaited<ReturnType<typeof pageServer>>;
  let foreign: Awaited<ReturnType<typeof pageServer>>;
  beforeAll(async () => {
    [allowed, foreign] = await Promise.all([pageServer(), pageServer()]);
    db = await createTestDatabase();
    const chain = ledger();
    await commitLedger(db.pool, chain);
    server = await startTestServer(db.url, { corsOrigins: [allowed.origin] });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await db?.drop();
    await allowed?.close();
    await foreign?.close();
  });

  it('lets a page of an allowed origin read a query and receive a subscription event', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(allowed.origin);
      const running = page.evaluate(inPage, { url: server.url, block: true });
      await page.waitForFunction(() => (globalThis as unknown as { subscribed?: boolean }).subscribed === true);
      // A block arrives for the subscriber (an empty one after the ledger's last).
      const chain = ledger();
      chain.block(1050, []);
      await commitLedger(db.pool, chain, { from: 5 });
      const { query, subscription } = await running;
      expect(query).toEqual({ ok: true, body: { data: { meta: { blockNumber: 5 } } }, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(subscription).toEqual({ ok: true, payload: { data: { blockCommitted: { blockNumber: 6 } } } });
    } finally {
      await page.close();
    }
  });

  it('keeps answers from a page of another origin, and refuses its WebSocket', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(foreign.origin);
      const { query, subscription } = await page.evaluate(inPage, { url: server.url, block: false });
      expect(query).toEqual({ ok: false, error: expect.stringMatching(/Failed to fetch/) });
      expect(subscription).toEqual({ ok: false, error: 'websocket error' });
      // A GET it could make without a preflight (an image, a form) is refused as a potential CSRF.
      const forged = await page.evaluate(async (url) => {
        const response = await fetch(`${url}?query=${encodeURIComponent('{ meta { blockNumber } }')}`, { mode: 'no-cors' });
        return response.type; // opaque: the page learns nothing
      }, server.url);
      expect(forged).toBe('opaque');
    } finally {
      await page.close();
    }
  });

  it('answers the preflight of an allowed origin, and not of another', async () => {
    const preflight = async (origin: string) => {
      const response = await fetch(server.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });
      return { status: response.status, allowOrigin: response.headers.get('access-control-allow-origin'), allowHeaders: response.headers.get('access-control-allow-headers') };
    };
    expect(await preflight(allowed.origin)).toEqual({ status: 204, allowOrigin: allowed.origin, allowHeaders: expect.stringContaining('authorization') });
    expect(await preflight(foreign.origin)).toEqual({ status: 204, allowOrigin: null, allowHeaders: null });
  });
});
