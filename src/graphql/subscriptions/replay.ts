/**
 * `blockCommitted(afterBlock)` and `marginStateChanged(..., afterBlock)`: what was committed
 * after `afterBlock`, read from stored history (the `block` and `margin_transition` tables,
 * from which a rollback deletes what it undoes, so they hold the canonical chain), then the
 * live events, with no gap and no repeat (SPEC section 8).
 *
 * The subscriber's hub subscription is made first but detached: it holds the replayed
 * events, in its bounded buffer, and is offered no live event yet. Stored blocks are read in
 * chunks, each in one snapshot on a pooled connection, outside the feed. Each chunk is then
 * checked and handed on at a boundary of the feed (`BlockFeed.atBoundary`), where what the
 * feed has published cannot change:
 *
 * - only blocks the feed has already published are handed on (the rest waits for the next
 *   chunk), and only if the last one has the hash the feed published it with: then every
 *   block up to it is the one the feed published (each stored block names its parent), and
 *   a chunk read on a branch the feed has not caught up with yet is read again later;
 * - once everything the feed has published is handed on, the subscription is attached in
 *   that same boundary: the next live event is exactly the next one the feed publishes.
 *
 * A reorg during the replay: each read first checks that the last block handed on is still
 * stored with the hash it was handed on with. If not, the replay goes back to the last block
 * both branches share and goes on from there; the first block of the new branch carries
 * `reorg`, as the feed's own would. After the hand-over, the feed's events do the same.
 */
import { GraphQLError } from 'graphql';
import type pg from 'pg';
import type { ReorgInfo } from '../../db/store/ledger-store.js';
import { accountIdParts } from '../../ledger/index.js';
import { transitionFromRow } from '../modules/transition/sql.js';
import type { BlockFeed } from './feed.js';
import type { BlockEvent, Detached, Hub, HubEvent, SubscribeOptions, Subscription, TransitionEvent } from './hub.js';

export interface ReplayDeps {
  hub: Hub;
  feed: BlockFeed;
  /** Where stored history is read (the API's pool). */
  pool: pg.Pool;
  /** Blocks read per snapshot. Default 500. */
  chunkBlocks?: number;
  /** Test hook: called after each chunk is read and before it is checked against the feed. */
  onChunkRead?: (chunk: { after: number; last: number | null }) => Promise<void> | void;
}

export interface ReplaySpec<T> {
  kind: string;
  /** Replayed and live events alike: undefined for events not for this subscriber. */
  select: (event: HubEvent) => T | undefined;
  options: SubscribeOptions;
  afterBlock: number;
  /** Whether the subscriber takes transitions (their rows are read only then). */
  transitions: boolean;
}

/** Hashes of the blocks handed on kept to find a reorg's common ancestor (as the feed keeps). */
const REMEMBER = 1024;

interface Chunk {
  blocks: { number: number; hash: string; timestamp: number }[];
  transitions: TransitionEvent[];
  chainId: number;
  head: number;
}

/**
 * The subscription: once `afterBlock` is checked (a clear BAD_USER_INPUT otherwise), replay
 * then live. Rejects only for a bad `afterBlock` (or the database failing that check).
 */
export async function replayThenLive<T>(deps: ReplayDeps, spec: ReplaySpec<T>): Promise<Subscription<T>> {
  const { afterBlock } = spec;
  if (!Number.isSafeInteger(afterBlock) || afterBlock < 0) throw badAfterBlock(`afterBlock must be a block number (0 or more), got ${afterBlock}`);
  const { rows } = await deps.pool.query<{ first: string | null; last: string | null; base: string | null }>(
    `SELECT (SELECT min(number) FROM block) AS first, (SELECT block_number FROM cursor WHERE id = 1) AS last,
            (SELECT hash FROM block WHERE number = $1) AS base`,
    [afterBlock],
  );
  const first = rows[0]?.first == null ? null : Number(rows[0].first);
  const last = rows[0]?.last == null ? null : Number(rows[0].last);
  if (last === null || afterBlock > last) {
    throw badAfterBlock(`afterBlock ${afterBlock} is after the last committed block (${last === null ? 'none yet' : last})`);
  }
  if (first !== null && afterBlock < first - 1) {
    throw badAfterBlock(`afterBlock ${afterBlock} is older than the stored history: the first stored block is ${first}; subscribe with afterBlock >= ${first - 1}`);
  }
  const detached = deps.hub.subscribeDetached(spec.kind, spec.select, spec.options);
  const replay = new Replay(deps, spec, detached, rows[0]?.base ?? null);
  void replay.run();
  return detached.subscription;
}

