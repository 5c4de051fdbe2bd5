// Every Query field and every field of every type (Subscription aside) on a small
// hand-checkable history (queries-fixture.ts), served at block 5 (t = 1041).
import { parse, TypeInfo, visit, visitWithTypeInfo, isObjectType, getNamedType } from 'graphql';
import { div, formatFixed, fromFloat, mul, type Fixed } from '../../../src/fixed/index.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { blackScholes } from '../../../src/risk/black-scholes.js';
import { blackScholesDecimal } from '../../../src/risk/black-scholes-decimal.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ALICE, BOB, CAROL, ORACLE_1, ORACLE_2, VENUE, x } from '../../support/ledger.js';
import { commit, data, DAVE, ERIN, EXPIRY, execute, scenario, YEAR } from './queries-fixture.js';

const f = formatFixed;
const NOW = 1041;
const id = (owner: string, sub = 0) => `${owner}:${sub}`;
const tx = (block: number, log: number) => `0x${block.toString(16).padStart(4, '0')}${log.toString(16).padStart(60, '0')}`;

// ETH-C at the served block: a call, S = 3100, K = 3000, sigma = 0.8, r = 0.
const call = blackScholes({ kind: 'CALL', spot: 3100, strike: 3000, volatility: 0.8, years: (EXPIRY - NOW) / YEAR, rate: 0 });
const V: Fixed = fromFloat(call.value);
/** Per-unit Greek times a size, as the API rounds it. */
const times = (size: number, perUnit: number) => mul(x(size), fromFloat(perUnit));

const MARKET = `id underlying kind strike expiry initialMarginFraction maintenanceMarginFraction indexPrice indexPriceStale
  impliedVolatility cumulativeFunding lastFundingRate fundingInterval maxFundingRate lastFillPrice value openInterest
  shortInterest longCount shortCount settlementPrice settledBlock listedBlock venue`;
const RISK = `collateral equity initialMargin maintenanceMargin freeCollateral marginRatio leverage marginState notional unrealizedPnl accruedFunding`;
const POSITION = `id size entryPrice markPrice value notional unrealizedPnl realizedPnl accruedFunding settledFunding feesPaid
  initialMargin maintenanceMargin liquidationPrice delta gamma theta vega open openedBlock closedBlock`;
const GREEKS = `greeks { underlying indexPrice delta gamma theta vega notional liquidationPrice }`;
const PAGE_INFO = `pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`;
const FILL = `id market { id } account { id } position { id } size price fee realizedPnl liquidation liquidator penalty
  blockNumber blockTimestamp transactionHash logIndex`;

