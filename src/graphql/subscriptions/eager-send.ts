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
 */
export function eagerSend(socket: WebSocket, highWaterMark = 64 * 1024): void {
  type Callback = (error?: Error) => void;
  const send = socket.send.bind(socket) as (data: unknown, options?: object, callback?: Callback) => void;
  socket.send = ((data: unknown, optionsOrCallback?: object | Callback, maybeCallback?: Callback) => {
    const callback = typeof optionsOrCallback === 'function' ? (optionsOrCallback as Callback) : maybeCallback;
    const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
    if (!callback || socket.bufferedAmount >= highWaterMark) return send(data, options, callback);
    // A write that fails later surfaces as the socket's 'error' and 'close', which end its operations.
    send(data, options);
    callback();
  }) as WebSocket['send'];
}
