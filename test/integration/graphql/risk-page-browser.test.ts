// Issue 17, item 5, in a real browser on a real chain (anvil, the venue, the ingester, the
// API): the risk page at / loads from this server alone, lists the accounts riskiest first,
// and, with no reload, follows a price report that moves an account into margin call: its
// row, the transitions list and its panel (positions, equity chart) change within seconds,
// carried by the page's subscriptions. With PTS_API_KEYS it asks for a key and then works;
// with PTS_RISK_PAGE off, / says how to turn it on.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PtsServer } from '../../../src/graphql/server.js';
import { launchBrowser } from '../../support/browser.js';
import { startDevnet, TRADERS, type Devnet, type FollowingIngester } from '../../support/devnet.js';
import { sleep, startTestServer } from './server-support.js';

const [ALICE, , CAROL, , , FRANK] = TRADERS as [`0x${string}`, `0x${string}`, `0x${string}`, `0x${string}`, `0x${string}`, `0x${string}`];
const id = (owner: string) => `${owner}:0`;
const require = createRequire(import.meta.url);

/** What the page's functions use of the DOM (the tests compile without its types). */
interface InPage {
  document: { querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null; textContent: string | null }> };
}

/** A page on the risk page, with every request, refusal and console error it makes. */
interface Visit {
  page: Page;
  context: BrowserContext;
  documents: string[];
  blocked: string[];
  problems: string[];
}

