// bench/margin-pass: the ledger's margin pass alone (src/ledger/evaluate-margins.ts) on synthetic
// ledgers, the margin index against the margin watch it replaced (bench/baseline), same run,
// same blocks: the first pass after a load (fills the index), 0.1% ETH ticks (block time +12 s,
// a funding step every 300 blocks, a volatility report every 50), then one 7% ETH move.
//
//   node --expose-gc --max-semi-space-size=64 --max-old-space-size=16000 bin/run-ts.js bench/margin-pass.ts \
//     [--accounts 100000,1000000] [--ticks 300] [--old-ticks 40] [--only new|old]
//
// Times include V8's collections of the ledger itself (at 1,000,000 accounts a full one of its
// ~2.5 GB takes seconds on a shared machine: the p99), as the ingester would see them.
//
// Accounts hold 5 positions over ETH, BTC and SOL: 1-2 perpetuals and options (calls and puts
// around the money, 7 and 30 days), collateral from 0.3x to 5x their initial margin.
import { parseArgs } from 'node:util';
import type { Fixed } from '../src/fixed/index.js';
import { Draft } from '../src/ledger/draft.js';
import { evaluateMargins } from '../src/ledger/evaluate-margins.js';
import { commitMarginIndex, type MarginIndex } from '../src/ledger/margin-index/index.js';
import { commitBlock, stateFrom, type Account, type BlockHeader, type LedgerState, type Market, type Position, type Underlying } from '../src/ledger/index.js';
import { optionAt } from '../src/risk/mark.js';
import { emptyWatch, commitWatch, type MarginWatch } from './baseline/margin-watch.js';
import { affectedMarkets, evaluateMargins as evaluateWatched } from './baseline/evaluate-margins.js';

const { values } = parseArgs({ options: {
  accounts: { type: 'string', default: '100000,1000000' },
  ticks: { type: 'string', default: '300' },
  'old-ticks': { type: 'string', default: '40' },
  only: { type: 'string', default: '' }, // 'new' or 'old': one of the two
} });

const DAY = 86_400;
const START = 1_750_000_000;
const RATE = 0n;
const fx = (x: number): Fixed => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
const fl = (x: Fixed): number => Number(x) / 1e18;

// A fixed-seed generator, so runs compare like with like.
let seed = 7;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;

const PRICES: Record<string, number> = { ETH: 3000, BTC: 60_000, SOL: 150 };

function market(id: string, underlying: string, kind: Market['kind'], strike = 0, expiry = 0, vol = 0): Market {
  const perpetual = kind === 'PERPETUAL';
  return {
    id, underlying, kind, strike: fx(strike), expiry,
    initialMarginFraction: fx(perpetual ? 0.1 : 0.15), maintenanceMarginFraction: fx(perpetual ? 0.05 : 0.1),
    fundingInterval: perpetual ? 3600 : 0, maxFundingRate: perpetual ? fx(0.001) : 0n,
    impliedVolatility: perpetual ? null : fx(vol), lastFillPrice: perpetual ? fx(PRICES[underlying]! * 1.0005) : null,
    cumulativeFunding: 0n, lastFundingRate: null,
    funding: { premium: null, period: Math.floor(START / 3600), weightedPremium: 0n, coveredSeconds: 0, accountedUntil: START },
    settlementPrice: null, settledBlock: null, venue: '0xfe', listedBlock: 1, updatedBlock: 1,
  };
}

const MARKETS: Market[] = [
  market('ETH-PERP', 'ETH', 'PERPETUAL'), market('BTC-PERP', 'BTC', 'PERPETUAL'), market('SOL-PERP', 'SOL', 'PERPETUAL'),
  ...[2700, 3000, 3300].flatMap((k) => [7, 30].flatMap((d) => [
    market(`ETH-C-${k}-${d}`, 'ETH', 'CALL', k, START + d * DAY, 0.6), market(`ETH-P-${k}-${d}`, 'ETH', 'PUT', k, START + d * DAY, 0.65),
  ])),
  ...[55_000, 65_000].flatMap((k) => [market(`BTC-C-${k}`, 'BTC', 'CALL', k, START + 30 * DAY, 0.5), market(`BTC-P-${k}`, 'BTC', 'PUT', k, START + 30 * DAY, 0.55)]),
  market('SOL-C-150', 'SOL', 'CALL', 150, START + 7 * DAY, 0.9), market('SOL-P-150', 'SOL', 'PUT', 150, START + 7 * DAY, 0.9),
];
const PERPS = MARKETS.filter((m) => m.kind === 'PERPETUAL');
const OPTIONS = MARKETS.filter((m) => m.kind !== 'PERPETUAL');

