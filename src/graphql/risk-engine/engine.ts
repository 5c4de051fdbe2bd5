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
 *
 * Per block: the refresh reads the changed accounts (or all) and the block's markets and
 * index prices in one snapshot, then evaluates every account in steps that let the event
 * loop turn, before the block's first page is asked. A request at a block the engine is
 * still reading waits for it (at most `catchUpMs`) rather than paying a full SQL pass.
 * Request work that reads the columns holds a lease; a refresh waits for the leases to
 * end before it changes them.
 */
import type pg from 'pg';
import type { BlocksCommitted } from '../../db/store/ledger-store.js';
import { copyOut } from '../../db/store/copy-out.js';
import type { Logger } from '../../log/index.js';
import { marksOf, type Mark } from '../../risk/mark.js';
import type { LedgerParams, Market, MarginState } from '../../ledger/index.js';
import { loadMarkets } from '../modules/market/sql.js';
import { loadUnderlyings } from '../modules/underlying/sql.js';
import { nextTurn, sliceSpent } from '../protection/pacer.js';
import type { RunQuery, SnapshotBlock } from '../snapshot.js';
import { ABSOLUTE_ERROR, boundsOfAll, candidates, RELATIVE_ERROR, type Bounds, type RiskOrder } from './bounds.js';
import { OrderIndex } from './order-index.js';
import { AccountColumns, emptyEvaluated, type Evaluated } from './columns.js';
import type { Marked, StressOutcome } from './stress.js';

export interface EngineFilter {
  owner?: string | null;
  marginState?: readonly MarginState[] | null;
  market?: string | null;
}

/** A cursor's sort key: bucket, key (an integer of 1e-18 units) and id. */
export type CursorKey = readonly [string, string, string];

/** The block the columns hold, its marks, and every account's values at them. */
interface Held extends Marked {
  number: number;
  hash: string;
  /** Settles once every account is evaluated (`evaluate`). */
  values: Promise<BlockValues>;
}

/** What a block's marks give every account: computed once per block, used by every page. */
interface BlockValues extends Evaluated {
  /** By order, made on the first page asked in it. */
  bounds: Map<string, Bounds>;
  /** By order and filter (`indexKey`), made after the first page asked in them (or ahead: `prepare`). */
  indexes: Map<string, OrderIndex>;
  /** The indexes being made, by key. */
  making: Map<string, Promise<void>>;
  /** Accounts passing each filter (`filterKey`), counted on the first ask. */
  counts: Map<string, number>;
}

export interface RiskEngineOptions {
  /** Reads the engine's rows, in snapshots of its own (the API's pool). */
  pool: pg.Pool;
  logger: Logger;
  /** The risk-free rate of option marks, as the API's requests use it. */
  params: Pick<LedgerParams, 'riskFreeRate'>;
  /** How long a request waits for the engine to reach its block before it goes without it. Default 2000 ms. */
  catchUpMs?: number;
}

/** Stress outcomes kept per block (each holds a few numbers per account it moves). */
const STRESSES_KEPT = 8;
/** Order indexes kept per block (each holds about 5 bytes per account passing its filter). */
const INDEXES_KEPT = 32;

export class RiskEngine {
  private readonly columns = new AccountColumns();
  /** The block the columns hold, or null while they are loading or behind. */
  private held: Held | null = null;
  /** The last block a notification named; the columns are current once they hold it. */
  private notified: { number: number; hash: string } | null = null;
  private pending = new Set<string>();
  private reloadAll = true;
  private running: Promise<void> | null = null;
  /** Stress outcomes at the block held, by shock (stress.ts), the last few asked: a client pages through one. */
  private readonly stresses = new Map<string, StressOutcome>();
  /** The orders and filters pages asked at the block held: their indexes are made ahead for the next one. */
  private readonly asked = new Map<string, { order: RiskOrder; filter: EngineFilter }>();
  /** Request work reading the columns, and who waits for it to end. */
  private leases = 0;
  private leasesEnded: (() => void)[] = [];
  /** Requests waiting for the engine to hold a newer block. */
  private waiting = new Set<() => void>();
  private stopped = false;

  constructor(private readonly options: RiskEngineOptions) {}

  /** Loads every account, in the background: pages are served without the engine meanwhile. */
  start(): void {
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.wake();
  }

  /** Settles once no refresh is running (its connection is back in the pool). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The block the engine serves, if any (for tests and metrics). */
  get currentBlock(): { number: number; hash: string } | null {
    return this.held && { number: this.held.number, hash: this.held.hash };
  }

