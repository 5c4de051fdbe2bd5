/**
 * The per-request context: one snapshot (one committed block), its loaders and memo of
 * derived values. The HTTP server creates one per operation and calls `release()` when the
 * response is sent; subscriptions keep one and `refresh()` it before each event.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type pg from 'pg';
import type { LedgerParams } from '../ledger/index.js';
import { ExecutionBudget } from './protection/budget.js';
import type { RiskEngine } from './risk-engine/engine.js';
import type { PastBlocks } from './risk-engine/past.js';
import type { BlockCache, BlockShared } from './block-cache.js';
import type { LatestBlock } from './latest-block.js';
import { Loaders } from './loaders.js';
import type { BlockSelector } from './past-block.js';
import { Snapshot, type SnapshotBlock } from './snapshot.js';
import type { Delivery } from './subscriptions/shared-execution.js';

export interface ApiDeps {
  pool: pg.Pool;
  /** oracleStalenessSeconds (OracleSource.stale) and riskFreeRate (option pricing). */
  params: LedgerParams;
  /** Rows and derived values shared by requests at the same block (the server's; tests may leave it out). */
  blockCache?: BlockCache;
  /** The newest block known from commit notifications (the server's; tests may leave it out). */
  latestBlock?: LatestBlock;
  /** A new budget for an operation or subscription event (the admission's); default: no time limit. */
  budget?: () => ExecutionBudget;
  /** Risk-ordered pages from the whole account set in memory (risk-engine/); tests may leave it out. */
  riskEngine?: RiskEngine;
  /** Past blocks' account columns kept for their next pages (risk-engine/past.ts); default: none kept. */
  pastBlocks?: PastBlocks;
}

export interface RequestOptions {
  requestId?: string;
  /**
   * Take the newest block the process knows of without a round trip (latest-block.ts); the
   * executor runs the operation again when `blockMoved`. Default false: subscriptions
   * refresh on a notification and must see its block.
   */
  assumeLatestBlock?: boolean;
  /** The operation's budget when its transport made it already (HTTP: at the request's start); default: a new one. */
  budget?: ExecutionBudget;
}

/**
 * A block a subscription event is executed at, with the values shared at it (its rows
 * read by the feed): the event's fields read no statement for what `shared` holds.
 */
export interface PinnedBlock {
  block: SnapshotBlock;
  shared: BlockShared;
}

/** What changes over a context's life, kept in one object: Apollo hands hooks and the executor shallow clones of the context, which must share it. */
interface Current {
  snapshot: Snapshot;
  loaders: Loaders | null;
  /** Set while an event pinned to a block runs (`refresh(pin)`). */
  pinned: PinnedBlock | null;
  /** The current operation's (or subscription event's) budget; made on first use. */
  budget: ExecutionBudget | null;
  /** Set when the operation reads a past block (`readAt`): nothing shared at the newest block applies. */
  past: BlockSelector | null;
}

export class RequestContext {
  readonly requestId: string;
  /** How a WebSocket operation's results are delivered (ws/server.ts); unset over HTTP. */
  delivery?: Delivery;
  private readonly current: Current;

  constructor(
    private readonly deps: ApiDeps,
    options: RequestOptions = {},
  ) {
    this.requestId = options.requestId ?? randomUUID();
    this.current = { snapshot: this.newSnapshot(options.assumeLatestBlock ?? false), loaders: null, budget: options.budget ?? null, pinned: null, past: null };
  }

  /** What the current operation (or subscription event) may still spend. */
  get budget(): ExecutionBudget {
    return (this.current.budget ??= this.deps.budget?.() ?? new ExecutionBudget(0));
  }

  /** `value` once the event loop may go on with it (budget.ts); throws once the budget is spent. */
  pace<T>(value: T): T | Promise<T> {
    return this.budget.pace(value);
  }

  private get snapshot(): Snapshot {
    return this.current.snapshot;
  }

  get params(): LedgerParams {
    return this.deps.params;
  }

  /** The risk engine, unless the request reads a past block (it holds the newest block's columns only): ask once the block is known (`block()`). */
  get riskEngine(): RiskEngine | undefined {
    return this.snapshot.readsPast ? undefined : this.deps.riskEngine;
  }

  /**
   * Whether the operation reads a block older than the last committed one, through the
   * `pts_past` views (ask once the block is known, as `riskEngine`): a selector naming the
   * newest block reads the tables as they are.
   */
  get pastBlock(): boolean {
    return this.snapshot.readsPast;
  }

  /**
   * Past blocks' account columns, shared by the process's requests, when the operation reads
   * a past block (ask once the block is known, as `riskEngine`) and the server keeps them (with its risk engine); else undefined: a
   * risk-ordered page is then the SQL pass over every account.
   */
  get pastBlocks(): PastBlocks | undefined {
    return this.snapshot.readsPast ? this.deps.pastBlocks : undefined;
  }

