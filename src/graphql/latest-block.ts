/**
 * The newest committed block this process knows of, so that a query can take its block
 * without a database round trip. A request's snapshot otherwise costs two (BEGIN with the
 * cursor read, and ROLLBACK) and a pooled connection even when every row and derived value
 * it needs is already in the block cache: on the account risk query that was a third of
 * the server's work and most of PostgreSQL's.
 *
 * Known means: a snapshot opened since the last commit notification saw it. The LISTEN
 * connection (subscriptions/feed.ts) forgets it on every notification, and it is not
 * trusted while that connection is down or after `maxAgeMs`, so a request never assumes a
 * block older than one whose commit this process has heard of. A request that assumed a
 * block and then needs a read the cache cannot answer opens its snapshot as usual; if that
 * snapshot sees a newer block, the request is run again on it (context.ts), so one request
 * still reads one block.
 */
import type { SnapshotBlock } from './snapshot.js';

export interface LatestBlockOptions {
  /** Whether commit notifications are arriving (the feed's LISTEN connection is up). */
  listening: () => boolean;
  /** Longest a block is assumed after a snapshot saw it. Default 1000 ms. */
  maxAgeMs?: number;
  now?: () => number;
}

export class LatestBlock {
  private block: SnapshotBlock | null = null;
  private seenAt = 0;
  /** Moves on every notification: a snapshot opened before one must not install its block after it. */
  private epoch = 0;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly options: LatestBlockOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
  }

  /** The block a new request may assume; null: open a snapshot to learn it. */
  current(): SnapshotBlock | null {
    if (!this.block || !this.options.listening() || this.now() - this.seenAt > this.maxAgeMs) return null;
    return this.block;
  }

  /** Taken before a snapshot opens; hand it back to `observed` with what the snapshot saw. */
  ticket(): number {
    return this.epoch;
  }

  observed(block: SnapshotBlock, ticket: number): void {
    if (ticket !== this.epoch || !this.options.listening()) return;
    this.block = block;
    this.seenAt = this.now();
  }

  /** A commit was notified, or notifications stopped: the next request learns the block anew. */
  forget(): void {
    this.epoch += 1;
    this.block = null;
  }
}
