// Issue 17, item 4, over HTTP: the explorer's page and files as a browser gets them (on only
// with PTS_INTROSPECTION), byte for byte the npm packages' files, in br or gzip by
// Accept-Encoding, revalidated by ETag (304 without a body); a query in a GET still gets
// its answer; with the explorer off, a browser is told how to turn it on.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { PtsServer } from '../../../src/graphql/server.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { commitLedger, ledger, startTestServer } from './server-support.js';

const require = createRequire(import.meta.url);
const packageFile = (name: string, file: string) => readFileSync(join(dirname(require.resolve(`${name}/package.json`)), file));
/** What a browser sends when it opens a page. */
const NAVIGATION = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'accept-encoding': 'gzip, deflate, br' };

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  wire: Buffer;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const wire = Buffer.concat(chunks);
        const coding = res.headers['content-encoding'];
        // No body (HEAD, 304) has nothing to decode.
        const decode = wire.length === 0 ? (b: Buffer) => b : coding === 'br' ? brotliDecompressSync : coding === 'gzip' ? gunzipSync : (b: Buffer) => b;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, wire, body: decode(wire) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the explorer over HTTP', () => {
  let db: TestDatabase;
  let on: PtsServer;
  let off: PtsServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    await commitLedger(db.pool, ledger());
    [on, off] = await Promise.all([startTestServer(db.url, { introspection: true }), startTestServer(db.url)]);
  });
  afterAll(async () => {
    await Promise.all([on?.stop(), off?.stop()]);
    await db?.drop();
  });
  const asset = (server: PtsServer, name: string) => server.url.replace('/graphql', `/graphql/assets/${name}`);

  it('serves the page to a browser, loading nothing from elsewhere', async () => {
    const page = await get(on.url, NAVIGATION);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self';/);
    const html = page.body.toString();
    expect(html).not.toMatch(/https?:\/\//);
    const loaded = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(loaded).toEqual([
      '/graphql/assets/graphiql.min.css',
      '/graphql/assets/react.production.min.js',
      '/graphql/assets/react-dom.production.min.js',
      '/graphql/assets/graphiql.min.js',
      '/graphql/assets/explorer.js',
    ]);
    // A GET that carries a query is an operation, for a browser too.
    const query = await get(`${on.url}?query=${encodeURIComponent('{ meta { blockNumber } }')}`, { ...NAVIGATION, 'apollo-require-preflight': 'true' });
    expect(JSON.parse(query.body.toString())).toEqual({ data: { meta: { blockNumber: 5 } } });
  });

  it("serves the packages' files exactly, compressed by Accept-Encoding", async () => {
    const files = {
      'graphiql.min.js': packageFile('graphiql', 'graphiql.min.js'),
      'graphiql.min.css': packageFile('graphiql', 'graphiql.min.css'),
      'react.production.min.js': packageFile('react', 'umd/react.production.min.js'),
      'react-dom.production.min.js': packageFile('react-dom', 'umd/react-dom.production.min.js'),
      'explorer.js': readFileSync(new URL('../../../src/graphql/http/explorer/start.js', import.meta.url)),
    };
    for (const [name, bytes] of Object.entries(files)) {
      for (const coding of ['identity', 'br', 'gzip']) {
        const answer = await get(asset(on, name), { 'accept-encoding': coding });
        expect([name, coding, answer.status, answer.headers['content-encoding'] ?? 'identity', answer.body.equals(bytes)]).toEqual([name, coding, 200, coding, true]);
        if (coding !== 'identity') expect(answer.wire.length).toBeLessThan(bytes.length);
        expect(answer.headers['content-length']).toBe(String(answer.wire.length));
        expect(answer.headers.vary).toBe('Accept-Encoding');
        expect(answer.headers['content-type']).toMatch(name.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      }
    }
  });

  it('answers a revalidation with 304 and no body, and HEAD with no body', async () => {
    for (const coding of ['identity', 'br']) {
      const first = await get(asset(on, 'graphiql.min.js'), { 'accept-encoding': coding });
      const etag = first.headers.etag!;
      expect(etag).toMatch(coding === 'br' ? /^"[\w-]+-br"$/ : /^"[\w-]+"$/);
      expect(first.headers['cache-control']).toBe('no-cache');
      const again = await get(asset(on, 'graphiql.min.js'), { 'accept-encoding': coding, 'if-none-match': etag });
      expect([again.status, again.wire.length, again.headers['content-encoding']]).toEqual([304, 0, undefined]);
      const head = await get(asset(on, 'graphiql.min.js'), { 'accept-encoding': coding }, 'HEAD');
      expect([head.status, head.wire.length, head.headers['content-length']]).toEqual([200, 0, first.headers['content-length']]);
    }
    const page = await get(on.url, NAVIGATION);
    expect((await get(on.url, { ...NAVIGATION, 'if-none-match': page.headers.etag! })).status).toBe(304);
    // Another file's tag does not match.
    expect((await get(asset(on, 'explorer.js'), { 'if-none-match': page.headers.etag! })).status).toBe(200);
  });

  it('refuses what is not a file of the page', async () => {
    expect((await get(asset(on, 'nope.js'))).status).toBe(404);
    expect((await get(asset(on, 'constructor'))).status).toBe(404);
    expect((await get(asset(on, 'graphiql.min.js'), {}, 'POST')).status).toBe(405);
  });

  it('is off without PTS_INTROSPECTION, and says how to turn it on', async () => {
    const page = await get(off.url, NAVIGATION);
    expect(page.status).toBe(404);
    expect(JSON.parse(page.body.toString()).errors[0].message).toMatch(/PTS_INTROSPECTION=true/);
    expect((await get(asset(off, 'graphiql.min.js'))).status).toBe(404);
  });
});