  /**
   * Reads the operation at a past block of the canonical chain (past-block.ts): called
   * before it runs, while nothing has been read. The block is checked when the snapshot opens.
   */
  async readAt(selector: BlockSelector): Promise<void> {
    const old = this.snapshot;
    this.current.snapshot = new Snapshot(this.deps.pool, { past: selector });
    this.current.loaders = null;
    this.current.pinned = null;
    this.current.past = selector;
    await old.close();
  }

  /** Created on first use: a subscription refreshes around every event, most of which read nothing. */
  get loaders(): Loaders {
    return (this.current.loaders ??= this.newLoaders());
  }

  /** The request assumed a block and then read from a newer one: run it again (`restart`). */
  get blockMoved(): boolean {
    return this.snapshot.moved;
  }

  /** A new snapshot that reads the cursor (assumes nothing), new loaders; the old snapshot is released. */
  async restart(): Promise<void> {
    const old = this.snapshot;
    this.current.snapshot = this.freshSnapshot();
    this.current.loaders = null;
    this.current.pinned = null;
    await old.close();
  }

  /** The committed block this request reads at (cursor row of the snapshot). */
  block(): Promise<SnapshotBlock> {
    return blockOf(this.snapshot);
  }

  /** The block this request reads at, or null when nothing is ingested yet (cursors of empty lists remember none). */
  blockIfAny(): Promise<SnapshotBlock | null> {
    return this.snapshot.block();
  }

  /** Runs SQL inside the request's snapshot. */
  query<R>(sql: string, params?: unknown[]): Promise<R[]> {
    return this.snapshot.query<R>(sql, params);
  }

  /** Ends the snapshot transaction and returns the client; idempotent. */
  release(): Promise<void> {
    return this.snapshot.close();
  }

  /**
   * Drops the snapshot, the loaders and the budget (a subscription calls it around every
   * event): the next read sees the latest committed block, the next event gets a new budget.
   */
  refresh(pin?: PinnedBlock): Promise<void> | void {
    this.current.budget = null;
    if (pin) {
      // The event's block, taken without a round trip; its shared values without the cache's lookup.
      const old = this.snapshot;
      this.current.snapshot = new Snapshot(this.deps.pool, { latest: this.deps.latestBlock, pinned: pin.block });
      this.current.loaders = null;
      this.current.pinned = pin;
      return old.used ? old.close() : undefined;
    }
    // Nothing read yet: the snapshot opens on the first read, so it already sees the latest
    // block (subscriptions refresh twice per event and most events read nothing). That
    // common path returns no promise, so the caller need not wait.
    if (!this.snapshot.used) {
      if (this.current.loaders === null && this.current.pinned === null) return;
      // An event pinned to its block that read only the block's shared values (an account
      // event, every tick): nothing to close, the next read takes the latest block.
      this.current.snapshot = this.freshSnapshot();
      this.current.loaders = null;
      this.current.pinned = null;
      return;
    }
    return this.restart();
  }

  /** A snapshot that assumes nothing: at the operation's past block if it reads one, else the newest (what `restart` and `refresh` move to). */
  private freshSnapshot(): Snapshot {
    return this.current.past ? new Snapshot(this.deps.pool, { past: this.current.past }) : this.newSnapshot(false);
  }

  private newSnapshot(assume: boolean): Snapshot {
    return new Snapshot(this.deps.pool, { latest: this.deps.latestBlock, assume });
  }

  private newLoaders(): Loaders {
    // Bound to the snapshot current at creation: loaders never outlive their snapshot.
    const snapshot = this.snapshot;
    const pinned = this.current.pinned;
    return new Loaders(
      (sql, params) => snapshot.query(sql, params),
      async () => (await blockOf(snapshot)).timestamp,
      this.deps.params,
      async () => {
        const pinned = this.current.pinned;
        if (pinned && snapshot === this.current.snapshot) return pinned.shared;
        const cache = this.deps.blockCache;
        if (!cache || snapshot.readsPast) return null;
        const block = await snapshot.block();
        // A past selector is known to name the newest block only once its snapshot opened.
        return block && !snapshot.readsPast ? cache.at(block) : null;
      },
      () => this.budget,
      // A pinned event's block and values are known: its risk is derived without a promise.
      pinned ? { shared: pinned.shared, timestamp: pinned.block.timestamp } : undefined,
      // Only a past block's snapshot reads rows as it opens: asking another would open it for nothing.
      this.current.past ? () => snapshot.prefetched() : undefined,
    );
  }
}

async function blockOf(snapshot: Snapshot): Promise<SnapshotBlock> {
  const block = await snapshot.block();
  if (!block) {
    throw new GraphQLError('No block has been ingested yet: the API serves data once the ingester has committed its first block.', {
      extensions: { code: 'NOT_READY' },
    });
  }
  return block;
}
