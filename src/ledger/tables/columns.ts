// Growable typed columns: the ledger's accounts and positions kept in flat arrays instead
// of an object (and a few bigints) each. A million accounts with five positions each took
// about 3.4 GB as objects; as columns they take a fifth of that.
import type { Fixed } from '../../fixed/index.js';

type TypedArray = Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array | BigInt64Array | BigUint64Array;
type TypedArrayOf<A extends TypedArray> = { new (length: number): A };

/** A typed array that grows (doubling) as rows are added. */
export class Column<A extends TypedArray> {
  array: A;

  constructor(
    private readonly type: TypedArrayOf<A>,
    capacity: number,
    private readonly fill?: number,
  ) {
    this.array = new type(capacity);
    if (fill !== undefined) (this.array as Float64Array).fill(fill);
  }

  /** Makes room for index `i`, growing by half (the slack of doubling cost 40% more memory at a million rows). */
  ensure(i: number): void {
    if (i >= this.array.length) this.reserve(grownCapacity(this.array.length, i + 1));
  }

  /** An independent copy. */
  copy(): Column<A> {
    const copy = new Column(this.type, 0, this.fill);
    copy.array = this.array.slice() as A;
    return copy;
  }

  /** Makes room for `capacity` rows at once (a load knows how many it reads). */
  reserve(capacity: number): void {
    if (capacity <= this.array.length) return;
    const grown = new this.type(capacity);
    if (this.fill !== undefined) (grown as Float64Array).fill(this.fill, this.array.length);
    (grown as Float64Array).set(this.array as Float64Array);
    this.array = grown;
  }
}

/** The capacity after growing by half from `capacity` to hold at least `needed` rows. */
export function grownCapacity(capacity: number, needed: number): number {
  let grown = capacity < 1024 ? 1024 : capacity + (capacity >>> 1);
  while (grown < needed) grown += grown >>> 1;
  return grown;
}

const TWO_64 = 1n << 64n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Exact 18-decimal amounts (`Fixed`) in two 64-bit words per row: every value within
 * +-2^127 raw (about 1.7e20 units), which covers any realistic amount; larger ones (up to
 * the NUMERIC(78,18) bound, 1e60 units) go to a side map, so nothing is ever rounded.
 */
export class FixedColumn {
  private hi: Column<BigInt64Array>;
  private lo: Column<BigUint64Array>;
  private readonly large = new Map<number, Fixed>();

  constructor(capacity: number) {
    this.hi = new Column(BigInt64Array, capacity);
    this.lo = new Column(BigUint64Array, capacity);
  }

  reserve(capacity: number): void {
    this.hi.reserve(capacity);
    this.lo.reserve(capacity);
  }

  /** An independent copy. */
  copy(): FixedColumn {
    const copy = new FixedColumn(0);
    copy.hi = this.hi.copy();
    copy.lo = this.lo.copy();
    for (const [i, value] of this.large) copy.large.set(i, value);
    return copy;
  }

  get(i: number): Fixed {
    if (this.large.size > 0) {
      const value = this.large.get(i);
      if (value !== undefined) return value;
    }
    return (this.hi.array[i]! << 64n) + this.lo.array[i]!;
  }

  set(i: number, value: Fixed): void {
    this.hi.ensure(i);
    this.lo.ensure(i);
    const hi = value >> 64n; // floor division: with an unsigned low word, exact for negatives too
    if (hi < INT64_MIN || hi > INT64_MAX) {
      this.large.set(i, value);
      return;
    }
    if (this.large.size > 0) this.large.delete(i);
    this.hi.array[i] = hi;
    this.lo.array[i] = value - hi * TWO_64;
  }
}
