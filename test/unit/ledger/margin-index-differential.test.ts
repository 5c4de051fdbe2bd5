// The margin index (src/ledger/margin-index, src/risk/margin-bounds.ts) against a full pass:
// on random ledgers with many accounts placed at or near a threshold, and random blocks of
// moves, the indexed pass gives exactly the transitions of a pass that evaluates every
// holder every block (the same chain with its index emptied before each block).
import fc from 'fast-check';
import { formatFixed, parseFixed, type Fixed } from '../../../src/fixed/index.js';
import { MarginIndex } from '../../../src/ledger/margin-index/index.js';
import type { BlockChanges, LedgerState, TransitionRecord } from '../../../src/ledger/index.js';
import { accountRisk, marginState } from '../../../src/risk/account.js';
import { markOf } from '../../../src/risk/mark.js';
import { positionRisk } from '../../../src/risk/position.js';
import { LedgerChain, ev, type EventDraft } from '../../support/ledger.js';

const DAY = 86_400;
const START = 1_000_000;
const UNDERLYINGS = { ETH: 100, BTC: 150, SOL: 20 } as const;
type Underlying = keyof typeof UNDERLYINGS;

// Perpetuals with and without funding (SOL: MMF above IMF), options from hours to a month
// (SOL-C-21: short-dated at 400% volatility, where time decay dominates an account's budget).
const LISTING: EventDraft[] = [
  ev.perp('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', interval: 600, maxRate: '0.02' }),
  ev.perp('BTC-PERP', 'BTC', { imf: '0.2', mmf: '0.1', interval: 0, maxRate: '0' }),
  ev.perp('SOL-PERP', 'SOL', { imf: '0.05', mmf: '0.08', interval: 900, maxRate: '0.05' }),
  ev.option('ETH-C-100', 'ETH', 'CALL', 100, START + 2 * DAY),
  ev.option('ETH-P-95', 'ETH', 'PUT', 95, START + 30 * DAY, { imf: '0.15', mmf: '0.1' }),
  ev.option('BTC-C-160', 'BTC', 'CALL', 160, START + 10 * DAY),
  ev.option('SOL-P-20', 'SOL', 'PUT', 20, START + DAY / 2, { imf: '0.2', mmf: '0.1' }),
  ev.option('SOL-C-21', 'SOL', 'CALL', 21, START + DAY / 3),
  ev.vol('ETH-C-100', '0.6'),
  ev.vol('ETH-P-95', '0.8'),
  ev.vol('BTC-C-160', '0.5'),
  ev.vol('SOL-P-20', '1.2'),
  ev.vol('SOL-C-21', '4'),
  ...Object.entries(UNDERLYINGS).map(([u, p]) => ev.price(u, p)),
];
const MARKETS = ['ETH-PERP', 'BTC-PERP', 'SOL-PERP', 'ETH-C-100', 'ETH-P-95', 'BTC-C-160', 'SOL-P-20', 'SOL-C-21'];
const OPTIONS = MARKETS.filter((m) => !m.endsWith('PERP'));
const UNDERLYING_OF: Record<string, Underlying> = Object.fromEntries(MARKETS.map((m) => [m, m.split('-')[0] as Underlying]));
const MAKER = '0x00000000000000000000000000000000000000aa';
const owner = (i: number) => `0x${(i + 1).toString(16).padStart(40, '0')}`;

const accountArb = fc.record({
  positions: fc.uniqueArray(
    fc.record({ market: fc.constantFrom(...MARKETS), size: fc.integer({ min: -400, max: 400 }).filter((n) => n !== 0) }),
    { minLength: 1, maxLength: 4, selector: (p) => p.market },
  ),
  // Where it sits: at IM, MM or zero equity, plus an offset in 1e-5 of its notional; or
  // exactly on it, one wei off, or within float64 precision of it (1e-14 of its notional).
  threshold: fc.constantFrom('IM', 'MM', 'ZERO'),
  offset: fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(0n, 1n, -1n) },
    { weight: 1, arbitrary: fc.integer({ min: -3000, max: 3000 }).map((n) => ({ tiny: BigInt(n) })) },
    { weight: 6, arbitrary: fc.integer({ min: -300, max: 300 }).map(BigInt) },
  ),
});

const moveArb = fc.record({ underlying: fc.constantFrom<Underlying>('ETH', 'BTC', 'SOL'), bp: fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -20, max: 20 }) }, // up to 0.2%
  { weight: 2, arbitrary: fc.integer({ min: -200, max: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: -2000, max: 2000 }) },
) });