describe('the risk page in a real browser', () => {
  let net: Devnet;
  let following: FollowingIngester;
  let server: PtsServer;
  let browser: Browser;
  let setupBlock: number;
  beforeAll(async () => {
    net = await startDevnet();
    following = net.follow();
    const c = net.venue.call;
    await net.venue.send([
      c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 86_400, maxFundingRate: '0.01' }),
      c.price('ETH', 2000),
      c.depositFor(ALICE, 0, 300),
      c.depositFor(CAROL, 0, 1000),
      c.depositFor(FRANK, 0, 100_000),
    ]);
    // Alice and Carol each buy 1 ETH-PERP at 2000 from Frank: maintenance 100 each, Alice on 300 of equity, Carol on 1000.
    const frank = { trader: FRANK, sub: 0 };
    const setup = await net.venue.send([c.trade('ETH-PERP', { trader: ALICE, sub: 0 }, frank, 1, 2000), c.trade('ETH-PERP', { trader: CAROL, sub: 0 }, frank, 1, 2000)]);
    setupBlock = setup.blockNumber;
    server = await startTestServer(net.db.url, { riskPage: true });
    await following.reached(setupBlock);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await net?.close();
  });

  async function visit(url: string): Promise<Visit> {
    const origin = new URL(url).origin;
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const visit: Visit = { context, page: await context.newPage(), documents: [], blocked: [], problems: [] };
    // Anything not for this server is refused, and remembered: the page must not need it.
    await context.route('**/*', (route) => {
      const requested = route.request().url();
      if (new URL(requested).origin === origin) return route.continue();
      visit.blocked.push(requested);
      return route.abort('blockedbyclient');
    });
    // Each page load (a reload would show here).
    visit.page.on('request', (request) => {
      if (request.resourceType() === 'document') visit.documents.push(request.url());
    });
    // A script error or a Content-Security-Policy refusal shows up here.
    visit.page.on('pageerror', (error) => visit.problems.push(String(error)));
    visit.page.on('console', (message) => {
      if (message.type() === 'error') visit.problems.push(message.text());
    });
    await visit.page.goto(url);
    return visit;
  }

  /** The accounts table as [account id, margin state] rows, top to bottom. */
  const rows = (page: Page) =>
    page.evaluate(() =>
      Array.from((globalThis as unknown as InPage).document.querySelectorAll('tr[data-account]')).map((row) => [row.getAttribute('data-account'), row.getAttribute('data-state')]),
    );

  /** Waits until the accounts table shows exactly `expected` (rows of [account id, state], or account ids alone). */
  async function tableShows(page: Page, expected: [string, string][] | string[], timeout = 10_000): Promise<void> {
    const deadline = Date.now() + timeout;
    const shown = async () => (await rows(page)).map((row) => (typeof expected[0] === 'string' ? row[0] : row));
    while (JSON.stringify(await shown()) !== JSON.stringify(expected)) {
      if (Date.now() > deadline) throw new Error(`the table shows ${JSON.stringify(await rows(page))}, not ${JSON.stringify(expected)}`);
      await sleep(50);
    }
  }

  it('shows the accounts riskiest first, and a price move turns Alice to margin call live: row, transition, positions and chart', async () => {
    const root = new URL('/', server.url).href;
    const { page, context, documents, blocked, problems } = await visit(root);
    try {
      // Margin ratios: Alice 100/300, Carol 100/1000, Frank 200/100,000.
      await tableShows(page, [[id(ALICE), 'HEALTHY'], [id(CAROL), 'HEALTHY'], [id(FRANK), 'HEALTHY']]);
      await page.getByText('None yet').waitFor(); // no transition so far

      // Choosing Alice shows her figures, her position and the equity chart.
      await page.click(`tr[data-account="${id(ALICE)}"]`);
      const panel = page.locator(`[data-account-panel="${id(ALICE)}"]`);
      await panel.waitFor();
      expect(await panel.getAttribute('data-state')).toBe('HEALTHY');
      await expect(panel.locator('dd').first().textContent()).resolves.toBe('300.00'); // equity
      const position = panel.locator('tr[data-position]');
      expect(await position.locator('td').allTextContents()).toEqual(['ETH-PERP', '1.0000', '2,000.00', '2,000.00', '1,789.47', '-10.53%', '0.00', '100.00']);
      await panel.locator('.equity-chart canvas').first().waitFor();
      expect(page.url()).toBe(`${root}#account=${id(ALICE)}`);

      // The page holds its subscriptions (blocks, transitions, Alice) before the price moves.
      const deadline = Date.now() + 10_000;
      while (server.hub.subscriberCount < 3) {
        if (Date.now() > deadline) throw new Error(`${server.hub.subscriberCount} subscriptions`);
        await sleep(20);
      }

      // ETH to 1850: Alice's equity 150 < initial margin 185 -> MARGIN_CALL; Carol (850) stays healthy.
      const move = await net.venue.send([net.venue.call.price('ETH', 1850)]);
      await tableShows(page, [[id(ALICE), 'MARGIN_CALL'], [id(CAROL), 'HEALTHY'], [id(FRANK), 'HEALTHY']]);
      const transition = page.locator(`[data-transition="${id(ALICE)}@${move.blockNumber}"]`);
      await transition.waitFor({ timeout: 10_000 });
      expect(await transition.getAttribute('data-to')).toBe('MARGIN_CALL');
      expect(await transition.textContent()).toContain('equity 150.00');
      await page.locator(`[data-account-panel="${id(ALICE)}"][data-state="MARGIN_CALL"]`).waitFor({ timeout: 10_000 });
      await expect(panel.locator('dd').first().textContent()).resolves.toBe('150.00');
      expect(await position.locator('td').allTextContents()).toEqual(['ETH-PERP', '1.0000', '2,000.00', '1,850.00', '1,789.47', '-3.27%', '-150.00', '92.50']);
      // The chart has a sample from before the move and one from after it.
      await page.waitForFunction(() => Number((globalThis as unknown as InPage).document.querySelectorAll('.equity-chart')[0]?.getAttribute('data-samples')) >= 2, null, { timeout: 10_000 });

      // All of it without a reload, from this server alone, without an error.
      expect(documents).toEqual([root]);
      expect(blocked).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('comes back after the server restarts, with the transitions it missed, each once', async () => {
    let first: PtsServer | null = await startTestServer(net.db.url, { riskPage: true });
    const port = Number(new URL(first.url).port);
    let second: PtsServer | null = null;
    try {
      const root = new URL('/', first.url).href;
      const { page, context, documents, problems } = await visit(root);
      try {
        await tableShows(page, [id(ALICE), id(CAROL), id(FRANK)]);
        const live = first;
        const deadline = Date.now() + 10_000;
        while (live.hub.subscriberCount < 2) {
          if (Date.now() > deadline) throw new Error(`${live.hub.subscriberCount} subscriptions`);
          await sleep(20);
        }
        await first.stop();
        first = null;
        await page.locator('[data-status="reconnecting"]').waitFor();

        // While the page is cut off, ETH falls to 1750: Alice's equity 50 < maintenance 87.5.
        const move = await net.venue.send([net.venue.call.price('ETH', 1750)]);
        await following.reached(move.blockNumber);
        second = await startTestServer(net.db.url, { riskPage: true }, { port });

        // Back live: the transition it missed is replayed (afterBlock), and the table read again.
        await page.locator('[data-status="live"]').waitFor({ timeout: 30_000 });
        const transition = page.locator(`[data-transition="${id(ALICE)}@${move.blockNumber}"]`);
        await transition.waitFor({ timeout: 10_000 });
        expect(await transition.getAttribute('data-to')).toBe('LIQUIDATABLE');
        await tableShows(page, [[id(ALICE), 'LIQUIDATABLE'], [id(CAROL), 'HEALTHY'], [id(FRANK), 'HEALTHY']]);
        // One more block, and the missed transition is still shown once.
        await net.venue.mine();
        await sleep(1000);
        expect(await transition.count()).toBe(1);
        expect(documents).toEqual([root]);
        // Chromium reports the refused reconnection attempts while the server was down; nothing else.
        expect(problems.filter((p) => !/WebSocket connection to .* failed/.test(p))).toEqual([]);
      } finally {
        await context.close();
      }
    } finally {
      await first?.stop();
      await second?.stop();
    }
  });

  it('asks for the API key the server wants, then shows the accounts', async () => {
    const guarded = await startTestServer(net.db.url, { riskPage: true, apiKeys: ['risk-page-key'] });
    try {
      const { page, context, blocked } = await visit(new URL('/', guarded.url).href);
      try {
        await page.locator('input[name="api-key"]').fill('wrong-key');
        await page.click('button[type="submit"]');
        await page.getByText('The API refused that key.').waitFor();
        await page.locator('input[name="api-key"]').fill('risk-page-key');
        await page.click('button[type="submit"]');
        await page.locator('[data-status="live"]').waitFor();
        await tableShows(page, [id(ALICE), id(CAROL), id(FRANK)]);
        expect(blocked).toEqual([]);
      } finally {
        await context.close();
      }
    } finally {
      await guarded.stop();
    }
  });

  it('serves the page and its files only with PTS_RISK_PAGE, the files byte for byte from their packages', async () => {
    const page = await fetch(new URL('/', server.url), { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    // The import map is the one inline script, allowed by its hash.
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*';/);
    const files = [...html.matchAll(/(?:src|href)="(\/graphql\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(files).toEqual(expect.arrayContaining(['/graphql/assets/uPlot.min.css', '/graphql/assets/graphql-ws.min.js', '/graphql/assets/risk-page/app.js']));
    const uplot = await fetch(new URL('/graphql/assets/uPlot.esm.js', server.url));
    expect(uplot.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(Buffer.from(await uplot.arrayBuffer())).toEqual(readFileSync(join(dirname(require.resolve('uplot/package.json')), 'dist/uPlot.esm.js')));

    const off = await startTestServer(net.db.url);
    try {
      const refused = await fetch(new URL('/', off.url), { headers: { accept: 'text/html' } });
      expect(refused.status).toBe(404);
      expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/set PTS_RISK_PAGE=true/);
      expect((await fetch(new URL('/graphql/assets/risk-page/app.js', off.url))).status).toBe(404);
    } finally {
      await off.stop();
    }
  });
});
