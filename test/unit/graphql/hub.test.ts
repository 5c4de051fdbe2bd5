// Hub routing: a subscriber with a route gets the events published under it, in order, and
// nothing else (block subscribers get blocks only); unrouted subscribers are offered everything.
import { BLOCKS_ROUTE, Hub, ownerRoute, type HubEvent, type TransitionEvent } from '../../../src/graphql/subscriptions/hub.js';

const block = (n: number): HubEvent => ({ kind: 'block', chainId: 1, blockNumber: n, blockHash: `0x${n}`, blockTimestamp: n, headBlockNumber: n, reorg: null });
const transition = (owner: string, n: number): TransitionEvent => ({
  kind: 'transition',
  owner,
  subaccount: 0,
  transition: { accountId: `${owner}:0`, blockNumber: n, timestamp: n, from: 'HEALTHY', to: 'MARGIN_CALL', equity: 1n, initialMargin: 2n, maintenanceMargin: 1n },
});

async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push((await iterator.next()).value as T);
  return out;
}

describe('hub routes', () => {
  it('delivers routed events to their route only, in publish order, beside unrouted subscribers', async () => {
    const hub = new Hub({ bufferSize: 100 });
    const all = hub.subscribe('any', (e) => e);
    const alice = hub.subscribe('alice', (e) => (e.kind === 'transition' ? e.transition.blockNumber : undefined), { route: ownerRoute('0xa') });
    const bob = hub.subscribe('bob', (e) => (e.kind === 'transition' ? e.transition.blockNumber : undefined), { route: ownerRoute('0xb') });
    const asked: string[] = [];
    const blocks = hub.subscribe('blocks', (e) => (asked.push(e.kind), e.kind === 'block' ? e.blockNumber : undefined), { route: BLOCKS_ROUTE });
    expect(hub.subscriberCount).toBe(4);
    for (const event of [block(1), transition('0xa', 1), transition('0xb', 1), block(2), transition('0xa', 2), transition('0xc', 2)]) await hub.publish(event);
    expect(await take(alice, 2)).toEqual([1, 2]);
    expect(await take(bob, 1)).toEqual([1]);
    expect(await take(blocks, 2)).toEqual([1, 2]);
    expect(asked).toEqual(['block', 'block']); // never asked about a transition
    expect((await take(all, 6)).map((e) => (e.kind === 'block' ? `b${e.blockNumber}` : e.kind === 'transition' ? `${e.owner}@${e.transition.blockNumber}` : e.accountId))).toEqual([
      'b1', '0xa@1', '0xb@1', 'b2', '0xa@2', '0xc@2',
    ]);
    await alice.return();
    await blocks.return();
    expect(hub.subscriberCount).toBe(2);
    await hub.publish(transition('0xa', 3));
    hub.close();
    expect(hub.subscriberCount).toBe(0);
    expect(await bob.next()).toEqual({ value: undefined, done: true });
  });
});

describe('a publication to many subscribers', () => {
  it("goes on in turns of the event loop once the process's slice is spent, each subscriber offered once, in order", async () => {
    const hub = new Hub({ bufferSize: 10 });
    const got: string[] = [];
    let turned = false;
    const subscribe = (name: string) => {
      const sub = hub.subscribe(name, (e) => (e.kind === 'block' ? e.blockNumber : undefined), { route: BLOCKS_ROUTE });
      sub.consume((n) => {
        got.push(`${name}@${n}${turned ? ' after a turn' : ''}`);
        const until = performance.now() + 1; // a delivery that takes a millisecond (its execution and write)
        while (performance.now() < until);
      });
      return sub;
    };
    const subs = Array.from({ length: 64 }, (_, i) => subscribe(`s${i}`));
    setImmediate(() => {
      turned = true;
      // Mid-publication: one that ends takes nothing more, one that subscribes starts with the next event.
      void subs[63]!.return();
      subscribe('late');
    });
    const publication = hub.publish(block(1));
    expect(publication).toBeInstanceOf(Promise); // 64 ms of deliveries: more than a 10 ms slice
    expect(got.length).toBeLessThan(64);
    await publication;
    await hub.publish(block(2));
    const first = got.filter((g) => g.includes('@1'));
    expect(first.map((g) => g.split('@')[0])).toEqual(Array.from({ length: 63 }, (_, i) => `s${i}`));
    expect(first.some((g) => g.endsWith('after a turn'))).toBe(true);
    expect(got.filter((g) => g.includes('@2')).map((g) => g.split('@')[0])).toEqual([...Array.from({ length: 63 }, (_, i) => `s${i}`), 'late']);
    hub.close();
  });
});

