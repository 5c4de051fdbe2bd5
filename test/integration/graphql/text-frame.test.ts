// writeTextFrame on real sockets: the frames it writes arrive intact and in order among
// ws's own frames, and with compression negotiated it leaves the framing to ws.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { writeTextFrame } from '../../../src/graphql/subscriptions/text-frame.js';

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

describe('writeTextFrame', () => {
  let server: WebSocketServer;
  let client: WebSocket;
  let socket: WebSocket;

  beforeEach(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    const connected = once(server, 'connection');
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    [socket] = (await connected) as [WebSocket];
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
      expect(writeTextFrame(socket, text)).toBe(true);
      expected.push(text);
      socket.ping(`p${i}`);
      expected.push(`ping:p${i}`);
      socket.send(Buffer.from(`b${i}`), () => undefined);
      expected.push(`binary:b${i}`);
    }
    socket.send('through ws', () => undefined);
    expected.push('through ws');
    await until(expected.length);
    expect(events).toEqual(expected);
  });

  it('leaves the framing to ws when compression is negotiated', async () => {
    const deflating = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
    await once(deflating, 'listening');
    const connected = once(deflating, 'connection');
    const compressed = new WebSocket(`ws://127.0.0.1:${(deflating.address() as AddressInfo).port}`, { perMessageDeflate: true });
    const [serverSide] = (await connected) as [WebSocket];
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
});
