// Issue 14: what `fetchRange` asks of the node and what it accepts back, on anvil through
// the RPC proxy. Logs are asked for exactly the blocks whose headers came back; blocks that
// may still reorg get theirs by block hash, so a node on another branch (a load balancer's,
// or one that flips and flips back) cannot hand a header another block's logs.
import { fetchRange, InconsistentRangeError } from '../../../src/chain/fetch-range.js';
import { Rpc } from '../../../src/chain/rpc.js';
import { startAnvil } from '../../../src/devnet/anvil.js';
import { silentLogger } from '../../../src/log/index.js';
import { startDevnet, TRADERS, type Devnet } from '../../support/devnet.js';
import { askNode, logRange, startRpcProxy, type RpcCall, type RpcProxy } from '../../support/rpc-proxy.js';

const [ALICE] = TRADERS as [`0x${string}`];

describe('fetchRange', () => {
  let net: Devnet;
  let proxy: RpcProxy;
  let rpc: Rpc;
  let venues: string[];
  let tip: number;
  let calls: RpcCall[];
  const anvil = (method: string, params: unknown[] = []) => net.deployment.testClient.request({ method, params } as never) as Promise<unknown>;
  /** The chain (anvil_dumpState) before the last two blocks. */
  let beforeLastTwo: string;
  beforeAll(async () => {
    net = await startDevnet();
    const c = net.venue.call;
    for (let i = 1; i <= 6; i++) {
      if (i === 5) beforeLastTwo = (await anvil('anvil_dumpState')) as string;
      await net.venue.send([c.price('ETH', 2000 + i), c.depositFor(ALICE, 0, i)]);
    }
    tip = Number(await net.deployment.publicClient.getBlockNumber({ cacheTime: 0 }));
    venues = [net.deployment.address.toLowerCase()];
  });
  beforeEach(async () => {
    proxy = await startRpcProxy(net.anvil.rpcUrl);
    calls = [];
    proxy.watch((call) => calls.push(call));
    rpc = new Rpc([proxy.url], silentLogger, { maxBackoffMs: 50 });
  });
  afterEach(async () => {
    await rpc.close();
    await proxy.close();
  });
  afterAll(async () => {
    await net.close();
  });

  const logCalls = () => calls.filter((call) => call.method === 'eth_getLogs');

  it('asks logs for exactly the blocks that exist, when the range reaches beyond the head', async () => {
    const blocks = await fetchRange(rpc, venues, tip - 3, tip + 5, tip);
    expect(blocks.map((b) => b.header.number)).toEqual([tip - 3, tip - 2, tip - 1, tip]);
    expect(blocks.every((b) => b.events.length === 2)).toBe(true);
    expect(logCalls().map(logRange)).toEqual([[tip - 3, tip]]);
    expect(await fetchRange(rpc, venues, tip + 1, tip + 5, tip)).toEqual([]);
  });

  it('asks logs by block hash for the blocks after the last final one, by range before', async () => {
    const blocks = await fetchRange(rpc, venues, tip - 3, tip, tip - 2);
    expect(blocks.every((b) => b.events.length === 2)).toBe(true);
    expect(logCalls().map(logRange).sort()).toEqual([[tip - 3, tip - 2], null, null]);
    // The range call and the batch go out together, and the calls of a batch are answered in any order.
    const byHash = logCalls()
      .map((call) => (call.params[0] as { blockHash?: string }).blockHash)
      .filter((hash) => hash !== undefined);
    expect(byHash.sort()).toEqual(blocks.slice(2).map((b) => b.header.hash).sort());
  });

  it('by block hash, does not take logs from a node on another branch', async () => {
    const expected = await fetchRange(rpc, venues, tip - 3, tip, tip - 4);
    // A second node, behind a load balancer with the first: the same chain up to the last
    // two blocks, then its own two, without venue events.
    const other = await startAnvil();
    try {
      await askNode(other.rpcUrl, { method: 'anvil_loadState', params: [beforeLastTwo] });
      await askNode(other.rpcUrl, { method: 'anvil_mine', params: ['0x2'] });
      // The balancer sends eth_getLogs to it, everything else to the first node.
      const balance = proxy.use((call) => (call.method === 'eth_getLogs' ? askNode(other.rpcUrl, call) : undefined));
      // By range, the other node answers for its own blocks: the last two headers would
      // get no events. That is why only final blocks are asked by range.
      const ranged = await fetchRange(rpc, venues, tip - 3, tip, tip);
      expect(ranged.map((b) => b.events.length)).toEqual([2, 2, 0, 0]);
      // By hash, it cannot answer for blocks it does not have.
      await expect(fetchRange(rpc, venues, tip - 3, tip, tip - 4)).rejects.toThrow(/unknown block/);
      balance();
      expect(await fetchRange(rpc, venues, tip - 3, tip, tip - 4)).toEqual(expected);
    } finally {
      await other.stop();
    }
  });

  it('asks again for a block the node lacks though its head includes it, a few times only', async () => {
    // A node behind the others of a load balancer: the first two answers for the last block are null.
    let nulls = 2;
    const behind = proxy.use((call) => (call.method === 'eth_getBlockByNumber' && Number(call.params[0]) === tip && nulls-- > 0 ? { result: null } : undefined));
    expect((await rpc.headers(tip - 1, tip)).map((h) => h.number)).toEqual([tip - 1, tip]);
    behind();
    // One that never has it: the chain ends before it, as far as this node can tell.
    proxy.use((call) => (call.method === 'eth_getBlockByNumber' && Number(call.params[0]) === tip ? { result: null } : undefined));
    expect((await rpc.headers(tip - 1, tip)).map((h) => h.number)).toEqual([tip - 1]);
  });

  // Last: it reorgs the chain for good.
  it('reports a branch that changed while its logs were asked as an inconsistent range', async () => {
    let reorged = false;
    proxy.use(async (call) => {
      if (call.method !== 'eth_getLogs' || reorged) return undefined;
      reorged = true;
      await anvil('anvil_reorg', [2, []]);
      return undefined;
    });
    await expect(fetchRange(rpc, venues, tip - 3, tip, tip - 4)).rejects.toThrow(InconsistentRangeError);
    expect(reorged).toBe(true);
  });
});
