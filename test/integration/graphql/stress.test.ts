// Query.stress and Account.stress (SPEC section 8, what-if): every number served must be
// what src/risk gives at the shocked marks, computed here on the ledger's own in-memory
// state with the shocked index rounded by decimal.js: the counts over every account, the
// exact totals and deficit, and the changed accounts paged to the end in the riskiest-first
// order. The same with the risk engine's columns and with the request's own full read.
import decimalJs, { type Decimal } from 'decimal.js';
import { blocksCommitted, LedgerStore } from '../../../src/db/store/ledger-store.js';
import { formatFixed, narrow, parseFixed, type Fixed } from '../../../src/fixed/index.js';
import { RiskEngine } from '../../../src/graphql/risk-engine/engine.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import type { Market, MarginState } from '../../../src/ledger/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { accountRisk, marginRatio, marginState } from '../../../src/risk/account.js';
import { markOf, type Mark } from '../../../src/risk/mark.js';
import { positionRisk } from '../../../src/risk/position.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { LedgerChain } from '../../support/ledger.js';
import { data, execute, PARAMS } from './queries-fixture.js';
import { blocks, owner } from './risk-fixture.js';

interface ShockInput {
  underlying: string;
  priceMove: string;
  volatilityMove?: string;
}

const SHOCKS: ShockInput[][] = [
  [{ underlying: 'ETH', priceMove: '-0.2' }],
  [{ underlying: 'ETH', priceMove: '0.15', volatilityMove: '0.2' }],
  [{ underlying: 'BTC', priceMove: '-0.5' }, { underlying: 'ETH', priceMove: '-0.033333333333333337' }],
  [{ underlying: 'ETH', priceMove: '-0.99', volatilityMove: '0.5' }],
  [{ underlying: 'SOL', priceMove: '-0.5' }], // never priced: nothing moves
  [{ underlying: 'ETH', priceMove: '0' }],
];

const STRESS = `query ($shocks: [ShockInput!]!, $after: String) {
  stress(shocks: $shocks) {
    blockNumber
    accountsBefore { healthy marginCall liquidatable bankrupt }
    accountsAfter { healthy marginCall liquidatable bankrupt }
    totalEquityBefore totalEquityAfter deficitAfter
    accounts(first: 7, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { account { id } stateBefore equity initialMargin maintenanceMargin marginRatio marginState } }
    }
  }
}`;

