// The margin index (src/ledger/margin-index, src/risk/margin-bounds.ts): whom a block's
// margin pass evaluates. It must never change a result, and must actually skip.
import fc from 'fast-check';
import { MarginIndex } from '../../../src/ledger/margin-index/index.js';
import { RangeHeap } from '../../../src/ledger/margin-index/heap.js';
import { roundDown32, roundUp32 } from '../../../src/risk/margin-bounds.js';
import { ALICE, BOB, CAROL, LedgerChain, ORACLE_1, ev, marginStateFromScratch } from '../../support/ledger.js';

const DAY = 86_400;
const PARAMS = { oracleStalenessSeconds: 1e9, riskFreeRate: 0n };
const id = (owner: string, subaccount = 0) => `${owner.toLowerCase()}:${subaccount}`;
const evaluatedIn = (chain: LedgerChain) => new Set(chain.history.at(-1)!.marginIndex!.ranges.accounts);

/** An account's live range on one factor, read from the heaps: [bottom, top]. */
function rangeOf(chain: LedgerChain, accountId: string, factorKey: string): [number, number] {
  const index = chain.state.marginIndex;
  const slot = index.slots.get(accountId)!;
  const factor = index.factors.get(factorKey)!;
  const range: [number, number] = [-Infinity, Infinity];
  for (let i = 0; i < factor.bottoms.size; i++) if (factor.bottoms.slots[i] === slot && factor.bottoms.versions[i] === index.versions[slot]) range[0] = -factor.bottoms.keys[i]!;
  for (let i = 0; i < factor.tops.size; i++) if (factor.tops.slots[i] === slot && factor.tops.versions[i] === index.versions[slot]) range[1] = factor.tops.keys[i]!;
  return range;
}

function windowOf(chain: LedgerChain, accountId: string): number {
  const index = chain.state.marginIndex;
  const slot = index.slots.get(accountId)!;
  let until = Infinity;
  for (let i = 0; i < index.windows.size; i++) if (index.windows.slots[i] === slot && index.windows.versions[i] === index.versions[slot]) until = index.windows.keys[i]!;
  return until;
}

/** Every account in the state its positions give (SPEC 4, from scratch). */
function expectExact(chain: LedgerChain): void {
  for (const [accountId, account] of chain.state.accounts) expect([accountId, account.marginState]).toEqual([accountId, marginStateFromScratch(chain.state, accountId)]);
}

function perpetuals(): LedgerChain {
  const chain = new LedgerChain(PARAMS);
  chain.block(10_000, [
    // No funding on BTC-PERP: its holders' only factor is the index.
    ev.perp('BTC-PERP', 'BTC', { imf: '0.1', mmf: '0.05', interval: 0, maxRate: '0' }),
    ev.perp('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', interval: 100, maxRate: '0.5' }),
    ev.price('BTC', 100),
    ev.price('ETH', 100),
  ]);
  return chain;
}

