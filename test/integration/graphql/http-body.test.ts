// Reading request bodies on a real HTTP server and real sockets: a body cut off by its
// client ends the read (no request waits forever), and a refused body is answered.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { BodyError, readJsonBody } from '../../../src/graphql/http/body.js';

describe('readJsonBody', () => {
  let server: http.Server;
  let port: number;
  let outcomes: Promise<unknown>[];
  beforeAll(async () => {
    outcomes = [];
    server = http.createServer((req, res) => {
      const outcome = readJsonBody(req, 1024);
      outcomes.push(outcome);
      outcome.then(
        (body) => res.end(JSON.stringify({ body })),
        (error: BodyError) => res.writeHead(error.status ?? 500, { Connection: 'close' }).end(error.message),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (head: string, body: Buffer | string, end: 'end' | 'destroy') =>
    new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST / HTTP/1.1\r\nHost: x\r\n${head}\r\n`);
        socket.write(body);
        if (end === 'destroy') setTimeout(() => socket.destroy(), 50);
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });

  it('ends the read when the client goes away mid-body', async () => {
    const sent = send('Content-Type: application/json\r\nContent-Length: 100\r\n', '{"query":', 'destroy');
    await sent;
    await expect(outcomes.at(-1)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/incomplete/) });
    const gzipped = send('Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 100\r\n', gzipSync('{"query": "{ a }"}').subarray(0, 10), 'destroy');
    await gzipped;
    await expect(outcomes.at(-1)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/incomplete/) });
  });

  it('answers a chunked body over the limit instead of dropping the connection', async () => {
    const chunk = 'x'.repeat(600);
    const body = `${(600).toString(16)}\r\n${chunk}\r\n`.repeat(4);
    const response = await send('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', body, 'end');
    expect(response).toMatch(/^HTTP\/1.1 413 /);
    expect(response).toContain('Request body too large: at most 1024 bytes');
  });

  it('answers a compressed body that expands past the limit while it still arrives', async () => {
    const zipped = gzipSync(`{"query": "${'x'.repeat(100_000)}"}`);
    const response = await send(`Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${zipped.length + 1000}\r\n`, zipped, 'end');
    expect(response).toMatch(/^HTTP\/1.1 413 /);
    expect(response).toContain('Request body too large: at most 1024 bytes');
  });

  it('reads a chunked, compressed body whole', async () => {
    const zipped = gzipSync(JSON.stringify({ query: '{ meta { blockNumber } }' }));
    const response = await send(
      'Content-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n',
      Buffer.concat([Buffer.from(`${zipped.length.toString(16)}\r\n`), zipped, Buffer.from('\r\n0\r\n\r\n')]),
      'end',
    );
    expect(response).toMatch(/\{"body":\{"query":"\{ meta \{ blockNumber \} \}"\}\}$/);
  });
});
