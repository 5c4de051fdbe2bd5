/**
 * Risk-ordered pages without computing every account per request (issue 15, item 3).
 *
 * `accounts(orderBy: RISK_DESC | MARGIN_RATIO_* | EQUITY_* | NOTIONAL_*)` is ordered by
 * values derived from every account's positions at the block's marks: exactly, in SQL,
 * that is a pass over every account and position per request (5 s at 100,000 accounts).
 * This engine keeps every account's risk inputs in float64 columns in the API process,
 * follows the commits (the notification names the accounts a batch changed; those are
 * read again), computes each account's equity, maintenance margin and notional once per
 * block, with a bound on their float error, and for a page returns the few accounts that
 * can be on it: every account whose exact sort key may fall between the cursor and the
 * page's last key. The page itself is still ordered and served exactly, by the SQL of
 * `order.ts` over those candidates, so the answer (values, order, cursors) is the same as
 * a full pass gives, in every API process.
 *
 * Why the candidates always hold the page: each account's exact key lies within [L, U]
 * (its float key widened by the error bound; both buckets when the sign of its equity is
 * in doubt). Accounts with L above the cursor are surely after it; the (first + 1)-th
 * smallest U among them, U*, bounds the last key of the exact page. Every account that
 * may be after the cursor (U above it) and may be before U* (L at most U*) is a candidate.
 */
import type pg from 'pg';
import type { BlocksCommitted } from '../../db/store/ledger-store.js';
import { copyOut } from '../../db/store/copy-out.js';
import type { Logger } from '../../log/index.js';
import type { Mark } from '../../risk/mark.js';
import type { Market, MarginState } from '../../ledger/index.js';
import type { AccountOrder } from '../modules/account/order.js';
import type { SnapshotBlock } from '../snapshot.js';
import { AccountColumns } from './columns.js';

/** Relative error allowed for each float sum (a few dozen operations at 1.1e-16 each, with a wide margin). */
const RELATIVE_ERROR = 1e-10;
/** Absolute error per unit of size: the 1e-18 roundings of the marks, and of the served values. */
const ABSOLUTE_ERROR = 1e-12;

export interface EngineFilter {
  owner?: string | null;
  marginState?: readonly MarginState[] | null;
  market?: string | null;
}

/** A cursor's sort key: bucket, key (an integer of 1e-18 units) and id. */
export type CursorKey = readonly [string, string, string];

/** Per account, the lowest and highest (bucket, key) its exact key may have in one order. */
interface Bounds {
  bLo: Uint8Array;
  kLo: Float64Array;
  bHi: Uint8Array;
  kHi: Float64Array;
}

/** What a block's marks give every account: computed once per block, used by every page. */
interface BlockValues {
  hash: string;
  /** By order, made on the first page asked in it. */
  bounds: Map<string, Bounds>;
  equity: Float64Array;
  equityError: Float64Array;
  maintenance: Float64Array;
  maintenanceError: Float64Array;
  notional: Float64Array;
  notionalError: Float64Array;
}

export interface RiskEngineOptions {
  /** Reads the engine's rows, in snapshots of its own (the API's pool). */
  pool: pg.Pool;
  logger: Logger;
}

export class RiskEngine {
  private readonly columns = new AccountColumns();
  /** The block the columns hold, or null while they are loading or behind. */
  private block: { number: number; hash: string } | null = null;
  /** The last block a notification named; the columns are current once they hold it. */
  private notified: { number: number; hash: string } | null = null;
  private pending = new Set<string>();
  private reloadAll = true;
  private running: Promise<void> | null = null;
  private values: BlockValues | null = null;
  private stopped = false;

  constructor(private readonly options: RiskEngineOptions) {}

