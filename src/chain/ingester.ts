import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import type pg from 'pg';
import { isConnectionError } from '../db/connection-errors.js';
import { LedgerStore, ReorgTooDeepError } from '../db/store/ledger-store.js';
import { undoEntries } from '../db/store/undo.js';
import {
  applyBlock, commitBlock, DEFAULT_LEDGER_PARAMS,
  type BlockChanges, type LedgerParams, type LedgerState,
} from '../ledger/index.js';
import type { Logger } from '../log/index.js';
import { OutageLog } from '../log/outage.js';
import { fetchRange, InconsistentRangeError, type FetchedBlock } from './fetch-range.js';
import { GroupCommit, type Batch } from './group-commit.js';
import { errorText, LogSpan } from './log-range.js';
import { Progress } from './progress.js';
import type { ChainRpc } from './rpc.js';
import { WriterLock } from './writer-lock.js';

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
  /** Past blocks whose state stays rebuildable (row versions older are pruned); 0 keeps all. Default 0. */
  historyBlocks?: number;
  /** Most blocks per database transaction. Default 500. */
  batchBlocks?: number;
  /** Head polling interval (a WebSocket head subscription only shortens it). Default 1000 ms. */
  pollIntervalMs?: number;
  params?: LedgerParams;
  /** Called after each committed batch (metrics, tests, benchmarks). */
  onCommit?: (batch: readonly BlockChanges[], head: number) => void;
}

/** eth_getLogs ranges in flight ahead of the one being applied during backfill. */
const FETCH_AHEAD = 3;

interface RangeFetch {
  from: number;
  to: number;
  blocks: Promise<FetchedBlock[]>;
}

/**
 * Follows the chain block by block into the ledger (SPEC section 5). Each batch of
 * blocks is applied to the in-memory ledger state and written in one transaction; the
 * cursor moves in the same transaction, so a crash at any point resumes from the last
 * commit with nothing lost or counted twice. A block whose parent is not the last
 * committed block means a reorg: the store rolls back to the common ancestor (undo log)
 * and the new branch is applied, so the state equals a fresh ingest of the final chain.
 *
 * Backfill is a pipeline: the next few log ranges are fetched while one is applied, and
 * a batch is written while the next ones are applied in memory (group-commit.ts). The
 * in-memory state may thus run up to `batchBlocks` ahead of the database; a failed write
 * takes it back from there.
 */
export class Ingester {
  private readonly store: LedgerStore;
  private readonly lock: WriterLock;
  private readonly databaseOutage: OutageLog;
  /** Steps failed in a row (the wait before the next one grows with them). */
  private failures = 0;
  private readonly span = new LogSpan();
  private readonly progress: Progress;
  private state: LedgerState | null = null;
  private committed: number | null = null;
  private chainId = 0;
  private head = 0;
  private headRequest: Promise<number> | null = null;
  /** Aborted by stop(): ends the waits between failed steps. */
  private readonly stopped = new AbortController();
  private wake: (() => void) | null = null;
  /** A new head was announced while busy: skip the next idle wait. */
  private headAnnounced = false;
  private ahead: RangeFetch[] = [];
  /** The state must be reloaded from the database before the next block (a failed write, a lost lock). */
  private stale = false;
  private readonly writer = new GroupCommit((batch) => this.write(batch));
  private lastPrune = 0;
  private readonly o: Required<Omit<IngesterOptions, 'onCommit'>> & Pick<IngesterOptions, 'onCommit'>;

  constructor(options: IngesterOptions) {
    this.o = {
      startBlock: 0,
      confirmations: 0,
      reorgDepth: 128,
      historyBlocks: 0,
      batchBlocks: 500,
      pollIntervalMs: 1000,
      params: DEFAULT_LEDGER_PARAMS,
      ...options,
    };
    this.store = new LedgerStore(options.pool);
    this.lock = new WriterLock(options.pool, this.o.logger);
    this.databaseOutage = new OutageLog(this.o.logger, 'database');
    this.progress = new Progress(options.logger);
  }

  /** Runs until `stop()`; rejects only on what retrying cannot fix (a reorg deeper than the kept history). */
  async run(): Promise<void> {
    try {
      if (!(await this.lock.take(() => this.stopping))) return;
      await this.prepare();
      const unwatch = this.o.rpc.watchHeads(() => {
        this.headAnnounced = true;
        this.wake?.();
      });
      try {
        while (!this.stopping) await this.step();
      } finally {
        unwatch();
        await this.writer.flush().catch(() => undefined);
        this.ahead = [];
      }
    } finally {
      await this.lock.unlock();
    }
  }

