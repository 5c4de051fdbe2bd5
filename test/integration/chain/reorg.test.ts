// Issue 3: reorgs on a real chain. After anvil_reorg replaces the last blocks with
// different fills and prices, the database equals a fresh ingest of the final chain,
// table by table; a reorg deeper than the kept history stops ingestion cleanly.
import { ReorgTooDeepError } from '../../../src/db/store/ledger-store.js';
import { expectEqualToFreshIngest, startDevnet, TRADERS, type Devnet } from '../../support/devnet.js';
import { reorg } from '../../support/reorgs.js';
import { snapshotTables } from '../../support/snapshot.js';

const [ALICE, BOB] = TRADERS as [`0x${string}`, `0x${string}`];

async function history(net: Devnet): Promise<void> {
  const c = net.venue.call;
  await net.venue.send([
    c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 60, maxFundingRate: '0.01' }),
    c.price('ETH', 2000),
    c.depositFor(ALICE, 0, 300),
    c.depositFor(BOB, 0, 5000),
  ]);
  await net.venue.send([c.trade('ETH-PERP', { trader: ALICE, sub: 0, fee: 1 }, { trader: BOB, sub: 0, fee: 1 }, 1, 2010)]);
  await net.venue.send([c.price('ETH', 1990)]);
  await net.venue.send([c.trade('ETH-PERP', { trader: ALICE, sub: 0 }, { trader: BOB, sub: 0 }, 1, 1995)]);
  await net.venue.send([c.price('ETH', 1900)]); // Alice, 2 long with 298: MARGIN_CALL
  await net.venue.send([c.depositFor(ALICE, 0, 50)]);
}

async function latest(net: Devnet) {
  return net.deployment.publicClient.getBlock({ blockTag: 'latest' });
}

describe('reorgs', () => {
  let net: Devnet;
  beforeEach(async () => {
    net = await startDevnet();
  });
  afterEach(async () => {
    await net?.close();
  });

  it('rolls back to the common ancestor and re-applies the new branch: equal to a fresh ingest', async () => {
    const following = net.follow();
    await history(net);
    const before = await latest(net);
    await following.reached(Number(before.number));
    const transitionsBefore = await net.db.prisma.marginTransition.count();
    expect(transitionsBefore).toBeGreaterThan(0);

    const c = net.venue.call;
    // The last three blocks become: Alice sells instead, a different price, Bob deposits.
    await reorg(net, 3, [
      { offset: 0, calls: [c.trade('ETH-PERP', { trader: BOB, sub: 0 }, { trader: ALICE, sub: 0 }, '0.5', 1980)] },
      { offset: 1, calls: [c.price('ETH', 2100), c.fill('ETH-PERP', BOB, 1, '0.25', 2100)] },
      { offset: 2, calls: [c.depositFor(BOB, 0, 1)] },
    ]);
    const after = await latest(net);
    expect(after.number).toBe(before.number);
    expect(after.hash).not.toBe(before.hash);
    // Same height: the ingester notices at the tip. Then the chain grows on the new branch.
    await net.venue.send([c.price('ETH', 2050)]);
    const tip = await latest(net);
    await following.reached(Number(tip.number));
    const cursor = await net.db.prisma.cursor.findFirstOrThrow();
    expect(cursor.blockHash).toBe(tip.hash.toLowerCase());

    await expectEqualToFreshIngest(net, Number(tip.number));
    // Undo logs of the undone branch are gone with it.
    const undo = await net.db.pool.query('SELECT max(block_number)::int AS last FROM undo_log');
    expect(undo.rows[0].last).toBe(Number(tip.number));
  });

  it('stops with a clear error, changing nothing, when the reorg is deeper than the kept history', async () => {
    const following = net.follow({ reorgDepth: 2 });
    await history(net);
    const before = await latest(net);
    await following.reached(Number(before.number));
    // Blocks older than head - 2 were written without undo logs; pruning keeps the newest.
    const snapshot = await snapshotTables(net.db.pool);
    await reorg(net, 5, [{ offset: 0, calls: [net.venue.call.price('ETH', 1)] }]);
    await net.venue.send([net.venue.call.price('ETH', 1)]);
    const error = await waitForFailure(following);
    expect(error).toBeInstanceOf(ReorgTooDeepError);
    expect((error as Error).message).toMatch(/deeper than the kept history/);
    expect(await snapshotTables(net.db.pool)).toEqual(snapshot);
  });
});

/** The ingester's run() rejection. */
async function waitForFailure(ingester: { failure?: unknown }): Promise<unknown> {
  const deadline = Date.now() + 20_000;
  while (!ingester.failure) {
    if (Date.now() > deadline) throw new Error('the ingester kept running');
    await new Promise((r) => setTimeout(r, 20));
  }
  return ingester.failure;
}
