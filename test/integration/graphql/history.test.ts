// Issue 16, SPEC section 8 "Any past block": on random scenarios on a real chain (venue,
// anvil, ingester, API), reorgs and rollbacks included, what the API answers at a past
// block equals what it answered live when that block was the last committed one, field by
// field, derived risk and cursors included. The seed is in each test's name;
// PTS_HISTORY_SEED=<seed> replays one (the interleaving with the ingester depends on timing).
import type { Hex } from 'viem';
import { commitLedger, startTestServer, data, post } from './server-support.js';
import { ev, LedgerChain } from '../../support/ledger.js';
import { startDevnet, TRADERS, type Devnet } from '../../support/devnet.js';
import { caughtUp, chainHead, cursorOf, hashOf, reorg, rollback } from '../../support/reorgs.js';
import type { PtsServer } from '../../../src/graphql/server.js';
import { createTestDatabase } from '../../support/database.js';
import decimalJs, { type Decimal as DecimalType } from 'decimal.js';
import { mul, parseFixed, toSql, type Fixed } from '../../../src/fixed/index.js';
import { random } from '../../../src/devnet/workload.js';

const SEEDS = process.env.PTS_HISTORY_SEED ? [Number(process.env.PTS_HISTORY_SEED)] : [11, 4242, Math.floor(Math.random() * 2 ** 31)];
const ROUNDS = 14;
const [ALICE, BOB, CAROL] = TRADERS as [`0x${string}`, `0x${string}`, `0x${string}`];


const MARKET = `id underlying kind strike expiry initialMarginFraction maintenanceMarginFraction indexPrice indexPriceStale
  impliedVolatility cumulativeFunding lastFundingRate fundingInterval maxFundingRate lastFillPrice value openInterest shortInterest
  longCount shortCount settlementPrice settledBlock listedBlock venue`;
const POSITION = `id size entryPrice markPrice value notional unrealizedPnl realizedPnl accruedFunding settledFunding feesPaid
  initialMargin maintenanceMargin liquidationPrice delta gamma theta vega open openedBlock closedBlock market { id indexPrice }`;
const ACCOUNT = `id owner subaccount collateral equity initialMargin maintenanceMargin freeCollateral marginRatio leverage marginState
  notional unrealizedPnl accruedFunding createdBlock updatedBlock greeks { underlying delta gamma theta vega }
  positions(includeClosed: true) { ${POSITION} }
  fills(first: 100) { totalCount edges { cursor node { id size price fee realizedPnl liquidation blockNumber blockTimestamp logIndex } } }
  transitions { totalCount edges { cursor node { from to blockNumber equity initialMargin maintenanceMargin } } }`;
const ORDERS = ['ID_ASC', 'EQUITY_ASC', 'EQUITY_DESC', 'NOTIONAL_DESC', 'NOTIONAL_ASC', 'MARGIN_RATIO_DESC', 'MARGIN_RATIO_ASC', 'RISK_DESC'];
const ACCOUNT_RISK = `id collateral equity initialMargin maintenanceMargin freeCollateral marginRatio leverage marginState notional`;
const PAGE = `totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${ACCOUNT_RISK} } }`;

/**
 * Everything the test compares, in operations within the cost limit (each reads one block);
 * `$block` null: the last committed block. Each names its block (`meta`).
 */
const QUERIES = [
  `query Markets($block: BlockSelector) {
    meta(block: $block) { chainId blockNumber blockHash blockTimestamp }
    markets(block: $block) { ${MARKET} }
    eth: market(id: "ETH-PERP", block: $block) { ${MARKET} }
    positions(includeClosed: true, first: 100, block: $block) { totalCount edges { cursor node { ${POSITION} } } }
  }`,
  `query Orders($block: BlockSelector) {
    meta(block: $block) { blockHash }
    ${ORDERS.map((order) => `${order}: accounts(orderBy: ${order}, first: 20, block: $block) { ${PAGE} }`).join('\n    ')}
    healthy: accounts(orderBy: RISK_DESC, marginState: [HEALTHY, MARGIN_CALL], first: 2, block: $block) { ${PAGE} }
    inMarket: accounts(orderBy: EQUITY_DESC, market: "ETH-C", first: 20, block: $block) { ${PAGE} }
  }`,
  ...[ALICE, BOB, CAROL].map(
    (owner) => `query Account($block: BlockSelector) { meta(block: $block) { blockHash } account(owner: "${owner}", block: $block) { ${ACCOUNT} } }`,
  ),
];

