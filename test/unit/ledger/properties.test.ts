// Property tests of the ledger (issue 2): invariants over random block sequences.
import fc from 'fast-check';
import { abs, narrow } from '../../../src/fixed/index.js';
import { isOpen, type LedgerState } from '../../../src/ledger/index.js';
import {
  ALICE, BOB, CAROL, LedgerChain, ORACLE_1, ORACLE_2, ORACLE_3, ev, marginStateFromScratch, markAt, riskOf, type EventDraft,
} from '../../support/ledger.js';


const OWNERS = [ALICE, BOB, CAROL];
const MARKETS = ['ETH-PERP', 'BTC-PERP', 'ETH-C-100', 'ETH-P-90'];
const PARAMS = { oracleStalenessSeconds: 600, riskFreeRate: 0n };

const decimal = (min: number, max: number, places = 4) =>
  fc.integer({ min: min * 10 ** places, max: max * 10 ** places }).map((n) => (n / 10 ** places).toFixed(places));
const owner = fc.constantFrom(...OWNERS);
const sub = fc.constantFrom(0, 1);

const eventArb: fc.Arbitrary<EventDraft> = fc.oneof(
  fc.record({ o: owner, s: sub, a: decimal(0, 5000, 2) }).map(({ o, s, a }) => ev.deposit(o, a, s)),
  fc.record({ o: owner, s: sub, a: decimal(0, 500, 2) }).map(({ o, s, a }) => ev.withdraw(o, a, s)),
  fc.record({ m: fc.constantFrom(...MARKETS, 'UNKNOWN'), o: owner, s: sub, d: decimal(-5, 5, 3), p: decimal(0, 200, 2), f: decimal(0, 1, 3) })
    .map(({ m, o, s, d, p, f }) => ev.fill(m, o, d, p, f, s)),
  fc.record({ m: fc.constantFrom(...MARKETS), o: owner, d: decimal(-5, 5, 3), p: decimal(1, 200, 2), pen: decimal(0, 5, 2) })
    .map(({ m, o, d, p, pen }) => ev.liquidate(m, o, d, p, pen)),
  fc.record({ u: fc.constantFrom('ETH', 'BTC'), p: decimal(0, 200, 3), src: fc.constantFrom(ORACLE_1, ORACLE_2, ORACLE_3) })
    .map(({ u, p, src }) => ev.price(u, p, src)),
  fc.record({ m: fc.constantFrom('ETH-C-100', 'ETH-P-90'), v: decimal(0, 2, 3) }).map(({ m, v }) => ev.vol(m, v)),
);

const blocksArb = fc.array(fc.record({ dt: fc.integer({ min: 0, max: 1500 }), events: fc.array(eventArb, { maxLength: 8 }) }), { maxLength: 25 });

/** Lists the markets; `priced`: with first index prices (else fills come before any mark). */
function listing(chain: LedgerChain, priced = true): void {
  chain.block(10_000, [
    ev.perp('ETH-PERP', 'ETH', { interval: 1000, maxRate: '0.01' }),
    ev.perp('BTC-PERP', 'BTC', { interval: 700, maxRate: '0.02' }),
    ev.option('ETH-C-100', 'ETH', 'CALL', 100, 25_000),
    ev.option('ETH-P-90', 'ETH', 'PUT', 90, 40_000),
    ...(priced ? [ev.price('ETH', 100), ev.price('BTC', 150)] : []),
    ev.vol('ETH-C-100', '0.5'),
  ]);
}

function run(blocks: { dt: number; events: EventDraft[] }[]): LedgerChain {
  const chain = new LedgerChain(PARAMS);
  listing(chain);
  let time = 10_000;
  for (const block of blocks) chain.block((time += block.dt), block.events);
  return chain;
}

const equityOf = (state: LedgerState, accountId: string): bigint => riskOf(state, accountId).equity;

