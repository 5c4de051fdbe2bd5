/**
 * The subscription pipeline, one object from commit to socket:
 *
 *   BlockFeed (LISTEN, reads the committed rows, and with AccountChanges the accounts
 *   they changed)  ->  Hub (fan-out, a bounded buffer per subscriber, routed by account,
 *   owner or kind)  ->  SharedSubscriptions (an event executed once per distinct
 *   operation)  ->  the operation's Delivery (its answer's text within the cap, written as
 *   a frame to its socket; an overflow cuts its connection off)
 *
 * A subscription with `afterBlock` is fed stored history first and attached to the hub at
 * a boundary of the feed (replay.ts).
 *
 * The WebSocket server admits a subscription, asks `delivery()` for how it is delivered and
 * sets that on the operation's context; graphql-ws then calls `subscribe` with that context.
 * Nothing travels beside the context: the sharing key, the sink and the overflow handler
 * are the delivery's fields.
 */
import type { DocumentNode, ExecutionResult } from 'graphql';
import type pg from 'pg';
import type { WebSocket } from 'ws';
import type { LedgerParams } from '../../ledger/index.js';
import type { BlockCache } from '../block-cache.js';
import type { RequestContext } from '../context.js';
import { AccountChanges } from './account-changes.js';
import type { BlocksCommitted } from '../../db/store/ledger-store.js';
import type { Logger } from '../../log/index.js';
import { BlockFeed } from './feed.js';
import { Hub, type HubMetrics } from './hub.js';
import type { ReplayDeps } from './replay.js';
import { subscriptionResolvers } from './resolvers.js';
import { SharedSubscriptions, sharingKey, type Delivery } from './shared-execution.js';
import { socketSink } from './socket-sink.js';

export interface PipelineOptions {
  /** The database whose commit notifications the feed LISTENs to. */
  connectionString: string;
  /** The API's pool: stored history for `afterBlock` replays is read there. */
  pool: pg.Pool;
  /** Option pricing and oracle staleness (the API's), for the values the feed prepares for `accountUpdated`. */
  params: LedgerParams;
  /** The process's block cache: account rows the feed reads for `accountUpdated` go there. */
  blockCache?: BlockCache;
  /** A read context at the newest block (the API's): new account watchers' rows are read ahead with it. */
  warmContext?: () => RequestContext;
  /** Replay tuning and its test hook (replay.ts). */
  replay?: Pick<ReplayDeps, 'chunkBlocks' | 'onChunkRead'>;
  logger: Logger;
  /** Events held per subscriber (PTS_SUBSCRIPTION_BUFFER). */
  bufferSize: number;
  /** How long a full buffer may wait for its subscriber; default 2000 ms (hub.ts). */
  graceMs?: number;
  metrics?: HubMetrics;
  /** Every commit notification, at once (the latest block and the block cache follow it). */
  onNotified?: (commit: BlocksCommitted | undefined) => void;
  /** A result's JSON text within the answer cap (an error answer beyond it): Admission.serialize. */
  serialize(result: unknown, requestId?: string): string | Promise<string>;
  /** A result with errors as its subscriber may see it (masked, with the request id). */
  format(result: ExecutionResult, requestId: string): unknown;
}

/** One subscription operation on a socket. */
export interface SubscriptionOperation {
  socket: WebSocket;
  /** graphql-ws's operation id. */
  id: string;
  document: DocumentNode;
  /** The query text (equal texts share results). */
  text: string;
  operationName: string | null | undefined;
  variables: unknown;
  requestId: string;
  /** The subscriber fell too far behind (its hub buffer overflowed). */
  onOverflow(message: string): void;
}

export class SubscriptionPipeline {
  readonly feed: BlockFeed;
  readonly hub: Hub;
  private readonly accounts: AccountChanges;
  /** The Subscription resolvers for the schema. */
  readonly resolvers: ReturnType<typeof subscriptionResolvers>;
  private readonly shared = new SharedSubscriptions();
  /** JSON text of results without errors, once per result object however many subscribers share it. */
  private readonly payloads = new WeakMap<ExecutionResult, string | Promise<string>>();

  constructor(private readonly options: PipelineOptions) {
    this.hub = new Hub({ bufferSize: options.bufferSize, ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}), ...(options.metrics ? { metrics: options.metrics } : {}) });
    this.accounts = new AccountChanges(this.hub, options.params, options.blockCache, options.warmContext);
    this.feed = new BlockFeed({
      connectionString: options.connectionString,
      logger: options.logger,
      publish: (event) => this.hub.publish(event),
      accounts: this.accounts,
      ...(options.onNotified ? { onNotified: options.onNotified } : {}),
    });
    this.resolvers = subscriptionResolvers({ hub: this.hub, feed: this.feed, pool: options.pool, ...options.replay }, (id) => this.accounts.watch(id));
  }

  /** Starts listening for commits. */
  start(): Promise<void> {
    return this.feed.start();
  }

  /** Stops listening and ends every subscription. */
  async stop(): Promise<void> {
    await this.feed.stop();
    this.hub.close();
  }

  /** graphql-ws's `subscribe`. */
  readonly subscribe = (args: Parameters<SharedSubscriptions['subscribe']>[0]) => this.shared.subscribe(args);

  /** How `operation`'s results are delivered: set it as its context's `delivery`. */
  delivery(operation: SubscriptionOperation): Delivery {
    const { requestId } = operation;
    return {
      key: sharingKey(operation.document, operation.text, operation.operationName, operation.variables),
      sink: socketSink(operation.socket, operation.id, (result) => (result.errors?.length ? this.options.serialize(this.options.format(result, requestId), requestId) : this.payload(result))),
      onOverflow: operation.onOverflow,
    };
  }

  private payload(result: ExecutionResult): string | Promise<string> {
    let text = this.payloads.get(result);
    if (text === undefined) {
      text = this.options.serialize(result);
      this.payloads.set(result, text);
      // Later subscribers of a large result take the text itself once it is written.
      if (text instanceof Promise) void text.then((done) => this.payloads.set(result, done), () => undefined);
    }
    return text;
  }
}
