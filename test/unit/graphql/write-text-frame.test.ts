// writeTextFrame builds exactly the frame ws's Sender builds for a text message, for every
// header size (also from a prefix, a text and a suffix encoded in place), and writes nothing when ws would queue or transform the frame.
import * as ws from 'ws';
import type { WebSocket } from 'ws';
import { writeTextFrame } from '../../../src/graphql/subscriptions/text-frame.js';

/** A stand-in with the parts of ws's WebSocket that writeTextFrame reads; what it writes goes to `written`. */
function fakeSocket(state: { queue?: unknown[]; senderState?: number; extensions?: Record<string, unknown>; readyState?: number } = {}) {
  const written: Buffer[] = [];
  const socket = {
    OPEN: 1,
    readyState: state.readyState ?? 1,
    _socket: { write: (chunk: Buffer) => written.push(chunk) },
    _sender: { _queue: state.queue ?? [], _state: state.senderState ?? 0 },
    _extensions: state.extensions ?? {},
  } as unknown as WebSocket;
  return { socket, written };
}

// ws's framing, which its types do not declare.
const { Sender } = ws as unknown as { Sender: { frame(data: string, options: object): Buffer[] } };
const wsFrame = (text: string) => Buffer.concat(Sender.frame(text, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));

describe('writeTextFrame', () => {
  it.each([0, 1, 125, 126, 127, 65_535, 65_536, 200_000])('frames %i bytes as ws does', (size) => {
    const text = 'é'.repeat(Math.floor(size / 2)) + 'x'.repeat(size % 2);
    const { socket, written } = fakeSocket();
    expect(writeTextFrame(socket, text)).toBe(true);
    expect(written).toHaveLength(1);
    expect(written[0]!.equals(wsFrame(text))).toBe(true);
  });

  it.each([0, 124, 126, 65_534, 70_000])('frames a prefix, %i bytes of text and a suffix as ws frames them joined', (size) => {
    const text = 'é'.repeat(Math.floor(size / 2)) + 'x'.repeat(size % 2);
    const prefix = '{"id":"ü1","type":"next","payload":';
    const { socket, written } = fakeSocket();
    expect(writeTextFrame(socket, text, prefix, '}')).toBe(true);
    expect(written).toHaveLength(1);
    expect(written[0]!.equals(wsFrame(`${prefix}${text}}`))).toBe(true);
  });

  it.each([
    ['ws has frames queued', { queue: [['queued']] }],
    ['ws is compressing', { senderState: 1 }],
    ['an extension is negotiated', { extensions: { 'permessage-deflate': {} } }],
    ['the socket is closing', { readyState: 2 }],
  ])('writes nothing when %s', (_, state) => {
    const { socket, written } = fakeSocket(state);
    expect(writeTextFrame(socket, 'hello')).toBe(false);
    expect(written).toHaveLength(0);
  });
});