/** The answers of `QUERIES` at the last committed block, once the server answers at `hash` (it learns blocks from notifications). */
async function liveAnswers(server: PtsServer, hash: string): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const query of QUERIES) {
    for (let i = 0; ; i++) {
      const one = await data(server.url, query);
      if (one.meta.blockHash === hash) {
        answers.push(one);
        break;
      }
      if (i > 250) throw new Error(`the server answers at ${one.meta.blockHash}, not ${hash}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return answers;
}

/**
 * SPEC section 8, funding totals, against the stored facts at `block`: each account's
 * funding in ETH-PERP replayed from its fills and the market's stored settlements (the
 * cumulative index F after each), settling -size x (F - F at the last change) before each
 * size change, as the ledger does; `allTime` = all of it settled plus the position's
 * accrued funding, `sinceOpen` = its lifecycle's settled plus accrued. Also the
 * return on equity against its definition.
 */
const Decimal = (decimalJs as unknown as DecimalType.Constructor).clone({ precision: 60 });

async function expectFundingTotals(server: PtsServer, block: number): Promise<number> {
  const facts = await data(
    server.url,
    `query($block: BlockSelector) {
      positions(includeClosed: true, first: 1000, block: $block) { edges { node {
        id open size entryPrice unrealizedPnl initialMargin accruedFunding settledFunding returnOnEquity
        account { id } market { id kind } funding { allTime sinceOpen sinceChange } } } }
      fills(market: "ETH-PERP", first: 1000) { edges { node { account { id } size blockNumber } } }
      fundingHistory(market: "ETH-PERP", first: 1000) { edges { node { cumulativeFunding blockNumber } } }
      meta { blockNumber }
    }`,
    { block: { number: block } },
  );
  expect(facts.meta.blockNumber).toBe(block);
  const settlements = facts.fundingHistory.edges.map((e: any) => e.node);
  const indexAt = (b: number) => parseFixed(settlements.filter((s: any) => s.blockNumber <= b).at(-1)?.cumulativeFunding ?? '0');
  const replayed = new Map<string, { settled: Fixed; accrued: Fixed }>();
  const byAccount = new Map<string, any[]>();
  for (const { node } of facts.fills.edges) byAccount.set(node.account.id, [...(byAccount.get(node.account.id) ?? []), node]);
  for (const [account, fills] of byAccount) {
    let size = 0n;
    let snapshot = 0n;
    let settled = 0n;
    for (const fill of fills) {
      const index = indexAt(fill.blockNumber);
      settled += mul(-size, index - snapshot);
      snapshot = index;
      size += parseFixed(fill.size);
    }
    replayed.set(account, { settled, accrued: mul(-size, indexAt(block) - snapshot) });
  }
  let checked = 0;
  for (const { node: p } of facts.positions.edges) {
    const decimal = (v: string | null) => (v === null ? null : new Decimal(v));
    expect(p.funding.sinceChange).toBe(p.accruedFunding);
    expect(parseFixed(p.funding.sinceOpen)).toBe(parseFixed(p.settledFunding) + parseFixed(p.accruedFunding));
    const long = p.market.kind !== 'PERPETUAL' && parseFixed(p.size) > 0n;
    const divisor = long ? decimal(p.entryPrice)!.times(decimal(p.size)!) : decimal(p.initialMargin)!;
    if (divisor.isZero()) expect(p.returnOnEquity).toBeNull();
    else expect(decimal(p.returnOnEquity)!.minus(decimal(p.unrealizedPnl)!.div(divisor)).abs().lte(divisor.abs().lt(1) ? 1e-12 : 1e-15)).toBe(true);
    if (p.market.id !== 'ETH-PERP') continue;
    const truth = replayed.get(p.account.id)!;
    expect(parseFixed(p.funding.allTime)).toBe(truth.settled + (p.open ? truth.accrued : 0n));
    if (p.open) expect(parseFixed(p.accruedFunding)).toBe(truth.accrued);
    checked += 1;
  }
  return checked;
}

const TICK = 'timestamp blockNumber blockTimestamp collateral equity unrealizedPnl realizedPnl netTransfers totalPnl marginRatio marginState';

/** What a tick holds, from the account's own fields at `block` (SPEC section 8's definitions). */
async function valuesAt(server: PtsServer, owner: string, block: number): Promise<Record<string, unknown> | null> {
  const { account } = await data(
    server.url,
    `query($block: BlockSelector) { account(owner: "${owner}", block: $block) {
      collateral equity unrealizedPnl marginRatio marginState
      positions(includeClosed: true) { realizedPnl } transfers(first: 1000) { edges { node { kind amount } } } } }`,
    { block: { number: block } },
  );
  if (!account) return null;
  const netTransfers = account.transfers.edges.reduce((sum: bigint, { node }: any) => sum + (node.kind === 'DEPOSIT' ? 1n : -1n) * parseFixed(node.amount), 0n);
  return {
    collateral: account.collateral,
    equity: account.equity,
    unrealizedPnl: account.unrealizedPnl,
    realizedPnl: toSql(account.positions.reduce((sum: bigint, p: any) => sum + parseFixed(p.realizedPnl), 0n)),
    netTransfers: toSql(netTransfers),
    totalPnl: toSql(parseFixed(account.equity) - netTransfers),
    marginRatio: account.marginRatio,
    marginState: account.marginState,
  };
}

const exact = (values: Record<string, unknown> | null) =>
  values && Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' && /^-?\d/.test(v) ? toSql(parseFixed(v)) : v]));

/**
 * `Account.history` against the account's own fields: every BLOCK tick holds the values at
 * its block, and every block between two ticks holds the earlier tick's values (no change
 * is missed, none is repeated); every HOUR tick holds the values at the last block at or
 * before its boundary. Pages of 3 concatenate to the whole.
 */
async function expectHistoryTicks(net: Devnet, server: PtsServer, owner: string, tip: number): Promise<number> {
  const all = async (every: string) => {
    const ticks: any[] = [];
    let after: string | null = null;
    for (;;) {
      const { account }: any = await data(
        server.url,
        `query($after: String) { account(owner: "${owner}") { history(every: ${every}, first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${TICK} } } } } }`,
        { after },
      );
      ticks.push(...account.history.edges.map((e: any) => e.node));
      if (!account.history.pageInfo.hasNextPage) return { ticks, totalCount: account.history.totalCount };
      after = account.history.pageInfo.endCursor;
    }
  };
  const strip = ({ timestamp, blockNumber, blockTimestamp, ...values }: any) => exact(values);
  const { ticks, totalCount } = await all('BLOCK');
  expect(ticks.length).toBe(totalCount);
  expect(ticks.length).toBeGreaterThan(0);
  let next = 0;
  let current: Record<string, unknown> | null = null;
  for (let b = ticks[0].blockNumber; b <= tip; b++) {
    if (ticks[next]?.blockNumber === b) current = strip(ticks[next++]);
    expect({ block: b, values: exact(await valuesAt(server, owner, b)) }).toEqual({ block: b, values: current });
  }
  expect(next).toBe(ticks.length);
  const hourly = await all('HOUR');
  expect(hourly.ticks.length).toBe(hourly.totalCount);
  for (const tick of hourly.ticks) {
    expect(tick.timestamp % 3600).toBe(0);
    const block = await net.deployment.publicClient.getBlock({ blockNumber: BigInt(tick.blockNumber) });
    expect(Number(block.timestamp)).toBeLessThanOrEqual(tick.timestamp);
    if (tick.blockNumber < tip) {
      const after = await net.deployment.publicClient.getBlock({ blockNumber: BigInt(tick.blockNumber + 1) });
      expect(Number(after.timestamp)).toBeGreaterThan(tick.timestamp);
    }
    expect(strip(tick)).toEqual(exact(await valuesAt(server, owner, tick.blockNumber)));
  }
  return hourly.ticks.length;
}

describe.each(SEEDS)('any past block (seed %i)', (seed) => {
  let net: Devnet;
  let server: PtsServer;
  afterEach(async () => {
    await server?.stop();
    await net?.close();
  });

  it('answers every block as it was answered live, across reorgs and rollbacks', async () => {
    const rand = random(seed);
    const int = (low: number, high: number) => low + Math.floor(rand() * (high - low + 1));
    net = await startDevnet();
    const c = net.venue.call;
    const traders = [ALICE, BOB, CAROL];
    const calls = (): Hex[] => {
      const [buyer, seller] = int(0, 1) ? [traders[int(0, 2)]!, ALICE] : [BOB, traders[int(0, 2)]!];
      const price = 1800 + int(0, 400);
      const market = rand() < 0.7 ? 'ETH-PERP' : 'ETH-C';
      const fillPrice = market === 'ETH-PERP' ? price : 50 + int(0, 100);
      return [
        c.price('ETH', price),
        ...(buyer === seller ? [] : [c.trade(market, { trader: buyer, sub: 0, fee: 1 }, { trader: seller, sub: 0, fee: 1 }, `0.${int(1, 9)}`, fillPrice)]),
        ...(rand() < 0.3 ? [c.depositFor(traders[int(0, 2)]!, 0, int(1, 50))] : []),
        ...(rand() < 0.2 ? [c.volatility('ETH-C', `0.${int(5, 9)}`)] : []),
        ...(rand() < 0.1 ? [c.marginFractions('ETH-PERP', `0.${int(1, 2)}`, '0.05')] : []),
      ];
    };
    const now = Math.floor(Date.now() / 1000);
    await net.venue.send([
      c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 60, maxFundingRate: '0.01' }),
      c.listOption('ETH-C', 'ETH', 'CALL', 2000, now + 30 * 86400, { imf: '0.1', mmf: '0.05' }),
      c.volatility('ETH-C', '0.8'),
      c.price('ETH', 2000),
      ...traders.map((t) => c.depositFor(t, 0, 300)),
    ]);
    // Bob's first ETH-PERP lifecycle settles funding and closes, his second accrues more:
    // `allTime` then differs from `sinceOpen` by what the first one settled.
    const t0 = Number((await net.deployment.publicClient.getBlock({ blockTag: 'latest' })).timestamp);
    const bob = { trader: BOB, sub: 0 };
    const carol = { trader: CAROL, sub: 0 };
    await net.venue.send([c.trade('ETH-PERP', bob, carol, '1', 2100)], { timestamp: t0 + 10 });
    await net.venue.send([c.price('ETH', 2000)], { timestamp: t0 + 130 });
    await net.venue.send([c.trade('ETH-PERP', carol, bob, '1', 2050)], { timestamp: t0 + 200 });
    await net.venue.send([c.trade('ETH-PERP', bob, carol, '0.5', 2100)], { timestamp: t0 + 260 });
    await net.venue.send([c.price('ETH', 2000)], { timestamp: t0 + 3700 }); // past an hour boundary: HOUR ticks
    const base = await chainHead(net);
    const following = net.follow();
    server = await startTestServer(net.db.url);

    /** What the API answered live, by block hash (a reorg's blocks have other hashes). */
    const live = new Map<string, { number: number; answer: unknown[] }>();
    const record = async () => {
      await caughtUp(net);
      const cursor = (await cursorOf(net))!;
      live.set(cursor.hash, { number: cursor.number, answer: await liveAnswers(server, cursor.hash) });
    };
    const done: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const head = await chainHead(net);
        const depth = int(1, Math.min(6, head - base));
        const action = head > base ? rand() : 0;
        if (action < 0.6) {
          // Time jumps over funding intervals (60 s), so funding settles.
          const latest = await net.deployment.publicClient.getBlock({ blockTag: 'latest' });
          await net.venue.send(calls(), { timestamp: Number(latest.timestamp) + int(5, 1200) });
          done.push('mine');
        } else if (action < 0.8) {
          await reorg(net, depth, [{ offset: int(0, depth - 1), calls: calls() }]);
          done.push(`reorg ${depth}`);
        } else {
          await rollback(net, depth);
          await net.venue.send(calls());
          done.push(`rollback ${depth} + mine`);
        }
        await record();
      }
      expect(following.failure).toBeUndefined();

      // Every block answered live that is still canonical, asked again now, by number and by
      // hash; its risk-ordered pages (chosen from the block's columns, risk-engine/past.ts)
      // also equal a server's without them (the SQL pass over every account).
      let compared = 0;
      const tip = await chainHead(net);
      const fullPass = await startTestServer(net.db.url, {}, { riskEngine: false });
      try {
        for (const [hash, { number, answer }] of live) {
          if (number > tip || (await hashOf(net, number)) !== hash) continue;
          for (const [i, query] of QUERIES.entries()) {
            expect(await data(server.url, query, { block: { number } })).toEqual(answer[i]);
            expect(await data(server.url, query, { block: { hash } })).toEqual(answer[i]);
          }
          expect(await data(fullPass.url, QUERIES[1]!, { block: { number } })).toEqual(answer[1]);
          await expectFundingTotals(server, number);
          compared += 1;
        }
      } finally {
        await fullPass.stop();
      }
      // The chain ends with perpetual positions whose funding was replayed.
      expect(await expectFundingTotals(server, tip)).toBeGreaterThan(0);
      let hourly = 0;
      for (const owner of traders) hourly += await expectHistoryTicks(net, server, owner, tip);
      expect(hourly).toBeGreaterThan(0);

      // Every block of the final chain equals what a fresh ingest stopped at it serves live.
      const fresh = await createTestDatabase();
      const freshServer = await startTestServer(fresh.url);
      try {
        for (let b = base; b <= tip; b++) {
          const stopped = net.follow({ db: fresh, confirmations: tip - b });
          await stopped.reached(b);
          await stopped.stop();
          const truth = await liveAnswers(freshServer, await hashOf(net, b));
          for (const [i, query] of QUERIES.entries()) expect(await data(server.url, query, { block: { number: b } })).toEqual(truth[i]);
        }
      } finally {
        await freshServer.stop();
        await fresh.drop();
      }
    } catch (error) {
      throw new Error(`seed ${seed}, after: ${done.join('; ')}\n${(error as Error).message}`);
    }
  }, 120_000);
});

describe('past block selectors', () => {
  let net: Devnet;
  let server: PtsServer;
  afterAll(async () => {
    await server?.stop();
    await net?.close();
  });

  it('refuses blocks not committed, of an abandoned branch, or malformed, with BAD_USER_INPUT', async () => {
    net = await startDevnet();
    const c = net.venue.call;
    await net.venue.send([c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 60, maxFundingRate: '0.01' }), c.price('ETH', 2000)]);
    await net.venue.send([c.price('ETH', 2100)]);
    net.follow();
    const tip = await caughtUp(net);
    server = await startTestServer(net.db.url);
    const abandoned = await hashOf(net, tip);
    await reorg(net, 1, [{ offset: 0, calls: [c.price('ETH', 2200)] }]);
    await caughtUp(net);
    const errorOf = async (block: unknown, query = 'query($block: BlockSelector) { meta(block: $block) { blockNumber } }') => {
      const { body } = await post(server.url, query, { block });
      expect({ code: body.errors?.[0]?.extensions?.code, body }).toMatchObject({ code: 'BAD_USER_INPUT' });
      return body.errors[0].message as string;
    };
    expect(await errorOf({ number: tip + 5 })).toMatch(/not committed yet: the last committed block is/);
    expect(await errorOf({ hash: abandoned })).toMatch(/not a block of the canonical chain/);
    expect(await errorOf({ number: tip, hash: abandoned })).toMatch(/not a block of the canonical chain/);
    expect(await errorOf({ number: 0 })).toMatch(/older than the retained history, which starts at block/);
    expect(await errorOf({})).toMatch(/needs a "number" or a "hash"/);
    expect(await errorOf({ number: -1 })).toMatch(/must be a block number/);
    expect(await errorOf({ hash: '0x12' })).toMatch(/must be 0x and 64 hex digits/);
    const two = `{ a: meta(block: {number: ${tip}}) { blockNumber } b: meta(block: {number: ${tip - 1}}) { blockNumber } }`;
    expect(await errorOf(null, two)).toMatch(/one operation reads one block/);
    // Fields without `block` read the selected block too: the answer is one block.
    const one = await data(server.url, `{ meta(block: {number: ${tip - 1}}) { blockNumber } markets { indexPrice } }`);
    expect(one).toEqual({ meta: { blockNumber: tip - 1 }, markets: [{ indexPrice: '2000' }] });
  }, 60_000);
});

describe('cursors remember their block', () => {
  it('pages a risk-ordered list at the block of its first page while blocks commit, with no skip and no repeat', async () => {
    const db = await createTestDatabase();
    const server = await startTestServer(db.url);
    try {
      // 13 accounts long or short ETH-PERP: each price move below reorders their risk.
      const chain = new LedgerChain({ oracleStalenessSeconds: 3600, riskFreeRate: 0n });
      const owners = Array.from({ length: 13 }, (_, i) => `0x${(0xb000 + i).toString(16).padStart(40, '0')}`);
      chain.block(1000, [ev.perp('ETH-PERP', 'ETH'), ev.price('ETH', 3000), ...owners.map((o, i) => ev.deposit(o, 600 + i * 37))]);
      chain.block(1010, owners.map((o, i) => ev.fill('ETH-PERP', o, (i % 2 ? 1 : -1) * (1 + (i % 3)), 3000)));
      await commitLedger(db.pool, chain);
      const QUERY = `query($after: String, $block: BlockSelector) {
        meta(block: $block) { blockNumber }
        accounts(orderBy: RISK_DESC, first: 2, after: $after, block: $block) { pageInfo { hasNextPage endCursor } edges { node { id marginRatio } } } }`;
      const ids: string[] = [];
      let after: string | null = null;
      let moves = 0;
      const orders = new Set<string>();
      for (;;) {
        const page: any = await data(server.url, QUERY, { after });
        expect(page.meta.blockNumber).toBe(2);
        ids.push(...page.accounts.edges.map((e: any) => e.node.id));
        if (!page.accounts.pageInfo.hasNextPage) break;
        after = page.accounts.pageInfo.endCursor;
        // A block commits between pages, moving the price the other way each time.
        const from = chain.history.length;
        chain.block(1020 + moves * 10, [ev.price('ETH', moves % 2 ? 2500 : 3500)]);
        moves += 1;
        await commitLedger(db.pool, chain, { from });
        const live: any = await waitForBlock(server, 2 + moves);
        orders.add(live.accounts.edges.map((e: any) => e.node.id).join());
      }
      expect(ids).toHaveLength(13);
      expect(new Set(ids).size).toBe(13);
      const whole: any = await data(server.url, QUERY.replace('first: 2', 'first: 100'), { block: { number: 2 } });
      expect(ids).toEqual(whole.accounts.edges.map((e: any) => e.node.id));
      // The order did change meanwhile: paging the newest block each time would have skipped or repeated.
      orders.add(whole.accounts.edges.map((e: any) => e.node.id).join());
      expect(orders.size).toBeGreaterThan(1);
      // `block` given wins over the cursor's block.
      const given: any = await data(server.url, QUERY, { after: null, block: { number: 3 } });
      const next: any = await data(server.url, QUERY, { after: given.accounts.pageInfo.endCursor, block: { number: 4 } });
      expect(next.meta.blockNumber).toBe(4);
    } finally {
      await server.stop();
      await db.drop();
    }
  }, 60_000);
});

/** The full RISK_DESC list once the server answers at `block` (it learns blocks from notifications). */
async function waitForBlock(server: PtsServer, block: number): Promise<unknown> {
  for (let i = 0; i < 250; i++) {
    const live: any = await data(server.url, `{ meta { blockNumber } accounts(orderBy: RISK_DESC, first: 100) { edges { node { id } } } }`);
    if (live.meta.blockNumber === block) return live;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the server never answered at block ${block}`);
}