  /** A commit notification (undefined: one was lost): the accounts to read again. */
  committed(commit: BlocksCommitted | undefined): void {
    if (!commit || commit.accounts === undefined || commit.reorg) this.reloadAll = true;
    else for (const id of commit.accounts) this.pending.add(id);
    if (commit) this.notified = { number: commit.last, hash: commit.hash };
    this.kick();
  }

  /**
   * The ids of the accounts that can be on the page after `cursor` (null: the first page)
   * in `order`, among those passing `filter`; null when the engine does not hold `block`.
   */
  candidates(block: SnapshotBlock, order: RiskOrder, filter: EngineFilter, cursor: CursorKey | null, first: number): Promise<string[] | null> {
    return this.read(block, async (held) => {
      const values = await held.values;
      const key = indexKey(order, filter);
      this.asked.set(key, { order, filter });
      const place = cursor ? { bucket: Number(cursor[0]), key: Number(cursor[1]) / 1e18 } : null;
      const index = values.indexes.get(key);
      // Until its index is made (in the background, from this first ask), a pass over every account.
      if (!index) void this.buildIndex(held, values, order, filter);
      const picked = index ? index.candidates(place, first) : candidates(this.boundsOf(values, order), this.columns.accountCount, this.columns.filter(filter), place, first);
      return picked.map((i) => this.columns.idAt(i));
    });
  }

  /** A copy of the columns' floats and the block they hold, if they hold one (past.ts rolls it back to a past block). */
  heldCopy(): { columns: AccountColumns; number: number; hash: string } | null {
    // While a block is held no refresh is changing the columns, and the copy is synchronous.
    const held = this.held;
    return held && { columns: this.columns.copy(false), number: held.number, hash: held.hash };
  }

  /** How many accounts pass `filter` (null when the engine does not hold `block`). */
  count(block: SnapshotBlock, filter: EngineFilter): Promise<number | null> {
    return this.read(block, async (held) => {
      const values = await held.values;
      const key = filterKey(filter);
      let count = values.counts.get(key);
      if (count === undefined) {
        const match = this.columns.filter(filter);
        count = 0;
        for (let i = 0; i < this.columns.accountCount; i++) if (match(i)) count++;
        values.counts.set(key, count);
      }
      return count;
    });
  }

  /** Every account's bounds in `order` at the block of `values`, made on the first ask. */
  private boundsOf(values: BlockValues, order: RiskOrder): Bounds {
    let orderBounds = values.bounds.get(order);
    if (!orderBounds) values.bounds.set(order, (orderBounds = boundsOfAll(order, values, this.columns.accountCount)));
    return orderBounds;
  }

  /**
   * Makes the order index of `order` and `filter` for the block `held` (a pass over every
   * account, in steps between which the event loop turns), unless it is made or being
   * made; settles when it is (or when a refresh let go of the block: it is dropped).
   */
  private buildIndex(held: Held, values: BlockValues, order: RiskOrder, filter: EngineFilter): Promise<void> {
    const key = indexKey(order, filter);
    if (values.indexes.has(key)) return Promise.resolve();
    let making = values.making.get(key);
    if (!making) {
      making = (async () => {
        const steps = OrderIndex.building(this.boundsOf(values, order), this.columns.accountCount, this.columns.filter(filter));
        for (;;) {
          const step = steps.next();
          if (step.done) {
            if (values.indexes.size >= INDEXES_KEPT) values.indexes.delete(values.indexes.keys().next().value!);
            values.indexes.set(key, step.value);
            return;
          }
          if (sliceSpent()) await nextTurn(this);
          // A refresh changes the columns once it has let go of the block: stop reading them.
          if (this.held !== held || this.stopped) return;
        }
      })().finally(() => values.making.delete(key));
      values.making.set(key, making);
    }
    return making;
  }

  /**
   * A stress outcome at `block` for the shocks named by `key`: made by `make` from the
   * engine's columns and the block's marks on the first ask, kept for the pages after
   * it; null when the engine does not hold `block`.
   */
  stressAt(block: SnapshotBlock, key: string, make: (columns: AccountColumns, now: Marked) => Promise<StressOutcome>): Promise<StressOutcome | null> {
    return this.read(block, async (held) => {
      const kept = this.stresses.get(key);
      if (kept) {
        this.stresses.delete(key); // most recently used last
        this.stresses.set(key, kept);
        return kept;
      }
      const outcome = await make(this.columns, held);
      if (this.stresses.size >= STRESSES_KEPT) this.stresses.delete(this.stresses.keys().next().value!);
      this.stresses.set(key, outcome);
      return outcome;
    });
  }

