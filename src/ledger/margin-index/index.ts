import type { Fixed } from '../../fixed/index.js';
import type { RangeSink } from '../../risk/margin-bounds.js';
import { RangeHeap } from './heap.js';

/**
 * Which accounts a block's margin pass must evaluate, by the prices (and volatilities,
 * funding indexes, times) at which their margin state could change: per factor, the
 * validity ranges of every account exposed to it, from its last exact evaluation
 * (src/risk/margin-bounds.ts). A factor's move from x0 to x1 visits only the accounts
 * whose range does not hold x1: a max-heap of range bottoms and a min-heap of range tops
 * (stored as a min-heap of negated bottoms), O(log N + k). Time windows sit in one min-heap
 * of their last second.
 *
 * In memory only (not stored): empty after a load, when the first pass evaluates every
 * holder to fill it (`ready`). `applyBlock` only reads it; `commitMarginIndex` applies the
 * block's `MarginIndexChanges`.
 */
export class MarginIndex {
  /** Whether every holder has ranges (false after a load: the next pass evaluates them all). */
  ready = false;
  /** The block time, risk-free rate and factor values the ranges were last checked against. */
  time = 0;
  rate: Fixed = 0n;
  readonly factors = new Map<string, IndexedFactor>();
  /** Time windows: key = last block time (inclusive) through which the state holds. */
  readonly windows = new RangeHeap(true);
  /** Account slots (stable small integers) and their current range version. */
  readonly slots = new Map<string, number>();
  readonly ids: string[] = [];
  versions = new Uint16Array(1024);
  /** Scratch of the pass (which slots it already has), all zero between passes: allocated once, not per block. */
  marks = new Uint8Array(1024);

  slotOf(accountId: string): number {
    let slot = this.slots.get(accountId);
    if (slot === undefined) {
      slot = this.ids.length;
      this.ids.push(accountId);
      this.slots.set(accountId, slot);
      if (slot === this.versions.length) {
        const versions = new Uint16Array(slot * 2);
        versions.set(this.versions);
        this.versions = versions;
        this.marks = new Uint8Array(slot * 2);
      }
    }
    return slot;
  }
}

export class IndexedFactor {
  /** Range bottoms, negated (an entry is due once -bottom < -x), and range tops (due once top < x). */
  readonly bottoms = new RangeHeap(false);
  readonly tops = new RangeHeap(false);
  constructor(public value: Fixed) {}
}

/** One factor as a block saw it. */
export interface FactorValue {
  value: Fixed;
  /** Its float coordinate (src/risk/margin-bounds.ts `coordinate`), what ranges are compared with. */
  coordinate: number;
}

/** What a block changes in the index (`BlockChanges.marginIndex`); in memory only. */
export interface MarginIndexChanges {
  time: number;
  rate: Fixed;
  /** Every factor of this block, by key; a factor absent here is dropped. */
  factors: Map<string, FactorValue>;
  /** Keys of the factor ids of `ranges`. */
  factorKeys: string[];
  ranges: RangeSet;
}

/**
 * The accounts evaluated in a block and their new ranges, packed in plain arrays: a block's
 * are garbage once committed, and new typed arrays each block (off-heap memory) would make
 * V8 run full collections of the whole ledger every few dozen blocks.
 */
export interface RangeSet {
  accounts: string[];
  /** Per account, the end of its entries in `factorIds`/`lowKeys`/`highKeys`. */
  ends: number[];
  factorIds: number[];
  /** Float32 values (src/risk/margin-bounds.ts). */
  lowKeys: number[];
  highKeys: number[];
  /** Per account: last block time of its window; Infinity: none. */
  until: number[];
}

/** Collects the ranges of one pass (the `RangeSink` of src/risk/margin-bounds.ts). */
export class RangeRecorder implements RangeSink {
  private readonly set: RangeSet = { accounts: [], ends: [], factorIds: [], lowKeys: [], highKeys: [], until: [] };

  /** Starts the entries of the next evaluated account. */
  account(accountId: string): void {
    const { set } = this;
    set.accounts.push(accountId);
    set.ends.push(set.factorIds.length);
    set.until.push(Infinity);
  }

