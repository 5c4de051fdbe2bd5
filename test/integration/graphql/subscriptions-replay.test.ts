// Issue 17 (SPEC section 8): `blockCommitted(afterBlock)` and `marginStateChanged(afterBlock)`
// replay stored history and continue live with no gap and no repeat. Blocks are committed
// here as the ledger store commits them (committed-blocks.ts); the replay is held between
// reading a chunk and handing it on (the server's test hook) while blocks commit, or while a
// reorg replaces blocks already replayed, so each race happens every run.
import type { PtsServer } from '../../../src/graphql/server.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { commitBlocks, hashOf, OWNER, range, rollBack, type Block } from './committed-blocks.js';
import { Collected, sleep, startTestServer, wsClient, type WsClient } from './server-support.js';
import { waitFor } from '../../support/wait.js';

const BLOCKS = `subscription ($after: SafeInt) { blockCommitted(afterBlock: $after) { blockNumber blockHash reorg { depth commonAncestor } } }`;
const TRANSITIONS = `subscription ($after: SafeInt, $owner: String) { marginStateChanged(owner: $owner, afterBlock: $after) { blockNumber to } }`;

interface Got {
  blockCommitted: { blockNumber: number; blockHash: string; reorg: { depth: number; commonAncestor: number } | null };
}

/** Holds every replay chunk read after block `from` (before it is handed on) until released. */
class Gate {
  private held = 0;
  private reached!: () => void;
  /** Resolves once `count` reads are held. */
  readonly arrived: Promise<void>;
  private opened!: () => void;
  private readonly open = new Promise<void>((resolve) => (this.opened = resolve));

  constructor(private readonly from: number, count = 1) {
    this.arrived = new Promise<void>((resolve) => (this.reached = () => ++this.held === count && resolve()));
  }

  /** The server's hook (`replay.onChunkRead`). */
  readonly hook = async ({ after }: { after: number }) => {
    if (after < this.from) return;
    this.reached();
    await this.open;
  };

  release(): void {
    this.opened();
  }
}

/** The canonical chain a client ends up with from what it received: a reorg drops what follows its ancestor. */
function chainOf(events: Got[]): string[] {
  const chain: { number: number; hash: string }[] = [];
  for (const { blockCommitted: b } of events) {
    if (b.reorg) {
      while (chain.length > 0 && chain.at(-1)!.number > b.reorg.commonAncestor) chain.pop();
    }
    if (chain.length > 0) expect(b.blockNumber).toBe(chain.at(-1)!.number + 1); // no gap, no repeat
    chain.push({ number: b.blockNumber, hash: b.blockHash });
  }
  return chain.map((b) => b.hash);
}

const hashes = (blocks: Block[]) => blocks.map(hashOf);

