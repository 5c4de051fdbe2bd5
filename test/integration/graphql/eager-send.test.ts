// eagerSend: completion is reported at once while a socket has little queued, and only
// after the write once a client stops reading, so a slow subscriber is still held back.
// Text frames it writes itself arrive intact and in order among ws's own frames, and
// with compression negotiated ws frames everything.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { eagerSend, writeTextFrame } from '../../../src/graphql/subscriptions/eager-send.js';

/** Texts of every header size (7-bit, 16-bit and 64-bit lengths) and multi-byte UTF-8. */
const TEXTS = ['', 'a', 'x'.repeat(125), 'é'.repeat(63), 'y'.repeat(126), '€'.repeat(21_845), 'z'.repeat(65_536), '🙂 ünïcode '.repeat(7_000)];

/** Every message and ping the client gets, in arrival order. */
function recorder(client: WebSocket): { events: string[]; until(count: number): Promise<void> } {
  const events: string[] = [];
  let wake = () => {};
  client.on('message', (data, binary) => (events.push(binary ? `binary:${String(data)}` : String(data)), wake()));
  client.on('ping', (data) => (events.push(`ping:${String(data)}`), wake()));
  return {
    events,
    until: (count) =>
      new Promise<void>((resolve) => {
        wake = () => events.length >= count && resolve();
        wake();
      }),
  };
}

describe('eagerSend', () => {
  let server: WebSocketServer;
  let client: WebSocket;
  let socket: WebSocket;

  beforeEach(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    const connected = once(server, 'connection');
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    [socket] = (await connected) as [WebSocket];
    eagerSend(socket, 64 * 1024);
    await once(client, 'open');
  });

  afterEach(async () => {
    client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('writes text frames itself, intact and in order among ws\'s pings and binary frames', async () => {
    const { events, until } = recorder(client);
    const expected: string[] = [];
    for (const [i, text] of TEXTS.entries()) {
      socket.send(text, () => undefined);
      expected.push(text);
      socket.ping(`p${i}`);
      expected.push(`ping:p${i}`);
      socket.send(Buffer.from(`b${i}`), () => undefined);
      expected.push(`binary:b${i}`);
    }
    expect(writeTextFrame(socket, 'direct')).toBe(true);
    expected.push('direct');
    await until(expected.length);
    expect(events).toEqual(expected);
  });

  it('leaves the framing to ws when compression is negotiated', async () => {
    const deflating = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
    await once(deflating, 'listening');
    const connected = once(deflating, 'connection');
    const compressed = new WebSocket(`ws://127.0.0.1:${(deflating.address() as AddressInfo).port}`, { perMessageDeflate: true });
    const [serverSide] = (await connected) as [WebSocket];
    eagerSend(serverSide, 64 * 1024);
    await once(compressed, 'open');
    try {
      expect(compressed.extensions).toContain('permessage-deflate');
      expect(writeTextFrame(serverSide, 'not by hand')).toBe(false);
      const { events, until } = recorder(compressed);
      for (const text of TEXTS) serverSide.send(text, () => undefined);
      await until(TEXTS.length);
      expect(events).toEqual(TEXTS);
    } finally {
      compressed.terminate();
      await new Promise((resolve) => deflating.close(resolve));
    }
  });

  it('reports small messages sent at once, and they all arrive in order', async () => {
    const received: string[] = [];
    const all = new Promise<void>((resolve) => client.on('message', (data) => received.push(String(data)) === 20 && resolve()));
    let completed = 0;
    for (let i = 0; i < 20; i++) socket.send(`m${i}`, () => completed++);
    expect(completed).toBe(20);
    await all;
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('waits for the write once a client that stopped reading has the mark queued', async () => {
    (client as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const frame = 'x'.repeat(16 * 1024);
    let waiting: Promise<void> | null = null;
    for (let sent = 0; sent < 10_000 && !waiting; sent++) {
      let done = false;
      const completion = new Promise<void>((resolve) => socket.send(frame, () => ((done = true), resolve())));
      if (!done) waiting = completion;
    }
    expect(waiting).not.toBeNull(); // the kernel's buffers filled, then 64 KB queued here
    expect(socket.bufferedAmount).toBeGreaterThanOrEqual(64 * 1024);
    expect(socket.bufferedAmount).toBeLessThan(64 * 1024 + 2 * frame.length);
    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    await waiting; // the client reads again: the write completes
  });
});