describe('stress', () => {
  let db: TestDatabase;
  let engine: RiskEngine;
  const schema = buildSchema();
  const chain = new LedgerChain(PARAMS);

  beforeAll(async () => {
    db = await createTestDatabase();
    const store = new LedgerStore(db.pool);
    engine = new RiskEngine({ pool: db.pool, logger: silentLogger, params: PARAMS });
    engine.start();
    for (const { time, events } of blocks(11)) {
      chain.block(time, events);
      const batch = chain.history.slice(-1);
      await store.commit({ chainId: 31337, headBlockNumber: batch[0]!.block.number, batch, undo: new Map() });
      engine.committed(blocksCommitted(batch, undefined));
    }
    const last = chain.history.at(-1)!.block.number;
    const deadline = Date.now() + 10_000;
    while (engine.currentBlock?.number !== last) {
      if (Date.now() > deadline) throw new Error('the risk engine did not reach the last block');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
  afterAll(async () => {
    engine?.stop();
    await engine?.idle();
    await db?.drop();
  });

  it.each(SHOCKS.map((s) => [JSON.stringify(s), s] as const))('%s: counts, totals and every changed account as src/risk gives them, with and without the engine', async (_name, shocks) => {
    const want = expected(chain, shocks);
    for (const deps of [{}, { riskEngine: engine }]) {
      const got = await stressPaged(shocks, deps);
      expect(got).toEqual(want);
    }
  });

  it('no move changes nothing: the counts after are the counts before, no account listed', async () => {
    const got = await stressPaged([{ underlying: 'ETH', priceMove: '0' }], { riskEngine: engine });
    expect(got.accountsAfter).toEqual(got.accountsBefore);
    expect(got.totalEquityAfter).toBe(got.totalEquityBefore);
    expect(got.accounts).toEqual([]);
    // And the counts before are the stored margin states.
    const states = [...chain.state.accounts.values()].map((a) => a.marginState);
    expect(got.accountsBefore).toEqual(countsOf(states));
  });

  it('a big fall changes many accounts and leaves a deficit', async () => {
    const got = await stressPaged([{ underlying: 'ETH', priceMove: '-0.99' }], { riskEngine: engine });
    expect(got.accounts.length).toBeGreaterThan(20);
    expect(got.deficitAfter).not.toBe('0');
    expect(got.accountsAfter.bankrupt).toBeGreaterThan(got.accountsBefore.bankrupt);
  });

  it('Account.stress is the same account as the venue-wide stress lists it', async () => {
    const shocks = SHOCKS[0]!;
    const want = expected(chain, shocks).accounts;
    const ids = [owner(0), owner(17), owner(200), owner(305)];
    for (const id of ids) {
      const result: any = await data(schema, db.pool, `query ($owner: String!, $shocks: [ShockInput!]!) {
        account(owner: $owner) { stress(shocks: $shocks) { account { id } stateBefore equity initialMargin maintenanceMargin marginRatio marginState } }
      }`, { owner: id, shocks });
      const account = chain.account(id)!;
      const exact = expectedAccount(chain, shockedMarks(chain, shocks), account.id);
      expect(result.account.stress).toEqual(exact);
      const listed = want.find((a) => a.account.id === account.id);
      if (listed) expect(result.account.stress).toEqual(listed);
    }
  });

  it.each([
    [[{ underlying: 'DOGE', priceMove: '0.1' }], 'no market has the underlying "DOGE"'],
    [[{ underlying: 'ETH', priceMove: '-1' }], 'priceMove must be above -1'],
    [[{ underlying: 'ETH', priceMove: '0.1' }, { underlying: 'ETH', priceMove: '0.2' }], 'underlying ETH is shocked twice'],
    [[{ underlying: 'ETH', priceMove: '0', volatilityMove: '-5' }], 'makes the implied volatility of'],
    [[{ underlying: 'ETH', priceMove: '1e3' }], 'Decimal must be a plain decimal number'],
  ])('%j is refused: %s', async (shocks, message) => {
    const result = await execute(schema, db.pool, 'query ($s: [ShockInput!]!) { stress(shocks: $s) { blockNumber } }', { s: shocks }, { riskEngine: engine });
    expect(result.errors?.[0]?.message).toContain(message);
  });

  async function stressPaged(shocks: ShockInput[], deps: object) {
    let after: string | null = null;
    const accounts: unknown[] = [];
    for (;;) {
      const result: any = await data(schema, db.pool, STRESS, { shocks, after }, deps);
      const { accounts: page, ...rest } = result.stress;
      accounts.push(...page.edges.map((e: any) => e.node));
      if (!page.pageInfo.hasNextPage) {
        expect(page.totalCount).toBe(accounts.length);
        return { ...rest, accounts };
      }
      after = page.pageInfo.endCursor;
    }
  }
});

function shockedMarks(chain: LedgerChain, shocks: ShockInput[]): { markets: Map<string, Market>; marks: Map<string, Mark> } {
  // decimal.js's ESM default export is the class; its types say otherwise (black-scholes-decimal.ts).
  const D = (decimalJs as unknown as Decimal.Constructor).clone({ precision: 100 });
  const now = chain.history.at(-1)!.block.timestamp;
  const markets = new Map<string, Market>();
  const marks = new Map<string, Mark>();
  for (const market of chain.state.markets.values()) {
    const shock = shocks.find((s) => s.underlying === market.underlying);
    let index = chain.state.underlyings.get(market.underlying)?.indexPrice ?? null;
    let moved = market;
    if (shock && index !== null) {
      index = parseFixed(new D(formatFixed(index)).times(new D(1).plus(shock.priceMove)).toDecimalPlaces(18, D.ROUND_HALF_EVEN).toFixed(18));
    }
    if (shock?.volatilityMove && market.kind !== 'PERPETUAL') {
      moved = { ...market, impliedVolatility: (market.impliedVolatility ?? 0n) + parseFixed(shock.volatilityMove) };
    }
    markets.set(market.id, moved);
    marks.set(market.id, markOf(moved, index, now, PARAMS.riskFreeRate));
  }
  return { markets, marks };
}

function riskOf(chain: LedgerChain, at: { markets: Map<string, Market>; marks: Map<string, Mark> }, accountId: string) {
  const account = chain.state.accounts.get(accountId)!;
  const positions = [...chain.state.openPositions.get(accountId).values()];
  return accountRisk(account.collateral, positions.map((p) => positionRisk(p, at.markets.get(p.marketId)!, at.marks.get(p.marketId)!)));
}

function expectedAccount(chain: LedgerChain, at: { markets: Map<string, Market>; marks: Map<string, Mark> }, accountId: string) {
  const risk = riskOf(chain, at, accountId);
  const ratio = marginRatio(risk);
  return {
    account: { id: accountId },
    stateBefore: chain.state.accounts.get(accountId)!.marginState,
    equity: formatFixed(narrow(risk.equity)),
    initialMargin: formatFixed(narrow(risk.initialMargin)),
    maintenanceMargin: formatFixed(narrow(risk.maintenanceMargin)),
    marginRatio: ratio === null ? null : formatFixed(ratio),
    marginState: marginState(risk),
  };
}

function expected(chain: LedgerChain, shocks: ShockInput[]) {
  const none = shockedMarks(chain, []);
  const shocked = shockedMarks(chain, shocks);
  let before = 0n;
  let after = 0n;
  let deficit = 0n;
  const states: MarginState[] = [];
  const changed: { id: string; bucket: number; key: Fixed }[] = [];
  for (const account of chain.state.accounts.values()) {
    before += riskOf(chain, none, account.id).equity;
    const risk = riskOf(chain, shocked, account.id);
    after += risk.equity;
    if (risk.equity < 0n) deficit -= risk.equity;
    const state = marginState(risk);
    states.push(state);
    if (state !== account.marginState) {
      const ratio = marginRatio(risk);
      changed.push({ id: account.id, bucket: ratio === null ? 0 : 1, key: ratio === null ? narrow(risk.equity) : -ratio });
    }
  }
  changed.sort((a, b) => a.bucket - b.bucket || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || (a.id < b.id ? -1 : 1));
  return {
    blockNumber: chain.history.at(-1)!.block.number,
    accountsBefore: countsOf([...chain.state.accounts.values()].map((a) => a.marginState)),
    accountsAfter: countsOf(states),
    totalEquityBefore: formatFixed(narrow(before)),
    totalEquityAfter: formatFixed(narrow(after)),
    deficitAfter: formatFixed(narrow(deficit)),
    accounts: changed.map((c) => expectedAccount(chain, shocked, c.id)),
  };
}

function countsOf(states: MarginState[]) {
  const count = (s: MarginState) => states.filter((x) => x === s).length;
  return { healthy: count('HEALTHY'), marginCall: count('MARGIN_CALL'), liquidatable: count('LIQUIDATABLE'), bankrupt: count('BANKRUPT') };
}