describe('ledger invariants', () => {
  it('is deterministic: the same blocks from scratch give the same state and changes', () => {
    fc.assert(fc.property(blocksArb, (blocks) => {
      const a = run(blocks);
      const b = run(blocks);
      expect(b.state).toEqual(a.state);
      expect(b.history).toEqual(a.history);
    }), { numRuns: 60 });
  });

  it('keeps every amount a bigint: nothing passes through a JavaScript number', () => {
    const counters = new Set(['blockNumber', 'logIndex', 'transactionIndex', 'timestamp', 'seq', 'subaccount', 'expiry',
      'fundingInterval', 'period', 'periods', 'coveredSeconds', 'accountedUntil', 'number', 'openedBlock', 'closedBlock',
      'updatedBlock', 'listedBlock', 'createdBlock', 'settledBlock', 'eventCount', 'kind']);
    const walk = (value: unknown, key: string): void => {
      if (typeof value === 'number') expect(counters.has(key) ? key : `amount ${key} is a number`).toBe(key);
      else if (value instanceof Map) for (const v of value.values()) walk(v, key);
      else if (Array.isArray(value)) value.forEach((v) => walk(v, key));
      // marginIndex: in-memory float bounds on whom to re-evaluate, never an amount (src/risk/margin-bounds.ts).
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (k !== 'data' && k !== 'marginIndex') walk(v, k);
    };
    fc.assert(fc.property(blocksArb, (blocks) => {
      const chain = run(blocks);
      walk(chain.history, 'history');
      // The state as the ledger reads it (its tables keep row numbers of their own).
      const { markets, underlyings, accounts, openPositions, lastBlock } = chain.state;
      walk({ markets, underlyings, accounts: [...accounts.values()], positions: [...openPositions].flatMap(([, open]) => [...open.values()]), lastBlock }, 'state');
    }), { numRuns: 40 });
  });

  it('keeps every account in the margin state its positions give, block after block', () => {
    fc.assert(fc.property(blocksArb, fc.boolean(), (blocks, pricedAtListing) => {
      const chain = new LedgerChain(PARAMS);
      listing(chain, pricedAtListing);
      let time = 10_000;
      for (const block of blocks) {
        chain.block((time += block.dt), block.events);
        for (const [accountId, account] of chain.state.accounts) {
          expect(account.marginState).toBe(marginStateFromScratch(chain.state, accountId));
        }
      }
    }), { numRuns: 80 });
  });

  it('splitting a fill into two at the same price changes nothing beyond 1e-18 rounding', () => {
    const arb = fc.record({
      opening: decimal(-5, 5, 3), openPrice: decimal(50, 150, 2),
      first: decimal(-5, 5, 3), second: decimal(-5, 5, 3), price: decimal(50, 150, 2), market: fc.constantFrom('ETH-PERP', 'ETH-C-100'),
    }).filter(({ first, second }) => Math.sign(Number(first)) === Math.sign(Number(second)) && Number(first) !== 0);
    fc.assert(fc.property(arb, ({ opening, openPrice, first, second, price, market }) => {
      const total = (Number(first) + Number(second)).toFixed(3);
      const once = new LedgerChain(PARAMS);
      const split = new LedgerChain(PARAMS);
      for (const chain of [once, split]) {
        listing(chain);
        chain.block(10_001, [ev.deposit(ALICE, 1000), ...(Number(opening) ? [ev.fill(market, ALICE, opening, openPrice)] : [])]);
      }
      once.block(10_002, [ev.fill(market, ALICE, total, price, '0.3')]);
      split.block(10_002, [ev.fill(market, ALICE, first, price, '0.1'), ev.fill(market, ALICE, second, price, '0.2')]);
      const [a, b] = [once.position(ALICE, market)!, split.position(ALICE, market)!];
      // Lifecycles may differ (a split that lands exactly on zero closes one and opens the
      // next, where one fill flips), so PnL and fees are compared over the fills.
      const sumOf = (chain: LedgerChain, field: 'realizedPnl' | 'fee') =>
        chain.history.flatMap((c) => c.fills).reduce((sum, fill) => sum + fill[field], 0n);
      expect(b.size).toBe(a.size);
      expect(abs((b.entryPrice ?? 0n) - (a.entryPrice ?? 0n))).toBeLessThanOrEqual(1n);
      expect(abs(sumOf(split, 'realizedPnl') - sumOf(once, 'realizedPnl'))).toBeLessThanOrEqual(2n);
      expect(abs(split.account(ALICE)!.collateral - once.account(ALICE)!.collateral)).toBeLessThanOrEqual(2n);
      expect(sumOf(split, 'fee')).toBe(sumOf(once, 'fee'));
      // The market sees the same last fill price, hence the same funding premium sample.
      expect(split.market(market)).toEqual(once.market(market));
      // With nothing to round (opening from flat, or closing at whole cents), nothing differs at all.
      if (!Number(opening)) {
        expect(b.entryPrice).toBe(a.entryPrice);
        expect(split.account(ALICE)!.collateral).toBe(once.account(ALICE)!.collateral);
      }
    }), { numRuns: 200 });
  });

  it('closing every position at its mark turns equity into collateral', () => {
    fc.assert(fc.property(blocksArb, (blocks) => {
      const chain = run(blocks);
      const state = chain.state;
      const closes: EventDraft[] = [];
      const before = new Map<string, bigint>();
      for (const [accountId, markets] of state.openPositions) {
        if (markets.size === 0) continue;
        before.set(accountId, equityOf(state, accountId));
        const [ownerAddress, subaccount] = accountId.split(':');
        for (const marketId of markets.keys()) {
          const market = state.markets.get(marketId)!;
          const position = state.positions.get(`${accountId}|${marketId}`)!;
          const mark = markAt(state, market);
          const price = mark.value ?? position.entryPrice!;
          if (price === 0n) return; // a worthless option cannot be closed by a fill (zero price is skipped)
          closes.push({ ...ev.fill(marketId, ownerAddress!, 1, 1, 0, Number(subaccount)), sizeDelta: -position.size, price });
        }
      }
      chain.block(state.lastBlock!.timestamp, closes);
      for (const [accountId, equity] of before) {
        expect([...(state.openPositions.get(accountId)?.keys() ?? [])].filter((m) => isOpen(state.positions.get(`${accountId}|${m}`)!))).toEqual([]);
        const collateral = state.accounts.get(accountId)!.collateral;
        // One 1e-18 rounding per position for its PnL or premium and one for its funding.
        expect(abs(narrow(equity) - collateral)).toBeLessThanOrEqual(8n);
        expect(equityOf(state, accountId)).toBe(collateral * 10n ** 36n);
      }
    }), { numRuns: 60 });
  });

  it('equity is continuous in the index price: |d equity| <= sum |s| * |dM|', () => {
    fc.assert(fc.property(blocksArb, fc.integer({ min: 1, max: 1000 }), (blocks, step) => {
      const chain = run(blocks);
      const state = chain.state;
      const eth = state.underlyings.get('ETH')!;
      if (eth.indexPrice === null) return;
      const moved: LedgerState = { ...state, underlyings: new Map(state.underlyings).set('ETH', { ...eth, indexPrice: eth.indexPrice + BigInt(step) * 10n ** 12n }) };
      const dM = BigInt(step) * 10n ** 12n;
      for (const [accountId, markets] of state.openPositions) {
        let exposure = 0n;
        for (const m of markets.keys()) if (state.markets.get(m)!.underlying === 'ETH') exposure += abs(state.positions.get(`${accountId}|${m}`)!.size);
        const change = abs(equityOf(moved, accountId) - equityOf(state, accountId));
        // Option values carry float64 rounding (SPEC 1): allow 1e-9 per unit of exposure on top.
        const bound = exposure * dM * 10n ** 18n + exposure * 10n ** 27n + 10n ** 36n;
        expect(change <= bound).toBe(true);
      }
    }), { numRuns: 60 });
  });
});