  private get stopping(): boolean {
    return this.stopped.signal.aborted;
  }

  async stop(): Promise<void> {
    this.stopped.abort();
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

  /** One turn of the loop; failures are logged (an outage once) and the turn retried. */
  private async step(): Promise<void> {
    try {
      await this.advance();
      this.failures = 0;
      this.databaseOutage.succeeded();
    } catch (error) {
      this.ahead = [];
      if (error instanceof ReorgTooDeepError || this.stopping) throw error;
      if (error instanceof InconsistentRangeError) {
        this.o.logger.info('chain changed while fetching; fetching again', { reason: error.message });
        return;
      }
      if (isConnectionError(error)) this.databaseOutage.failed({ error: errorText(error).slice(0, 300) });
      else this.o.logger.error('ingestion step failed; retrying', { error: errorText(error).slice(0, 500) });
      // 1 s, then longer while the failures go on (at most 5 s); stop() ends the wait.
      this.failures += 1;
      await sleep(Math.min(1000 * 2 ** (this.failures - 1), 5000), undefined, { signal: this.stopped.signal }).catch(() => undefined);
    }
  }

  /** Takes the next range of blocks into the ledger and the database, or waits at the tip. */
  private async advance(): Promise<void> {
    if (this.lock.lost) {
      // Another ingester may write meanwhile: stop writing, and once the lock is ours
      // again take the state back from the database.
      this.stale = true;
      await this.writer.reset();
      if (!(await this.lock.take(() => this.stopping))) return;
    }
    // A failed write: the in-memory state ran ahead of the database.
    if (this.writer.failed) this.stale = true;
    if (this.stale) {
      await this.writer.reset();
      this.ahead = [];
      this.state = await this.store.loadState();
      this.committed = this.state.lastBlock?.number ?? null;
      this.stale = false;
    }
    const from = this.nextBlock();
    const head = this.refreshHead();
    // Behind the head known from an earlier step (backfill), go on while the new one comes;
    // a round trip per range cost ~20% of a backfill's time. At the tip, wait for it.
    if (from > this.head - this.o.confirmations) await head;
    const target = this.head - this.o.confirmations;
    if (from > target) {
      await this.atTip();
      return;
    }
    const range = this.nextRange(from, target);
    let blocks: FetchedBlock[];
    try {
      blocks = await range.blocks;
    } catch (error) {
      this.ahead = [];
      const span = this.span.refused(error, range.from, range.to);
      if (span !== null) {
        this.o.logger.info('eth_getLogs range refused; narrowing', { from: range.from, to: range.to, span, reason: errorText(error).slice(0, 300) });
        return;
      }
      throw error;
    }
    if (blocks.length < range.to - range.from + 1) {
      // The chain ends before the range did: the head it was planned with is stale (the
      // chain got shorter, or a node is behind). The ranges after it go beyond the chain's
      // end too; the next step waits for a new head.
      this.ahead = [];
      this.head = Math.min(this.head, range.from + blocks.length - 1);
      // None: the chain ends at or before the last committed block, as at the tip (and a
      // node claiming more is not asked again at once).
      if (blocks.length === 0) {
        await this.atTip();
        return;
      }
    }
    this.span.succeeded(blocks.length, blocks.reduce((n, b) => n + b.events.length, 0));
    const parent = this.state!.lastBlock;
    if (parent && blocks[0]!.header.parentHash !== parent.hash) {
      await this.writer.flush();
      await this.rollBack();
      return;
    }
    await this.apply(blocks);
  }

  /** Asks the node for its head (one request at a time) and records it in `head`. */
  private refreshHead(): Promise<number> {
    if (!this.headRequest) {
      const request = this.o.rpc.headNumber().then((head) => (this.head = head));
      this.headRequest = request;
      // Awaited at the tip; in the background an error (retried inside Rpc) must not go unhandled.
      void request.catch(() => undefined).finally(() => {
        if (this.headRequest === request) this.headRequest = null;
      });
    }
    return this.headRequest;
  }

  /**
   * The range starting at `from`, fetched ahead if it was, and the ranges after it set
   * fetching so the node works while this one is applied and written.
   */
  private nextRange(from: number, target: number): RangeFetch {
    if (this.ahead[0]?.from !== from) this.ahead = [];
    // Until a response at this span came back within the target, one at a time: a span
    // far too wide (the first one, on a busy chain) must not be requested several times over.
    const depth = this.span.settled ? FETCH_AHEAD : 1;
    while (this.ahead.length < depth) {
      const start = this.ahead.length > 0 ? this.ahead.at(-1)!.to + 1 : from;
      if (start > target) break;
      const to = Math.min(target, start + Math.min(this.span.span, this.o.batchBlocks) - 1);
      const blocks = fetchRange(this.o.rpc, this.o.venues, start, to, this.head - this.o.reorgDepth);
      blocks.catch(() => undefined); // awaited (or dropped) later; not an unhandled rejection
      this.ahead.push({ from: start, to, blocks });
    }
    return this.ahead.shift()!;
  }

  /**
   * Applies the blocks in memory and queues them for writing (group commit, see
   * group-commit.ts); applying waits for the database once `batchBlocks` are queued.
   */
  private async apply(blocks: FetchedBlock[]): Promise<void> {
    const state = this.state!;
    const reversible = this.head - this.o.reorgDepth;
    for (const [i, { header, events }] of blocks.entries()) {
      // Between blocks, let I/O run: the ranges fetched ahead arrive in many socket reads,
      // and without these turns they waited out the whole range (a fetch's latency fell
      // from ~240 to ~55 ms, and the ingester's idle time from 13% to 6% of a backfill).
      if (i > 0) await yieldToLoop();
      const changes = applyBlock(state, header, events, this.o.params);
      const undo = header.number > reversible ? undoEntries(state, changes) : null;
      commitBlock(state, changes);
      this.writer.add(changes, undo, this.head);
    }
    // A write failed while these were applied: they stand on a batch that is not stored.
    if (this.writer.failed) await this.writer.flush();
    if (this.writer.backlog >= this.o.batchBlocks) await this.writer.flush();
    else this.writer.kick();
  }

  private async write({ batch, undo, head, reorg }: Batch): Promise<void> {
    await this.store.commit({ chainId: this.chainId, headBlockNumber: head, batch, undo, reorg });
    this.committed = batch.at(-1)!.block.number;
    this.progress.committed(batch, head - this.o.confirmations);
    this.o.onCommit?.(batch, head);
    const reversible = head - this.o.reorgDepth;
    if (reversible - this.lastPrune >= 100) {
      this.lastPrune = reversible;
      // Pruning is housekeeping: a failure leaves a few extra undo logs until the next prune.
      await this.store.pruneUndo(reversible).catch((error) => this.o.logger.warn('pruning undo logs failed', { error: errorText(error) }));
      const history = this.o.historyBlocks;
      if (history > 0) {
        await this.store
          .pruneHistory(this.committed - history)
          .catch((error) => this.o.logger.warn('pruning row versions failed', { error: errorText(error) }));
      }
    }
  }

  /** Nothing to take: write what is queued, check the tip, wait for a new head. */
  private async atTip(): Promise<void> {
    await this.writer.flush();
    await this.checkTip();
    await this.idle();
  }

  /**
   * When idle at the tip, make sure the tip is still canonical: a reorg to a shorter chain
   * brings no new block, and a missing last block is one (whatever head a node reported).
   */
  private async checkTip(): Promise<void> {
    const last = this.state!.lastBlock;
    if (!last) return;
    const [canonical] = await this.o.rpc.headers(last.number, last.number);
    if (canonical?.hash === last.hash) {
      await this.store.recordHead(Math.max(this.head, last.number));
      return;
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
    this.writer.rolledBack(depth, ancestor);
  }

  /** The highest block whose stored hash is still canonical, walking back by hash. */
  private async commonAncestor(from: number): Promise<number> {
    const floor = from - this.o.reorgDepth - 64;
    for (let high = from; high >= floor; high -= 64) {
      const low = Math.max(high - 63, 0);
      const [stored, canonical] = await Promise.all([this.store.blockHashes(low, high), this.o.rpc.headers(low, high)]);
      for (let n = high; n >= low; n--) {
        const hash = stored.get(n);
        if (hash === undefined) return n; // nothing stored at or below: ingestion started after n
        if (canonical[n - low]?.hash === hash) return n; // a block the chain no longer has is not
      }
      if (low === 0) return -1;
    }
    throw new ReorgTooDeepError(floor, from);
  }

  private idle(): Promise<void> {
    if (this.headAnnounced) {
      this.headAnnounced = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.o.pollIntervalMs);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.wake = null;
      this.headAnnounced = false;
    });
  }
}
