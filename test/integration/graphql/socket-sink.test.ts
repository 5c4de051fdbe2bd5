// socketSink on real sockets: it writes the `next` messages graphql-ws would write, masks
// results with errors as told, holds results back while the socket is congested (until
// the client reads again), and writes nothing once the socket is closing.
import { once } from 'node:events';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { MessageType, parseMessage, stringifyMessage } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { socketSink } from '../../../src/graphql/subscriptions/socket-sink.js';
import { wsPair, type WsPair } from './ws-pair.js';

describe('socketSink', () => {
  let pair: WsPair;
  let client: WebSocket;
  let socket: WebSocket;
  let received: string[];

  beforeEach(async () => {
    pair = await wsPair();
    ({ client, socket } = pair);
    received = [];
    client.on('message', (data) => received.push(String(data)));
  });

  afterEach(() => pair.close());

  const until = async (count: number) => {
    while (received.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  /** The payload text as the pipeline gives it: a result with errors in its masked form. */
  const masked = (result: ExecutionResult) => ({ ...result, errors: [{ message: 'Internal server error', extensions: { requestId: 'r1' } }] });
  const text = (result: ExecutionResult) => JSON.stringify(result.errors ? masked(result) : result);

  it('writes what graphql-ws would, with the payload text it is given', async () => {
    const a = socketSink(socket, 'a"1', text);
    const b = socketSink(socket, '2', text);
    const shared: ExecutionResult = { data: { blockCommitted: { blockNumber: 7, hash: 'é🙂' } } };
    const failed: ExecutionResult = { data: null, errors: [new GraphQLError('secret detail')] };
    expect(a(shared)).toBeUndefined(); // written at once: nothing to wait for
    expect(b(shared)).toBeUndefined();
    expect(a(failed)).toBeUndefined();
    await until(3);
    expect(received).toEqual([
      stringifyMessage({ id: 'a"1', type: MessageType.Next, payload: shared }),
      stringifyMessage({ id: '2', type: MessageType.Next, payload: shared }),
      stringifyMessage({ id: 'a"1', type: MessageType.Next, payload: masked(failed) as unknown as ExecutionResult }),
    ]);
    expect(parseMessage(received[2]!)).toMatchObject({ payload: { errors: [{ message: 'Internal server error' }] } });
  });

  it('keeps the order when a payload is still being written (a large answer, in slices)', async () => {
    const sink = socketSink(socket, '1', (result) => ((result.data as { n: number }).n === 1 ? new Promise<string>((resolve) => setTimeout(() => resolve(JSON.stringify(result)), 20)) : JSON.stringify(result)));
    const first = sink({ data: { n: 1 } });
    expect(first).toBeInstanceOf(Promise);
    await first;
    expect(sink({ data: { n: 2 } })).toBeUndefined();
    await until(2);
    expect(received.map((m) => (JSON.parse(m) as { payload: { data: { n: number } } }).payload.data.n)).toEqual([1, 2]);
  });

  it('holds results back while the client does not read, and carries on in order once it does', async () => {
    const sink = socketSink(socket, '1', text, 64 * 1024);
    const big = (n: number): ExecutionResult => ({ data: { n, pad: 'x'.repeat(16 * 1024) } });
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    let waited: Promise<void> | undefined;
    let sent = 0;
    // Kernel buffers take some megabytes first; then the socket's own queue passes the mark.
    while (!(waited = sink(big(sent++)) ?? undefined)) if (sent > 10_000) throw new Error('never congested');
    let drained = false;
    void waited.then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(drained).toBe(false);
    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    await waited;
    await until(sent);
    expect(received.map((text) => (JSON.parse(text) as { payload: { data: { n: number } } }).payload.data.n)).toEqual(Array.from({ length: sent }, (_, i) => i));
  });

  it('has every subscription of a congested socket wait on one drain listener', async () => {
    const sinks = Array.from({ length: 20 }, (_, i) => socketSink(socket, String(i), text, 64 * 1024));
    const big: ExecutionResult = { data: { pad: 'x'.repeat(16 * 1024) } };
    const raw = (socket as unknown as { _socket: import('node:net').Socket })._socket;
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    let first: Promise<void> | undefined;
    for (let sent = 0; !first; sent++) {
      if (sent > 10_000) throw new Error('never congested');
      first = sinks[0]!(big) ?? undefined;
    }
    const waits = sinks.slice(1).map((sink) => sink(big));
    expect(waits.every((wait) => wait === first)).toBe(true);
    expect(raw.listenerCount('drain')).toBe(1);
    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    await first;
    expect(raw.listenerCount('drain')).toBe(0);
  });

  it('writes nothing once the socket is closing', async () => {
    const sink = socketSink(socket, '1', text);
    socket.close(1000, 'bye');
    expect(sink({ data: { n: 1 } })).toBeUndefined();
    await once(client, 'close');
    expect(received).toEqual([]);
  });
});