function badAfterBlock(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

class Replay<T> {
  private sent: number;
  /** number -> hash of the blocks handed on (and the base block), oldest first. */
  private readonly hashes = new Map<number, string>();
  private pendingReorg: ReorgInfo | null = null;
  private readonly chunkBlocks: number;

  constructor(
    private readonly deps: ReplayDeps,
    private readonly spec: ReplaySpec<T>,
    private readonly detached: Detached<T>,
    base: string | null,
  ) {
    this.sent = spec.afterBlock;
    if (base !== null) this.hashes.set(this.sent, base);
    this.chunkBlocks = deps.chunkBlocks ?? 500;
  }

  async run(): Promise<void> {
    try {
      while (!this.detached.done) {
        await this.detached.room();
        if (this.detached.done) return;
        const chunk = await this.read();
        await this.deps.onChunkRead?.({ after: this.sent, last: chunk.blocks.at(-1)?.number ?? null });
        const step = await this.deps.feed.atBoundary(() => this.handOn(chunk));
        if (step === 'live') return;
        // The feed has not published these blocks yet (or not on this branch): wait for it.
        if (step === 'wait') await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } catch (error) {
      // Reading history failed (the database went away): the subscriber is told and may reconnect.
      this.detached.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The next stored blocks after the last one handed on, in one snapshot; first checks that one is still stored. */
  private async read(): Promise<Chunk> {
    const client = await this.deps.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const known = [...this.hashes.keys()];
      const cursor = (await client.query('SELECT chain_id, head_block_number FROM cursor WHERE id = 1')).rows[0];
      const sentHash = this.hashes.get(this.sent);
      if (sentHash !== undefined) {
        const stored = await client.query<{ hash: string }>('SELECT hash FROM block WHERE number = $1', [this.sent]);
        if (stored.rows[0]?.hash !== sentHash) {
          // Rolled back since it was handed on: back to the last block both branches share.
          const { rows } = await client.query<{ number: string; hash: string }>('SELECT number, hash FROM block WHERE number = ANY($1::int8[])', [known.map(String)]);
          const storedHashes = new Map(rows.map((r) => [Number(r.number), r.hash]));
          let ancestor = (known[0] ?? this.sent) - 1;
          for (let i = known.length - 1; i >= 0; i--) {
            if (storedHashes.get(known[i]!) === this.hashes.get(known[i]!)) {
              ancestor = known[i]!;
              break;
            }
          }
          const depth = this.sent - ancestor;
          const reorg = { depth, commonAncestor: ancestor };
          this.pendingReorg = this.pendingReorg && this.pendingReorg.commonAncestor < ancestor ? this.pendingReorg : reorg;
          for (const n of known) if (n > ancestor) this.hashes.delete(n);
          this.sent = ancestor;
        }
      }
      const after = this.sent;
      const blocks = await client.query<{ number: string; hash: string; timestamp: string }>(
        'SELECT number, hash, timestamp FROM block WHERE number > $1 ORDER BY number LIMIT $2',
        [after, this.chunkBlocks],
      );
      const last = blocks.rows.at(-1);
      const transitions =
        this.spec.transitions && last
          ? (
              await client.query(
                `SELECT account_id, block_number, timestamp, "from", "to", equity, initial_margin, maintenance_margin
                   FROM margin_transition WHERE block_number > $1 AND block_number <= $2 ORDER BY block_number, account_id`,
                [after, last.number],
              )
            ).rows.map((row) => {
              const transition = transitionFromRow(row);
              const { owner, subaccount } = accountIdParts(transition.accountId);
              return { kind: 'transition', owner, subaccount, transition } satisfies TransitionEvent;
            })
          : [];
      return {
        blocks: blocks.rows.map((r) => ({ number: Number(r.number), hash: r.hash, timestamp: Number(r.timestamp) })),
        transitions,
        chainId: Number(cursor?.chain_id ?? 0),
        head: Number(cursor?.head_block_number ?? 0),
      };
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(broken);
    }
  }

  /** At a boundary of the feed: hands on what the feed has published of `chunk`; attaches once caught up. */
  private handOn(chunk: Chunk): 'live' | 'more' | 'wait' {
    if (this.detached.done) return 'live';
    const feed = this.deps.feed;
    const published = feed.lastDelivered;
    const blocks = chunk.blocks.filter((b) => b.number <= published);
    const end = blocks.at(-1);
    if (!end) {
      // Nothing stored after the last block handed on that the feed has published.
      if (this.sent !== published) return 'wait'; // the feed is behind, or the stored chain is being replaced
      const mine = this.hashes.get(this.sent);
      const theirs = feed.hashAt(this.sent);
      if (mine !== undefined && theirs !== undefined && mine !== theirs) return 'wait'; // the next read finds the reorg
      this.detached.attach();
      return 'live';
    }
    const theirs = feed.hashAt(end.number);
    const final = end.number < feed.oldestRemembered;
    if (!final && theirs !== end.hash) return 'wait'; // read on a branch the feed has not (or no longer) published
    let t = 0;
    const transitions = chunk.transitions;
    for (const b of blocks) {
      let reorg: ReorgInfo | null = null;
      if (this.pendingReorg) {
        reorg = this.pendingReorg;
        this.pendingReorg = null;
      }
      const block: BlockEvent = { kind: 'block', chainId: chunk.chainId, blockNumber: b.number, blockHash: b.hash, blockTimestamp: b.timestamp, headBlockNumber: Math.max(chunk.head, b.number), reorg };
      const value = this.spec.select(block);
      if (value !== undefined) this.detached.push(value);
      for (; t < transitions.length && transitions[t]!.transition.blockNumber === b.number; t++) {
        const v = this.spec.select(transitions[t]!);
        if (v !== undefined) this.detached.push(v);
      }
      this.sent = b.number;
      this.hashes.delete(b.number);
      this.hashes.set(b.number, b.hash);
      while (this.hashes.size > REMEMBER) this.hashes.delete(this.hashes.keys().next().value!);
    }
    if (this.sent === published) {
      this.detached.attach();
      return 'live';
    }
    return 'more';
  }
}
