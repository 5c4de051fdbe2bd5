// A ws server with one connected client on loopback: the server side's socket is what
// the code under test writes to, the client reads what arrives.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface WsPair {
  /** The server's side of the connection. */
  socket: WebSocket;
  client: WebSocket;
  close(): Promise<void>;
}

export async function wsPair(options: { perMessageDeflate?: boolean } = {}): Promise<WsPair> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(server, 'listening');
  const connected = once(server, 'connection');
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, options);
  const [socket] = (await connected) as [WebSocket];
  await once(client, 'open');
  return {
    socket,
    client,
    close: async () => {
      client.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