describe('GraphQL queries (hand-checked history)', () => {
  let db: TestDatabase;
  const schema = buildSchema();
  const documents: string[] = [];
  /** Runs a query and remembers it for the field coverage check. */
  const q = <T = any>(source: string, variables?: Record<string, unknown>) => {
    documents.push(source);
    return data<T>(schema, db.pool, source, variables);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    await commit(db.pool, scenario());
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('serves the option value Black-Scholes gives, within 1e-12 of the 40-digit reference', () => {
    const reference = blackScholesDecimal({ kind: 'CALL', spot: 3100, strike: 3000, volatility: 0.8, years: (EXPIRY - NOW) / YEAR, rate: 0 });
    expect(Math.abs(call.value / reference.value.toNumber() - 1)).toBeLessThan(1e-12);
    expect(Math.abs(call.delta / reference.delta.toNumber() - 1)).toBeLessThan(1e-12);
    // Sanity of size: an in-the-money quarter-year call at 80% vol.
    expect(call.value).toBeGreaterThan(500);
    expect(call.value).toBeLessThan(560);
    expect(call.delta).toBeGreaterThan(0.55);
    expect(call.delta).toBeLessThan(0.65);
  });

  it('meta names the committed block', async () => {
    expect(await q('{ meta { chainId blockNumber blockHash blockTimestamp headBlockNumber } }')).toEqual({
      meta: { chainId: 31337, blockNumber: 5, blockHash: '0xh5', blockTimestamp: NOW, headBlockNumber: 5 },
    });
  });

  it('markets: terms, marks, funding, open interest', async () => {
    const { markets } = await q(`{ markets { ${MARKET} } }`);
    const common = { initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05', settlementPrice: null, settledBlock: null, listedBlock: 1, venue: VENUE };
    const perp = { kind: 'PERPETUAL', strike: null, expiry: null, impliedVolatility: null, ...common };
    expect(markets).toEqual([
      {
        ...perp, id: 'BTC-PERP', underlying: 'BTC', indexPrice: '100', indexPriceStale: false, value: '100',
        // Premium (110 - 100) / 100 = 0.1 clamped to 0.05 per 10 s period; three periods at 0.05 * 100.
        cumulativeFunding: '15', lastFundingRate: '0.05', fundingInterval: 10, maxFundingRate: '0.05', lastFillPrice: '110',
        openInterest: '1', shortInterest: '0', longCount: 1, shortCount: 0,
      },
      {
        ...common, id: 'ETH-C', underlying: 'ETH', kind: 'CALL', strike: '3000', expiry: EXPIRY, indexPrice: '3100', indexPriceStale: false,
        impliedVolatility: '0.8', cumulativeFunding: '0', lastFundingRate: null, fundingInterval: null, maxFundingRate: null,
        lastFillPrice: '200', value: f(V), openInterest: '2', shortInterest: '2', longCount: 1, shortCount: 1,
      },
      {
        ...perp, id: 'ETH-PERP', underlying: 'ETH', indexPrice: '3100', indexPriceStale: false, value: '3100',
        cumulativeFunding: '0', lastFundingRate: null, fundingInterval: 3600, maxFundingRate: '0.01', lastFillPrice: '3090',
        openInterest: '2', shortInterest: '3', longCount: 1, shortCount: 1,
      },
      {
        ...perp, id: 'SOL-PERP', underlying: 'SOL', indexPrice: null, indexPriceStale: true, value: null,
        cumulativeFunding: '0', lastFundingRate: null, fundingInterval: 3600, maxFundingRate: '0.01', lastFillPrice: null,
        openInterest: '0', shortInterest: '0', longCount: 0, shortCount: 0,
      },
    ]);
    const filtered = await q(`{ calls: markets(kind: CALL) { id } eth: markets(underlying: "ETH") { id } ethPerps: markets(kind: PERPETUAL, underlying: "ETH") { id }
      one: market(id: "ETH-C") { id value } none: market(id: "NOPE") { id } }`);
    expect(filtered).toEqual({
      calls: [{ id: 'ETH-C' }], eth: [{ id: 'ETH-C' }, { id: 'ETH-PERP' }], ethPerps: [{ id: 'ETH-PERP' }],
      one: { id: 'ETH-C', value: f(V) }, none: null,
    });
  });

  it('underlyings: index, oracle sources, markets, index history, price reports', async () => {
    const result = await q(`{
      underlyings { id indexPrice indexPriceStale sources { source price blockNumber blockTimestamp stale } markets { id } }
      eth: underlying(id: "ETH") { id indexPrices { totalCount ${PAGE_INFO} edges { cursor node { underlying price stale blockNumber blockTimestamp } } } }
      none: underlying(id: "NOPE") { id }
      indexPrices(underlying: "ETH", newestFirst: true) { totalCount edges { node { price blockNumber } } }
      priceReports(underlying: "ETH") { totalCount ${PAGE_INFO} edges { cursor node { underlying source price blockNumber blockTimestamp transactionHash logIndex } } }
      second: priceReports(underlying: "ETH", source: "${ORACLE_2.toUpperCase().replace('0X', '0x')}", fromBlock: 2, toBlock: 3) { edges { node { source price blockNumber } } }
    }`);
    const source = (source: string, price: string, blockNumber: number, blockTimestamp: number) => ({ source, price, blockNumber, blockTimestamp, stale: false });
    expect(result.underlyings).toEqual([
      { id: 'BTC', indexPrice: '100', indexPriceStale: false, sources: [source(ORACLE_1, '100', 4, 1035)], markets: [{ id: 'BTC-PERP' }] },
      { id: 'ETH', indexPrice: '3100', indexPriceStale: false, sources: [source(ORACLE_1, '3100', 3, 1020), source(ORACLE_2, '3100', 3, 1020)], markets: [{ id: 'ETH-C' }, { id: 'ETH-PERP' }] },
      // Named by a market, never priced.
      { id: 'SOL', indexPrice: null, indexPriceStale: true, sources: [], markets: [{ id: 'SOL-PERP' }] },
    ]);
    const marks = result.eth.indexPrices;
    expect(marks.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: marks.edges[0].cursor, endCursor: marks.edges[1].cursor });
    expect(marks.totalCount).toBe(2);
    expect(marks.edges.map((e: any) => e.node)).toEqual([
      { underlying: 'ETH', price: '3000', stale: false, blockNumber: 1, blockTimestamp: 1000 },
      { underlying: 'ETH', price: '3100', stale: false, blockNumber: 3, blockTimestamp: 1020 },
    ]);
    expect(result.none).toBeNull();
    expect(result.indexPrices).toEqual({ totalCount: 2, edges: [{ node: { price: '3100', blockNumber: 3 } }, { node: { price: '3000', blockNumber: 1 } }] });
    const report = (source: string, price: string, blockNumber: number, logIndex: number) => ({
      underlying: 'ETH', source, price, blockNumber, blockTimestamp: blockNumber === 1 ? 1000 : 1020, transactionHash: tx(blockNumber, logIndex), logIndex,
    });
    expect(result.priceReports.totalCount).toBe(4);
    expect(result.priceReports.edges.map((e: any) => e.node)).toEqual([
      report(ORACLE_1, '3000', 1, 4), report(ORACLE_2, '3000', 1, 5), report(ORACLE_1, '3100', 3, 0), report(ORACLE_2, '3100', 3, 1),
    ]);
    expect(result.priceReports.pageInfo).toEqual({
      hasNextPage: false, hasPreviousPage: false,
      startCursor: result.priceReports.edges[0].cursor, endCursor: result.priceReports.edges[3].cursor,
    });
    expect(result.second.edges).toEqual([{ node: { source: ORACLE_2, price: '3100', blockNumber: 3 } }]);
  });

  it("ALICE, short 3 ETH-PERP at 3000 with 1000 collateral: dYdX's example, marked at 3100", async () => {
    const { account } = await q(`query ($owner: String!) { account(owner: $owner) { id owner subaccount ${RISK} createdBlock updatedBlock ${GREEKS}
      positions { ${POSITION} account { id } market { id } } } }`, { owner: ALICE.toUpperCase().replace('0X', '0x') });
    const position = {
      id: `${id(ALICE)}:ETH-PERP:1`, size: '-3', entryPrice: '3000', markPrice: '3100', value: '3100', notional: '9300',
      unrealizedPnl: '-300', realizedPnl: '0', accruedFunding: '0', settledFunding: '0', feesPaid: '0',
      initialMargin: '930', maintenanceMargin: '465',
      // (s*E - C') / (s - |s|*MMF) = (-9000 - 1000) / (-3.15) = 3174.6031746031746031746... (dYdX: 3174.60)
      liquidationPrice: '3174.603174603174603175',
      delta: '-3', gamma: '0', theta: '0', vega: '0', open: true, openedBlock: 2, closedBlock: null,
      account: { id: id(ALICE) }, market: { id: 'ETH-PERP' },
    };
    expect(account).toEqual({
      id: id(ALICE), owner: ALICE, subaccount: 0, createdBlock: 1, updatedBlock: 3,
      collateral: '1000', equity: '700', initialMargin: '930', maintenanceMargin: '465', freeCollateral: '-230',
      marginRatio: '0.664285714285714286', // 465 / 700 = 0.664285714285714285714...
      leverage: '13.285714285714285714', // 9300 / 700 = 13.2857142857142857142...
      marginState: 'MARGIN_CALL', notional: '9300', unrealizedPnl: '-300', accruedFunding: '0',
      greeks: [{ underlying: 'ETH', indexPrice: '3100', delta: '-3', gamma: '0', theta: '0', vega: '0', notional: '9300', liquidationPrice: '3174.603174603174603175' }],
      positions: [position],
    });
  });

  it('CAROL, long 2 ETH-C bought at 200: equity C + s*V, no margin, Greeks of a long call', async () => {
    const { account } = await q(`{ account(owner: "${CAROL}", subaccount: 0) { ${RISK} ${GREEKS} positions { ${POSITION} } } }`);
    const equity = x(600) + 2n * V; // 1000 - 2 * 200 premium
    const [delta, gamma, theta, vega] = [call.delta, call.gamma, call.theta, call.vega].map((g) => times(2, g)) as [Fixed, Fixed, Fixed, Fixed];
    expect(account).toEqual({
      collateral: '600', equity: f(equity), initialMargin: '0', maintenanceMargin: '0', freeCollateral: f(equity),
      marginRatio: '0', leverage: f(div(x(6200), equity)), marginState: 'HEALTHY', notional: '6200',
      unrealizedPnl: f(2n * (V - x(200))), accruedFunding: '0',
      // A long call: no liquidation price (equity - MM = 600 + 2V(M) > 0 at every M).
      greeks: [{ underlying: 'ETH', indexPrice: '3100', delta: f(delta), gamma: f(gamma), theta: f(theta), vega: f(vega), notional: '6200', liquidationPrice: null }],
      positions: [{
        id: `${id(CAROL)}:ETH-C:1`, size: '2', entryPrice: '200', markPrice: '3100', value: f(V), notional: '6200',
        unrealizedPnl: f(2n * (V - x(200))), realizedPnl: '0', accruedFunding: '0', settledFunding: '0', feesPaid: '0',
        initialMargin: '0', maintenanceMargin: '0', liquidationPrice: null,
        delta: f(delta), gamma: f(gamma), theta: f(theta), vega: f(vega), open: true, openedBlock: 2, closedBlock: null,
      }],
    });
    // Signs and sizes of a long call: 0 < delta < s, gamma > 0, theta < 0 (decay per day), vega > 0.
    expect(delta > 0n && delta < x(2)).toBe(true);
    expect(gamma > 0n && theta < 0n && vega > 0n).toBe(true);
    // Per day, a quarter-year 80%-vol call near the money loses a few units of quote.
    expect(theta < x(-1) && theta > x(-20)).toBe(true);
  });

  it('BOB, short 2 calls and long 2 ETH-PERP after a closed lifecycle: cross margin over perp and option', async () => {
    const { account } = await q(`{ account(owner: "${BOB}") { ${RISK} ${GREEKS} positions { id } all: positions(includeClosed: true) { ${POSITION} } } }`);
    // 10000 deposit + 400 premium - 0.5 fee + 50 realized (1 bought at 3000, sold at 3050) - 100 withdrawn
    const collateral = x('10349.5');
    const equity = collateral - 2n * V;
    expect(account.collateral).toBe('10349.5');
    expect(account.equity).toBe(f(equity));
    // IM: short calls 2 * 3100 * 0.1 + perp 2 * 3100 * 0.1; MM half of it.
    expect(account.initialMargin).toBe('1240');
    expect(account.maintenanceMargin).toBe('620');
    expect(account.freeCollateral).toBe(f(equity - x(1240)));
    expect(account.marginRatio).toBe(f(div(x(620), equity)));
    expect(account.leverage).toBe(f(div(x(12400), equity)));
    expect(account.notional).toBe('12400');
    expect(account.unrealizedPnl).toBe(f(-2n * (V - x(200))));
    expect(account.marginState).toBe('HEALTHY');
    expect(account.positions).toEqual([{ id: `${id(BOB)}:ETH-C:1` }, { id: `${id(BOB)}:ETH-PERP:2` }]);
    const [short, closed, perp] = account.all;
    expect(closed).toEqual({
      id: `${id(BOB)}:ETH-PERP:1`, size: '0', entryPrice: null, markPrice: '3100', value: '3100', notional: '0', unrealizedPnl: '0',
      realizedPnl: '50', accruedFunding: '0', settledFunding: '0', feesPaid: '0.5', initialMargin: '0', maintenanceMargin: '0',
      liquidationPrice: null, delta: '0', gamma: '0', theta: '0', vega: '0', open: false, openedBlock: 2, closedBlock: 2,
    });
    expect(short).toMatchObject({ size: '-2', initialMargin: '620', maintenanceMargin: '310', delta: f(times(-2, call.delta)), theta: f(times(-2, call.theta)) });
    expect(perp).toMatchObject({ size: '2', entryPrice: '3100', unrealizedPnl: '0', delta: '2', openedBlock: 3 });
    // Far above, the short calls are worth about M - K each: equity - MM ~ 10349.5 + 2(M - 3100)
    // - 2(M - 3000) - 0.2 M = 10149.5 - 0.2 M, zero at 50747.5 (to the precision of the deep
    // in-the-money option value).
    const liquidation = Number(account.greeks[0].liquidationPrice);
    expect(Math.abs(liquidation - 50747.5)).toBeLessThan(1e-6);
    expect(short.liquidationPrice).toBe(account.greeks[0].liquidationPrice);
    expect(perp.liquidationPrice).toBe(account.greeks[0].liquidationPrice);
    expect(account.greeks[0]).toMatchObject({
      underlying: 'ETH', notional: '12400',
      delta: f(x(2) + times(-2, call.delta)), gamma: f(times(-2, call.gamma)), theta: f(times(-2, call.theta)), vega: f(times(-2, call.vega)),
    });
  });

  it('DAVE, long BTC-PERP through three funding periods: accrued funding -s * (F - Fs)', async () => {
    const { account } = await q(`{ account(owner: "${DAVE}") { ${RISK} ${GREEKS} } }`);
    expect(account).toEqual({
      collateral: '500', equity: '475', // 500 + 1 * (100 - 110) - 1 * (15 - 0)
      initialMargin: '10', maintenanceMargin: '5', freeCollateral: '465',
      marginRatio: '0.010526315789473684', leverage: '0.210526315789473684', // 5/475, 100/475
      marginState: 'HEALTHY', notional: '100', unrealizedPnl: '-10', accruedFunding: '-15',
      // 375 + 0.95 M > 0 for every M: no liquidation price.
      greeks: [{ underlying: 'BTC', indexPrice: '100', delta: '1', gamma: '0', theta: '0', vega: '0', notional: '100', liquidationPrice: null }],
    });
  });

  it('account: unknown accounts and subaccounts are null', async () => {
    const unknown = `0x${'ab'.repeat(20)}`;
    expect(await q(`{ a: account(owner: "${ALICE}", subaccount: 1) { id } b: account(owner: "${unknown}") { id } }`)).toEqual({ a: null, b: null });
    // Checksummed (mixed-case) addresses name the same account.
    expect(await q(`{ account(owner: "${ALICE.toUpperCase().replace('0X', '0x')}") { id } }`)).toEqual({ account: { id: id(ALICE) } });
  });

  it('a malformed owner or subaccount is a clear error, not "no such account"', async () => {
    const cases: [string, string, string][] = [
      ['{ account(owner: "0x1234") { id } }', 'owner must be a 0x-prefixed 20-byte hex address, got "0x1234"', 'owner'],
      [`{ account(owner: "${ALICE}", subaccount: -1) { id } }`, 'subaccount must be a uint32 (0 to 4294967295), got -1', 'subaccount'],
      [`{ account(owner: "${ALICE}", subaccount: 4294967296) { id } }`, 'subaccount must be a uint32 (0 to 4294967295), got 4294967296', 'subaccount'],
      ['{ accounts(owner: "alice") { edges { node { id } } } }', 'owner must be a 0x-prefixed 20-byte hex address, got "alice"', 'owner'],
      ['{ fills(owner: "alice") { edges { node { size } } } }', 'owner must be a 0x-prefixed 20-byte hex address, got "alice"', 'owner'],
      ['{ transitions(subaccount: -2) { edges { node { to } } } }', 'subaccount must be a uint32 (0 to 4294967295), got -2', 'subaccount'],
    ];
    for (const [source, message, argumentName] of cases) {
      const result = await execute(schema, db.pool, source);
      expect(result.errors?.map((e) => [e.message, e.extensions?.code, e.extensions?.argumentName])).toEqual([[message, 'BAD_USER_INPUT', argumentName]]);
    }
  });

  it('position by id, with its account, market and fills', async () => {
    const result = await q(`{ position(id: "${id(BOB)}:ETH-PERP:1") { id open account { id marginState } market { id kind }
      fills { totalCount ${PAGE_INFO} edges { node { id size price fee realizedPnl } } } }
      none: position(id: "nope") { id } }`);
    expect(result.position).toMatchObject({
      id: `${id(BOB)}:ETH-PERP:1`, open: false, account: { id: id(BOB), marginState: 'HEALTHY' }, market: { id: 'ETH-PERP', kind: 'PERPETUAL' },
      fills: {
        totalCount: 2,
        pageInfo: { hasNextPage: false, hasPreviousPage: false },
        edges: [
          { node: { id: '2:3', size: '1', price: '3000', fee: '0.5', realizedPnl: '0' } },
          { node: { id: '2:4', size: '-1', price: '3050', fee: '0', realizedPnl: '50' } },
        ],
      },
    });
    expect(result.none).toBeNull();
    const { positions } = await q(`{ positions(market: "ETH-PERP", includeClosed: true) { totalCount ${PAGE_INFO} edges { cursor node { id open } } } }`);
    // By id (byte order): BOB's 0x...0b0b sorts before ALICE's 0x...a11c.
    expect(positions.edges.map((e: any) => e.node)).toEqual([
      { id: `${id(BOB)}:ETH-PERP:1`, open: false },
      { id: `${id(BOB)}:ETH-PERP:2`, open: true },
      { id: `${id(ALICE)}:ETH-PERP:1`, open: true },
      { id: `${id(ERIN)}:ETH-PERP:1`, open: false },
    ]);
    expect(positions.totalCount).toBe(4);
    expect(positions.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: positions.edges[0].cursor, endCursor: positions.edges[3].cursor });
  });

  it('fills: every field, filters, liquidations, and under accounts and markets', async () => {
    const result = await q(`{
      liquidations: fills(liquidation: true) { totalCount edges { cursor node { ${FILL} } } }
      first: fills(owner: "${ALICE}") { edges { node { ${FILL} } } }
      block2: fills(fromBlock: 2, toBlock: 2, newestFirst: true, first: 2) { totalCount ${PAGE_INFO} edges { node { id } } }
      bob: fills(owner: "${BOB}", subaccount: 0, market: "ETH-PERP") { edges { node { id } } }
      account(owner: "${BOB}") { fills(market: "ETH-C") { totalCount edges { node { id size } } } }
      market(id: "ETH-C") { fills(newestFirst: true) { totalCount edges { node { id account { id } } } } }
    }`);
    expect(typeof result.liquidations.edges[0].cursor).toBe('string');
    expect(result.liquidations).toEqual({
      totalCount: 1,
      edges: [{ cursor: result.liquidations.edges[0].cursor, node: {
        id: '4:3', market: { id: 'ETH-PERP' }, account: { id: id(ERIN) }, position: { id: `${id(ERIN)}:ETH-PERP:1` },
        size: '-1', price: '3090', fee: '0', realizedPnl: '-10', liquidation: true, liquidator: BOB, penalty: '5',
        blockNumber: 4, blockTimestamp: 1035, transactionHash: tx(4, 3), logIndex: 3,
      } }],
    });
    expect(result.first.edges).toEqual([{ node: {
      id: '2:0', market: { id: 'ETH-PERP' }, account: { id: id(ALICE) }, position: { id: `${id(ALICE)}:ETH-PERP:1` },
      size: '-3', price: '3000', fee: '0', realizedPnl: '0', liquidation: false, liquidator: null, penalty: null,
      blockNumber: 2, blockTimestamp: 1010, transactionHash: tx(2, 0), logIndex: 0,
    } }]);
    expect(result.block2.totalCount).toBe(6);
    expect(result.block2.edges).toEqual([{ node: { id: '2:5' } }, { node: { id: '2:4' } }]);
    expect(result.block2.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(result.bob.edges).toEqual([{ node: { id: '2:3' } }, { node: { id: '2:4' } }, { node: { id: '3:2' } }]);
    expect(result.account.fills).toEqual({ totalCount: 1, edges: [{ node: { id: '2:2', size: '-2' } }] });
    expect(result.market.fills).toEqual({ totalCount: 2, edges: [{ node: { id: '2:2', account: { id: id(BOB) } } }, { node: { id: '2:1', account: { id: id(CAROL) } } }] });
  });

  it('transitions, transfers, funding history, anomalies', async () => {
    const result = await q(`{
      transitions(to: [MARGIN_CALL, LIQUIDATABLE], fromBlock: 1) { totalCount ${PAGE_INFO} edges { cursor node { account { id } from to blockNumber blockTimestamp equity initialMargin maintenanceMargin } } }
      none: transitions(owner: "${BOB}") { totalCount edges { node { blockNumber } } }
      alice: account(owner: "${ALICE}") { transitions(newestFirst: true) { totalCount edges { node { to } } } }
      bob: account(owner: "${BOB}") { transfers { totalCount ${PAGE_INFO} edges { cursor node { kind amount collateralAfter blockNumber blockTimestamp transactionHash logIndex } } } }
      fundingHistory(market: "BTC-PERP", first: 2, newestFirst: true) { totalCount ${PAGE_INFO} edges { cursor node { market { id } period periods rate indexPrice cumulativeFunding blockNumber blockTimestamp } } }
      btc: market(id: "BTC-PERP") { fundingHistory(first: 1) { edges { node { period rate cumulativeFunding } } } }
      anomalies(kind: "MALFORMED_LOG", fromBlock: 3, toBlock: 3) { totalCount ${PAGE_INFO} edges { cursor node { blockNumber logIndex transactionHash venue kind message data } } }
      noAnomalies: anomalies(kind: "ZERO_PRICE") { totalCount edges { node { kind } } }
    }`);
    const cursor = (connection: any, i = 0) => connection.edges[i].cursor;
    expect(result.transitions).toEqual({
      totalCount: 1,
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: cursor(result.transitions), endCursor: cursor(result.transitions) },
      edges: [{ cursor: cursor(result.transitions), node: { account: { id: id(ALICE) }, from: 'HEALTHY', to: 'MARGIN_CALL', blockNumber: 3, blockTimestamp: 1020, equity: '700', initialMargin: '930', maintenanceMargin: '465' } }],
    });
    expect(result.none).toEqual({ totalCount: 0, edges: [] });
    expect(result.alice.transitions).toEqual({ totalCount: 1, edges: [{ node: { to: 'MARGIN_CALL' } }] });
    expect(result.bob.transfers.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: cursor(result.bob.transfers), endCursor: cursor(result.bob.transfers, 1) });
    expect({ ...result.bob.transfers, pageInfo: undefined, edges: result.bob.transfers.edges.map((e: any) => ({ node: e.node })) }).toEqual({
      totalCount: 2,
      pageInfo: undefined,
      edges: [
        { node: { kind: 'DEPOSIT', amount: '10000', collateralAfter: '10000', blockNumber: 1, blockTimestamp: 1000, transactionHash: tx(1, 9), logIndex: 9 } },
        { node: { kind: 'WITHDRAWAL', amount: '100', collateralAfter: '10349.5', blockNumber: 3, blockTimestamp: 1020, transactionHash: tx(3, 3), logIndex: 3 } },
      ],
    });
    const settlement = (period: number, rate: string, cumulativeFunding: string, blockNumber: number, blockTimestamp: number) => ({
      market: { id: 'BTC-PERP' }, period, periods: 1, rate, indexPrice: '100', cumulativeFunding, blockNumber, blockTimestamp,
    });
    expect(result.fundingHistory.totalCount).toBe(4);
    expect(result.fundingHistory.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: cursor(result.fundingHistory), endCursor: cursor(result.fundingHistory, 1) });
    expect(result.fundingHistory.edges.map((e: any) => e.node)).toEqual([settlement(103, '0.05', '15', 5, 1041), settlement(102, '0.05', '10', 4, 1035)]);
    // The first period [1000, 1010) had no premium sample: rate 0.
    expect(result.btc.fundingHistory.edges).toEqual([{ node: { period: 100, rate: '0', cumulativeFunding: '0' } }]);
    expect(result.anomalies).toEqual({
      totalCount: 1,
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: cursor(result.anomalies), endCursor: cursor(result.anomalies) },
      edges: [{ cursor: cursor(result.anomalies), node: {
        blockNumber: 3, logIndex: 4, transactionHash: tx(3, 4), venue: VENUE, kind: 'MALFORMED_LOG', message: 'undecodable venue log: data too short',
        data: '{"data": "0x01", "topics": ["0xdead"]}',
      } }],
    });
    expect(result.noAnomalies).toEqual({ totalCount: 0, edges: [] });
  });

  it('accounts: a connection with every account field', async () => {
    const { accounts } = await q(`{ accounts(first: 2, orderBy: RISK_DESC) { totalCount ${PAGE_INFO}
      edges { cursor node { id owner subaccount ${RISK} createdBlock updatedBlock ${GREEKS}
        positions(includeClosed: false) { id }
        fills(first: 1) { totalCount edges { node { id } } }
        transitions { totalCount edges { node { to } } }
        transfers(first: 1, newestFirst: true) { totalCount edges { node { kind amount } } } } } } }`);
    expect(accounts.totalCount).toBe(5);
    expect(accounts.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    // Riskiest first: ALICE (465/700), then BOB (620/~9279).
    expect(accounts.edges.map((e: any) => e.node.id)).toEqual([id(ALICE), id(BOB)]);
    expect(accounts.edges[0].node).toMatchObject({ equity: '700', marginRatio: '0.664285714285714286', fills: { totalCount: 1, edges: [{ node: { id: '2:0' } }] }, transitions: { totalCount: 1 } });
    expect(accounts.edges[1].node.transfers).toEqual({ totalCount: 2, edges: [{ node: { kind: 'WITHDRAWAL', amount: '100' } }] });
  });

  it('stress: ETH +10% (3100 -> 3410) leaves ALICE (short 3 ETH-PERP) bankrupt; the calls BOB sold are the calls CAROL bought', async () => {
    const { stress, accounts, account } = await q(`{
      stress(shocks: [{ underlying: "ETH", priceMove: "0.1" }]) {
        blockNumber
        accountsBefore { healthy marginCall liquidatable bankrupt }
        accountsAfter { healthy marginCall liquidatable bankrupt }
        totalEquityBefore totalEquityAfter deficitAfter
        accounts(first: 10) { totalCount pageInfo { hasNextPage } edges { cursor node { account { id } stateBefore equity initialMargin maintenanceMargin marginRatio marginState } } }
      }
      accounts(first: 10) { edges { node { equity } } }
      account(owner: "${ALICE}") { stress(shocks: [{ underlying: "ETH", priceMove: "0.1" }]) { account { id } equity marginState } }
    }`);
    // ALICE: 1000 - 3 * (3410 - 3000); IM 3 * 3410 * 0.1, MM 3 * 3410 * 0.05; before, MARGIN_CALL (700 < 930).
    const alice = { account: { id: id(ALICE) }, stateBefore: 'MARGIN_CALL', equity: '-230', initialMargin: '1023', maintenanceMargin: '511.5', marginRatio: null, marginState: 'BANKRUPT' };
    expect(stress).toMatchObject({
      blockNumber: 5,
      accountsBefore: { healthy: 4, marginCall: 1, liquidatable: 0, bankrupt: 0 },
      accountsAfter: { healthy: 4, marginCall: 0, liquidatable: 0, bankrupt: 1 },
      deficitAfter: '230',
      accounts: { totalCount: 1, pageInfo: { hasNextPage: false }, edges: [{ node: alice }] },
    });
    // Before: the sum of every account's equity. After: ALICE -3 * 310, BOB's ETH-PERP +2 * 310,
    // and the ETH-C value BOB (short 2) loses CAROL (long 2) gains.
    const sum = accounts.edges.reduce((total: Fixed, e: any) => total + x(e.node.equity), 0n);
    expect(stress.totalEquityBefore).toBe(formatFixed(sum));
    expect(stress.totalEquityAfter).toBe(formatFixed(sum - x(310)));
    expect(account.stress).toEqual({ account: { id: id(ALICE) }, equity: '-230', marginState: 'BANKRUPT' });
  });

  it('returns on equity and funding totals of each position (SPEC section 8)', async () => {
    const positions = async (owner: string) =>
      (await q(`{ account(owner: "${owner}") { positions(includeClosed: true) { id returnOnEquity accruedFunding funding { sinceChange sinceOpen allTime } } } }`)).account.positions;
    // Alice short 3 ETH-PERP from 3000 at 3100: -300 over 3 x 3100 x 0.1.
    expect((await positions(ALICE))[0]).toMatchObject({ returnOnEquity: f(div(x(-300), x(930))), funding: { sinceChange: '0', sinceOpen: '0', allTime: '0' } });
    // Carol long 2 ETH-C bought at 200: uPnL over the premium paid, 2 x 200.
    expect((await positions(CAROL))[0].returnOnEquity).toBe(f(div(V - x(200), x(200))));
    // Bob: short 2 ETH-C over its initial margin, 2 x 3100 x 0.1; his closed ETH-PERP lifecycle has no divisor.
    const bob = Object.fromEntries((await positions(BOB)).map((p: any) => [p.id, p.returnOnEquity]));
    expect(bob).toEqual({ [`${id(BOB)}:ETH-C:1`]: f(div(mul(x(-2), V - x(200)), x(620))), [`${id(BOB)}:ETH-PERP:1`]: null, [`${id(BOB)}:ETH-PERP:2`]: '0' });
    // Dave's BTC-PERP never changed after opening: everything it paid is still accrued.
    const [dave] = await positions(DAVE);
    expect(dave.accruedFunding).not.toBe('0');
    expect(dave.funding).toEqual({ sinceChange: dave.accruedFunding, sinceOpen: dave.accruedFunding, allTime: dave.accruedFunding });
  });

  it('serves the account history per block and per hour, and any past block (SPEC section 8)', async () => {
    const TICK = 'timestamp blockNumber blockTimestamp collateral equity unrealizedPnl realizedPnl netTransfers totalPnl marginRatio marginState';
    const history = await q(`{ account(owner: "${ALICE}") {
      block: history(every: BLOCK) { totalCount edges { cursor node { ${TICK} } } pageInfo { hasNextPage } }
      hour: history(every: HOUR) { totalCount edges { node { blockNumber } } }
      day: history(every: DAY, fromTimestamp: 0, toTimestamp: 100000) { totalCount edges { node { blockNumber } } } } }`);
    const tick = (block: number, t: number, equity: string, unrealized: string, ratio: string, state: string) => ({
      timestamp: t, blockNumber: block, blockTimestamp: t, collateral: '1000', equity, unrealizedPnl: unrealized, realizedPnl: '0',
      netTransfers: '1000', totalPnl: f(x(equity) - x(1000)), marginRatio: ratio, marginState: state,
    });
    // Opened at 3000 in block 2 (MM 3 x 3000 x 0.05 = 450), ETH to 3100 in block 3 (MM 465, equity 700 < IM 930);
    // blocks 4-5 move nothing of hers (block 4's ETH-PERP fills change the market, not her values).
    expect(history.account.block.edges.map((e: any) => e.node)).toEqual([
      tick(1, 1000, '1000', '0', '0', 'HEALTHY'),
      tick(2, 1010, '1000', '0', '0.45', 'HEALTHY'),
      tick(3, 1020, '700', '-300', f(div(x(465), x(700))), 'MARGIN_CALL'),
    ]);
    expect(history.account.block.totalCount).toBe(3);
    // No hour or day boundary between t = 1000 and the served block's t = 1041.
    expect(history.account.hour).toEqual({ totalCount: 0, edges: [] });
    expect(history.account.day).toEqual({ totalCount: 0, edges: [] });
    // Block 2 as it was served then.
    const past = await q(`{ meta(block: { number: 2 }) { blockNumber blockTimestamp } account(owner: "${ALICE}", block: { number: 2 }) { equity marginState } }`);
    expect(past).toEqual({ meta: { blockNumber: 2, blockTimestamp: 1010 }, account: { equity: '1000', marginState: 'HEALTHY' } });
  });

  it('covers every field of the schema except the subscription-only types', () => {
    const used = new Set<string>();
    const typeInfo = new TypeInfo(schema);
    for (const source of documents) {
      visit(parse(source), visitWithTypeInfo(typeInfo, {
        Field() {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          if (parent && field) used.add(`${parent.name}.${field.name}`);
        },
      }));
    }
    const all: string[] = [];
    const skip = new Set(['Subscription', 'BlockCommitted', 'Reorg']);
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__') || skip.has(type.name)) continue;
      for (const field of Object.values(type.getFields())) {
        if (!getNamedType(field.type).name.startsWith('__')) all.push(`${type.name}.${field.name}`);
      }
    }
    expect(all.filter((name) => !used.has(name))).toEqual([]);
  });

});
