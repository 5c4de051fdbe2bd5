/**
 * The per-request context: one snapshot (one committed block), its loaders and memo of
 * derived values. The HTTP server creates one per operation and calls `release()` when the
 * response is sent; subscriptions keep one and `refresh()` it before each event.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type pg from 'pg';
import type { LedgerParams } from '../ledger/index.js';
import type { BlockCache } from './block-cache.js';
import { Loaders } from './loaders.js';
import { Snapshot, type SnapshotBlock } from './snapshot.js';

export interface ApiDeps {
  pool: pg.Pool;
  /** oracleStalenessSeconds (OracleSource.stale) and riskFreeRate (option pricing). */
  params: LedgerParams;
  /** Rows and derived values shared by requests at the same block (the server's; tests may leave it out). */
  blockCache?: BlockCache;
}

export class RequestContext {
  readonly requestId: string;
  private snapshot: Snapshot;
  private currentLoaders: Loaders | null = null;

  constructor(
    private readonly deps: ApiDeps,
    options: { requestId?: string } = {},
  ) {
    this.requestId = options.requestId ?? randomUUID();
    this.snapshot = new Snapshot(deps.pool);
  }

  get params(): LedgerParams {
    return this.deps.params;
  }

  /** Created on first use: a subscription refreshes around every event, most of which read nothing. */
  get loaders(): Loaders {
    return (this.currentLoaders ??= this.newLoaders());
  }

  /** The committed block this request reads at (cursor row of the snapshot). */
  block(): Promise<SnapshotBlock> {
    return blockOf(this.snapshot);
  }

  /** Runs SQL inside the request's snapshot. */
  query<R>(sql: string, params?: unknown[]): Promise<R[]> {
    return this.snapshot.query<R>(sql, params);
  }

  /** Ends the snapshot transaction and returns the client; idempotent. */
  release(): Promise<void> {
    return this.snapshot.close();
  }

  /** Drops the snapshot and the loaders: the next read sees the latest committed block. */
  async refresh(): Promise<void> {
    // Nothing read yet: the snapshot opens on the first read, so it already sees the latest
    // block (subscriptions refresh twice per event and most events read nothing).
    if (!this.snapshot.used && this.currentLoaders === null) return;
    const old = this.snapshot;
    this.snapshot = new Snapshot(this.deps.pool);
    this.currentLoaders = null;
    await old.close();
  }

  private newLoaders(): Loaders {
    // Bound to the snapshot current at creation: loaders never outlive their snapshot.
    const snapshot = this.snapshot;
    return new Loaders(
      (sql, params) => snapshot.query(sql, params),
      async () => (await blockOf(snapshot)).timestamp,
      this.deps.params,
      async () => {
        const cache = this.deps.blockCache;
        if (!cache) return null;
        const block = await snapshot.block();
        return block ? cache.at(block) : null;
      },
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