function ledger(n: number): LedgerState {
  seed = 7;
  const underlyings: Underlying[] = Object.entries(PRICES).map(([id, price]) => ({
    id, indexPrice: fx(price), indexStale: false, updatedBlock: 1,
    sources: new Map([['0x01', { underlying: id, source: '0x01', price: fx(price), timestamp: START, blockNumber: 1 }]]),
  }));
  const accounts: Account[] = [];
  const positions: Position[] = [];
  for (let i = 0; i < n; i++) {
    const id = `0x${i.toString(16).padStart(40, '0')}:0`;
    const perps = 1 + Math.floor(random() * 2);
    const held = new Set<Market>();
    while (held.size < perps) held.add(PERPS[Math.floor(random() * PERPS.length)]!);
    while (held.size < 5) held.add(OPTIONS[Math.floor(random() * OPTIONS.length)]!);
    let initial = 0;
    let equity = 0;
    for (const m of held) {
      const price = PRICES[m.underlying]!;
      const notional = 1000 * Math.exp(random() * Math.log(100)); // $1k to $100k
      const size = (random() < 0.5 ? -1 : 1) * notional / price / (m.kind === 'PERPETUAL' ? 1 : 5);
      const entry = m.kind === 'PERPETUAL' ? price * (0.95 + 0.1 * random()) : optionAt(m, price, START, RATE).value;
      const s = fx(size);
      if (s === 0n) continue;
      const value = m.kind === 'PERPETUAL' ? price - entry : optionAt(m, price, START, RATE).value;
      equity += size * value;
      if (m.kind === 'PERPETUAL' || size < 0) initial += Math.abs(size) * price * fl(m.initialMarginFraction);
      positions.push({
        id: `${id}:${m.id}:0`, accountId: id, marketId: m.id, seq: 0, size: s, entryPrice: fx(entry), realizedPnl: 0n,
        fundingSnapshot: 0n, settledFunding: 0n, feesPaid: 0n, openedBlock: 1, closedBlock: null, updatedBlock: 1,
      });
    }
    const u = random();
    const ratio = u < 0.02 ? 0.3 + 0.6 * random() : u < 0.1 ? 0.9 + 0.2 * random() : 1.1 + 4 * random() * random();
    accounts.push({ id, owner: id.slice(0, 42), subaccount: 0, collateral: fx(ratio * initial - equity), marginState: 'HEALTHY', createdBlock: 1, updatedBlock: 1 });
  }
  return stateFrom({ markets: MARKETS, underlyings, accounts, positions, lastBlock: { number: 1, hash: '0x1', parentHash: '0x0', timestamp: START } });
}

interface Pass {
  name: string;
  /** Runs the pass over the draft's block and commits what it learned; returns the number of accounts it evaluated. */
  run(draft: Draft, state: LedgerState): number;
}

/** The index's commit alone, per tick (heap pops and pushes). */
const commitTimes: number[] = [];
const indexed: Pass = {
  name: 'margin index',
  run(draft, state) {
    evaluateMargins(draft, RATE);
    const t0 = process.hrtime.bigint();
    commitMarginIndex(state.marginIndex, draft.marginIndex!);
    commitTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    return draft.marginIndex!.ranges.accounts.length;
  },
};

function watched(): Pass {
  const watch: MarginWatch = emptyWatch();
  return {
    name: 'margin watch (before)',
    run(draft, state) {
      const timeMoved = draft.block.timestamp !== state.lastBlock!.timestamp;
      const changes = evaluateWatched(draft, affectedMarkets(draft, timeMoved), RATE, watch);
      commitWatch(watch, changes);
      return changes.limits.size;
    },
  };
}

