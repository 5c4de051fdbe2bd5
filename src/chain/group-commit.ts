import type { ReorgInfo } from '../db/store/ledger-store.js';
import type { UndoEntry } from '../db/store/undo.js';
import type { BlockChanges } from '../ledger/index.js';

/** Consecutive applied blocks to write in one transaction. */
export interface Batch {
  batch: BlockChanges[];
  undo: Map<number, UndoEntry[]>;
  /** The chain head when the last of them was applied. */
  head: number;
  /** Set on the first batch written after a rollback. */
  reorg?: ReorgInfo;
}

/**
 * Group commit: one write in flight at a time; blocks applied meanwhile queue up and go
 * together in the next one, so batches grow when the database is the slower side. A
 * failed write drops the queue (it was applied on top of the failed batch) and marks the
 * writer `failed` until `reset()`: the caller's in-memory state is then ahead of the
 * database and must be reloaded from it.
 */
export class GroupCommit {
  private queued: Batch | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private busy = false;
  private error: unknown = null;
  private reorg: ReorgInfo | undefined;

  constructor(private readonly write: (batch: Batch) => Promise<void>) {}

  get failed(): boolean {
    return this.error !== null;
  }

  /** Blocks queued behind the write in flight. */
  get backlog(): number {
    return this.queued?.batch.length ?? 0;
  }

  /** Queues an applied block; `undo` only for blocks that may still reorg. */
  add(changes: BlockChanges, undo: UndoEntry[] | null, head: number): void {
    const queued: Batch = (this.queued ??= { batch: [], undo: new Map(), head });
    queued.head = head;
    queued.batch.push(changes);
    if (undo) queued.undo.set(changes.block.number, undo);
  }

  /** Starts writing the queue, unless a write is in flight: the queue follows it. */
  kick(): void {
    if (this.busy || !this.queued || this.failed) return;
    const batch: Batch = { ...this.queued, reorg: this.reorg };
    this.queued = null;
    this.reorg = undefined;
    this.busy = true;
    this.inFlight = this.write(batch).then(
      () => {
        this.busy = false;
        this.kick();
      },
      (error: unknown) => {
        this.busy = false;
        this.queued = null;
        this.error = error;
        this.reorg ??= batch.reorg;
      },
    );
  }

  /** Waits until everything queued is written; throws the failure if a write failed. */
  async flush(): Promise<void> {
    this.kick();
    while (this.busy) await this.inFlight;
    if (this.failed) throw this.error;
  }

  /** After a failure: waits out the write in flight and forgets the queue and the failure. */
  async reset(): Promise<void> {
    while (this.busy) await this.inFlight;
    this.queued = null;
    this.error = null;
  }

  /** The next batch carries this rollback (depths add up over several before it). */
  rolledBack(depth: number, commonAncestor: number): void {
    this.reorg = { depth: (this.reorg?.depth ?? 0) + depth, commonAncestor };
  }
}
