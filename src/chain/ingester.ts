import type pg from 'pg';
import { LedgerStore, ReorgTooDeepError, type ReorgInfo } from '../db/store/ledger-store.js';
import { undoEntries, type UndoEntry } from '../db/store/undo.js';
import {
  applyBlock, commitBlock, DEFAULT_LEDGER_PARAMS,
  type BlockChanges, type LedgerParams, type LedgerState,
} from '../ledger/index.js';
import type { Logger } from '../log/index.js';
import { fetchRange, InconsistentRangeError, type FetchedBlock } from './fetch-range.js';
import { errorText, LogSpan } from './log-range.js';
import { Progress } from './progress.js';
import type { ChainRpc } from './rpc.js';

export interface IngesterOptions {
  rpc: ChainRpc;
  pool: pg.Pool;
  logger: Logger;
  /** Venue contract addresses (lower case). */
  venues: readonly string[];
  /** First block when the database is empty. Default 0. */
  startBlock?: number;
  /** Blocks to stay behind the head. Default 0. */
  confirmations?: number;
  /** Blocks behind the head that may still reorg: they get undo logs. Default 128. */
  reorgDepth?: number;
  /** Most blocks per database transaction. Default 500. */
  batchBlocks?: number;
  /** Head polling interval (a WebSocket head subscription only shortens it). Default 1000 ms. */
  pollIntervalMs?: number;
  params?: LedgerParams;
  /** Called after each committed batch (metrics, tests, benchmarks). */
  onCommit?: (batch: readonly BlockChanges[], head: number) => void;
}

const LOCK_KEY = 0x70747369; // "ptsi": one ingester per database

/**
 * Follows the chain block by block into the ledger (SPEC section 5). Each batch of
 * blocks is applied to the in-memory ledger state and written in one transaction; the
 * cursor moves in the same transaction, so a crash at any point resumes from the last
 * commit with nothing lost or counted twice. A block whose parent is not the last
 * committed block means a reorg: the store rolls back to the common ancestor (undo log)
 * and the new branch is applied, so the state equals a fresh ingest of the final chain.
 */
export class Ingester {
  private readonly store: LedgerStore;
  private readonly span = new LogSpan();
  private readonly progress: Progress;
  private state: LedgerState | null = null;
  private committed: number | null = null;
  private chainId = 0;
  private head = 0;
  private stopping = false;
  private wake: (() => void) | null = null;
  private pendingReorg: ReorgInfo | undefined;
  private lastPrune = 0;
  private readonly o: Required<Omit<IngesterOptions, 'onCommit'>> & Pick<IngesterOptions, 'onCommit'>;

  constructor(options: IngesterOptions) {
    this.o = {
      startBlock: 0,
      confirmations: 0,
      reorgDepth: 128,
      batchBlocks: 500,
      pollIntervalMs: 1000,
      params: DEFAULT_LEDGER_PARAMS,
      ...options,
    };
    this.store = new LedgerStore(options.pool);
    this.progress = new Progress(options.logger);
  }

