import type { ExecutionResult } from 'graphql';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { underlyingSocket, writeTextFrame } from './text-frame.js';
import type { ResultSink } from './shared-execution.js';

/**
 * Writes an operation's results to its WebSocket as graphql-ws `next` messages, the same
 * text graphql-ws would send (`{"id":…,"type":"next","payload":…}`), for a subscription's
 * `Delivery` (pipeline.ts).
 *
 * - `payload` gives a result's JSON text (within the answer cap; the pipeline writes a
 *   result shared by many subscribers once); a promise when a large one is written in
 *   slices: the subscriber's next results wait for it, in order.
 * - Backpressure: while more than `highWaterMark` bytes wait on the socket, the returned
 *   promise holds the subscriber's next results back (in its bounded hub buffer) until
 *   the socket drains or closes. A client that stops reading thus overflows its buffer and
 *   is cut off (hub.ts), and memory per socket stays bounded by the mark plus one message.
 * - Nothing is sent once the socket is no longer open (graphql-ws does the same).
 */
export function socketSink(
  socket: WebSocket,
  id: string,
  payload: (result: ExecutionResult) => string | Promise<string>,
  highWaterMark = 64 * 1024,
): ResultSink {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  const write = (text: string): void | Promise<void> => {
    if (socket.readyState !== socket.OPEN) return;
    // Not writable by hand (a frame queued in ws, compression): ws frames it, and the
    // subscriber's next results wait for the write.
    if (!writeTextFrame(socket, text, prefix, '}')) return new Promise<void>((resolve) => socket.send(`${prefix}${text}}`, () => resolve()));
    if (socket.bufferedAmount >= highWaterMark) return drained(socket);
  };
  return (result) => {
    if (socket.readyState !== socket.OPEN) return;
    const text = payload(result);
    return text instanceof Promise ? text.then(write) : write(text);
  };
}

/** Per congested socket, one wait that every subscription on it shares (one listener each, not one per subscription). */
const draining = new WeakMap<Socket, Promise<void>>();

/** Settles when the socket under `socket` has written what it holds, or closed. */
function drained(socket: WebSocket): Promise<void> | undefined {
  const raw = underlyingSocket(socket);
  if (!raw || raw.destroyed || !raw.writableNeedDrain) return undefined;
  let wait = draining.get(raw);
  if (!wait) {
    wait = new Promise<void>((resolve) => {
      const done = () => {
        raw.off('drain', done);
        raw.off('close', done);
        draining.delete(raw);
        resolve();
      };
      raw.on('drain', done);
      raw.on('close', done);
    });
    draining.set(raw, wait);
  }
  return wait;
}