describe('margin index', () => {
  it('skips an account far from its thresholds on a small move and catches it once a move crosses one', () => {
    const chain = perpetuals();
    // ALICE: 10 long at 100 on 200: E - IM = 9M - 800, zero at 88.89. BOB: 1 long on 10.05: 0.9M - 89.95, zero at 99.944.
    chain.block(10_001, [ev.deposit(ALICE, 200), ev.deposit(BOB, '10.05'), ev.fill('BTC-PERP', ALICE, 10, 100), ev.fill('BTC-PERP', BOB, 1, 100)]);
    chain.block(10_002, [ev.price('BTC', '99.95')]);
    expect(evaluatedIn(chain).size).toBe(0);
    chain.block(10_003, [ev.price('BTC', '99.94')]);
    expect(evaluatedIn(chain)).toEqual(new Set([id(BOB)]));
    expect(chain.account(BOB)!.marginState).toBe('MARGIN_CALL');
    chain.block(10_004, [ev.price('BTC', '88.9')]);
    expect(evaluatedIn(chain)).toEqual(new Set([id(BOB)]));
    expect(chain.account(BOB)!.marginState).toBe('BANKRUPT');
    chain.block(10_005, [ev.price('BTC', '88.88')]);
    expect(chain.history.at(-1)!.transitions.map((t) => [t.accountId, t.from, t.to])).toEqual([[id(ALICE), 'HEALTHY', 'MARGIN_CALL']]);
    expectExact(chain);
  });

  it('gives perpetual-only exposure its exact threshold price (closed form), one-sided', () => {
    const chain = perpetuals();
    chain.block(10_001, [ev.deposit(ALICE, 200), ev.fill('BTC-PERP', ALICE, 10, 100), ev.deposit(BOB, 200), ev.fill('BTC-PERP', BOB, -10, 100)]);
    const [bottom, top] = rangeOf(chain, id(ALICE), 'price:BTC');
    expect(top).toBe(Infinity); // a rising index only helps a long
    expect(bottom).toBeGreaterThanOrEqual(800 / 9);
    expect(bottom - 800 / 9).toBeLessThan(1e-5); // float32 keys: ~1e-7 relative
    // Short 10 on 200: E - IM = 1200 - 11M, zero at 109.09.
    const [shortBottom, shortTop] = rangeOf(chain, id(BOB), 'price:BTC');
    expect(shortBottom).toBe(-Infinity);
    expect(shortTop).toBeLessThanOrEqual(1200 / 11);
    expect(1200 / 11 - shortTop).toBeLessThan(1e-5);
  });

  it('re-evaluates an account sitting exactly on a threshold on any move of its factors, however small', () => {
    const chain = perpetuals();
    chain.block(10_001, [ev.deposit(ALICE, 100), ev.fill('BTC-PERP', ALICE, 10, 100)]); // E = IM = 100
    expect(chain.account(ALICE)!.marginState).toBe('HEALTHY');
    chain.block(10_002, [ev.price('BTC', '100.000000000000000001')]);
    expect(evaluatedIn(chain).has(id(ALICE))).toBe(true); // pinned: the float ranges cannot tell
    chain.block(10_003, [ev.price('BTC', '99.999999999999999999')]);
    expect(chain.account(ALICE)!.marginState).toBe('MARGIN_CALL');
    expectExact(chain);
  });

  it('follows funding steps: the cumulative index is a factor of every perpetual holder', () => {
    const chain = perpetuals();
    // ALICE 10 long on 101 (1 above IM); CAROL 1 long on 1000: far. BOB sells above the index: premium 0.1.
    chain.block(10_050, [
      ev.deposit(ALICE, 101), ev.fill('ETH-PERP', ALICE, 10, 100),
      ev.deposit(CAROL, 1000), ev.fill('ETH-PERP', CAROL, 1, 100),
      ev.deposit(BOB, 10_000), ev.fill('ETH-PERP', BOB, -1, 110),
    ]);
    expect(rangeOf(chain, id(ALICE), 'funding:ETH-PERP')[1]).toBeLessThan(Infinity); // longs fear a rising F
    // Period [10000, 10100) settles at 10100: rate 0.1 x 1/2 covered... F moves by up to 10 per unit.
    chain.block(10_100);
    const step = chain.history.at(-1)!;
    expect(step.fundingSettlements.length).toBeGreaterThan(0);
    expect(evaluatedIn(chain).has(id(ALICE))).toBe(true);
    expect(evaluatedIn(chain).has(id(CAROL))).toBe(false);
    expect(step.transitions.map((t) => [t.accountId, t.to])).toEqual([[id(ALICE), 'LIQUIDATABLE']]);
    expectExact(chain);
  });

  /** One ETH call (K 100, two days, sigma 0.6: worth about 1.77 at index 100). */
  function call(): { chain: LedgerChain; expiry: number } {
    const chain = new LedgerChain(PARAMS);
    const expiry = 10_000 + 2 * DAY;
    chain.block(10_000, [ev.option('ETH-C', 'ETH', 'CALL', 100, expiry), ev.vol('ETH-C', '0.6'), ev.price('ETH', 100)]);
    return { chain, expiry };
  }

  it('follows time decay with windows that end by expiry, longer for accounts further from a threshold', () => {
    const { chain, expiry } = call();
    // ALICE: 1 long call bought at 1.78 on 0.48: E = V - 1.3, HEALTHY until decay takes V below 1.3
    // (about a day before expiry; no margin on a long option, so then BANKRUPT). BOB: 0.01 calls on 100.
    chain.block(10_000, [ev.deposit(ALICE, '0.48'), ev.fill('ETH-C', ALICE, 1, '1.78'), ev.deposit(BOB, 100), ev.fill('ETH-C', BOB, '0.01', '1.78')]);
    expect(chain.account(ALICE)!.marginState).toBe('HEALTHY');
    const until = windowOf(chain, id(ALICE));
    expect(until).toBeGreaterThan(10_000);
    expect(until).toBeLessThan(expiry);
    expect(windowOf(chain, id(BOB))).toBeGreaterThan(until);
    // Within the window nothing is evaluated; past it ALICE is, hour by hour, until decay flips her.
    chain.block(until, []);
    expect(evaluatedIn(chain).size).toBe(0);
    let evaluations = 0;
    let hours = 0;
    for (let t = until + 1; chain.account(ALICE)!.marginState === 'HEALTHY' && t < expiry; t += 3600, hours++) {
      chain.block(t, []);
      if (evaluatedIn(chain).has(id(ALICE))) evaluations++;
      expectExact(chain);
    }
    expect(chain.account(ALICE)!.marginState).toBe('BANKRUPT');
    expect(evaluations).toBeGreaterThan(0);
    expect(evaluations).toBeLessThanOrEqual(hours);
  });

  it('follows volatility reports on held options', () => {
    const { chain } = call();
    // CAROL: 1 long call bought at 1.77 on 0.77: E = V - 1, about 0.77 above zero.
    chain.block(10_000, [ev.deposit(CAROL, '0.77'), ev.fill('ETH-C', CAROL, 1, '1.77')]);
    const [bottom, top] = rangeOf(chain, id(CAROL), 'volatility:ETH-C');
    expect(bottom).toBeLessThan(0.6);
    expect(top).toBeGreaterThan(0.6);
    expect(top).toBe(Infinity); // a rise cannot hurt her
    chain.block(10_001, [ev.vol('ETH-C', '0.601')]);
    expect(evaluatedIn(chain).size).toBe(0);
    chain.block(10_002, [ev.vol('ETH-C', '0.01')]); // worth ~0.03 now
    expect(chain.history.at(-1)!.transitions.map((t) => [t.accountId, t.to])).toEqual([[id(CAROL), 'BANKRUPT']]);
    expectExact(chain);
  });

  it('evaluates every holder of a market whose margin fractions change', () => {
    const chain = perpetuals();
    chain.block(10_001, [ev.deposit(ALICE, 1000), ev.fill('BTC-PERP', ALICE, 1, 100), ev.deposit(BOB, 1000), ev.fill('ETH-PERP', BOB, 1, 100)]);
    chain.block(10_002, [ev.fractions('BTC-PERP', '0.2', '0.1')]);
    expect(evaluatedIn(chain)).toEqual(new Set([id(ALICE)]));
  });

  it('evaluates every holder once after a load (the index lives in memory only), then skips again', () => {
    const chain = perpetuals();
    chain.block(10_001, [ev.deposit(ALICE, 200), ev.fill('BTC-PERP', ALICE, 10, 100), ev.deposit(BOB, 200), ev.fill('ETH-PERP', BOB, 1, 100)]);
    chain.block(10_002, [ev.price('BTC', '100.1')]);
    expect(evaluatedIn(chain).size).toBe(0);
    chain.state.marginIndex = new MarginIndex();
    chain.block(10_003, [ev.price('BTC', '100.2')]);
    expect(evaluatedIn(chain)).toEqual(new Set([id(ALICE), id(BOB)]));
    chain.block(10_004, [ev.price('BTC', '100.3'), ev.price('ETH', '100.1', ORACLE_1)]);
    expect(evaluatedIn(chain).size).toBe(0);
  });

  it('evaluates option holders again when time goes back or the risk-free rate changes', () => {
    const chain = new LedgerChain({ ...PARAMS });
    chain.block(10_000, [ev.option('ETH-C', 'ETH', 'CALL', 100, 10_000 + 30 * DAY), ev.vol('ETH-C', '0.6'), ev.price('ETH', 100)]);
    chain.block(10_000, [ev.deposit(ALICE, 100), ev.fill('ETH-C', ALICE, 1, 10)]);
    chain.block(10_001);
    expect(evaluatedIn(chain).size).toBe(0);
    chain.block(9_000);
    expect(evaluatedIn(chain)).toEqual(new Set([id(ALICE)]));
    chain.params.riskFreeRate = 5n * 10n ** 16n;
    chain.block(9_001);
    expect(evaluatedIn(chain)).toEqual(new Set([id(ALICE)]));
    expectExact(chain);
  });
});

