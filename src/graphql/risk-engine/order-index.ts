/**
 * The accounts of one order (and filter) at one block, grouped by where they sort, so that
 * a page picks its candidates from the few groups around its cursor instead of going over
 * every account (`candidates` in bounds.ts, which this answers exactly as, is O(N) per
 * page: 20 ms at a million accounts, on every request).
 *
 * Built once per order, filter and block (O(N), about the cost of one linear pass): each
 * account with finite bounds goes to a group by its lower bound L (groups split at
 * quantiles of a sample of the L's, about GROUP_SIZE accounts each, in ascending order),
 * and each group keeps its least L and greatest upper bound U. A page then walks the
 * groups in order: a group whose greatest U is before the cursor holds no account that may
 * be after it (skipped whole); the walk offers the U of every account surely after the
 * cursor to the (first + 1) smallest, and stops at the first group whose least L is
 * beyond the largest of those (every later account has L, hence U, beyond it too: none can
 * be on the page or lower that limit). The candidates are then the accounts of the walked
 * groups that may be after the cursor and may be before the limit: the same set as the
 * linear pass, for O(groups + accounts walked) per page. Accounts with a non-finite bound
 * (none, for values the engine computes) are checked one by one on every page.
 */
import { UpperBounds, type Bounds, type CursorPlace } from './bounds.js';

/** Accounts per group: the walk's grain around the cursor. */
const GROUP_SIZE = 512;
/** Accounts sampled (every n / SAMPLES-th) for the group boundaries. */
const SAMPLES = 16_384;
/** Accounts per step of `OrderIndex.building`. */
const STEP = 50_000;

export class OrderIndex {
  private constructor(
    private readonly bounds: Bounds,
    /** The accounts, group after group: group g's are `members[start[g]]` to `members[start[g + 1] - 1]`. */
    private readonly members: Uint32Array,
    private readonly start: Uint32Array,
    /** Per group: the least lower bound and greatest upper bound of its accounts. */
    private readonly minB: Uint8Array,
    private readonly minK: Float64Array,
    private readonly maxB: Uint8Array,
    private readonly maxK: Float64Array,
    /** Accounts with a non-finite bound, checked one by one. */
    private readonly odd: readonly number[],
    /** How many accounts pass the filter (every group's and the odd ones). */
    readonly size: number,
  ) {}