  /** Runs until `stop()`; rejects only on what retrying cannot fix (a reorg deeper than the kept history). */
  async run(): Promise<void> {
    const lock = await this.o.pool.connect();
    try {
      // One writer per database; a second ingester waits as a standby and takes over
      // when the first one's session ends (a crash releases the lock with it).
      let waiting = false;
      while (!(await lock.query('SELECT pg_try_advisory_lock($1) AS locked', [LOCK_KEY])).rows[0].locked) {
        if (this.stopping) return;
        if (!waiting) this.o.logger.warn('another ingester holds this database; waiting to take over');
        waiting = true;
        await sleep(500);
      }
      await this.prepare();
      const unwatch = this.o.rpc.watchHeads(() => this.wake?.());
      try {
        while (!this.stopping) await this.step();
      } finally {
        unwatch();
      }
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
      lock.release();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
  }

  /** The last block committed to the database. */
  get lastBlock(): number | null {
    return this.committed;
  }

  private async prepare(): Promise<void> {
    this.chainId = await this.o.rpc.chainId();
    const cursor = await this.store.cursor();
    if (cursor && cursor.chainId !== this.chainId) {
      throw new Error(`the database holds chain ${cursor.chainId} but the RPC serves chain ${this.chainId}`);
    }
    this.state = await this.store.loadState();
    this.committed = this.state.lastBlock?.number ?? null;
    this.o.logger.info('ingester starting', {
      chainId: this.chainId,
      from: this.nextBlock(),
      venues: this.o.venues,
      confirmations: this.o.confirmations,
    });
  }

  private nextBlock(): number {
    const last = this.state!.lastBlock;
    return last ? last.number + 1 : this.o.startBlock;
  }

  private async step(): Promise<void> {
    try {
      this.head = await this.o.rpc.headNumber();
      const target = this.head - this.o.confirmations;
      const from = this.nextBlock();
      if (from > target) {
        await this.checkTip();
        await this.idle();
        return;
      }
      const to = Math.min(target, from + Math.min(this.span.span, this.o.batchBlocks) - 1);
      let blocks: FetchedBlock[];
      try {
        blocks = await fetchRange(this.o.rpc, this.o.venues, from, to);
      } catch (error) {
        const span = this.span.refused(error, from, to);
        if (span !== null) {
          this.o.logger.info('eth_getLogs range refused; narrowing', { from, to, span });
          return;
        }
        throw error;
      }
      this.span.succeeded(blocks.length, blocks.reduce((n, b) => n + b.events.length, 0));
      const parent = this.state!.lastBlock;
      if (parent && blocks[0]!.header.parentHash !== parent.hash) {
        await this.rollBack();
        return;
      }
      await this.apply(blocks);
    } catch (error) {
      if (error instanceof ReorgTooDeepError || this.stopping) throw error;
      if (error instanceof InconsistentRangeError) {
        this.o.logger.info('chain changed while fetching; fetching again', { reason: error.message });
        return;
      }
      this.o.logger.error('ingestion step failed; retrying', { error: errorText(error).slice(0, 500) });
      await sleep(1000);
      this.state = await this.store.loadState().catch(() => this.state);
    }
  }

  private async apply(blocks: FetchedBlock[]): Promise<void> {
    const state = this.state!;
    const batch: BlockChanges[] = [];
    const undo = new Map<number, UndoEntry[]>();
    const reversible = this.head - this.o.reorgDepth;
    try {
      for (const { header, events } of blocks) {
        const changes = applyBlock(state, header, events, this.o.params);
        if (header.number > reversible) undo.set(header.number, undoEntries(state, changes));
        commitBlock(state, changes);
        batch.push(changes);
      }
      await this.store.commit({ chainId: this.chainId, headBlockNumber: this.head, batch, undo, reorg: this.pendingReorg });
    } catch (error) {
      // The in-memory state ran ahead of the database: take it back from there.
      this.state = await this.store.loadState();
      throw error;
    }
    this.pendingReorg = undefined;
    this.committed = state.lastBlock!.number;
    this.progress.committed(batch, this.head - this.o.confirmations);
    this.o.onCommit?.(batch, this.head);
    if (reversible - this.lastPrune >= 100) {
      await this.store.pruneUndo(reversible);
      this.lastPrune = reversible;
    }
  }

  /** When idle at the tip, make sure the tip is still canonical (a reorg to a shorter chain brings no new block). */
  private async checkTip(): Promise<void> {
    const last = this.state!.lastBlock;
    if (!last) return;
    if (last.number <= this.head) {
      const [canonical] = await this.o.rpc.headers(last.number, last.number);
      if (canonical!.hash === last.hash) {
        await this.store.recordHead(this.head);
        return;
      }
    }
    await this.rollBack();
  }

  private async rollBack(): Promise<void> {
    const last = this.state!.lastBlock!;
    const ancestor = await this.commonAncestor(last.number);
    this.o.logger.warn('reorg: rolling back to the common ancestor', { from: last.number, ancestor, depth: last.number - ancestor });
    const depth = await this.store.rollbackTo(ancestor);
    this.state = await this.store.loadState();
    this.committed = this.state.lastBlock?.number ?? null;
    this.pendingReorg = { depth: (this.pendingReorg?.depth ?? 0) + depth, commonAncestor: ancestor };
  }

  /** The highest block whose stored hash is still canonical, walking back by hash. */
  private async commonAncestor(from: number): Promise<number> {
    const floor = from - this.o.reorgDepth - 64;
    for (let high = Math.min(from, this.head); high >= floor; high -= 64) {
      const low = Math.max(high - 63, 0);
      const [stored, canonical] = await Promise.all([this.store.blockHashes(low, high), this.o.rpc.headers(low, high)]);
      for (let n = high; n >= low; n--) {
        const hash = stored.get(n);
        if (hash === undefined) return n; // nothing stored at or below: ingestion started after n
        if (canonical[n - low]!.hash === hash) return n;
      }
      if (low === 0) return -1;
    }
    throw new ReorgTooDeepError(floor, from);
  }

  private idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.o.pollIntervalMs);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.wake = null;
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
