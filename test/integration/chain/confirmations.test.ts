// SPEC section 5: the ingester processes up to head - PTS_CONFIRMATIONS, never further.
import { startDevnet, type Devnet } from '../../support/devnet.js';

describe('confirmations', () => {
  let net: Devnet;
  beforeAll(async () => {
    net = await startDevnet();
  });
  afterAll(async () => {
    await net?.close();
  });

  it('stays PTS_CONFIRMATIONS blocks behind the head', async () => {
    const following = net.follow({ confirmations: 3 });
    let head = 0;
    for (let i = 0; i < 6; i++) head = await net.venue.mine();
    await following.reached(head - 3);
    // Give it time to overshoot if it were going to.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(following.ingester.lastBlock).toBe(head - 3);
    const cursor = await net.db.pool.query('SELECT block_number::int AS n FROM cursor');
    expect(cursor.rows[0].n).toBe(head - 3);

    head = await net.venue.mine();
    await following.reached(head - 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(following.ingester.lastBlock).toBe(head - 3);
  });
});