  /** The index of the `n` accounts passing `include`, made at once. */
  static of(bounds: Bounds, n: number, include: (i: number) => boolean): OrderIndex {
    const steps = OrderIndex.building(bounds, n, include);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /**
   * The index made in steps of about STEP accounts (a few milliseconds each), between which
   * the caller may let the event loop turn; the bounds, and what `include` reads, must not
   * change until it is done.
   */
  static *building(bounds: Bounds, n: number, include: (i: number) => boolean): Generator<void, OrderIndex, void> {
    const { bLo, kLo, bHi, kHi } = bounds;
    // Group boundaries per bucket of the order (0 and 1; any 0-255 would do): quantiles of
    // the lower bounds of a strided sample of the accounts.
    const stride = Math.max(1, Math.floor(n / SAMPLES));
    const sampled: number[][] = Array.from({ length: 256 }, () => []);
    for (let i = 0; i < n; i += stride) if (Number.isFinite(kLo[i]!) && Number.isFinite(kHi[i]!) && include(i)) sampled[bLo[i]!]!.push(kLo[i]!);
    const splits = sampled.map((keys) => boundaries(keys, (keys.length * stride) / GROUP_SIZE));
    const firstGroup = new Uint32Array(257);
    for (let b = 0; b < 256; b++) firstGroup[b + 1] = firstGroup[b]! + splits[b]!.length + 1;
    const groups = firstGroup[256]!;
    yield;
    // Each account's group (0 for none: the group numbers are shifted by one), and the sizes.
    const groupOf = new Uint32Array(n);
    const counts = new Uint32Array(groups + 1);
    const odd: number[] = [];
    let size = 0;
    for (let i = 0; i < n; i++) {
      if (i % STEP === STEP - 1) yield;
      if (!include(i)) continue;
      size++;
      const k = kLo[i]!;
      if (!Number.isFinite(k) || !Number.isFinite(kHi[i]!)) {
        odd.push(i);
        continue;
      }
      const b = bLo[i]!;
      const g = firstGroup[b]! + rank(splits[b]!, k) + 1;
      groupOf[i] = g;
      counts[g]!++;
    }
    const start = new Uint32Array(groups + 1);
    for (let g = 0; g < groups; g++) start[g + 1] = start[g]! + counts[g + 1]!;
    const members = new Uint32Array(start[groups]!);
    const minB = new Uint8Array(groups).fill(255);
    const minK = new Float64Array(groups).fill(Infinity);
    const maxB = new Uint8Array(groups);
    const maxK = new Float64Array(groups).fill(-Infinity);
    const next = start.slice(0, groups);
    for (let i = 0; i < n; i++) {
      if (i % STEP === STEP - 1) yield;
      const g = groupOf[i]! - 1;
      if (g < 0) continue;
      members[next[g]!++] = i;
      if (before(bLo[i]!, kLo[i]!, minB[g]!, minK[g]!)) {
        minB[g] = bLo[i]!;
        minK[g] = kLo[i]!;
      }
      if (before(maxB[g]!, maxK[g]!, bHi[i]!, kHi[i]!)) {
        maxB[g] = bHi[i]!;
        maxK[g] = kHi[i]!;
      }
    }
    return new OrderIndex(bounds, members, start, minB, minK, maxB, maxK, odd, size);
  }

  /**
   * The indexes that can be among the `first` + 1 after `cursor` (null: from the start):
   * the set `candidates` (bounds.ts) gives over every account passing the filter.
   */
  candidates(cursor: CursorPlace | null, first: number): number[] {
    const { bLo, kLo, bHi, kHi } = this.bounds;
    const cb = cursor ? cursor.bucket : -1;
    const ck = cursor ? cursor.key : -Infinity;
    // As in `candidates`: a tolerance far above the float rounding of the cursor's exact key.
    const tolerance = cursor ? Math.abs(ck) * 1e-12 + 1e-15 : 0;
    const surelyAfter = (i: number) => !cursor || bLo[i]! > cb || (bLo[i] === cb && kLo[i]! > ck + tolerance);
    const mayBeAfter = (b: number, k: number) => !cursor || b > cb || (b === cb && k >= ck - tolerance);
    const top = new UpperBounds(first + 1);
    for (const i of this.odd) if (surelyAfter(i)) top.offer(bHi[i]!, kHi[i]!);
    const walked: number[] = [];
    const groups = this.minB.length;
    for (let g = 0; g < groups; g++) {
      if (this.start[g] === this.start[g + 1]) continue;
      const limit = top.limit();
      if (limit && before(limit.bucket, limit.key, this.minB[g]!, this.minK[g]!)) break;
      if (!mayBeAfter(this.maxB[g]!, this.maxK[g]!)) continue;
      walked.push(g);
      for (let at = this.start[g]!; at < this.start[g + 1]!; at++) {
        const i = this.members[at]!;
        if (surelyAfter(i)) top.offer(bHi[i]!, kHi[i]!);
      }
    }
    const limit = top.limit();
    const picked: number[] = [];
    const pick = (i: number) => {
      if (!mayBeAfter(bHi[i]!, kHi[i]!)) return;
      if (limit && (bLo[i]! > limit.bucket || (bLo[i] === limit.bucket && kLo[i]! > limit.key))) return;
      picked.push(i);
    };
    for (const g of walked) for (let at = this.start[g]!; at < this.start[g + 1]!; at++) pick(this.members[at]!);
    for (const i of this.odd) pick(i);
    return picked;
  }
}

/** Whether (bucket a, key a) sorts strictly before (bucket b, key b). */
function before(ab: number, ak: number, bb: number, bk: number): boolean {
  return ab < bb || (ab === bb && ak < bk);
}

/** Ascending, distinct boundaries splitting sampled keys into about `groups` groups. */
function boundaries(keys: number[], groups: number): Float64Array {
  const sorted = Float64Array.from(keys).sort();
  const wanted = Math.min(sorted.length, Math.ceil(groups)) - 1;
  const out: number[] = [];
  for (let s = 1; s <= wanted; s++) {
    const value = sorted[Math.floor((s * sorted.length) / (wanted + 1))]!;
    if (out.length === 0 || value > out.at(-1)!) out.push(value);
  }
  return Float64Array.from(out);
}

/** How many of the ascending `splits` are at most `key`: its group within the bucket. */
function rank(splits: Float64Array, key: number): number {
  let lo = 0;
  let hi = splits.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (splits[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
