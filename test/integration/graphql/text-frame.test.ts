// writeTextFrame on real sockets: the frames it writes arrive intact and in order among
// ws's own frames, and with compression negotiated it leaves the framing to ws.
import type { WebSocket } from 'ws';
import { writeTextFrame } from '../../../src/graphql/subscriptions/text-frame.js';
import { wsPair, type WsPair } from './ws-pair.js';

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
  let pair: WsPair;
  let client: WebSocket;
  let socket: WebSocket;

  beforeEach(async () => {
    pair = await wsPair();
    ({ client, socket } = pair);
  });

  afterEach(() => pair.close());

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
    const deflating = await wsPair({ perMessageDeflate: true });
    const { client: compressed, socket: serverSide } = deflating;
    try {
      expect(compressed.extensions).toContain('permessage-deflate');
      expect(writeTextFrame(serverSide, 'not by hand')).toBe(false);
      const { events, until } = recorder(compressed);
      for (const text of TEXTS) serverSide.send(text, () => undefined);
      await until(TEXTS.length);
      expect(events).toEqual(TEXTS);
    } finally {
      await deflating.close();
    }
  });
});