  /** Loads every account, in the background: pages are served without the engine meanwhile. */
  start(): void {
    this.kick();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Settles once no refresh is running (its connection is back in the pool). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The block the engine serves, if any (for tests and metrics). */
  get currentBlock(): { number: number; hash: string } | null {
    return this.block;
  }

  /** A commit notification (undefined: one was lost): the accounts to read again. */
  committed(commit: BlocksCommitted | undefined): void {
    if (!commit || commit.accounts === undefined || commit.reorg) this.reloadAll = true;
    else for (const id of commit.accounts) this.pending.add(id);
    if (commit) this.notified = { number: commit.last, hash: commit.hash };
    this.block = null;
    this.kick();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.refresh()
      .catch((error: Error) => {
        this.reloadAll = true;
        this.options.logger.warn('risk engine refresh failed; pages are served without it until it succeeds', { error: error.message });
        return new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
      })
      .finally(() => {
        this.running = null;
        if (!this.stopped && (this.reloadAll || this.pending.size > 0)) this.kick();
      });
  }

  /**
   * Reads what changed (or everything) in one snapshot. The columns then hold the
   * snapshot's block if they were read whole, or if every commit up to that block was
   * notified before the read began (each notification names its batch's accounts, and
   * they come in commit order); else they wait for the next notification.
   */
  private async refresh(): Promise<void> {
    const all = this.reloadAll;
    const ids = [...this.pending];
    const notified = this.notified;
    this.reloadAll = false;
    this.pending = new Set();
    const client = await this.options.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await client.query('SELECT block_number, block_hash FROM cursor WHERE id = 1');
      const cursor = rows[0] ? { number: Number(rows[0].block_number), hash: rows[0].block_hash as string } : null;
      if (all) await this.columns.loadAll(client, copyOut);
      else if (ids.length > 0) await this.columns.reload(client, ids);
      await client.query('COMMIT');
      const caughtUp = all || (notified !== null && cursor !== null && notified.number === cursor.number && notified.hash === cursor.hash);
      this.block = caughtUp ? cursor : null;
      this.values = null;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * The ids of the accounts that can be on the page after `cursor` (null: the first page)
   * in `order`, among those passing `filter`; null when the engine does not hold `block`.
   */
  candidates(
    block: SnapshotBlock,
    markets: ReadonlyMap<string, Market>,
    marks: ReadonlyMap<string, Mark>,
    order: Exclude<AccountOrder, 'ID_ASC'>,
    filter: EngineFilter,
    cursor: CursorKey | null,
    first: number,
  ): string[] | null {
    if (!this.block || this.block.number !== block.number || this.block.hash !== block.hash) return null;
    const values = this.valuesAt(block.hash, markets, marks);
    const c = this.columns;
    const match = c.filter(filter);
    const n = c.accountCount;
    let orderBounds = values.bounds.get(order);
    if (!orderBounds) {
      orderBounds = { bLo: new Uint8Array(n), kLo: new Float64Array(n), bHi: new Uint8Array(n), kHi: new Float64Array(n) };
      for (let i = 0; i < n; i++) bounds(order, values, i, orderBounds.bLo, orderBounds.kLo, orderBounds.bHi, orderBounds.kHi);
      values.bounds.set(order, orderBounds);
    }
    const { bLo, kLo, bHi, kHi } = orderBounds;
    const cb = cursor ? Number(cursor[0]) : -1;
    // The cursor's key in units; compared with a tolerance far above its float rounding.
    const ck = cursor ? Number(cursor[1]) / 1e18 : -Infinity;
    const tolerance = cursor ? Math.abs(ck) * 1e-12 + 1e-15 : 0;
    const surelyAfter = (i: number) => !cursor || bLo[i]! > cb || (bLo[i] === cb && kLo[i]! > ck + tolerance);
    const mayBeAfter = (i: number) => !cursor || bHi[i]! > cb || (bHi[i] === cb && kHi[i]! >= ck - tolerance);
    // U*: the (first + 1)-th smallest upper bound among the accounts surely after the cursor.
    const top = new UpperBounds(first + 1);
    for (let i = 0; i < n; i++) if (match(i) && surelyAfter(i)) top.offer(bHi[i]!, kHi[i]!);
    const limit = top.limit();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      if (!match(i) || !mayBeAfter(i)) continue;
      if (limit && (bLo[i]! > limit.bucket || (bLo[i] === limit.bucket && kLo[i]! > limit.key))) continue;
      ids.push(c.idAt(i));
    }
    return ids;
  }

  /** How many accounts pass `filter` (null when the engine does not hold `block`). */
  count(block: SnapshotBlock, filter: EngineFilter): number | null {
    if (!this.block || this.block.number !== block.number || this.block.hash !== block.hash) return null;
    const match = this.columns.filter(filter);
    let count = 0;
    for (let i = 0; i < this.columns.accountCount; i++) if (match(i)) count++;
    return count;
  }

  private valuesAt(hash: string, markets: ReadonlyMap<string, Market>, marks: ReadonlyMap<string, Mark>): BlockValues {
    if (this.values?.hash === hash) return this.values;
    const n = this.columns.accountCount;
    const values: BlockValues = {
      hash,
      bounds: new Map(),
      equity: new Float64Array(n),
      equityError: new Float64Array(n),
      maintenance: new Float64Array(n),
      maintenanceError: new Float64Array(n),
      notional: new Float64Array(n),
      notionalError: new Float64Array(n),
    };
    this.columns.evaluate(markets, marks, values, RELATIVE_ERROR, ABSOLUTE_ERROR);
    this.values = values;
    return values;
  }
}

/** The lowest and highest (bucket, key) account i's exact key may have in `order` (SQL's SORT in order.ts). */
function bounds(order: Exclude<AccountOrder, 'ID_ASC'>, v: BlockValues, i: number, bLo: Uint8Array, kLo: Float64Array, bHi: Uint8Array, kHi: Float64Array): void {
  const e = v.equity[i]!;
  const ee = v.equityError[i]!;
  const m = v.maintenance[i]!;
  const em = v.maintenanceError[i]!;
  switch (order) {
    case 'EQUITY_ASC':
      return set(i, 0, e - ee, 0, e + ee, bLo, kLo, bHi, kHi);
    case 'EQUITY_DESC':
      return set(i, 0, -e - ee, 0, -e + ee, bLo, kLo, bHi, kHi);
    case 'NOTIONAL_ASC':
      return set(i, 0, v.notional[i]! - v.notionalError[i]!, 0, v.notional[i]! + v.notionalError[i]!, bLo, kLo, bHi, kHi);
    case 'NOTIONAL_DESC':
      return set(i, 0, -v.notional[i]! - v.notionalError[i]!, 0, -v.notional[i]! + v.notionalError[i]!, bLo, kLo, bHi, kHi);
  }
  // The margin ratio MM / E when E > 0 (solvent); its range while E's sign is certain.
  const solvent = e - ee > 0;
  const insolvent = e + ee <= 0;
  const ratioLo = Math.max(0, m - em) / (e + ee);
  const ratioHi = solvent ? (m + em) / (e - ee) : Infinity;
  switch (order) {
    case 'MARGIN_RATIO_ASC': // solvent: (0, MR); not: (1, 0)
      if (solvent) return set(i, 0, ratioLo, 0, ratioHi, bLo, kLo, bHi, kHi);
      if (insolvent) return set(i, 1, 0, 1, 0, bLo, kLo, bHi, kHi);
      return set(i, 0, ratioLo, 1, 0, bLo, kLo, bHi, kHi);
    case 'MARGIN_RATIO_DESC': // not solvent: (0, 0); solvent: (1, -MR)
      if (solvent) return set(i, 1, -ratioHi, 1, -ratioLo, bLo, kLo, bHi, kHi);
      if (insolvent) return set(i, 0, 0, 0, 0, bLo, kLo, bHi, kHi);
      return set(i, 0, 0, 1, -ratioLo, bLo, kLo, bHi, kHi);
    case 'RISK_DESC': // not solvent: (0, E); solvent: (1, -MR)
      if (solvent) return set(i, 1, -ratioHi, 1, -ratioLo, bLo, kLo, bHi, kHi);
      if (insolvent) return set(i, 0, e - ee, 0, e + ee, bLo, kLo, bHi, kHi);
      return set(i, 0, e - ee, 1, -ratioLo, bLo, kLo, bHi, kHi);
  }
}

function set(i: number, bl: number, kl: number, bh: number, kh: number, bLo: Uint8Array, kLo: Float64Array, bHi: Uint8Array, kHi: Float64Array): void {
  bLo[i] = bl;
  kLo[i] = kl;
  bHi[i] = bh;
  kHi[i] = kh;
}

/** The `count` smallest (bucket, key) pairs offered: a max-heap of them. */
class UpperBounds {
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
  limit(): { bucket: number; key: number } | null {
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