describe('range heap', () => {
  it('collects exactly the live entries below a threshold, pops exactly those below it, and compacts stale ones away', () => {
    const entry = fc.record({ key: fc.double({ min: -1e6, max: 1e6, noNaN: true }), slot: fc.integer({ min: 0, max: 30 }) });
    fc.assert(fc.property(fc.array(entry, { maxLength: 300 }), fc.array(fc.integer({ min: 0, max: 30 })), fc.double({ min: -1e6, max: 1e6, noNaN: true }), (entries, bumps, threshold) => {
      const live = new Uint16Array(31);
      const heap = new RangeHeap(true, 4);
      const pushed: { key: number; slot: number; version: number }[] = [];
      // One by one, then the rest as one batch (ordered once when large next to the heap).
      const half = entries.length >> 1;
      entries.slice(0, half).forEach(({ key, slot }, i) => {
        if (i % 7 === 3 && bumps.length) live[bumps[i % bumps.length]!]! += 1; // some accounts re-evaluated meanwhile
        heap.push(key, slot, live[slot]!, live);
        pushed.push({ key, slot, version: live[slot]! });
      });
      if (bumps.length) live[bumps[0]!]! += 1;
      const batch = entries.slice(half);
      const append = heap.reserve(batch.length, live);
      for (const { key, slot } of batch) {
        if (append) heap.append(key, slot, live[slot]!);
        else heap.push(key, slot, live[slot]!, live);
        pushed.push({ key, slot, version: live[slot]! });
      }
      if (append) heap.restore();
      const isLive = (e: { slot: number; version: number }) => e.version === live[e.slot];
      const found: number[] = [];
      heap.collect(threshold, live, (slot) => found.push(slot));
      expect(found.sort()).toEqual(pushed.filter((e) => isLive(e) && e.key < threshold).map((e) => e.slot).sort());
      heap.popBelow(threshold);
      const left = Array.from(heap.keys.subarray(0, heap.size));
      expect(left.every((k) => k >= threshold)).toBe(true);
      heap.compact(live);
      const after: number[] = [];
      heap.collect(Infinity, live, (slot) => after.push(slot));
      expect(after.sort()).toEqual(pushed.filter((e) => isLive(e) && e.key >= threshold).map((e) => e.slot).sort());
      expect(heap.size).toBe(after.length);
    }), { numRuns: 300 });
  });

  it('float32 keys round outward only where asked: up for bottoms, down for tops', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, min: -1e38, max: 1e38 }), (x) => {
      const up = roundUp32(x);
      const down = roundDown32(x);
      expect(Math.fround(up)).toBe(up);
      expect(Math.fround(down)).toBe(down);
      expect(up >= x && down <= x).toBe(true);
      expect(up - down).toBeLessThanOrEqual(Math.abs(x) * 2 ** -22 + 2e-45);
    }), { numRuns: 2000 });
  });
});
