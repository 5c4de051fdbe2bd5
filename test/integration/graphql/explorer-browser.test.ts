// Issue 17, item 4, in a real browser: the explorer at /graphql loads with no request
// leaving this server (any other is blocked and recorded), shows the schema's
// descriptions, runs a query over HTTP and shows its answer, and runs a subscription over
// WebSocket and shows each event as blocks are committed.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PtsServer } from '../../../src/graphql/server.js';
import { launchBrowser } from '../../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ALICE } from '../../support/ledger.js';
import { commitLedger, ledger, startTestServer } from './server-support.js';
import { waitFor } from '../../support/wait.js';

/** What the page's functions use of the DOM (the tests compile without its types). */
interface InPage {
  document: { querySelector(selector: string): { textContent: string | null; CodeMirror: { getValue(): string; setValue(text: string): void } } | null };
}

/** A page on the explorer, with every request, WebSocket, refusal and console error it makes. */
interface Visit {
  page: Page;
  context: BrowserContext;
  requests: { method: string; url: string; contentType: string | undefined }[];
  sockets: string[];
  blocked: string[];
  problems: string[];
}

describe('the explorer in a real browser', () => {
  let db: TestDatabase;
  let server: PtsServer;
  let browser: Browser;
  let origin: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    await commitLedger(db.pool, ledger());
    server = await startTestServer(db.url, { introspection: true });
    origin = new URL(server.url).origin;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await db?.drop();
  });

  async function visit(): Promise<Visit> {
    const context = await browser.newContext();
    const visit: Visit = { context, page: await context.newPage(), requests: [], sockets: [], blocked: [], problems: [] };
    // Anything not for this server is refused, and remembered: the page must not need it.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      visit.blocked.push(url);
      return route.abort('blockedbyclient');
    });
    visit.page.on('request', (request) => visit.requests.push({ method: request.method(), url: request.url(), contentType: request.headers()['content-type'] }));
    visit.page.on('websocket', (socket) => visit.sockets.push(socket.url()));
    // A script error or a Content-Security-Policy refusal shows up here.
    visit.page.on('pageerror', (error) => visit.problems.push(String(error)));
    visit.page.on('console', (message) => {
      if (message.type() === 'error') visit.problems.push(message.text());
    });
    await visit.page.goto(server.url);
    await visit.page.waitForSelector('.graphiql-query-editor .CodeMirror');
    return visit;
  }

  /** Replaces the operation in the editor with `operation`, named `name`, and runs it. */
  async function run(page: Page, name: string, operation: string): Promise<void> {
    await page.evaluate((text) => {
      (globalThis as unknown as InPage).document.querySelector('.graphiql-query-editor .CodeMirror')!.CodeMirror.setValue(text);
    }, operation);
    // GraphiQL reads the operation's name from the editor a moment later; its tab shows it then.
    await page.waitForFunction((expected) => (globalThis as unknown as InPage).document.querySelector('.graphiql-tab-active')?.textContent?.trim() === expected, name);
    await page.click('.graphiql-execute-button');
  }

  /** Waits until the response pane's text holds `text`. */
  async function answerShows(page: Page, text: string): Promise<void> {
    await page.waitForFunction((expected) => {
      const pane = (globalThis as unknown as InPage).document.querySelector('.graphiql-response .CodeMirror');
      return pane?.CodeMirror.getValue().includes(expected) ?? false;
    }, text);
  }

  it('loads from this server alone, shows the descriptions, and runs a query over HTTP', async () => {
    const { page, context, requests, sockets, blocked, problems } = await visit();
    try {
      // The schema came through introspection: the docs show its descriptions.
      await page.click('[aria-label="Show Documentation Explorer"]');
      await page.locator('a.graphiql-doc-explorer-type-name', { hasText: /^Query$/ }).first().click();
      await page.getByText('Everything the API reads.').waitFor();
      await run(page, 'Alice', `query Alice { meta { blockNumber } account(owner: "${ALICE}") { id collateral } }`);
      await answerShows(page, '"blockNumber": 5');
      const answer = await page.evaluate(() => (globalThis as unknown as InPage).document.querySelector('.graphiql-response .CodeMirror')!.CodeMirror.getValue());
      expect(JSON.parse(answer)).toEqual({ data: { meta: { blockNumber: 5 }, account: { id: `${ALICE}:0`, collateral: '1000' } } });

      expect(blocked).toEqual([]);
      expect(problems).toEqual([]);
      expect(sockets).toEqual([]);
      expect(requests.every((r) => new URL(r.url).origin === origin)).toBe(true);
      // The page and its files, all from /graphql and /graphql/assets/...
      const gets = requests.filter((r) => r.method === 'GET').map((r) => new URL(r.url).pathname);
      expect(gets).toEqual(
        expect.arrayContaining([
          '/graphql',
          '/graphql/assets/graphiql.min.css',
          '/graphql/assets/react.production.min.js',
          '/graphql/assets/react-dom.production.min.js',
          '/graphql/assets/graphiql.min.js',
          '/graphql/assets/explorer.js',
        ]),
      );
      // ...and operations as JSON POSTs, which pass CSRF prevention: introspection, then the query.
      const posts = requests.filter((r) => r.method === 'POST');
      expect(posts.length).toBeGreaterThanOrEqual(2);
      expect(posts.every((r) => r.url === server.url && r.contentType === 'application/json')).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('runs a subscription over WebSocket and shows its events', async () => {
    const { page, context, sockets, blocked, problems } = await visit();
    try {
      const before = server.hub.subscriberCount;
      await run(page, 'Blocks', 'subscription Blocks { blockCommitted { blockNumber } }');
      // Once the server holds the subscription, a block is committed for it.
      await waitFor(() => server.hub.subscriberCount > before);
      const chain = ledger();
      chain.block(1050, []);
      await commitLedger(db.pool, chain, { from: 5 });
      await answerShows(page, '"blockNumber": 6');
      expect(sockets).toEqual([server.url.replace(/^http/, 'ws')]);
      expect(blocked).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

