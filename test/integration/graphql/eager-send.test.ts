// eagerSend: completion is reported at once while a socket has little queued, and only
// after the write once a client stops reading, so a slow subscriber is still held back.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { eagerSend } from '../../../src/graphql/subscriptions/eager-send.js';

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
