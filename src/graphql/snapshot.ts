/**
 * One consistent read view per request: a REPEATABLE READ READ ONLY transaction on one
 * pooled connection, opened on the first read. Every statement of the request runs in it,
 * so every field is computed from the same committed block, whatever the ingester commits
 * meanwhile (SPEC: one request, one block).
 */
import { GraphQLError } from 'graphql';
import type pg from 'pg';
import { isConnectionError } from '../db/connection-errors.js';
import { read } from '../db/store/columns.js';
import type { LatestBlock } from './latest-block.js';
import { openPast, type BlockSelector } from './past-block.js';

/** The cursor row as the snapshot sees it: the block every field of the request is as of. */
/** Runs one statement in the request's snapshot; rows as pg returns them (NUMERIC, INT8 as strings). */
export type RunQuery = <R>(sql: string, params?: unknown[]) => Promise<R[]>;

export interface SnapshotBlock {
  chainId: number;
  number: number;
  hash: string;
  timestamp: number;
  headBlockNumber: number;
}

/** Rows read with the snapshot's first round trip (past-block.ts): MARKETS_SQL's and UNDERLYINGS_SQL's. */
export interface Prefetched {
  markets: Record<string, unknown>[];
  underlyings: Record<string, unknown>[];
}

interface Opened {
  client: pg.PoolClient;
  block: SnapshotBlock | null;
  prefetched?: Prefetched;
}

// BEGIN and the cursor read travel in one round trip (a simple-protocol query may hold
// several statements). The SELECT is the transaction's first statement, so it is what fixes
// the snapshot: the cursor it returns is exactly the block the other reads see.
const OPEN = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT chain_id, block_number, block_hash, block_timestamp, head_block_number FROM cursor WHERE id = 1`;

/**
 * The snapshot opened on a block newer than the one the request assumed and has already
 * read from (latest-block.ts): the request must run again on the new block.
 */
export class BlockMovedError extends Error {
  constructor(assumed: number, seen: number) {
    super(`the request assumed block ${assumed}, but its snapshot sees block ${seen}; it runs again`);
  }
}

export interface SnapshotOptions {
  /** Reports the blocks snapshots see; with `assume`, also the block to take without a round trip. */
  latest?: LatestBlock;
  /** Take the block `latest` knows instead of reading the cursor; the transaction opens only for a read. */
  assume?: boolean;
  /**
   * Take this block (a subscription event's, subscriptions/account-changes.ts), as `assume`
   * does: a read that finds another block fails and marks the snapshot `moved`.
   */
  pinned?: SnapshotBlock;
  /**
   * Read a past block of the canonical chain instead of the last committed one
   * (past-block.ts, SPEC section 8): the transaction sees every table as of that block.
   */
  past?: BlockSelector;
}

/** The wait of a snapshot's first statement (one promise for all: a subscription makes two snapshots per event). */
const SETTLED: Promise<unknown> = Promise.resolve();

export class Snapshot {
  private opening: Promise<Opened> | null = null;
  /** Settles when the last statement asked for has finished (the next one waits for it). */
  private previous: Promise<unknown> = SETTLED;
  private closing: Promise<void> | null = null;
  private broken: Error | undefined;
  private readonly assumed: SnapshotBlock | null;
  /** Set when the transaction saw another block than the assumed one. */
  moved = false;
  /**
   * Whether it reads a block older than the last committed one (`past`), through the
   * `pts_past` views: known once open, assumed until then. A past selector that names the
   * last committed block reads the tables as they are, like a snapshot of the newest.
   */
  readsPast: boolean;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: SnapshotOptions = {},
  ) {
    this.assumed = options.pinned ?? ((options.assume && options.latest?.current()) || null);
    this.readsPast = options.past !== undefined;
  }

  /** Whether a read has begun (the transaction, and the block it sees, are fixed from then on). */
  get used(): boolean {
    return this.opening !== null || this.closing !== null;
  }

  /** The committed block of this snapshot; null when nothing is ingested yet. */
  async block(): Promise<SnapshotBlock | null> {
    if (this.assumed && !this.opening) return this.assumed;
    return (await this.open()).block;
  }

  /** Rows the snapshot read as it opened (a past block's markets and underlyings), if any. */
  async prefetched(): Promise<Prefetched | undefined> {
    if (this.assumed && !this.opening) return undefined;
    return (await this.open()).prefetched;
  }

  /**
   * Runs `sql` once the statements asked for before it have finished. The request's
   * DataLoaders ask for several in the same tick; pg would queue them on the connection
   * itself, but deprecates that (pg 9 will refuse a query while one is running).
   */
  query<R>(sql: string, params?: unknown[]): Promise<R[]> {
    // Promise.all handles open()'s rejection at once, not only after the previous statement.
    const run = Promise.all([this.open(), this.previous]).then(([{ client, block }]) => {
      if (this.assumed && (block?.number !== this.assumed.number || block.hash !== this.assumed.hash)) {
        this.moved = true;
        throw new BlockMovedError(this.assumed.number, block?.number ?? -1);
      }
      return client.query(sql, params).then(
        (result) => result.rows as R[],
        (error: unknown) => {
          // A failed statement aborts the transaction; a lost connection (or an error pg
          // gives no SQLSTATE, which cannot be told from one) must not go back to the pool.
          if (isConnectionError(error) || !(error as { code?: string }).code) this.broken = error as Error;
          throw error;
        },
      );
    });
    this.previous = run.catch(() => undefined);
    return run;
  }

  /** Ends the transaction and returns the connection; idempotent, waits for reads in flight. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.opening) return;
      let opened: Opened;
      try {
        opened = await this.opening;
      } catch {
        return; // never opened: nothing to give back
      }
      await this.previous; // the reads asked for before closing
      try {
        // Read only: ROLLBACK and COMMIT are equivalent; ROLLBACK also ends an aborted one.
        if (!this.broken) await opened.client.query('ROLLBACK');
      } catch (error) {
        this.broken = error as Error;
      } finally {
        opened.client.release(this.broken);
      }
    })();
    return this.closing;
  }

  private open(): Promise<Opened> {
    if (this.closing) return Promise.reject(new Error('the request snapshot is closed'));
    this.opening ??= (async () => {
      const ticket = this.options.latest?.ticket();
      const client = await this.pool.connect();
      try {
        if (this.options.past) {
          const { block, latest, prefetched } = await openPast(client, this.options.past);
          this.readsPast = !latest;
          return { client, block, prefetched };
        }
        const results = (await client.query(OPEN)) as unknown as pg.QueryResult[];
        const row = results[1]?.rows[0];
        const block: SnapshotBlock | null = row
          ? {
              chainId: read.int(row.chain_id),
              number: read.int(row.block_number),
              hash: row.block_hash as string,
              timestamp: read.int(row.block_timestamp),
              headBlockNumber: read.int(row.head_block_number),
            }
          : null;
        if (block && ticket !== undefined) this.options.latest!.observed(block, ticket);
        return { client, block };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        // A past block refused (BAD_USER_INPUT) leaves the connection sound.
        client.release(error instanceof GraphQLError ? undefined : (error as Error));
        throw error;
      }
    })();
    return this.opening;
  }
}
