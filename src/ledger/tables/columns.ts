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

/**
 * Rows of a few exact amounts and int32 values, each row in one record of consecutive
 * 64-bit words instead of a column per field: for what is read together at a random row.
 * The margin pass visits accounts in no useful order, and with a column per field each
 * field read was a cache miss of its own (a position's terms in ten columns made the pass
 * about four times slower than reading the same positions in row order). Amounts as in
 * `FixedColumn`: two 64-bit words each, a larger one in a side map.
 */
export class FixedRecords {
  /** 64-bit words per row: two per amount, then the int32 values two to a word. */
  private readonly words: number;
  private hi: BigInt64Array;
  private lo: BigUint64Array;
  private ints: Int32Array;
  private readonly large = new Map<number, Fixed>();

  constructor(
    capacity: number,
    private readonly amounts: number,
    ints: number,
  ) {
    this.words = 2 * amounts + ((ints + 1) >> 1);
    this.hi = new BigInt64Array(0);
    this.lo = new BigUint64Array(0);
    this.ints = new Int32Array(0);
    this.reserve(capacity);
  }

  get capacity(): number {
    return this.hi.length / this.words;
  }

  reserve(capacity: number): void {
    if (capacity <= this.capacity) return;
    const buffer = new ArrayBuffer(capacity * this.words * 8);
    const hi = new BigInt64Array(buffer);
    hi.set(this.hi);
    this.hi = hi;
    this.lo = new BigUint64Array(buffer);
    this.ints = new Int32Array(buffer);
  }

  ensure(row: number): void {
    if (row >= this.capacity) this.reserve(grownCapacity(this.capacity, row + 1));
  }

  /** Amount `field` of `row`. */
  fixed(row: number, field: number): Fixed {
    if (this.large.size > 0) {
      const value = this.large.get(row * this.amounts + field);
      if (value !== undefined) return value;
    }
    const i = row * this.words + 2 * field;
    return (this.hi[i]! << 64n) + this.lo[i + 1]!;
  }

  setFixed(row: number, field: number, value: Fixed): void {
    this.ensure(row);
    const hi = value >> 64n; // floor division: with an unsigned low word, exact for negatives too
    if (hi < INT64_MIN || hi > INT64_MAX) {
      this.large.set(row * this.amounts + field, value);
      return;
    }
    if (this.large.size > 0) this.large.delete(row * this.amounts + field);
    const i = row * this.words + 2 * field;
    this.hi[i] = hi;
    this.lo[i + 1] = value - hi * TWO_64;
  }

  /** Int32 `field` of `row`. */
  int(row: number, field: number): number {
    return this.ints[2 * (row * this.words + this.amounts * 2) + field]!;
  }

  setInt(row: number, field: number, value: number): void {
    this.ensure(row);
    this.ints[2 * (row * this.words + this.amounts * 2) + field] = value;
  }
}
