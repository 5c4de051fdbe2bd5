import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * graphql-ws's ws adapter sends each message with a completion callback and waits for it
 * before a subscriber's next message: a promise and a libuv write callback per message.
 * With 5,000 subscribers of one price move that bookkeeping was ~40% of the server's CPU
 * for the fan-out (bench/api c.). This makes a socket's `send` report completion as soon
 * as the frame is queued while little is queued on that socket; beyond `highWaterMark`
 * bytes it waits for the write as before. So a subscriber that stops reading still slows
 * its own stream down and overflows its bounded hub buffer (hub.ts); memory per socket
 * stays bounded by the mark plus one frame.
 *
 * Such a text message is also framed here and written in one piece (`writeTextFrame`).
 */
export function eagerSend(socket: WebSocket, highWaterMark = 64 * 1024): void {
  type Callback = (error?: Error) => void;
  const send = socket.send.bind(socket) as (data: unknown, options?: object, callback?: Callback) => void;
  socket.send = ((data: unknown, optionsOrCallback?: object | Callback, maybeCallback?: Callback) => {
    const callback = typeof optionsOrCallback === 'function' ? (optionsOrCallback as Callback) : maybeCallback;
    const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
    if (!callback || socket.bufferedAmount >= highWaterMark) return send(data, options, callback);
    // A write that fails later surfaces as the socket's 'error' and 'close', which end its operations.
    if (typeof data !== 'string' || options !== undefined || !writeTextFrame(socket, data)) send(data, options);
    callback();
  }) as WebSocket['send'];
}

/** What of ws's WebSocket this reads (not its public API: checked before every use). */
interface WsInternals {
  _socket?: Socket;
  _sender?: { _queue?: unknown; _state?: unknown };
  _extensions?: Record<string, unknown>;
}

/**
 * Writes `text` as one unmasked, unfragmented text frame, the frame ws would send, built
 * in one buffer and written with one call. ws frames a string as a header and a payload
 * written as two corked chunks (one writev) through more bookkeeping; on bench/api c,
 * four interleaved runs of each, the p99 of the warm price moves went from a median of
 * 285 ms (196-519) to 253 ms (202-332). Only while ws itself would write at once: the
 * socket open, no extension (compression) negotiated, nothing queued in its sender (it
 * queues only behind compression or a Blob). ws's own frames (ping, pong, close) are
 * written whole too, so frames never interleave. False (nothing written) otherwise, and
 * `send` takes ws's path.
 */
export function writeTextFrame(socket: WebSocket, text: string): boolean {
  const ws = socket as unknown as WsInternals;
  const raw = ws._socket;
  const sender = ws._sender;
  if (socket.readyState !== socket.OPEN || !raw || !sender || !Array.isArray(sender._queue) || sender._queue.length > 0 || sender._state !== 0) return false;
  if (!ws._extensions || Object.keys(ws._extensions).length > 0) return false;
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, header, 'utf8');
  raw.write(frame);
  return true;
}
