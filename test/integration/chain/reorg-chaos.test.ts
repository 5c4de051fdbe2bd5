// Issue 14: random reorgs (anvil_reorg, same height) and rollbacks (a shorter chain) of
// depth 1-20, interleaved with venue activity, while an ingester follows through an RPC
// proxy that delays answers at random and at times reports the head from before the last
// rollback (a node behind the others). The end state must equal a fresh ingest.
// The seed is in the test's name; PTS_CHAOS_SEED=<seed> replays its sequence of changes
// (the interleaving with the ingester depends on timing too).
import { toHex, type Hex } from 'viem';
import { expectEqualToFreshIngest, startDevnet, TRADERS, type Devnet } from '../../support/devnet.js';
import { caughtUp, chainHead, reorg, rollback } from '../../support/reorgs.js';
import { startRpcProxy, type RpcProxy } from '../../support/rpc-proxy.js';
import { random } from '../../../src/devnet/workload.js';

const SEED = Number(process.env.PTS_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = 50;
const [ALICE, BOB, CAROL] = TRADERS as [`0x${string}`, `0x${string}`, `0x${string}`];


describe('random reorgs while following', () => {
  let net: Devnet;
  let proxy: RpcProxy;
  afterEach(async () => {
    await net?.close();
    await proxy?.close();
  });

  it(`ends equal to a fresh ingest (seed ${SEED})`, async () => {
    const rand = random(SEED);
    const int = (low: number, high: number) => low + Math.floor(rand() * (high - low + 1));
    net = await startDevnet();
    proxy = await startRpcProxy(net.anvil.rpcUrl);
    const c = net.venue.call;
    const traders = [ALICE, BOB, CAROL];
    /** Venue calls of one random block. */
    const calls = (): Hex[] => {
      const [buyer, seller] = int(0, 1) ? [traders[int(0, 2)]!, ALICE] : [BOB, traders[int(0, 2)]!];
      const price = 1900 + int(0, 200);
      return [
        c.price('ETH', price),
        ...(buyer === seller ? [] : [c.trade('ETH-PERP', { trader: buyer, sub: 0, fee: 1 }, { trader: seller, sub: 0, fee: 1 }, `0.${int(1, 9)}`, price)]),
        ...(rand() < 0.3 ? [c.depositFor(traders[int(0, 2)]!, 0, int(1, 50))] : []),
      ];
    };
    await net.venue.send([
      c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 60, maxFundingRate: '0.01' }),
      c.price('ETH', 2000),
      ...traders.map((t) => c.depositFor(t, 0, 500)),
    ]);
    // Rollbacks and reorgs stay above the setup (the venue and its market).
    const base = await chainHead(net);

    // Each answer waits 0-25 ms; after a rollback, a node behind answers a quarter of the
    // head requests with the head from before it, until the chain is that long again.
    let staleHead: number | null = null;
    proxy.use(async (call) => {
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 25)));
      if (call.method !== 'eth_blockNumber' || staleHead === null || Math.random() >= 0.25) return undefined;
      return { result: toHex(staleHead) };
    });
    const following = net.follow({ rpcUrls: [proxy.url] });
    for (let i = 0; i < 5; i++) await net.venue.send(calls());

    const done: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) await change();
      staleHead = null;
      await net.venue.send(calls());
      const tip = await caughtUp(net);
      expect(following.failure).toBeUndefined();
      await expectEqualToFreshIngest(net, tip);
    } catch (error) {
      throw new Error(`seed ${SEED}, after: ${done.join('; ')}\n${(error as Error).message}`);
    }

    async function change(): Promise<void> {
      const head = await chainHead(net);
      if (staleHead !== null && head >= staleHead) staleHead = null;
      const depth = int(1, Math.min(20, head - base));
      const action = head > base ? rand() : 0;
      if (action < 0.4) {
        const blocks = int(1, 3);
        for (let i = 0; i < blocks; i++) await net.venue.send(calls());
        done.push(`mine ${blocks}`);
      } else if (action < 0.7) {
        const offsets = [...new Set(Array.from({ length: int(0, Math.min(depth, 3)) }, () => int(0, depth - 1)))];
        await reorg(net, depth, offsets.map((offset) => ({ offset, calls: calls() })));
        done.push(`reorg ${depth} (${offsets.length} with events)`);
      } else {
        await rollback(net, depth);
        staleHead = Math.max(staleHead ?? 0, head);
        const blocks = int(0, 2);
        for (let i = 0; i < blocks; i++) await net.venue.send(calls());
        done.push(`rollback ${depth} + mine ${blocks}`);
      }
      // Half the time the next change races the ingester; otherwise it catches up first.
      if (rand() < 0.5) await caughtUp(net);
    }
  }, 60_000);
});
