// The WebSocket server's accept pacing (src/graphql/ws/server.ts): at most `perTurn`
// upgrades per turn of the event loop, the rest in arrival order on the next turns; a
// socket that closed while waiting is skipped.
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { UpgradeTurns } from '../../../src/graphql/ws/server.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(readonly name: string) {
    super();
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

describe('UpgradeTurns', () => {
  it('takes at most perTurn upgrades per turn of the event loop, in arrival order, skipping sockets that closed while waiting', async () => {
    const opened: string[] = [];
    const turns = new UpgradeTurns(2, (_request, socket) => void opened.push((socket as unknown as FakeSocket).name));
    const sockets = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => new FakeSocket(n));
    for (const s of sockets) turns.add({} as http.IncomingMessage, s as unknown as Duplex, Buffer.alloc(0));
    expect(opened).toEqual(['a', 'b']);
    sockets[2]!.emit('error', new Error('reset while waiting')); // c: destroyed by its waiting listener
    expect(sockets[2]!.destroyed).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened).toEqual(['a', 'b', 'd', 'e']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened).toEqual(['a', 'b', 'd', 'e', 'f']);
    expect(sockets[5]!.listenerCount('error')).toBe(0); // handed over without the waiting listener
    // A new turn: the next ones go at once again.
    await new Promise((resolve) => setImmediate(resolve));
    const late = new FakeSocket('g');
    turns.add({} as http.IncomingMessage, late as unknown as Duplex, Buffer.alloc(0));
    expect(opened.at(-1)).toBe('g');
  });
});
