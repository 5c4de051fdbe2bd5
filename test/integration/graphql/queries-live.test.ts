// A live chain through a real server: after each committed block (a few accounts changed,
// prices moved) the server's answer, served through its block cache (which keeps the rows
// of the accounts a commit did not change), equals what an uncached request computes.
import { buildSchema } from '../../../src/graphql/schema.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ALICE, BOB, CAROL, ORACLE_1, ORACLE_2, ev, type EventDraft } from '../../support/ledger.js';
import { commit, data as uncached, DAVE, ERIN, scenario } from './queries-fixture.js';
import { data, startTestServer } from './server-support.js';

const OWNERS = [ALICE, BOB, CAROL, DAVE, ERIN];
const QUERY = `{
  meta { blockNumber }
  ${OWNERS.map((owner, i) => `a${i}: account(owner: "${owner}") { collateral marginState equity maintenanceMargin marginRatio
    positions { size entryPrice realizedPnl unrealizedPnl settledFunding accruedFunding markPrice liquidationPrice } }`).join('\n  ')}
}`;

describe('queries on a live chain', () => {
  let db: TestDatabase;
  let server: Awaited<ReturnType<typeof startTestServer>> | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('answers every block as an uncached request would', async () => {
    const chain = scenario();
    await commit(db.pool, chain);
    server = await startTestServer(db.url);
    const schema = buildSchema();
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    let eth = 3100;
    for (let i = 0; i < 12; i++) {
      eth = Math.round(eth * (0.97 + 0.06 * random()));
      const events: EventDraft[] = [ev.price('ETH', eth, ORACLE_1), ev.price('ETH', eth, ORACLE_2)];
      const owner = OWNERS[Math.floor(random() * OWNERS.length)]!;
      if (random() < 0.5) events.push(ev.deposit(owner, 10 + Math.floor(random() * 50)));
      else events.push(ev.fill('ETH-PERP', owner, random() < 0.5 ? 1 : -1, eth));
      chain.block(1100 + 20 * i, events);
      await commit(db.pool, chain, chain.history.length - 1);
      const number = chain.history.at(-1)!.block.number;
      let answer = await data(server.url, QUERY);
      for (let tries = 0; answer.meta.blockNumber !== number && tries < 200; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        answer = await data(server.url, QUERY);
      }
      expect(answer).toEqual(await uncached(schema, db.pool, QUERY));
    }
  });
});
