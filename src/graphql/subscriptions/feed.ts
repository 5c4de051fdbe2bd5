// Cross-process delivery of committed blocks: one dedicated connection per API process
// LISTENs on `pts_blocks` (the ingester's commit notifies inside its transaction, so a
// notification arrives only once its blocks are committed). For each notification the
// committed rows are read once, in one snapshot, and published to the hub in block order.
// The rows are read on the LISTEN connection itself: it is always open, so a block does
// not wait for a pool connection to be set up (the pool closes idle ones after 10 s, about
// one block time: ~20 ms on every block) or for a slot behind a flood of queries. The
// price: a notification that arrives during a read (two round trips) is delivered after it.
//
// Exactly once, in order: the feed remembers the last block it published (number and hash,
// plus the hashes of the recent ones) and always reads from there. A notification for
// blocks already published is skipped; one whose last block has since been rolled back is
// left to the notification of the branch that replaced it. After the LISTEN connection
// drops, the feed reconnects with backoff and catches up from the last block it published
// to the cursor: nothing is skipped, nothing is sent twice. A reorg moves the feed back to
// the common ancestor; the first block published after it carries the reorg (from the
// notification, or worked out from the remembered hashes if the notice was missed).
//
// With `accounts` (account-changes.ts), each chunk also tells, in the same snapshot, which
// watched accounts it changed; their events follow the chunk's last block. `atBoundary`
// lets a replay (replay.ts) hand over to live events between two publications.
import pg from 'pg';
import { BLOCKS_CHANNEL, type BlocksCommitted, type ReorgInfo } from '../../db/store/ledger-store.js';
import { accountIdParts } from '../../ledger/index.js';
import type { Logger } from '../../log/index.js';
import { nextTurn, sliceSpent } from '../protection/pacer.js';
import { transitionFromRow } from '../modules/transition/sql.js';
import type { SnapshotBlock } from '../snapshot.js';
import type { AccountEvent, BlockEvent, HubEvent, TransitionEvent } from './hub.js';

/** Works out the accounts whose served values the published blocks changed (account-changes.ts). */
export interface AccountChangeReader {
  /** Whether anyone listens for account changes (otherwise nothing is read). */
  wanted(): boolean;
  /**
   * Inside the feed's snapshot (whose committed block is `block`): the accounts the blocks
   * `(after, last]` changed, as events executed at `block`; `everything` after a reorg.
   */
  read(run: ReadRows, range: { after: number; last: number }, block: SnapshotBlock, everything: boolean, epoch: number): Promise<AccountEvent[]>;
}

/** One statement on the feed's connection, inside its snapshot. */
export type ReadRows = <R>(sql: string, params?: unknown[]) => Promise<R[]>;

export interface BlockFeedOptions {
  /** The database to LISTEN on and read committed rows from (a dedicated connection outside any pool). */
  connectionString: string;
  logger: Logger;
  /** Hands an event on; a returned promise holds the next event back until it settles (backpressure). */
  publish(event: HubEvent): void | Promise<void>;
  /** Reconnection backoff: doubles from `minMs` up to `maxMs` (defaults 100 ms, 5 s). */
  reconnect?: { minMs?: number; maxMs?: number };
  /** Blocks read per statement while catching up. Default 1000. */
  chunkBlocks?: number;
  /** Hashes of the last blocks published kept to find a missed reorg's ancestor. Default 1024. */
  rememberBlocks?: number;
  /** Liveness check of the LISTEN connection. Default 15 s. */
  heartbeatMs?: number;
  /**
   * Called at once for every commit notification (with it, if it could be read) and when
   * the LISTEN connection is lost (undefined), before anything is read: what the process
   * knew as the newest block is stale (latest-block.ts), and the block cache learns which
   * accounts the commit changed (block-cache.ts).
   */
  onNotified?: (commit: BlocksCommitted | undefined) => void;
  /** Account changes published after each chunk of blocks (Subscription.accountUpdated). */
  accounts?: AccountChangeReader;
}

const APPLICATION_NAME = 'pts-api-listener';

export class BlockFeed {
  private client: pg.Client | null = null;
  private stopped = false;
  private started = false;
  /** Last block published; -1 before any (an empty database). */
  private delivered = -1;
  /** number -> hash of recently published blocks, oldest first. */
  private readonly hashes = new Map<number, string>();
  private pendingReorg: ReorgInfo | null = null;
  private work: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private reconnecting: Promise<void> | null = null;
  /** Moves on every reorg (truncation): a block number alone no longer names one block across it. */
  private reorgs = 0;
  private readonly o: Required<Omit<BlockFeedOptions, 'reconnect' | 'onNotified' | 'accounts'>> & Pick<BlockFeedOptions, 'onNotified' | 'accounts'> & { reconnect: { minMs: number; maxMs: number } };

