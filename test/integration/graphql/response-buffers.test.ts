// Large response bodies encoded into reused buffers, on a real HTTP server: every body
// arrives whole and exact, concurrent answers never share a buffer, and a connection
// closed mid-answer leaves nothing behind that could reach a later answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ResponseBuffers } from '../../../src/graphql/http/response-buffers.js';

describe('ResponseBuffers', () => {
  let server: http.Server;
  let base: string;
  const buffers = new ResponseBuffers({ minLength: 16, keep: 2 });
  /** The body each path answers; `/slow-*` answers are written only when released. */
  const bodies = new Map<string, string>();
  const held = new Map<string, () => void>();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const body = bodies.get(req.url!) ?? 'missing';
      if (req.url!.startsWith('/slow')) {
        held.set(req.url!, () => {
          buffers.end(res, body);
          if (req.url === '/slow-gone') res.socket!.destroy();
        });
      }
      else buffers.end(res, body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = async (path: string) => {
    const response = await fetch(base + path);
    return { length: response.headers.get('content-length'), text: await response.text() };
  };

  it('sends bodies whole and exact, multi-byte characters included, and reuses the buffer', async () => {
    const first = `{"a":"${'ü€😀x'.repeat(50_000)}"}`;
    const second = `{"b":"${'y'.repeat(1000)}"}`; // smaller: fits the same buffer
    bodies.set('/first', first).set('/second', second).set('/small', 'tiny');
    expect(await get('/first')).toEqual({ length: String(Buffer.byteLength(first)), text: first });
    expect(buffers.held).toBe(1);
    expect(await get('/second')).toEqual({ length: String(Buffer.byteLength(second)), text: second });
    expect(buffers.held).toBe(1);
    // Below minLength: a plain string write, no buffer involved.
    expect(await get('/small')).toEqual({ length: '4', text: 'tiny' });
  });

  it('gives concurrent answers their own buffers', async () => {
    // Answered together, each larger than the socket buffers: all writes are in flight at
    // once. The second round starts with buffers of the first in the pool.
    for (const round of [0, 1]) {
      const texts = Array.from({ length: 4 }, (_, i) => `{"n":"${String(i + round).repeat((6 << 20) + i)}"}`);
      texts.forEach((text, i) => bodies.set(`/slow-${round}-${i}`, text));
      const answers = texts.map((_, i) => get(`/slow-${round}-${i}`));
      while (texts.some((_, i) => !held.has(`/slow-${round}-${i}`))) await new Promise((resolve) => setTimeout(resolve, 10));
      texts.forEach((_, i) => held.get(`/slow-${round}-${i}`)!());
      const received = await Promise.all(answers);
      expect(received.map((answer, i) => answer.text === texts[i])).toEqual([true, true, true, true]);
      expect(buffers.held).toBe(2); // keep: 2
    }
  });

  it('answers intact after a connection closed in the middle of an answer', async () => {
    // Closed while most of the body is still to be written; its buffer comes back on 'finish'.
    const big = `{"z":"${'z'.repeat(32 << 20)}"}`;
    bodies.set('/slow-gone', big);
    const request = http.get(`${base}/slow-gone`, (response) => response.on('error', () => undefined).resume());
    request.on('error', () => undefined);
    const failed = new Promise((resolve) => request.on('close', resolve));
    while (!held.has('/slow-gone')) await new Promise((resolve) => setTimeout(resolve, 10));
    held.get('/slow-gone')!();
    await failed;
    // The next answers draw from the pool and are exact.
    const next = `{"after":"${'ä'.repeat(3 << 20)}"}`;
    bodies.set('/after', next).set('/again', `{"again":"${'q'.repeat(5 << 20)}"}`);
    for (const path of ['/after', '/again', '/after']) expect(await get(path)).toMatchObject({ text: bodies.get(path) });
  });
});
