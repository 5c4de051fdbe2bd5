import type { ExecutionResult } from 'graphql';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { underlyingSocket, writeTextFrame } from './text-frame.js';
import type { ResultSink } from './shared-execution.js';

/**
 * Writes an operation's results to its WebSocket as graphql-ws `next` messages, the same
 * text graphql-ws would send (`{"id":…,"type":"next","payload":…}`), for
 * `SharedSubscriptions.deliverTo`.
 *
 * - A result without errors is serialized once, however many subscribers share it (the
 *   shared execution hands them all the same object); each message adds only its id.
 * - A result with errors goes out as `format` makes it (masked, with the request id), as
 *   graphql-ws's `onNext` would have sent it.
 * - Backpressure: while more than `highWaterMark` bytes wait on the socket, the returned
 *   promise holds the subscriber's next results back (in its bounded hub buffer) until
 *   the socket drains or closes. A client that stops reading thus overflows its buffer and
 *   is cut off (hub.ts), and memory per socket stays bounded by the mark plus one message.
 * - Nothing is sent once the socket is no longer open (graphql-ws does the same).
 */
export function socketSink(
  socket: WebSocket,
  id: string,
  format: (result: ExecutionResult) => unknown,
  highWaterMark = 64 * 1024,
): ResultSink {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return (result) => {
    if (socket.readyState !== socket.OPEN) return;
    const text = `${prefix}${result.errors?.length ? JSON.stringify(format(result)) : payloadText(result)}}`;
    // Not writable by hand (a frame queued in ws, compression): ws frames it, and the
    // subscriber's next results wait for the write.
    if (!writeTextFrame(socket, text)) return new Promise<void>((resolve) => socket.send(text, () => resolve()));
    if (socket.bufferedAmount >= highWaterMark) return drained(socket);
  };
}

const payloads = new WeakMap<ExecutionResult, string>();

/** The JSON of a result without errors, once per result object. */
function payloadText(result: ExecutionResult): string {
  let text = payloads.get(result);
  if (text === undefined) payloads.set(result, (text = JSON.stringify(result)));
  return text;
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