  // The share is for tests of the bounds; the index needs only the keys.
  range(factor: number, lowKey: number, highKey: number): void {
    const { set } = this;
    set.factorIds.push(factor);
    set.lowKeys.push(lowKey);
    set.highKeys.push(highKey);
    set.ends[set.ends.length - 1] = set.factorIds.length;
  }

  until(time: number): void {
    this.set.until[this.set.until.length - 1] = time;
  }

  done(): RangeSet {
    return this.set;
  }
}

/**
 * Calls `found(slot)` for every account with a live range that the block's factor values
 * and time have left. Read-only.
 */
export function collectDue(index: MarginIndex, factors: ReadonlyMap<string, FactorValue>, time: number, found: (slot: number) => void): void {
  const stack: number[] = [];
  for (const [key, factor] of index.factors) {
    const now = factors.get(key);
    if (!now || now.value === factor.value) continue;
    factor.bottoms.collect(-now.coordinate, index.versions, found, stack);
    factor.tops.collect(now.coordinate, index.versions, found, stack);
  }
  if (time > index.time) index.windows.collect(time, index.versions, found, stack);
}

/** Applies a committed block's changes: what `collectDue` found goes, the new ranges come in. */
export function commitMarginIndex(index: MarginIndex, changes: MarginIndexChanges): void {
  const { ranges } = changes;
  const slots: number[] = [];
  for (const accountId of ranges.accounts) {
    const known = index.slots.get(accountId);
    if (known === undefined) slots.push(index.slotOf(accountId));
    else {
      slots.push(known);
      index.versions[known] = (index.versions[known]! + 1) & 0xffff; // its old entries go stale
    }
  }
  for (const [key, factor] of index.factors) {
    const now = changes.factors.get(key);
    if (!now) index.factors.delete(key);
    else if (now.value !== factor.value) {
      factor.bottoms.popBelow(-now.coordinate);
      factor.tops.popBelow(now.coordinate);
      factor.value = now.value;
    }
  }
  index.windows.popBelow(changes.time);
  const resolved = changes.factorKeys.map((key) => {
    let factor = index.factors.get(key);
    if (!factor) index.factors.set(key, (factor = new IndexedFactor(changes.factors.get(key)!.value)));
    return factor;
  });
  // Room for each heap's new entries at once; a large batch (the first pass) is ordered once.
  const { versions } = index;
  const bottoms = resolved.map(() => 0);
  const tops = resolved.map(() => 0);
  let windows = 0;
  for (let j = 0; j < ranges.factorIds.length; j++) {
    if (ranges.lowKeys[j]! < Infinity) bottoms[ranges.factorIds[j]!]!++;
    if (ranges.highKeys[j]! < Infinity) tops[ranges.factorIds[j]!]!++;
  }
  for (const until of ranges.until) if (until < Infinity) windows++;
  const appendBottoms = resolved.map((factor, f) => factor.bottoms.reserve(bottoms[f]!, versions));
  const appendTops = resolved.map((factor, f) => factor.tops.reserve(tops[f]!, versions));
  const appendWindows = index.windows.reserve(windows, versions);
  let j = 0;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    const version = versions[slot]!;
    for (const end = ranges.ends[i]!; j < end; j++) {
      const f = ranges.factorIds[j]!;
      const factor = resolved[f]!;
      const low = ranges.lowKeys[j]!;
      const high = ranges.highKeys[j]!;
      if (low < Infinity) {
        if (appendBottoms[f]) factor.bottoms.append(low, slot, version);
        else factor.bottoms.push(low, slot, version, versions);
      }
      if (high < Infinity) {
        if (appendTops[f]) factor.tops.append(high, slot, version);
        else factor.tops.push(high, slot, version, versions);
      }
    }
    const until = ranges.until[i]!;
    if (until < Infinity) {
      if (appendWindows) index.windows.append(until, slot, version);
      else index.windows.push(until, slot, version, versions);
    }
  }
  resolved.forEach((factor, f) => {
    if (appendBottoms[f]) factor.bottoms.restore();
    if (appendTops[f]) factor.tops.restore();
  });
  if (appendWindows) index.windows.restore();
  index.time = changes.time;
  index.rate = changes.rate;
  index.ready = true;
}
