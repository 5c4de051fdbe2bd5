// Issue 14: reorgs racing the ingester, forced through an RPC proxy that plays a node
// behind the others (it still reports the head from before a rollback).
// 1. Data loss: a range planned with that stale head ends beyond the new branch's head;
//    its logs must not be asked before its headers exist, or blocks mined in between are
//    committed without their events.
// 2. An orphaned tip: after a rollback to a shorter chain the last committed block is gone;
//    the ingester must roll back at once, not wait until the chain grows past it.
import { toHex } from 'viem';
import { expectEqualToFreshIngest, startDevnet, TRADERS, type Devnet } from '../../support/devnet.js';
import { chainHead, cursorOf, hashOf, rollback, until } from '../../support/reorgs.js';
import { blockArg, gate, logRange, startRpcProxy, type RpcProxy } from '../../support/rpc-proxy.js';

const [ALICE, BOB] = TRADERS as [`0x${string}`, `0x${string}`];

async function history(net: Devnet): Promise<void> {
  const c = net.venue.call;
  await net.venue.send([
    c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 60, maxFundingRate: '0.01' }),
    c.price('ETH', 2000),
    c.depositFor(ALICE, 0, 1000),
    c.depositFor(BOB, 0, 1000),
  ]);
  for (let i = 1; i <= 4; i++) await activity(net, i);
}

/** One block with venue events. */
async function activity(net: Devnet, i: number): Promise<number> {
  const c = net.venue.call;
  const { blockNumber } = await net.venue.send([
    c.price('ETH', 2000 + 10 * i),
    c.trade('ETH-PERP', { trader: ALICE, sub: 0, fee: 1 }, { trader: BOB, sub: 0, fee: 1 }, '0.1', 2000 + 10 * i),
  ]);
  return blockNumber;
}

/**
 * Makes the proxy answer eth_blockNumber with `head`, as a node behind the others would
 * (once `after` resolves, if given); the function returned ends it.
 */
function staleHead(proxy: RpcProxy, head: number, after?: Promise<void>): () => void {
  return proxy.use((call) => (call.method === 'eth_blockNumber' ? (after ?? Promise.resolve()).then(() => ({ result: toHex(head) })) : undefined));
}

describe('reorgs racing the ingester', () => {
  let net: Devnet;
  let proxy: RpcProxy;
  beforeEach(async () => {
    net = await startDevnet();
    proxy = await startRpcProxy(net.anvil.rpcUrl);
  });
  afterEach(async () => {
    await net?.close();
    await proxy?.close();
  });

  it('never commits a block without its events when a range outruns a shorter branch', async () => {
    await history(net);
    const following = net.follow({ rpcUrls: [proxy.url] });
    const tip = await chainHead(net);
    await following.reached(tip);

    // The last three blocks are rolled back; the ingester follows to the common ancestor.
    await rollback(net, 3);
    const ancestorHash = await hashOf(net, tip - 3);
    await until('the ingester is back at the common ancestor', async () => (await cursorOf(net))?.hash === ancestorHash);

    // From now on a node behind the others answers the head: still the old one, `tip`. It
    // answers once the new branch's first block exists, so the next range starts with a
    // block that exists and ends two blocks beyond the new branch's head.
    const answerHead = gate();
    const caughtUp = staleHead(proxy, tip, answerHead.promise);
    const first = await activity(net, 10);
    expect(first).toBe(tip - 2);
    const missing = first + 1;
    let askedAbout = false;
    const reacted = proxy.answered((call, answer) => {
      const range = logRange(call);
      // The race: logs asked for a range reaching a block that does not exist yet...
      if (range && range[0] <= missing && missing <= range[1]) return true;
      // ...or the ingester saw the block is missing and asks for the head again.
      if (call.method === 'eth_getBlockByNumber' && blockArg(call) === missing && answer.result === null) askedAbout = true;
      return askedAbout && call.method === 'eth_blockNumber';
    });
    answerHead.open();
    await reacted;
    // Now the rest of the new branch is mined, with events, and the node catches up.
    await activity(net, 11);
    const last = await activity(net, 12);
    expect(last).toBe(tip);
    caughtUp();
    const lastHash = await hashOf(net, last);
    await until('the ingester is at the new tip', async () => (await cursorOf(net))?.hash === lastHash);

    const { rows } = await net.db.pool.query('SELECT number::int, event_count::int FROM block WHERE number >= $1 ORDER BY number', [first]);
    // The new branch's blocks carry the same venue calls: the same number of events each.
    expect(rows.map((r) => r.number)).toEqual([first, first + 1, first + 2]);
    expect(rows[0].event_count).toBeGreaterThan(0);
    expect(rows.map((r) => r.event_count)).toEqual([0, 1, 2].map(() => rows[0].event_count));
    await expectEqualToFreshIngest(net, tip);
  });

  it('rolls back at once when its last block is orphaned by a shorter chain, whatever head a node reports', async () => {
    await history(net);
    const following = net.follow({ rpcUrls: [proxy.url] });
    const tip = await chainHead(net);
    await following.reached(tip);

    const caughtUp = staleHead(proxy, tip);
    await rollback(net, 3);
    const ancestor = tip - 3;
    const ancestorHash = await hashOf(net, ancestor);
    await until('the cursor is back at the common ancestor', async () => (await cursorOf(net))?.hash === ancestorHash);
    const { rows } = await net.db.pool.query('SELECT max(number)::int AS last FROM block');
    expect(rows[0].last).toBe(ancestor);
    expect(await chainHead(net)).toBe(ancestor); // the chain did not grow meanwhile

    caughtUp();
    await expectEqualToFreshIngest(net, ancestor);
  });
});
