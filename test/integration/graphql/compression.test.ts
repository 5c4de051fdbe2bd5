// Issue 17, item 2, on a real server: answers are compressed by Accept-Encoding (brotli or
// gzip, q-values honoured) from 14 KiB on, in one call below 64 KiB and streamed above, and
// decode to exactly the answer a client without compression gets; small answers, HEAD and
// answers to clients that accept neither are left alone; errors stay readable; a client that
// leaves in the middle of a compressed answer leaves nothing wrong behind.
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { PtsServer } from '../../../src/graphql/server.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { commitLedger, ledger, startTestServer } from './server-support.js';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as it came over the wire. */
  wire: Buffer;
  /** The body decoded by its Content-Encoding. */
  text: string;
}

/** One request with node's http client, which (unlike fetch) leaves the body as sent. */
function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'POST', headers: { 'content-type': 'application/json', ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const wire = Buffer.concat(chunks);
        const coding = res.headers['content-encoding'];
        const decoded = coding === 'br' ? brotliDecompressSync(wire) : coding === 'gzip' ? gunzipSync(wire) : wire;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, wire, text: decoded.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const query = (source: string, headers: Record<string, string> = {}) => (url: string) => request(url, { headers, body: JSON.stringify({ query: source }) });

// Answers of each size class, from the schema's own descriptions (introspection is on here).
const SMALL = '{ meta { blockNumber } }';
/** About 34 kB: compressed in one call. */
const MEDIUM = '{ __schema { types { name description fields { name description } } } }';
/** About 80 kB: streamed. */
const LARGE = `{ __schema { types { ...T } } }
  fragment T on __Type { kind name description fields(includeDeprecated: true) { name description args { name description type { ...R } defaultValue } type { ...R } }
    inputFields { name description type { ...R } } enumValues(includeDeprecated: true) { name description } }
  fragment R on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;
/** About 320 kB (four aliases of LARGE): encoded into the server's pooled buffers, then streamed. */
const HUGE = LARGE.replace('{ __schema { types { ...T } } }', '{ a: __schema { types { ...T } } b: __schema { types { ...T } } c: __schema { types { ...T } } d: __schema { types { ...T } } }');

describe('compressed answers', () => {
  let db: TestDatabase;
  let server: PtsServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    await commitLedger(db.pool, ledger());
    // A named origin: CORS says `Vary: Origin`, which Accept-Encoding must join, not replace.
    server = await startTestServer(db.url, { introspection: true, corsOrigins: ['http://app.example'] });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it.each([
    ['in one call', MEDIUM, 14 * 1024, 64 * 1024],
    ['streamed', LARGE, 64 * 1024, 256 * 1024],
    ['streamed from a pooled buffer', HUGE, 256 * 1024, Infinity],
  ])('decodes %s to exactly the identity answer, in br and gzip', async (_, source, min, max) => {
    const plain = await query(source)(server.url);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text.length).toBeGreaterThanOrEqual(min);
    expect(plain.text.length).toBeLessThan(max);
    expect(JSON.parse(plain.text).errors).toBeUndefined();
    for (const coding of ['br', 'gzip']) {
      const compressed = await query(source, { 'accept-encoding': coding })(server.url);
      expect(compressed).toMatchObject({ status: 200, text: plain.text });
      expect(compressed.headers['content-encoding']).toBe(coding);
      expect(compressed.headers.vary).toBe('Origin, Accept-Encoding');
      expect(compressed.wire.length).toBeLessThan(plain.text.length / 3);
      // One call knows its length; a stream goes out chunked.
      if (max <= 64 * 1024) expect(compressed.headers['content-length']).toBe(String(compressed.wire.length));
      else expect(compressed.headers['transfer-encoding']).toBe('chunked');
    }
  });

  it('leaves small answers as they are, saying they vary by Accept-Encoding', async () => {
    const small = await query(SMALL, { 'accept-encoding': 'gzip, deflate, br' })(server.url);
    expect(small).toMatchObject({ status: 200, text: '{"data":{"meta":{"blockNumber":5}}}' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.headers.vary).toBe('Origin, Accept-Encoding');
  });

  it('honours q-values, q=0 included', async () => {
    const coding = async (accept: string) => (await query(MEDIUM, { 'accept-encoding': accept })(server.url)).headers['content-encoding'] ?? 'identity';
    expect(await coding('gzip, deflate, br')).toBe('br');
    expect(await coding('br;q=0.5, gzip')).toBe('gzip');
    expect(await coding('br;q=0, gzip;q=0')).toBe('identity');
    expect(await coding('*;q=0')).toBe('identity');
    expect(await coding('br;q=0, *')).toBe('gzip');
    expect(await coding('deflate')).toBe('identity');
  });

  it('answers HEAD with no body and no coding', async () => {
    const head = await request(server.url.replace('/graphql', '/metrics'), { method: 'HEAD', headers: { 'accept-encoding': 'br' } });
    expect(head.status).toBe(200);
    expect(head.wire.length).toBe(0);
    expect(head.headers['content-encoding']).toBeUndefined();
  });

  it('keeps error answers readable', async () => {
    // Refused by validation (Apollo's 400), and cut by the answer cap: both JSON a client can read.
    const invalid = await query('{ nope }', { 'accept-encoding': 'br' })(server.url);
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const capped = await startTestServer(db.url, { introspection: true, maxResponseBytes: 20_000 });
    try {
      for (const coding of ['br', 'gzip']) {
        const tooLarge = await query(LARGE, { 'accept-encoding': coding })(capped.url);
        expect(JSON.parse(tooLarge.text).errors[0].extensions.code).toBe('RESPONSE_TOO_LARGE');
      }
    } finally {
      await capped.stop();
    }
  });

  it('serves exact answers, concurrent ones too, after a client left in the middle of a compressed one', async () => {
    const plain = await query(HUGE)(server.url);
    for (const coding of ['br', 'gzip']) {
      // Leaves at its first compressed chunk, with the rest still being compressed.
      await new Promise<void>((resolve, reject) => {
        const req = http.request(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': coding } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
          res.on('error', () => undefined);
        });
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
        req.end(JSON.stringify({ query: HUGE }));
      });
    }
    // The pool's buffers are reused by the next answers, which must be exact: concurrent
    // answers of different texts, each compressed from its own buffer.
    const other = HUGE.replaceAll('name description', 'description name');
    const otherPlain = await query(other)(server.url);
    expect(otherPlain.text).not.toBe(plain.text);
    const sources = [HUGE, other, HUGE, other, HUGE, other];
    const again = await Promise.all(sources.map((source, i) => query(source, { 'accept-encoding': ['br', 'gzip', 'identity'][i % 3]! })(server.url)));
    expect(again.map((answer, i) => answer.text === (sources[i] === HUGE ? plain : otherPlain).text)).toEqual(sources.map(() => true));
  });
});
