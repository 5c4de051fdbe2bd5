// The risk engine (src/graphql/risk-engine) only picks the accounts that can be on a page;
// the page itself is ordered and served by SQL. So every risk-ordered page, with every
// filter, paged to the end, must be the same with the engine as without it, block after
// block while prices, volatilities, funding and books move, with ties, zero and negative
// equity, equity tiny against exposure, and markets never priced. And it must actually
// pick few: a first page of 10 costs about 10 candidates, not every account.
import { blocksCommitted, LedgerStore } from '../../../src/db/store/ledger-store.js';
import { RiskEngine } from '../../../src/graphql/risk-engine/engine.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { silentLogger } from '../../../src/log/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { LedgerChain, ORACLE_1, ev, type EventDraft } from '../../support/ledger.js';
import { random } from '../../support/operation-generator.js';
import { data, PARAMS, YEAR } from './queries-fixture.js';

const ORDERS = ['EQUITY_ASC', 'EQUITY_DESC', 'NOTIONAL_DESC', 'NOTIONAL_ASC', 'MARGIN_RATIO_DESC', 'MARGIN_RATIO_ASC', 'RISK_DESC'] as const;
const owner = (i: number) => `0x${(0xb000 + i).toString(16).padStart(40, '0')}`;

function blocks(seed: number): { time: number; events: EventDraft[] }[] {
  const next = random(seed);
  const int = (n: number) => Math.floor(next() * n);
  const accounts = 160;
  const list: { time: number; events: EventDraft[] }[] = [];
  list.push({
    time: 1000,
    events: [
      ev.perp('ETH-PERP', 'ETH', { interval: 60, maxRate: '0.01' }),
      ev.perp('BTC-PERP', 'BTC', { imf: '0.2', mmf: '0.1' }),
      ev.option('ETH-C', 'ETH', 'CALL', 3000, 1000 + YEAR / 4),
      ev.option('ETH-P', 'ETH', 'PUT', 2800, 1000 + YEAR / 2),
      ev.perp('SOL-PERP', 'SOL'), // never priced: marked at entry
      ev.price('ETH', 3000), ev.price('BTC', 100), ev.vol('ETH-C', '0.6'),
      ...Array.from({ length: accounts }, (_, i) => ev.deposit(owner(i), int(4) === 0 ? 1 : 100 + int(20000))),
    ],
  });
  const markets = ['ETH-PERP', 'BTC-PERP', 'ETH-C', 'ETH-P', 'SOL-PERP'];
  const price = (m: string) => (m === 'BTC-PERP' ? 95 + int(10) : m === 'ETH-C' ? 150 + int(100) : m === 'ETH-P' ? 40 + int(40) : m === 'SOL-PERP' ? 20 + int(5) : 2900 + int(200));
  let time = 1000;
  for (let b = 0; b < 3; b++) {
    time += 30 + int(100);
    const events: EventDraft[] = [];
    for (let k = 0; k < 80; k++) {
      const i = int(accounts);
      const m = markets[int(markets.length)]!;
      events.push(ev.fill(m, owner(i), `${int(2) ? '-' : ''}${1 + int(5)}.${int(10)}`, price(m)));
    }
    // Twins (same book: ties in every order) and an account left at exactly zero equity.
    if (b === 0) events.push(ev.deposit(owner(200), 500), ev.deposit(owner(201), 500), ev.fill('ETH-PERP', owner(200), 1, 3000), ev.fill('ETH-PERP', owner(201), 1, 3000));
    // A cluster whose exact equities differ by 1e-15 each, far below what float64 resolves
    // at their size (about 1e-10 at 1e6), with the same book filled in a different order each:
    // their float sums round differently, so their float order is noise; the exact one is not.
    if (b === 0) {
      const book = [['ETH-PERP', '300.123457', '3000.654321'], ['BTC-PERP', '-901.777777', '100.333333'], ['ETH-C', '-77.5', '201.123']] as const;
      for (let i = 0; i < 30; i++) {
        events.push(ev.deposit(owner(300 + i), `1000000.${String(i).padStart(15, '0')}`));
        for (let k = 0; k < book.length; k++) {
          const [market, size, at] = book[(i + k) % book.length]!;
          events.push(ev.fill(market, owner(300 + i), size, at));
        }
      }
    }
    events.push(ev.price('ETH', 2700 + int(600), ORACLE_1), ev.price('BTC', 80 + int(40), ORACLE_1), ev.vol('ETH-C', `0.${3 + int(6)}`));
    if (int(2)) events.push(ev.withdraw(owner(int(accounts)), 1 + int(500)));
    list.push({ time, events });
  }
  return list;
}

describe('risk engine candidates', () => {
  let db: TestDatabase;
  const schema = buildSchema();
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each([[11], [12]])('seed %i: every order and filter, paged to the end, equal with and without the engine at every block', async (seed) => {
    await new LedgerStore(db.pool).reset();
    const engine = new RiskEngine({ pool: db.pool, logger: silentLogger });
    const chain = new LedgerChain(PARAMS);
    const store = new LedgerStore(db.pool);
    engine.start();
    try {
      for (const { time, events } of blocks(seed)) {
        chain.block(time, events);
        const batch = chain.history.slice(-1);
        await store.commit({ chainId: 31337, headBlockNumber: batch[0]!.block.number, batch, undo: new Map() });
        // As the server's feed would hand it the notification.
        engine.committed(blocksCommitted(batch, undefined));
        await until(() => engine.currentBlock?.number === batch[0]!.block.number);
        for (const order of ORDERS) {
          for (const filter of ['', 'marginState: [MARGIN_CALL, LIQUIDATABLE, BANKRUPT],', 'market: "ETH-C",']) {
            const args = `orderBy: ${order}, ${filter}`;
            const without = await pages(args, {});
            const withEngine = await pages(args, { riskEngine: engine });
            expect({ order, filter, block: batch[0]!.block.number, ids: withEngine }).toEqual({ order, filter, block: batch[0]!.block.number, ids: without });
          }
        }
      }
      // Few candidates: the first page of 10 in the riskiest order, among 160+ accounts.
      const block = { chainId: 31337, number: chain.history.at(-1)!.block.number, hash: chain.history.at(-1)!.block.hash, timestamp: 0, headBlockNumber: 0 };
      const markets = chain.state.markets;
      const { RequestContext } = await import('../../../src/graphql/context.js');
      const ctx = new RequestContext({ pool: db.pool, params: PARAMS });
      const marks = await ctx.loaders.risk.marks();
      await ctx.release();
      const picked = engine.candidates(block, markets, marks, 'RISK_DESC', {}, null, 10);
      expect(picked).not.toBeNull();
      expect(picked!.length).toBeGreaterThanOrEqual(11);
      expect(picked!.length).toBeLessThan(30);
    } finally {
      engine.stop();
      await engine.idle();
    }

    async function pages(args: string, deps: object): Promise<string[]> {
      const ids: string[] = [];
      let after: string | null = null;
      for (;;) {
        const result: any = await data(schema, db.pool, `query ($after: String) { accounts(${args} first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`, { after }, deps);
        ids.push(...result.accounts.edges.map((e: any) => e.node.id));
        if (!result.accounts.pageInfo.hasNextPage) {
          expect(result.accounts.totalCount).toBe(ids.length);
          return ids;
        }
        after = result.accounts.pageInfo.endCursor;
      }
    }
  });
});

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

