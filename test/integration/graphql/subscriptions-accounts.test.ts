// Issue 17 (SPEC section 8): `Subscription.accountUpdated` on a real chain. An account is
// delivered once per committed block in which a value it serves changed: its own events,
// a price move of an underlying it holds, time for an option holder; never for a price it
// does not hold, and an account without positions only for its own events. Each delivery is
// the subscriber's selection at that block: what `Query.account` answers then. After a
// reorg, every watched account is sent once, as of the new branch.
import type { PtsServer } from '../../../src/graphql/server.js';
import { alignedTime, startDevnet, TRADERS, type Devnet, type FollowingIngester } from '../../support/devnet.js';
import { chainHead, cursorOf, hashOf, reorg, until } from '../../support/reorgs.js';
import { Collected, data, sleep, startTestServer, wsClient, type WsClient } from './server-support.js';
import { waitFor } from '../../support/wait.js';

const [ALICE, , CAROL, DAVE, ERIN, FRANK] = TRADERS as [`0x${string}`, `0x${string}`, `0x${string}`, `0x${string}`, `0x${string}`, `0x${string}`];

const FIELDS = 'id collateral equity maintenanceMargin marginState positions { market { id } size value unrealizedPnl theta }';
const UPDATES = `subscription ($owner: String!) { accountUpdated(owner: $owner) { ${FIELDS} } }`;
const ACCOUNT = `query ($owner: String!) { account(owner: $owner) { ${FIELDS} } }`;

describe('accountUpdated on a real chain', () => {
  let net: Devnet;
  let following: FollowingIngester;
  let server: PtsServer;
  let ws: WsClient;
  beforeAll(async () => {
    net = await startDevnet();
    following = net.follow();
    server = await startTestServer(net.db.url);
    ws = wsClient(server.url);
  });
  afterAll(async () => {
    await ws?.dispose();
    await server?.stop();
    await net?.close();
  });

  it('delivers each account once per block that changed what it serves, as Query.account answers at that block', async () => {
    const c = net.venue.call;
    const head = await net.deployment.publicClient.getBlock();
    // Explicit timestamps, 1 s apart, just after an hour: no funding interval ends, no price goes stale.
    const t0 = alignedTime(Number(head.timestamp) + 1, 3600) + 10;
    const terms = { imf: '0.1', mmf: '0.05' };
    await net.venue.send(
      [
        c.listPerpetual('ETH-PERP', 'ETH', { ...terms, fundingInterval: 3600, maxFundingRate: '0.01' }),
        c.listPerpetual('BTC-PERP', 'BTC', { ...terms, fundingInterval: 3600, maxFundingRate: '0.01' }),
        c.listOption('ETH-C-2000', 'ETH', 'CALL', 2000, t0 + 30 * 86_400, terms),
        c.volatility('ETH-C-2000', '0.8'),
        c.price('ETH', 2000),
        c.price('BTC', 40000),
        ...[ALICE, CAROL, DAVE, ERIN].map((t) => c.depositFor(t, 0, 1000)),
        c.depositFor(FRANK, 0, 100_000),
      ],
      { timestamp: t0 },
    );
    const frank = { trader: FRANK, sub: 0 };
    const setup = await net.venue.send(
      [
        c.trade('ETH-PERP', { trader: ALICE, sub: 0 }, frank, 1, 2000), // Alice: ETH only
        c.trade('BTC-PERP', { trader: DAVE, sub: 0 }, frank, '0.1', 40000), // Dave: BTC only
        c.trade('ETH-C-2000', { trader: ERIN, sub: 0 }, frank, 1, 150), // Erin: an ETH option
      ],
      { timestamp: t0 + 1 },
    );
    await following.reached(setup.blockNumber);
    await waitFor(() => server.feed.lastDelivered >= setup.blockNumber, 'the feed');

    const subs = { alice: ALICE, carol: CAROL, dave: DAVE, erin: ERIN };
    const got = Object.fromEntries(Object.entries(subs).map(([name, owner]) => [name, new Collected(ws.client, UPDATES, { owner })])) as Record<keyof typeof subs, Collected>;
    await waitFor(() => server.hub.subscriberCount === 4, 'the subscribers');
    const counts = () => Object.fromEntries(Object.entries(got).map(([name, c]) => [name, c.results.length]));

    /** Waits for `expected` deliveries in all, then checks the newest of each against Query.account now. */
    const settle = async (block: number, expected: Record<string, number>, updated: (keyof typeof subs)[]) => {
      await following.reached(block);
      await waitFor(() => Object.entries(expected).every(([name, n]) => got[name as keyof typeof subs].results.length >= n), `deliveries ${JSON.stringify(expected)}, got ${JSON.stringify(counts())}`);
      for (const name of updated) {
        const now = await data(server.url, ACCOUNT, { owner: subs[name] });
        expect(got[name].data.at(-1)!.accountUpdated).toEqual(now.account);
      }
    };

    // An ETH move: Alice (ETH-PERP) and Erin (an ETH call); not Dave (BTC), not Carol (no position).
    const b1 = await net.venue.send([c.price('ETH', 1900)], { timestamp: t0 + 2 });
    await settle(b1.blockNumber, { alice: 1, erin: 1 }, ['alice', 'erin']);
    expect(got.alice.data[0].accountUpdated.positions[0].unrealizedPnl).toBe('-100');

    // Time alone: only the option holder's values move.
    const b2 = await net.venue.mine({ timestamp: t0 + 3 });
    await settle(b2, { alice: 1, erin: 2 }, ['erin']);
    expect(got.erin.data[1].accountUpdated.positions[0].value).not.toBe(got.erin.data[0].accountUpdated.positions[0].value);

    // A BTC move and Carol's own deposit: Dave and Carol (and Erin, whose option ages).
    const b3 = await net.venue.send([c.price('BTC', 41000), c.depositFor(CAROL, 0, 10)], { timestamp: t0 + 4 });
    await settle(b3.blockNumber, { dave: 1, carol: 1, erin: 3 }, ['dave', 'carol', 'erin']);
    expect(got.carol.data[0].accountUpdated).toMatchObject({ collateral: '1010', positions: [] });

    // Alice's own deposit closes the run; then nothing more may come.
    const b4 = await net.venue.send([c.depositFor(ALICE, 0, 1)], { timestamp: t0 + 5 });
    await settle(b4.blockNumber, { alice: 2, erin: 4 }, ['alice', 'erin']);
    await sleep(300);
    expect(counts()).toEqual({ alice: 2, carol: 1, dave: 1, erin: 4 });

    // A reorg replaces b4 (same number, another branch, Alice's deposit gone): whatever the
    // undone block had changed, every watched account is sent once, as of the new branch.
    await reorg(net, 1, [{ offset: 0, calls: [c.depositFor(DAVE, 0, 5)] }]);
    const tip = await chainHead(net);
    expect(tip).toBe(b4.blockNumber);
    await until('the new branch committed', async () => (await cursorOf(net))?.hash === (await hashOf(net, tip)));
    await settle(tip, { alice: 3, carol: 2, dave: 2, erin: 5 }, ['alice', 'carol', 'dave', 'erin']);
    expect(got.alice.data[2].accountUpdated.collateral).toBe(got.alice.data[0].accountUpdated.collateral); // the deposit undone
    await sleep(300);
    expect(counts()).toEqual({ alice: 3, carol: 2, dave: 2, erin: 5 });
    for (const c of Object.values(got)) c.unsubscribe();
    await waitFor(() => server.hub.subscriberCount === 0, 'unsubscribed');
  });
});