describe('afterBlock: replay, then live', () => {
  let db: TestDatabase;
  let server: PtsServer | undefined;
  let ws: WsClient | undefined;
  beforeEach(async () => {
    db = await createTestDatabase();
    // Stored history starts at block 3 (as after PTS_START_BLOCK=3); transitions in 4 and 6.
    await commitBlocks(db.pool, [
      { number: 3 },
      { number: 4, transitions: [{ subaccount: 0, to: 'MARGIN_CALL' }, { subaccount: 1, to: 'LIQUIDATABLE' }] },
      { number: 5 },
      { number: 6, transitions: [{ subaccount: 0, to: 'HEALTHY' }] },
    ]);
  });
  afterEach(async () => {
    await ws?.dispose();
    await server?.stop();
    await db.drop();
    ws = server = undefined;
  });

  async function start(gate?: Gate, overrides: Parameters<typeof startTestServer>[1] = {}): Promise<{ server: PtsServer; ws: WsClient }> {
    server = await startTestServer(db.url, overrides, { replay: { chunkBlocks: 2, ...(gate ? { onChunkRead: gate.hook } : {}) } });
    await waitFor(() => server!.feed.lastDelivered === 6, 'the feed at the cursor');
    ws = wsClient(server.url);
    return { server, ws };
  }

  it('replays the stored blocks and transitions after afterBlock, then live ones, while blocks commit between a chunk and the hand-over', async () => {
    // Held once blocks after 4 are read: the block replay has handed on 3-4, the transition one 4-5.
    const gate = new Gate(4, 2);
    const { server, ws } = await start(gate);
    const blocks = new Collected<Got>(ws.client, BLOCKS, { after: 2 });
    const transitions = new Collected(ws.client, TRANSITIONS, { after: 3, owner: OWNER });
    await gate.arrived;
    await commitBlocks(db.pool, [{ number: 7, transitions: [{ subaccount: 2, to: 'BANKRUPT' }] }]);
    await commitBlocks(db.pool, range(8, 9));
    await waitFor(() => server.feed.lastDelivered === 9, 'the feed to publish 7-9 while the replay is held');
    gate.release();
    await blocks.until((b) => b.results.length >= 7);
    await commitBlocks(db.pool, [{ number: 10, transitions: [{ subaccount: 0, to: 'MARGIN_CALL' }] }]);
    await blocks.until((b) => b.results.length >= 8);
    await transitions.until((t) => t.results.length >= 5);
    await sleep(200); // nothing more may come

    expect(blocks.data.map((b) => b.blockCommitted.blockNumber)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(chainOf(blocks.data)).toEqual(hashes(range(3, 10)));
    expect(transitions.data.map((t) => `${t.marginStateChanged.blockNumber}:${t.marginStateChanged.to}`)).toEqual([
      '4:MARGIN_CALL', '4:LIQUIDATABLE', '6:HEALTHY', '7:BANKRUPT', '10:MARGIN_CALL',
    ]);
  });

  it('ends with exactly the canonical chain when a reorg replaces replayed blocks during the replay', async () => {
    const gate = new Gate(4); // 3-4 handed on; 5-6 read, held
    const { server, ws } = await start(gate);
    const blocks = new Collected<Got>(ws.client, BLOCKS, { after: 2 });
    await gate.arrived;
    await rollBack(db.pool, 3); // block 4 (replayed already) and 5-6 are undone...
    await commitBlocks(db.pool, range(4, 7, 'b'), { reorg: { depth: 3, commonAncestor: 3 } }); // ...and replaced
    await waitFor(() => server.feed.lastDelivered === 7 && server.feed.hashAt(7) === '0xb7', 'the feed on the new branch');
    gate.release();
    await blocks.until((b) => b.results.some((r) => r.data?.blockCommitted.blockNumber === 7));
    await commitBlocks(db.pool, range(8, 8, 'b'));
    await blocks.until((b) => b.results.some((r) => r.data?.blockCommitted.blockNumber === 8));
    await sleep(200);

    const got = blocks.data.map((b) => b.blockCommitted);
    expect(got.map((b) => b.blockHash)).toEqual(['0xa3', '0xa4', '0xb4', '0xb5', '0xb6', '0xb7', '0xb8']);
    expect(got[2]!.reorg).toEqual({ depth: 1, commonAncestor: 3 }); // what this client had seen of the old branch
    expect(got.filter((b) => b.reorg)).toHaveLength(1);
    expect(chainOf(blocks.data)).toEqual(['0xa3', ...hashes(range(4, 8, 'b'))]);
  });

  it('answers the same from two API processes on one database', async () => {
    const { ws } = await start();
    const other = await startTestServer(db.url, {}, { replay: { chunkBlocks: 3 } });
    const otherWs = wsClient(other.url);
    try {
      await waitFor(() => other.feed.lastDelivered === 6, 'the second feed');
      const here = new Collected<Got>(ws.client, BLOCKS, { after: 4 });
      const there = new Collected<Got>(otherWs.client, BLOCKS, { after: 4 });
      const hereT = new Collected(ws.client, TRANSITIONS, { after: 2 });
      const thereT = new Collected(otherWs.client, TRANSITIONS, { after: 2 });
      await commitBlocks(db.pool, [{ number: 7, transitions: [{ subaccount: 1, to: 'HEALTHY' }] }]);
      await commitBlocks(db.pool, range(8, 9));
      for (const c of [here, there]) await c.until((b) => b.results.length >= 5);
      for (const c of [hereT, thereT]) await c.until((t) => t.results.length >= 4);
      await sleep(200);
      expect(here.data.map((b) => b.blockCommitted.blockNumber)).toEqual([5, 6, 7, 8, 9]);
      expect(there.data).toEqual(here.data);
      expect(hereT.data.map((t) => t.marginStateChanged.blockNumber)).toEqual([4, 4, 6, 7]);
      expect(thereT.data).toEqual(hereT.data);
    } finally {
      await otherWs.dispose();
      await other.stop();
    }
  });

  it('refuses an afterBlock that is negative, after the last committed block, or older than the stored history', async () => {
    const { ws } = await start();
    const cases: [number, string][] = [
      [-1, 'afterBlock must be a block number (0 or more), got -1'],
      [7, 'afterBlock 7 is after the last committed block (6)'],
      [1, 'afterBlock 1 is older than the stored history: the first stored block is 3; subscribe with afterBlock >= 2'],
    ];
    for (const [after, message] of cases) {
      for (const query of [BLOCKS, TRANSITIONS]) {
        const sub = new Collected(ws.client, query, { after });
        await sub.until((s) => s.error !== undefined || s.results.length > 0);
        expect(sub.results[0]?.errors ?? sub.error).toEqual([expect.objectContaining({ message, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
      }
    }
    // The earliest allowed one replays everything stored; the latest, nothing.
    const all = new Collected<Got>(ws.client, BLOCKS, { after: 2 });
    const none = new Collected<Got>(ws.client, BLOCKS, { after: 6 });
    await all.until((s) => s.results.length >= 4);
    await commitBlocks(db.pool, range(7, 7));
    await none.until((s) => s.results.length >= 1);
    await all.until((s) => s.results.length >= 5);
    expect(all.data.map((b) => b.blockCommitted.blockNumber)).toEqual([3, 4, 5, 6, 7]);
    expect(none.data.map((b) => b.blockCommitted.blockNumber)).toEqual([7]);
  });

  it('counts replaying subscriptions against the per-connection cap', async () => {
    const { ws } = await start(undefined, { maxSubscriptionsPerConnection: 2 });
    const subs = [new Collected<Got>(ws.client, BLOCKS, { after: 4 }), new Collected(ws.client, TRANSITIONS, { after: 2 }), new Collected<Got>(ws.client, BLOCKS, { after: 2 })];
    await subs[2]!.until((s) => s.error !== undefined);
    expect(subs[2]!.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'subscriptions' }) })]);
    await subs[0]!.until((s) => s.results.length >= 2);
    expect(subs[0]!.data.map((b) => b.blockCommitted.blockNumber)).toEqual([5, 6]);
  });
});
