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
import type { SnapshotBlock } from '../snapshot.js';
import { ABSOLUTE_ERROR, boundsOf, candidates, emptyBounds, RELATIVE_ERROR, type Bounds, type RiskOrder } from './bounds.js';
import { AccountColumns, type Evaluated } from './columns.js';
import type { StressOutcome } from './stress.js';

export interface EngineFilter {
  owner?: string | null;
  marginState?: readonly MarginState[] | null;
  market?: string | null;
}

/** A cursor's sort key: bucket, key (an integer of 1e-18 units) and id. */
export type CursorKey = readonly [string, string, string];

/** What a block's marks give every account: computed once per block, used by every page. */
interface BlockValues extends Evaluated {
  hash: string;
  /** By order, made on the first page asked in it. */
  bounds: Map<string, Bounds>;
}

/** Stress outcomes kept per block (each holds a few numbers per account it moves). */
const STRESSES_KEPT = 8;

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
  /** Stress outcomes at the block held, by shock (stress.ts), the last few asked: a client pages through one. */
  private readonly stresses = new Map<string, StressOutcome>();
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
      this.stresses.clear();
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
    order: RiskOrder,
    filter: EngineFilter,
    cursor: CursorKey | null,
    first: number,
  ): string[] | null {
    if (!this.holds(block)) return null;
    const values = this.valuesAt(block.hash, markets, marks);
    const n = this.columns.accountCount;
    let orderBounds = values.bounds.get(order);
    if (!orderBounds) {
      orderBounds = emptyBounds(n);
      for (let i = 0; i < n; i++) boundsOf(order, values, i, orderBounds, i);
      values.bounds.set(order, orderBounds);
    }
    const place = cursor ? { bucket: Number(cursor[0]), key: Number(cursor[1]) / 1e18 } : null;
    return candidates(orderBounds, n, this.columns.filter(filter), place, first).map((i) => this.columns.idAt(i));
  }

  /**
   * A stress outcome at `block` for the shocks named by `key`: made by `make` from the
   * engine's columns on the first ask, kept for the pages after it; null when the engine
   * does not hold `block`.
   */
  stressAt(block: SnapshotBlock, key: string, make: (columns: AccountColumns) => StressOutcome): StressOutcome | null {
    if (!this.holds(block)) return null;
    const stresses = this.stresses;
    let outcome = stresses.get(key);
    if (outcome) {
      stresses.delete(key); // most recently used last
    } else {
      outcome = make(this.columns);
      if (stresses.size >= STRESSES_KEPT) stresses.delete(stresses.keys().next().value!);
    }
    stresses.set(key, outcome);
    return outcome;
  }

  /** How many accounts pass `filter` (null when the engine does not hold `block`). */
  count(block: SnapshotBlock, filter: EngineFilter): number | null {
    if (!this.holds(block)) return null;
    const match = this.columns.filter(filter);
    let count = 0;
    for (let i = 0; i < this.columns.accountCount; i++) if (match(i)) count++;
    return count;
  }

  private holds(block: SnapshotBlock): boolean {
    return this.block !== null && this.block.number === block.number && this.block.hash === block.hash;
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