  /**
   * `work` over the columns at `block`, with a lease that keeps a refresh from changing
   * them until it ends; null when the engine does not hold `block` (or cannot reach it
   * within `catchUpMs`).
   */
  private async read<T>(block: SnapshotBlock, work: (held: Held) => T | Promise<T>): Promise<T | null> {
    const held = await this.reach(block);
    if (!held) return null;
    this.leases++;
    try {
      // A refresh that began meanwhile has let go of the block (it changes the columns next).
      if (this.held !== held) return null;
      return await work(held);
    } finally {
      if (--this.leases === 0) for (const ended of this.leasesEnded.splice(0)) ended();
    }
  }

  /** The held block if it is `block`, after waiting for a refresh that is reading it. */
  private async reach(block: SnapshotBlock): Promise<Held | null> {
    const deadline = performance.now() + (this.options.catchUpMs ?? 2000);
    for (;;) {
      const held = this.held;
      if (held && held.number === block.number && held.hash === block.hash) return held;
      // Past it (or another branch), or about to be: the request's block is gone from the columns.
      if ((held && held.number >= block.number) || (this.notified && this.notified.number > block.number)) return null;
      const left = deadline - performance.now();
      if (this.stopped || left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        this.waiting.add(done);
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = new Set();
    for (const resume of waiting) resume();
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
   * Reads what changed (or everything) in one snapshot, with the block's markets and index
   * prices. The columns then hold the snapshot's block if they were read whole, or if every
   * commit up to that block was notified before the read began (each notification names
   * its batch's accounts, and they come in commit order); else they wait for the next
   * notification. Then every account is evaluated at the block's marks.
   */
  private async refresh(): Promise<void> {
    while (this.leases > 0) await new Promise<void>((resolve) => this.leasesEnded.push(resolve));
    const all = this.reloadAll;
    const ids = [...this.pending];
    const notified = this.notified;
    this.reloadAll = false;
    this.pending = new Set();
    this.held = null;
    this.stresses.clear();
    const client = await this.options.pool.connect();
    let read: { number: number; hash: string; markets: Map<string, Market>; marks: Map<string, Mark> } | null;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await client.query('SELECT block_number, block_hash, block_timestamp FROM cursor WHERE id = 1');
      if (all) await this.columns.loadAll(client, copyOut);
      else if (ids.length > 0) await this.columns.reload(client, ids);
      const query: RunQuery = async <R>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as R[];
      const [markets, underlyings] = await Promise.all([loadMarkets(query), loadUnderlyings(query)]);
      await client.query('COMMIT');
      const cursor = rows[0] ? { number: Number(rows[0].block_number), hash: rows[0].block_hash as string, timestamp: Number(rows[0].block_timestamp) } : null;
      const caughtUp = all || (notified !== null && cursor !== null && notified.number === cursor.number && notified.hash === cursor.hash);
      read = caughtUp && cursor
        ? { number: cursor.number, hash: cursor.hash, markets, marks: marksOf(markets.values(), (u) => underlyings.get(u)?.indexPrice ?? null, cursor.timestamp, this.options.params.riskFreeRate) }
        : null;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if (!read) return;
    const asked = [...this.asked.values()];
    this.asked.clear();
    const values = this.evaluate(read.markets, read.marks);
    const held = { ...read, values };
    this.held = held;
    this.wake();
    // Part of the refresh: the next one must not change the columns while it runs.
    await this.prepare(held, await values, asked);
  }

  /**
   * The order indexes asked at the previous block, made ahead for this one: the pages of
   * a new block then find them made. Left to the pages themselves when a newer block is
   * already waiting.
   */
  private async prepare(held: Held, values: BlockValues, asked: readonly { order: RiskOrder; filter: EngineFilter }[]): Promise<void> {
    for (const { order, filter } of asked) {
      if (this.stopped || this.reloadAll || this.pending.size > 0) return;
      await this.buildIndex(held, values, order, filter);
    }
  }

  /** Every account at the block's marks, in steps between which the event loop turns. */
  private async evaluate(markets: ReadonlyMap<string, Market>, marks: ReadonlyMap<string, Mark>): Promise<BlockValues> {
    const n = this.columns.accountCount;
    const values: BlockValues = { ...emptyEvaluated(n), bounds: new Map(), indexes: new Map(), making: new Map(), counts: new Map() };
    for (const _ of this.columns.evaluation(markets, marks, values, RELATIVE_ERROR, ABSOLUTE_ERROR)) {
      if (sliceSpent()) await nextTurn(this);
    }
    return values;
  }
}

/** A filter the engine answers, as a key (the owner filter never reaches it). */
function filterKey(filter: EngineFilter): string {
  return JSON.stringify([filter.marginState ? [...filter.marginState].sort() : null, filter.market ?? null]);
}

function indexKey(order: RiskOrder, filter: EngineFilter): string {
  return `${order}\u0000${filterKey(filter)}`;
}