const extraArb = fc.oneof(
  fc.record({ kind: fc.constant('vol' as const), market: fc.constantFrom(...OPTIONS), level: fc.integer({ min: 0, max: 200 }) }),
  fc.record({ kind: fc.constant('premium' as const), market: fc.constantFrom('ETH-PERP', 'SOL-PERP'), bp: fc.integer({ min: -300, max: 300 }) }),
  fc.record({ kind: fc.constant('own' as const), account: fc.nat(), amount: fc.integer({ min: -50, max: 50 }) }),
  fc.record({ kind: fc.constant('fractions' as const), market: fc.constantFrom(...MARKETS), imf: fc.integer({ min: 1, max: 30 }), mmf: fc.integer({ min: 1, max: 30 }) }),
);

// Adversarial: move an account's factors to just inside the edges of its current ranges, all
// at once (prices, volatilities, time to the last second of its window), where a range only
// slightly too wide would hide a crossing.
const edgeArb = fc.record({
  account: fc.nat(),
  price: fc.boolean(),
  volatility: fc.boolean(),
  time: fc.boolean(),
  sides: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  perMille: fc.integer({ min: 950, max: 1000 }),
});

const stepArb = fc.record({
  edge: fc.option(edgeArb, { freq: 3 }),
  dt: fc.oneof(
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 120 }) },
    { weight: 2, arbitrary: fc.integer({ min: 120, max: 4 * 3600 }) },
    { weight: 1, arbitrary: fc.integer({ min: 4 * 3600, max: 3 * DAY }) },
  ),
  moves: fc.array(moveArb, { maxLength: 3 }),
  extras: fc.array(extraArb, { maxLength: 2 }),
});

const ledgerArb = fc.record({
  accounts: fc.array(accountArb, { minLength: 2, maxLength: 10 }),
  rate: fc.constantFrom('0', '0', '0.05', '-0.03'),
  steps: fc.array(stepArb, { minLength: 5, maxLength: 40 }),
});

/** SPEC section 4 from scratch at the state's last block, with the chain's risk-free rate. */
function riskOf(state: LedgerState, accountId: string, rate: Fixed) {
  const open = [...(state.openPositions.get(accountId)?.values() ?? [])];
  return accountRisk(state.accounts.get(accountId)!.collateral, open.map((position) => {
    const market = state.markets.get(position.marketId)!;
    const mark = markOf(market, state.underlyings.get(market.underlying)?.indexPrice ?? null, state.lastBlock!.timestamp, rate);
    return positionRisk(position, market, mark);
  }));
}

type Ledger = typeof ledgerArb extends fc.Arbitrary<infer T> ? T : never;
const decimal = (value: number) => value.toFixed(6);
const precise = (value: number) => value.toFixed(12);

/** An account's live ranges in the index: factor key -> [bottom, top], and its time window's last second. */
function rangesOf(index: MarginIndex, accountId: string): { factors: Map<string, [number, number]>; until: number } {
  const factors = new Map<string, [number, number]>();
  const slot = index.slots.get(accountId);
  let until = Infinity;
  if (slot === undefined) return { factors, until };
  const live = index.versions[slot];
  for (const [key, factor] of index.factors) {
    const range: [number, number] = [-Infinity, Infinity];
    for (let i = 0; i < factor.bottoms.size; i++) if (factor.bottoms.slots[i] === slot && factor.bottoms.versions[i] === live) range[0] = -factor.bottoms.keys[i]!;
    for (let i = 0; i < factor.tops.size; i++) if (factor.tops.slots[i] === slot && factor.tops.versions[i] === live) range[1] = factor.tops.keys[i]!;
    if (range[0] > -Infinity || range[1] < Infinity) factors.set(key, range);
  }
  const { windows } = index;
  for (let i = 0; i < windows.size; i++) if (windows.slots[i] === slot && windows.versions[i] === live) until = windows.keys[i]!;
  return { factors, until };
}
const sorted = (transitions: TransitionRecord[]) => [...transitions].sort((a, b) => a.accountId.localeCompare(b.accountId));