/** The scenario's blocks: what each changes before the pass. */
function* blocks(ticks: number): Generator<{ label: string; apply: (draft: Draft) => void }> {
  yield { label: 'first pass after a load', apply: () => {} };
  let eth = PRICES.ETH!;
  let step = 0;
  for (let i = 0; i < ticks; i++) {
    eth *= random() < 0.5 ? 0.999 : 1.001;
    const price = eth;
    const k = step++;
    yield { label: 'tick', apply: (draft) => {
      setIndex(draft, 'ETH', price);
      if (k % 300 === 299) for (const m of PERPS) bump(draft, m.id, (market) => ({ cumulativeFunding: market.cumulativeFunding + fx(1e-5 * PRICES[m.underlying]!) }));
      if (k % 50 === 49) bump(draft, 'ETH-C-3000-30', (market) => ({ impliedVolatility: fx(fl(market.impliedVolatility!) * (random() < 0.5 ? 0.98 : 1.02)) }));
    } };
  }
  const moved = eth * 0.93;
  yield { label: '7% move', apply: (draft) => setIndex(draft, 'ETH', moved) };
}

function setIndex(draft: Draft, underlying: string, price: number): void {
  draft.putUnderlying({ ...draft.underlying(underlying)!, indexPrice: fx(price), updatedBlock: draft.block.number });
}

function bump(draft: Draft, id: string, change: (market: Market) => Partial<Market>): void {
  const market = draft.market(id)!;
  draft.putMarket({ ...market, ...change(market), updatedBlock: draft.block.number });
}

interface Result { fill: number; fillCount: number; ticks: number[]; counts: number[]; move: number; moveCount: number }

function measure(pass: Pass, state: LedgerState, ticks: number): Result {
  const result: Result = { fill: 0, fillCount: 0, ticks: [], counts: [], move: 0, moveCount: 0 };
  seed = 99;
  let number = state.lastBlock!.number;
  let time = state.lastBlock!.timestamp;
  for (const { label, apply } of blocks(ticks)) {
    const header: BlockHeader = { number: ++number, hash: `0x${number}`, parentHash: `0x${number - 1}`, timestamp: (time += 12) };
    const draft = new Draft(state, header);
    apply(draft);
    const start = process.hrtime.bigint();
    const count = pass.run(draft, state);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    draft.marginIndex = null; // committed above (the index) or kept by the baseline (the watch)
    commitBlock(state, draft.changes(0));
    if (label === 'tick') { result.ticks.push(ms); result.counts.push(count); }
    else if (label === '7% move') { result.move = ms; result.moveCount = count; }
    else { result.fill = ms; result.fillCount = count; }
  }
  return result;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const used = () => { gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

function indexBytes(index: MarginIndex): number {
  let bytes = index.versions.byteLength + index.marks.byteLength;
  const heaps = [index.windows, ...[...index.factors.values()].flatMap((f) => [f.bottoms, f.tops])];
  for (const h of heaps) bytes += h.keys.byteLength + h.slots.byteLength + h.versions.byteLength;
  return bytes;
}

for (const n of values.accounts.split(',').map(Number)) {
  const ticks = Number(values.ticks);
  const oldTicks = Number(values['old-ticks']);
  console.log(`\n${n.toLocaleString('en')} accounts x 5 positions (${MARKETS.length} markets on ETH, BTC, SOL)`);
  for (const [pass, count] of [[watched(), oldTicks], [indexed, ticks]] as const) {
    if (values.only && (values.only === 'new') !== (pass === indexed)) continue;
    let state: LedgerState | null = ledger(n);
    const before = used();
    const r = measure(pass, state, count);
    const evaluated = r.counts.reduce((a, b) => a + b, 0) / r.counts.length;
    const commit = pass === indexed ? ` (commit p50 ${quantile(commitTimes.slice(1, -1), 0.5).toFixed(1)} ms)` : '';
    commitTimes.length = 0;
    console.log(`  ${pass.name.padEnd(22)} first pass ${r.fill.toFixed(0).padStart(6)} ms (${r.fillCount} evaluated) | 0.1% tick p50 ${quantile(r.ticks, 0.5).toFixed(1).padStart(7)} ms, p99 ${quantile(r.ticks, 0.99).toFixed(1).padStart(7)} ms over ${r.ticks.length}${commit} (mean ${evaluated.toFixed(0)} evaluated) | 7% move ${r.move.toFixed(0).padStart(6)} ms (${r.moveCount} evaluated)`);
    if (pass === indexed) {
      const live = indexBytes(state.marginIndex);
      const total = used() - before;
      console.log(`  index memory: ${(live / n).toFixed(0)} B/account in typed arrays (heaps with their slack, versions), ${(total / n).toFixed(0)} B/account in all (+ slot map, ids; measured after gc)`);
    }
    state = null;
  }
}