  constructor(options: BlockFeedOptions) {
    this.o = {
      chunkBlocks: 1000,
      rememberBlocks: 1024,
      heartbeatMs: 15_000,
      ...options,
      reconnect: { minMs: 100, maxMs: 5000, ...options.reconnect },
    };
  }

  /** The last block published to the hub (-1: none). */
  get lastDelivered(): number {
    return this.delivered;
  }

  get connected(): boolean {
    return this.client !== null;
  }

  /** How many reorgs the feed has followed. */
  get epoch(): number {
    return this.reorgs;
  }

  /** The hash of published block `number` while it is among the remembered ones. */
  hashAt(number: number): string | undefined {
    return this.hashes.get(number);
  }

  /** The oldest remembered published block (-1: none). */
  get oldestRemembered(): number {
    return this.hashes.size > 0 ? this.hashes.keys().next().value! : -1;
  }

  /**
   * Runs `task` between two publications, never during one: what it reads of the feed
   * (`lastDelivered`, `hashAt`) and what it does with the hub holds until it settles. A
   * replay hands over to live events here (replay.ts): whatever the feed publishes after
   * the task, and nothing before it, reaches a subscriber attached in it.
   */
  atBoundary<T>(task: () => T | Promise<T>): Promise<T> {
    const run = this.work.then(task);
    this.work = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Connects and LISTENs, then starts from the committed cursor (subscribers get what is
   * committed from now on). Rejects when the first connection fails.
   */
  async start(): Promise<void> {
    await this.connect();
    try {
      const cursor = await this.client!.query('SELECT block_number, block_hash FROM cursor WHERE id = 1');
      const row = cursor.rows[0];
      if (row) this.remember(Number(row.block_number), row.block_hash as string);
    } catch (error) {
      // An unmigrated database (undefined_table): everything committed later is new.
      if ((error as { code?: string }).code !== '42P01') {
        await this.stop();
        throw error;
      }
    }
    this.started = true;
    // Anything committed between LISTEN and the cursor read is at or below the cursor, and
    // its notification is skipped as already published.
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
    await this.work.catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.o.connectionString,
      application_name: APPLICATION_NAME,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // Until LISTEN succeeds a failure is connect()'s to report (its caller retries).
    let listening = false;
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (!listening) {
        client.end().catch(() => undefined);
        return;
      }
      if (this.client === client) this.client = null;
      this.o.onNotified?.(undefined);
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.o.logger.warn('subscription feed: LISTEN connection lost; reconnecting', { error: error?.message });
      void this.reconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel !== BLOCKS_CHANNEL) return;
      const commit = parsePayload(message.payload, this.o.logger);
      this.o.onNotified?.(commit);
      this.enqueue(commit);
    });
    await client.connect();
    await client.query(`LISTEN ${BLOCKS_CHANNEL}`);
    listening = true;
    this.client = client;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      this.client?.query('SELECT 1').catch((error: Error) => onLost(error));
    }, this.o.heartbeatMs);
    this.heartbeat.unref();
  }

  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      let delay = this.o.reconnect.minMs;
      const since = Date.now();
      for (let attempt = 1; !this.stopped; attempt++) {
        await sleep(delay * (0.75 + Math.random() / 2));
        if (this.stopped) return;
        try {
          await this.connect();
          this.o.logger.info('subscription feed: LISTEN connection restored; catching up', {
            from: this.delivered + 1,
            outageSeconds: (Date.now() - since) / 1000,
            attempts: attempt,
          });
          this.enqueue(undefined); // catch up from the last block published
          return;
        } catch (error) {
          // Once per outage: the attempts after it fail the same way until the database answers.
          if (attempt === 1) this.o.logger.warn('subscription feed: reconnect failed; retrying with backoff', { error: (error as Error).message });
          delay = Math.min(delay * 2, this.o.reconnect.maxMs);
        }
      }
    })().finally(() => {
      this.reconnecting = null;
    });
    return this.reconnecting;
  }

  /** Serialises syncs: one notification (or catch-up) at a time, in arrival order. */
  private enqueue(payload: BlocksCommitted | undefined): void {
    this.work = this.work.then(async () => {
      if (this.stopped || !this.started) return;
      try {
        await this.sync(payload);
      } catch (error) {
        if (this.stopped) return;
        this.o.logger.error('subscription feed: reading committed blocks failed; retrying', { error: (error as Error).message });
        this.scheduleRetry();
      }
    });
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.enqueue(undefined);
    }, this.o.reconnect.maxMs / 5);
    this.retryTimer.unref();
  }

  /** Publishes what is committed after the last published block: up to `payload.last`, or the cursor. */
  private async sync(payload: BlocksCommitted | undefined): Promise<void> {
    if (payload) {
      if (payload.last <= this.delivered && this.hashes.get(payload.last) === payload.hash) return; // published already
      if (payload.reorg) {
        this.pendingReorg = mergeReorg(this.pendingReorg, payload.reorg);
        this.truncate(payload.reorg.commonAncestor);
      }
    }
    // One snapshot per chunk, released before publishing: a subscriber that makes the hub
    // wait never holds a connection or an old snapshot.
    while (!this.stopped) {
      const chunk = await this.readChunk(payload);
      if (!chunk) return;
      for (const { block, transitions, accounts } of chunk) {
        await this.o.publish(block);
        for (const transition of transitions) await this.o.publish(transition);
        this.remember(block.blockNumber, block.blockHash);
        // After the chunk's last block: each changed account once, as of the block its rows were read at.
        for (const account of accounts) {
          // A publication runs its subscribers' executions as far as they go at once (the
          // block's values hold what they read): in the process's slices (pacer.ts), so a
          // tick that changes 10,000 watched accounts lets I/O in every SLICE_MS.
          if (sliceSpent()) await nextTurn(this);
          await this.o.publish(account);
        }
        if (this.stopped) return;
      }
    }
  }

  /**
   * The next committed blocks after the last published one, with their transitions; null
   * when there are none (yet), or while disconnected (the reconnection catches up). Two
   * round trips: the statements go as one simple query each, their numbers written into
   * the text (safe integers of the feed's own state or of a checked payload).
   */
  private async readChunk(payload: BlocksCommitted | undefined): Promise<{ block: BlockEvent; transitions: TransitionEvent[]; accounts: AccountEvent[] }[] | null> {
    const client = this.client;
    if (!client) return null;
    let open = false; // a transaction to roll back
    try {
      const known = this.delivered >= 0 ? this.hashes.get(this.delivered) : undefined;
      const checked = [payload?.last, known === undefined ? undefined : this.delivered].filter((n) => n !== undefined);
      open = true;
      const [, cursorResult, hashResult] = await simpleQuery(
        client,
        `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
         SELECT chain_id, block_number, block_hash, block_timestamp, head_block_number FROM cursor WHERE id = 1;
         SELECT number, hash FROM block WHERE number = ANY('{${checked.map(int).join(',')}}'::int8[])`,
      );
      const cursor = cursorResult!.rows[0];
      if (!cursor) return null; // nothing committed (or everything rolled back): the next commit notifies
      const hashAt = new Map(hashResult!.rows.map((r) => [Number(r.number), r.hash as string]));
      let target = Number(cursor.block_number);
      if (payload) {
        // The payload's blocks may have been rolled back since; the replacing branch's
        // notification (which carries the reorg) then covers what is left.
        if (hashAt.get(payload.last) !== payload.hash) return null;
        target = payload.last;
      }
      if (known !== undefined && hashAt.get(this.delivered) !== known) {
        // The chain under the last published block changed and no notice said so (missed
        // while disconnected, or the ingester restarted between rollback and commit).
        const ancestor = await this.ancestor(client);
        const reorg = { depth: this.delivered - ancestor, commonAncestor: ancestor };
        this.o.logger.warn('subscription feed: reorg found from block hashes', reorg);
        this.pendingReorg = mergeReorg(this.pendingReorg, reorg);
        this.truncate(ancestor);
      }
      if (this.delivered >= target) return null;
      const after = int(this.delivered);
      const chunk = `SELECT number FROM block WHERE number > ${after} AND number <= ${int(target)} ORDER BY number LIMIT ${int(this.o.chunkBlocks)}`;
      const accounts = this.o.accounts?.wanted() ? this.o.accounts : undefined;
      const [blockResult, transitionResult] = await simpleQuery(
        client,
        `SELECT number, hash, timestamp FROM block WHERE number IN (${chunk}) ORDER BY number;
         SELECT account_id, block_number, timestamp, "from", "to", equity, initial_margin, maintenance_margin
           FROM margin_transition WHERE block_number > ${after} AND block_number <= (SELECT max(number) FROM (${chunk}) c)
          ORDER BY block_number, account_id${accounts ? '' : ';\n         ROLLBACK'}`,
      );
      if (!accounts) open = false;
      const blocks = blockResult!.rows;
      if (blocks.length === 0) return null;
      let accountEvents: AccountEvent[] = [];
      if (accounts) {
        // Read in the same snapshot: the accounts' rows are those of the cursor's block.
        const atBlock: SnapshotBlock = {
          chainId: Number(cursor.chain_id),
          number: Number(cursor.block_number),
          hash: cursor.block_hash as string,
          timestamp: Number(cursor.block_timestamp),
          headBlockNumber: Number(cursor.head_block_number),
        };
        const last = Number(blocks.at(-1)!.number);
        // After a reorg (its truncation already moved the epoch) every watched account may have changed.
        const reorg = this.pendingReorg !== null;
        const run: ReadRows = async (sql, params) => (await client.query(sql, params as unknown[])).rows;
        accountEvents = await accounts.read(run, { after: this.delivered, last }, atBlock, reorg, this.reorgs);
        await client.query('ROLLBACK');
        open = false;
      }
      const transitions = transitionResult!.rows.map(transitionFromRow);
      const chainId = Number(cursor.chain_id);
      const head = Number(cursor.head_block_number);
      let t = 0;
      return blocks.map((row) => {
        const number = Number(row.number);
        let reorg: ReorgInfo | null = null;
        if (this.pendingReorg && number > this.pendingReorg.commonAncestor) {
          reorg = this.pendingReorg;
          this.pendingReorg = null;
        }
        const block: BlockEvent = {
          kind: 'block',
          chainId,
          blockNumber: number,
          blockHash: row.hash as string,
          blockTimestamp: Number(row.timestamp),
          headBlockNumber: Math.max(head, number),
          reorg,
        };
        const ofBlock: TransitionEvent[] = [];
        for (; t < transitions.length && transitions[t]!.blockNumber === number; t++) {
          const transition = transitions[t]!;
          const { owner, subaccount } = accountIdParts(transition.accountId);
          ofBlock.push({ kind: 'transition', owner, subaccount, transition });
        }
        return { block, transitions: ofBlock, accounts: [] as AccountEvent[] };
      }).map((entry, i, all) => (i === all.length - 1 ? { ...entry, accounts: accountEvents } : entry));
    } finally {
      // Queued on the connection: whatever it runs next waits for it. A lost connection ends the transaction anyway.
      if (open) client.query('ROLLBACK').catch(() => undefined);
    }
  }

  /** The highest remembered block whose hash is still the committed one. */
  private async ancestor(client: pg.Client): Promise<number> {
    const numbers = [...this.hashes.keys()];
    const { rows } = await client.query('SELECT number, hash FROM block WHERE number = ANY($1::int8[])', [numbers.map(String)]);
    const stored = new Map(rows.map((r) => [Number(r.number), r.hash as string]));
    for (let i = numbers.length - 1; i >= 0; i--) {
      const n = numbers[i]!;
      if (stored.get(n) === this.hashes.get(n)) return n;
    }
    // Deeper than remembered: restart just below what is remembered.
    return (numbers[0] ?? 0) - 1;
  }

  private remember(number: number, hash: string): void {
    this.delivered = number;
    this.hashes.delete(number);
    this.hashes.set(number, hash);
    while (this.hashes.size > this.o.rememberBlocks) this.hashes.delete(this.hashes.keys().next().value!);
  }

  /** Forgets published blocks above `ancestor` (undone by a reorg). */
  private truncate(ancestor: number): void {
    if (this.delivered <= ancestor) return;
    for (const n of [...this.hashes.keys()]) if (n > ancestor) this.hashes.delete(n);
    this.delivered = ancestor;
    this.reorgs++;
  }
}

/** The results of a simple query of several statements, one per statement. */
async function simpleQuery(client: pg.Client, text: string): Promise<pg.QueryResult[]> {
  const results = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
  return Array.isArray(results) ? results : [results];
}

/** A number written into SQL text: only a safe integer passes. */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer: ${n}`);
  return String(n);
}

/** Two reorgs before the first block of the new branch was published: the deeper one counts. */
function mergeReorg(pending: ReorgInfo | null, next: ReorgInfo): ReorgInfo {
  if (!pending) return next;
  return pending.commonAncestor < next.commonAncestor ? pending : next;
}

function parsePayload(payload: string | undefined, logger: Logger): BlocksCommitted | undefined {
  try {
    const value = JSON.parse(payload ?? '') as BlocksCommitted;
    if (
      Number.isSafeInteger(value.first) &&
      Number.isSafeInteger(value.last) &&
      typeof value.hash === 'string' &&
      (value.parentHash === undefined || typeof value.parentHash === 'string') &&
      (value.accounts === undefined || (Array.isArray(value.accounts) && value.accounts.every((id) => typeof id === 'string')))
    ) {
      return value;
    }
  } catch {
    // fall through
  }
  logger.warn('subscription feed: unreadable notification; catching up from the cursor', { payload });
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