/** Runs one random ledger on two chains, indexed and full, comparing block by block; returns the evaluations the index saved. */
function compare({ accounts, rate, steps }: Ledger): number {
  const params = { oracleStalenessSeconds: 1e9, riskFreeRate: parseFixed(rate) };
  const indexed = new LedgerChain(params);
  const full = new LedgerChain(params);
  const prices: Record<Underlying, number> = { ...UNDERLYINGS };
  let time = START;
  let saved = 0;

  const block = (events: EventDraft[]) => {
    full.state.marginIndex = new MarginIndex(); // every holder evaluated, as after a load
    const a = indexed.block(time, events);
    const b = full.block(time, events);
    check(a, b);
    saved += b.marginIndex!.ranges.accounts.length - a.marginIndex!.ranges.accounts.length;
  };
  const check = (a: BlockChanges, b: BlockChanges) => {
    expect(sorted(a.transitions)).toEqual(sorted(b.transitions));
    expect(a.accounts.map((x) => x.id).sort()).toEqual(b.accounts.map((x) => x.id).sort());
    for (const [id, account] of indexed.state.accounts) expect([id, account.marginState]).toEqual([id, marginState(riskOf(indexed.state, id, params.riskFreeRate))]);
  };

  block(LISTING);
  // Open every position at zero collateral (options at a premium near their value), then
  // deposit (or withdraw) what puts each account at its threshold plus its offset.
  block([
    ev.deposit(MAKER, 1_000_000),
    ...accounts.flatMap((a, i) => a.positions.map((p) => ev.fill(p.market, owner(i), p.size / 100, p.market.endsWith('PERP') ? UNDERLYINGS[UNDERLYING_OF[p.market]!] : 5))),
  ]);
  block(accounts.map((a, i) => {
    const id = `${owner(i)}:0`;
    const risk = riskOf(indexed.state, id, params.riskFreeRate);
    const target = a.threshold === 'IM' ? risk.initialMargin : a.threshold === 'MM' ? risk.maintenanceMargin : 0n;
    const offset = typeof a.offset === 'object' ? (a.offset.tiny * risk.notional) / 10n ** 14n
      : a.offset >= -1n && a.offset <= 1n ? a.offset * 10n ** 36n : (a.offset * risk.notional) / 100_000n;
    const amount: Fixed = (target - risk.equity + offset) / 10n ** 36n;
    return amount >= 0n ? ev.deposit(owner(i), formatFixed(amount)) : ev.withdraw(owner(i), formatFixed(-amount));
  }));

  const volatilities: Record<string, number> = { 'ETH-C-100': 0.6, 'ETH-P-95': 0.8, 'BTC-C-160': 0.5, 'SOL-P-20': 1.2, 'SOL-C-21': 4 };
  for (const step of steps) {
    const events: EventDraft[] = [];
    let dt = step.dt;
    if (step.edge) {
      const { account, price, volatility, time: toWindowEnd, sides, perMille } = step.edge;
      const ranges = rangesOf(indexed.state.marginIndex, `${owner(account % accounts.length)}:0`);
      const toward = (x: number, [bottom, top]: [number, number], side: boolean) => {
        const edge = (side && top < Infinity) || bottom === -Infinity ? top : bottom;
        // A harmless side can be astronomically far: at most 10x (or a tenth), a report the chain could make.
        return Math.min(10 * x, Math.max(x / 10, x + ((edge - x) * perMille) / 1000));
      };
      let k = 0;
      for (const [key, range] of ranges.factors) {
        const side = sides[k++ % sides.length]!;
        if (!(range[0] <= range[1]) || range[0] === Infinity) continue; // pinned: any move re-evaluates
        const [kind, name] = key.split(':') as [string, string];
        if (kind === 'price' && price) {
          const u = name as Underlying;
          prices[u] = Math.max(1e-6, toward(prices[u], range, side));
          events.push(ev.price(u, precise(prices[u])));
        } else if (kind === 'volatility' && volatility) {
          volatilities[name] = Math.max(0, toward(volatilities[name]!, range, side));
          events.push(ev.vol(name, precise(volatilities[name]!)));
        }
      }
      if (toWindowEnd && ranges.until < Infinity && ranges.until > time) dt = ranges.until - time;
    }
    time += dt;
    for (const { underlying, bp } of step.moves) {
      prices[underlying] = Math.max(0.01, prices[underlying] * (1 + bp / 10_000));
      events.push(ev.price(underlying, decimal(prices[underlying])));
    }
    for (const extra of step.extras) {
      if (extra.kind === 'vol') {
        volatilities[extra.market] = extra.level / 100;
        events.push(ev.vol(extra.market, (extra.level / 100).toFixed(2)));
      }
      else if (extra.kind === 'premium') events.push(ev.fill(extra.market, MAKER, '0.01', decimal(prices[UNDERLYING_OF[extra.market]!] * (1 + extra.bp / 10_000))));
      else if (extra.kind === 'fractions') events.push(ev.fractions(extra.market, (extra.imf / 100).toFixed(2), (extra.mmf / 100).toFixed(2)));
      else {
        const who = owner(extra.account % accounts.length);
        const amount = (Math.abs(extra.amount) / 100).toFixed(2);
        events.push(extra.amount >= 0 ? ev.deposit(who, amount) : ev.withdraw(who, amount));
      }
    }
    block(events);
  }
  return saved;
}

describe('the indexed margin pass against a full pass', () => {
  it('gives the same transitions, block by block, on random ledgers near their thresholds and random moves', () => {
    let saved = 0;
    fc.assert(fc.property(ledgerArb, (ledger) => {
      saved += compare(ledger);
    }), { numRuns: 250 });
    expect(saved).toBeGreaterThan(0); // and it does skip
  });
});
