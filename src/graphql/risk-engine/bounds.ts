/**
 * Float values with error bounds, and the accounts a page can hold (engine.ts explains why
 * the candidates always hold the page). Pages of accounts and the accounts a stress moves
 * (stress.ts) choose their candidates here, the same way.
 */
import type { AccountOrder } from '../modules/account/order.js';
import type { Evaluated } from './columns.js';

/** Relative error allowed for each float sum (a few dozen operations at 1.1e-16 each, with a wide margin). */
export const RELATIVE_ERROR = 1e-10;
/** Absolute error per unit of size: the 1e-18 roundings of the marks, and of the served values. */
export const ABSOLUTE_ERROR = 1e-12;

export type RiskOrder = Exclude<AccountOrder, 'ID_ASC'>;

/** Per account, the lowest and highest (bucket, key) its exact key may have in one order. */
export interface Bounds {
  bLo: Uint8Array;
  kLo: Float64Array;
  bHi: Uint8Array;
  kHi: Float64Array;
}

export function emptyBounds(n: number): Bounds {
  return { bLo: new Uint8Array(n), kLo: new Float64Array(n), bHi: new Uint8Array(n), kHi: new Float64Array(n) };
}

/** A cursor's place: bucket, key in units (the float of its exact key), and whether there is one. */
export interface CursorPlace {
  bucket: number;
  key: number;
}

/**
 * The indexes (0 <= i < n, passing `include`) that can be among the `first` + 1 after
 * `cursor` (null: from the start): every index whose key may be after the cursor and may
 * be before U*, the (first + 1)-th smallest upper bound among those surely after it.
 */
export function candidates(b: Bounds, n: number, include: (i: number) => boolean, cursor: CursorPlace | null, first: number): number[] {
  const { bLo, kLo, bHi, kHi } = b;
  const cb = cursor ? cursor.bucket : -1;
  const ck = cursor ? cursor.key : -Infinity;
  // Compared with a tolerance far above the float rounding of the cursor's exact key.
  const tolerance = cursor ? Math.abs(ck) * 1e-12 + 1e-15 : 0;
  const top = new UpperBounds(first + 1);
  for (let i = 0; i < n; i++) {
    if (!include(i)) continue;
    const surelyAfter = !cursor || bLo[i]! > cb || (bLo[i] === cb && kLo[i]! > ck + tolerance);
    if (surelyAfter) top.offer(bHi[i]!, kHi[i]!);
  }
  const limit = top.limit();
  const picked: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!include(i)) continue;
    const mayBeAfter = !cursor || bHi[i]! > cb || (bHi[i] === cb && kHi[i]! >= ck - tolerance);
    if (!mayBeAfter) continue;
    if (limit && (bLo[i]! > limit.bucket || (bLo[i] === limit.bucket && kLo[i]! > limit.key))) continue;
    picked.push(i);
  }
  return picked;
}

/** Every row's bounds in `order` (`boundsOf` for each of the `n`). */
export function boundsOfAll(order: RiskOrder, v: Evaluated, n: number): Bounds {
  const out = emptyBounds(n);
  for (let i = 0; i < n; i++) boundsOf(order, v, i, out, i);
  return out;
}

/**
 * The lowest and highest (bucket, key) row `i`'s exact key may have in `order` (SQL's SORT
 * in order.ts), written at `at`.
 */
export function boundsOf(order: RiskOrder, v: Evaluated, i: number, out: Bounds, at: number): void {
  const e = v.equity[i]!;
  const ee = v.equityError[i]!;
  const m = v.maintenance[i]!;
  const em = v.maintenanceError[i]!;
  switch (order) {
    case 'EQUITY_ASC':
      return put(out, at, 0, e - ee, 0, e + ee);
    case 'EQUITY_DESC':
      return put(out, at, 0, -e - ee, 0, -e + ee);
    case 'NOTIONAL_ASC':
      return put(out, at, 0, v.notional[i]! - v.notionalError[i]!, 0, v.notional[i]! + v.notionalError[i]!);
    case 'NOTIONAL_DESC':
      return put(out, at, 0, -v.notional[i]! - v.notionalError[i]!, 0, -v.notional[i]! + v.notionalError[i]!);
  }
  // The margin ratio MM / E when E > 0 (solvent); its range while E's sign is certain.
  const solvent = e - ee > 0;
  const insolvent = e + ee <= 0;
  const ratioLo = Math.max(0, m - em) / (e + ee);
  const ratioHi = solvent ? (m + em) / (e - ee) : Infinity;
  switch (order) {
    case 'MARGIN_RATIO_ASC': // solvent: (0, MR); not: (1, 0)
      if (solvent) return put(out, at, 0, ratioLo, 0, ratioHi);
      if (insolvent) return put(out, at, 1, 0, 1, 0);
      return put(out, at, 0, ratioLo, 1, 0);
    case 'MARGIN_RATIO_DESC': // not solvent: (0, 0); solvent: (1, -MR)
      if (solvent) return put(out, at, 1, -ratioHi, 1, -ratioLo);
      if (insolvent) return put(out, at, 0, 0, 0, 0);
      return put(out, at, 0, 0, 1, -ratioLo);
    case 'RISK_DESC': // not solvent: (0, E); solvent: (1, -MR)
      if (solvent) return put(out, at, 1, -ratioHi, 1, -ratioLo);
      if (insolvent) return put(out, at, 0, e - ee, 0, e + ee);
      return put(out, at, 0, e - ee, 1, -ratioLo);
  }
}

function put(out: Bounds, at: number, bl: number, kl: number, bh: number, kh: number): void {
  out.bLo[at] = bl;
  out.kLo[at] = kl;
  out.bHi[at] = bh;
  out.kHi[at] = kh;
}

/** The `count` smallest (bucket, key) pairs offered: a max-heap of them. */
export class UpperBounds {
  private readonly buckets: Uint8Array;
  private readonly keys: Float64Array;
  private size = 0;

  constructor(private readonly count: number) {
    this.buckets = new Uint8Array(count);
    this.keys = new Float64Array(count);
  }

  offer(bucket: number, key: number): void {
    if (this.size < this.count) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.greater(bucket, key, parent)) break;
        this.buckets[i] = this.buckets[parent]!;
        this.keys[i] = this.keys[parent]!;
        i = parent;
      }
      this.buckets[i] = bucket;
      this.keys[i] = key;
      return;
    }
    // Replace the largest when smaller.
    if (!(bucket < this.buckets[0]! || (bucket === this.buckets[0] && key < this.keys[0]!))) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && this.larger(right, left) ? right : left;
      if (!this.greaterAt(child, bucket, key)) break;
      this.buckets[i] = this.buckets[child]!;
      this.keys[i] = this.keys[child]!;
      i = child;
    }
    this.buckets[i] = bucket;
    this.keys[i] = key;
  }

  /** The largest of the `count` smallest; null when fewer were offered (the page reaches the end). */
  limit(): CursorPlace | null {
    return this.size < this.count ? null : { bucket: this.buckets[0]!, key: this.keys[0]! };
  }

  private greater(bucket: number, key: number, at: number): boolean {
    return bucket > this.buckets[at]! || (bucket === this.buckets[at] && key > this.keys[at]!);
  }

  private greaterAt(at: number, bucket: number, key: number): boolean {
    return this.buckets[at]! > bucket || (this.buckets[at] === bucket && this.keys[at]! > key);
  }

  private larger(a: number, b: number): boolean {
    return this.buckets[a]! > this.buckets[b]! || (this.buckets[a] === this.buckets[b] && this.keys[a]! > this.keys[b]!);
  }
}
