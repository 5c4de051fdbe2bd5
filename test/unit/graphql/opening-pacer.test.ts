// The WebSocket server's accept pacing (src/graphql/ws/server.ts): at most `max` upgrades
// in progress, the rest in arrival order; a slot comes back when its connection is done
// opening or its socket closes; a socket that closed while waiting is skipped.
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { OpeningPacer } from '../../../src/graphql/ws/server.js';

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

describe('OpeningPacer', () => {
  it('opens at most max at a time, in arrival order, and skips sockets that closed while waiting', () => {
    const opened: string[] = [];
    const done = new Map<string, () => void>();
    const pacer = new OpeningPacer(2, (_request, socket, _head, finished) => {
      const name = (socket as unknown as FakeSocket).name;
      opened.push(name);
      done.set(name, finished);
    });
    const sockets = ['a', 'b', 'c', 'd', 'e'].map((n) => new FakeSocket(n));
    for (const s of sockets) pacer.add({} as http.IncomingMessage, s as unknown as Duplex, Buffer.alloc(0));
    expect(opened).toEqual(['a', 'b']);

    sockets[2]!.emit('error', new Error('reset while waiting')); // c: destroyed by its error listener
    expect(sockets[2]!.destroyed).toBe(true);
    done.get('a')!(); // a sent connection_init
    expect(opened).toEqual(['a', 'b', 'd']);
    done.get('a')!(); // twice counts once
    expect(opened).toEqual(['a', 'b', 'd']);
    sockets[1]!.destroy(); // b closed before connection_init: its slot comes back too
    expect(opened).toEqual(['a', 'b', 'd', 'e']);
    expect(sockets[4]!.listenerCount('error')).toBe(0); // handed over without the waiting listener
  });
});