describe('a subscriber consumed by a sink', () => {
  const numbers = (hub: Hub, bufferSize?: number, onOverflow?: (message: string) => void) =>
    hub.subscribe('blocks', (e) => (e.kind === 'block' ? e.blockNumber : undefined), {
      ...(bufferSize !== undefined ? { bufferSize } : {}),
      ...(onOverflow ? { onOverflow } : {}),
    });

  it('takes each event synchronously as it is published, those buffered before first', async () => {
    const hub = new Hub({ bufferSize: 10 });
    const sub = numbers(hub);
    hub.publish(block(1));
    const got: number[] = [];
    sub.consume((n) => void got.push(n));
    expect(got).toEqual([1]);
    expect(hub.publish(block(2))).toBeUndefined(); // no buffer filled: publication did not wait
    expect(got).toEqual([1, 2]);
  });

  it('holds events back in order while the sink is busy, and hands them on once it settles', async () => {
    const hub = new Hub({ bufferSize: 10 });
    const sub = numbers(hub);
    const got: number[] = [];
    let release = () => {};
    sub.consume((n) => {
      got.push(n);
      if (n === 1) return new Promise<void>((resolve) => (release = resolve));
    });
    for (let n = 1; n <= 4; n++) hub.publish(block(n));
    expect(got).toEqual([1]);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toEqual([1, 2, 3, 4]);
  });

  it('overflows while its sink stays busy: cut off, its next() rejects with the reason, the others carry on', async () => {
    const hub = new Hub({ bufferSize: 2, graceMs: 20 });
    const overflowed: string[] = [];
    const stuck = numbers(hub, undefined, (message) => overflowed.push(message));
    stuck.consume(() => new Promise<void>(() => {}));
    const steady = numbers(hub);
    const got: number[] = [];
    steady.consume((n) => void got.push(n));
    const ended = stuck.next();
    for (let n = 1; n <= 5; n++) await hub.publish(block(n));
    expect(overflowed).toEqual(['subscriber too slow: buffer of 2 events overflowed']);
    await expect(ended).rejects.toMatchObject({ extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(hub.subscriberCount).toBe(1);
  });

  it('ends with the error of a sink that throws or rejects', async () => {
    const hub = new Hub({ bufferSize: 10 });
    const throwing = numbers(hub);
    throwing.consume(() => {
      throw new Error('sink broke');
    });
    const rejecting = numbers(hub);
    rejecting.consume(() => Promise.reject(new Error('write failed')));
    const [a, b] = [throwing.next(), rejecting.next()];
    hub.publish(block(1));
    await expect(a).rejects.toThrow('sink broke');
    await expect(b).rejects.toThrow('write failed');
    expect(hub.subscriberCount).toBe(0);
  });

  it('yields no value from next(), which settles done on return()', async () => {
    const hub = new Hub({ bufferSize: 10 });
    const sub = numbers(hub);
    const got: number[] = [];
    sub.consume((n) => void got.push(n));
    const ended = sub.next();
    hub.publish(block(1));
    await sub.return();
    hub.publish(block(2));
    expect(await ended).toEqual({ value: undefined, done: true });
    expect(got).toEqual([1]);
    expect(() => sub.consume(() => undefined)).toThrow('one consumer');
  });
});
