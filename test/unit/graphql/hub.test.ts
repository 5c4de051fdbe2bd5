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
    expect((await take(all, 6)).map((e) => (e.kind === 'block' ? `b${e.blockNumber}` : `${e.owner}@${e.transition.blockNumber}`))).toEqual([
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
