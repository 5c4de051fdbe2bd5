// In-process fan-out of committed blocks and margin transitions to subscribers, each with
// a bounded buffer. A burst larger than a buffer (a backfill batch of 500 blocks, a price
// move that changes thousands of margin states) pauses publication until the subscriber
// makes room; a subscriber whose buffer stays full for longer than the grace period is
// too slow and is cut off, its buffer dropped. Memory is at most bufferSize events per
// subscriber, whatever the chain does. Subscribers are routed by kind (blocks), owner
// (transitions) or account (`accountUpdated`), so an event costs per subscriber it is for;
// a replaying subscriber is fed by its replay until it is attached (replay.ts).
import { GraphQLError } from 'graphql';
import type { ReorgInfo } from '../../db/store/ledger-store.js';
import type { TransitionRecord } from '../../ledger/index.js';
import type { BlockShared } from '../block-cache.js';
import { nextTurn, sliceSpent } from '../protection/pacer.js';
import type { SnapshotBlock } from '../snapshot.js';

/** One committed block, in the shape of `BlockCommitted`. */
export interface BlockEvent {
  kind: 'block';
  chainId: number;
  blockNumber: number;
  blockHash: string;
  blockTimestamp: number;
  headBlockNumber: number;
  /** Set on the first block of a new branch after a reorg. */
  reorg: ReorgInfo | null;
}

/** One margin transition of a committed block. */
export interface TransitionEvent {
  kind: 'transition';
  owner: string;
  subaccount: number;
  transition: TransitionRecord;
}

/**
 * An account whose served values changed in the blocks the feed just published
 * (account-changes.ts), to be executed as of `block`: the block the feed read the
 * account's rows at (the newest committed block then, at or after the changing ones).
 */
export interface AccountEvent {
  kind: 'account';
  accountId: string;
  /** The block the event is executed at. */
  block: SnapshotBlock;
  /** Rows and derived values at `block`, with this account's rows already read. */
  shared: BlockShared;
  /** Moves on every reorg the feed handles: blocks of a new branch may reuse numbers. */
  epoch: number;
}

export type HubEvent = BlockEvent | TransitionEvent | AccountEvent;

/** Counters the hub reports to (src/graphql/metrics.ts). */
export interface HubMetrics {
  subscribed(kind: string): void;
  unsubscribed(kind: string): void;
  delivered(kind: string, count?: number): void;
  dropped(kind: string, count: number): void;
}

export interface HubOptions {
  /** Most events held per subscriber (PTS_SUBSCRIPTION_BUFFER). */
  bufferSize: number;
  /**
   * How long a buffer may stay nearly full (full, and not drained to half since) before
   * its subscriber is cut off; publication waits for it meanwhile. Default 2000 ms.
   */
  graceMs?: number;
  metrics?: HubMetrics;
}

export const SUBSCRIBER_TOO_SLOW = 'SUBSCRIBER_TOO_SLOW';

export function overflowMessage(bufferSize: number): string {
  return `subscriber too slow: buffer of ${bufferSize} events overflowed`;
}

export interface SubscribeOptions {
  /** Most events held for this subscriber; default: the hub's. */
  bufferSize?: number;
  /**
   * Called once when the buffer overflows (the server closes the subscriber's WebSocket);
   * the subscription has already ended and its buffer is dropped.
   */
  onOverflow?: (message: string) => void;
  /**
   * Only events published under this route reach the subscriber (`routeOf`): block
   * subscribers are not asked about transitions, and a subscription filtered by owner is
   * looked up by its owner instead of being asked about every transition of a price move
   * (with thousands of subscribers, either costs subscribers x transitions calls).
   */
  route?: string;
}

/** The route of every block event. */
export const BLOCKS_ROUTE = 'blocks';

/** The route of a transition event: its account's owner (lower case). */
export function ownerRoute(owner: string): string {
  return `owner:${owner}`;
}

const ACCOUNT_PREFIX = 'account:';

/** The route of an account event: its account id. */
export function accountRoute(accountId: string): string {
  return `${ACCOUNT_PREFIX}${accountId}`;
}

/** The route an event is published under (unrouted subscribers are offered every event too). */
function routeOf(event: HubEvent): string {
  return event.kind === 'transition' ? ownerRoute(event.owner) : event.kind === 'account' ? accountRoute(event.accountId) : BLOCKS_ROUTE;
}

/**
 * Takes a stream's values as they come, in order. A returned promise holds the next value
 * back (in the subscriber's bounded buffer) until it settles: that is the consumer's
 * backpressure. A rejection ends the stream with that error.
 */
export type Sink<T> = (value: T) => void | Promise<void>;

/** A subscriber's stream: an async iterator that ends when returned, closed or overflowed. */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T>>;
  /**
   * Hands the values to `sink` as they are published, synchronously, instead of through
   * `next()` (no promise per value). From then on `next()` yields no value: it settles
   * when the stream ends (done), or rejects with the reason it was cut off.
   */
  consume(sink: Sink<T>): void;
}

/** A subscription fed by its owner until attached to the hub's published events (`Hub.subscribeDetached`). */
export interface Detached<T> {
  subscription: Subscription<T>;
  /** Hands the subscriber a value of the owner's, as if published (the buffer holds it if the consumer is busy). */
  push(value: T): void;
  /** Resolves once the buffer is at most half full (or the subscription ended): the owner's backpressure. */
  room(): Promise<void>;
  /** From now on the subscriber is offered published events. */
  attach(): void;
  /** Ends the subscription with `error` (its consumer's `next()` rejects with it). */
  fail(error: Error): void;
  readonly done: boolean;
}

/** One subscriber: its filter, its bounded buffer, and whoever waits on either side. */
class Subscriber<T> implements Subscription<T> {
  private readonly buffer: T[] = [];
  private head = 0; // buffer[head..] is pending; compacted as it is consumed
  private waiting: { resolve(result: IteratorResult<T>): void; reject(error: Error): void } | null = null;
  private roomWaiters: (() => void)[] = [];
  private failure: Error | null = null;
  private sink: Sink<T> | null = null;
  /** The sink's last value is still being handled: the next ones wait in the buffer. */
  private sinkBusy = false;
  /** When the buffer last filled up (null: not full since it last drained to half). */
  fullSince: number | null = null;
  done = false;

  constructor(
    readonly kind: string,
    readonly select: (event: HubEvent) => T | undefined,
    readonly bufferSize: number,
    private readonly onOverflow: ((message: string) => void) | undefined,
    private readonly metrics: HubMetrics | undefined,
    private readonly onEnd: (subscriber: Subscriber<T>) => void,
  ) {}

  get pending(): number {
    return this.buffer.length - this.head;
  }

  hasRoom(): boolean {
    return this.pending < this.bufferSize;
  }

  /** Hands `value` over; true when a consumer (a waiting `next()` or the sink) took it at once (delivered: the caller counts it). */
  push(value: T): boolean {
    if (this.done) return false;
    if (this.sink) {
      // Behind values still waiting for a busy sink, in order.
      if (!this.sinkBusy && this.pending === 0) {
        this.hand(value);
        return true;
      }
    } else if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting.resolve({ value, done: false });
      return true;
    }
    this.buffer.push(value);
    if (!this.hasRoom()) this.fullSince ??= Date.now();
    return false;
  }

  /** Resolves when an event is taken or the subscription ends. */
  whenRoom(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  overflow(): void {
    if (this.done) return;
    const message = overflowMessage(this.bufferSize);
    this.metrics?.dropped(this.kind, this.pending + 1);
    this.failure = new GraphQLError(message, { extensions: { code: SUBSCRIBER_TOO_SLOW, bufferSize: this.bufferSize } });
    this.end();
    this.onOverflow?.(message);
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.onEnd(this);
    this.buffer.length = this.head = 0;
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting && this.failure) {
      waiting.reject(this.failure);
      this.failure = null;
    } else {
      waiting?.resolve({ value: undefined, done: true });
    }
    this.wakeRoomWaiters();
  }

  consume(sink: Sink<T>): void {
    if (this.sink) throw new Error('a subscription has one consumer');
    this.sink = sink;
    this.drainToSink();
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.sink && this.head < this.buffer.length) return Promise.resolve({ value: this.take(), done: false });
    if (this.failure) {
      const error = this.failure;
      this.failure = null;
      return Promise.reject(error);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): Subscription<T> {
    return this;
  }

  /** The oldest buffered value, counted as delivered; makes room. */
  private take(): T {
    const value = this.buffer[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
    if (this.pending <= this.bufferSize / 2) this.fullSince = null;
    this.metrics?.delivered(this.kind);
    this.wakeRoomWaiters();
    return value;
  }

  private hand(value: T): void {
    let wait: void | Promise<void>;
    try {
      wait = this.sink!(value);
    } catch (error) {
      return this.fail(error);
    }
    if (!wait) return;
    this.sinkBusy = true;
    wait.then(
      () => {
        this.sinkBusy = false;
        this.drainToSink();
      },
      (error: unknown) => this.fail(error),
    );
  }

  private drainToSink(): void {
    while (!this.sinkBusy && !this.done && this.head < this.buffer.length) this.hand(this.take());
  }

  /** Ends the stream because its consumer (or its source) failed: `next()` rejects with the error. */
  fail(error: unknown): void {
    if (this.done) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.end();
  }

  private wakeRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** What one publication could not hand on at once, and what it handed on, by kind (made when needed: a tick publishes an event per changed account). */
interface Deliveries {
  blocked: [Subscriber<unknown>, unknown][] | null;
  delivered: Map<string, number> | null;
}

export class Hub {
  /** Subscribers without a route: offered every event. */
  private readonly subscribers = new Set<Subscriber<unknown>>();
  /** Subscribers with a route, by route. */
  private readonly routed = new Map<string, Set<Subscriber<unknown>>>();
  private routedCount = 0;
  /** Routes of account subscribers (`accountRoute`). */
  private accountRoutes = 0;
  private closed = false;
  private readonly graceMs: number;

  constructor(private readonly options: HubOptions) {
    this.graceMs = options.graceMs ?? 2000;
  }

  get subscriberCount(): number {
    return this.subscribers.size + this.routedCount;
  }

  /** Subscribes to the events `select` maps to a value (undefined: not for this subscriber). */
  subscribe<T>(kind: string, select: (event: HubEvent) => T | undefined, options: SubscribeOptions = {}): Subscription<T> {
    const { subscriber, attach } = this.subscriber(kind, select, options);
    attach();
    return subscriber;
  }

  /**
   * A subscription that is offered no published event until `attach()`: meanwhile its
   * owner feeds it values of its own (a replay of stored history, replay.ts), through the
   * same bounded buffer and consumer, and attaches it when the live events are to follow.
   */
  subscribeDetached<T>(kind: string, select: (event: HubEvent) => T | undefined, options: SubscribeOptions = {}): Detached<T> {
    const { subscriber, attach } = this.subscriber(kind, select, options);
    const metrics = this.options.metrics;
    return {
      subscription: subscriber,
      attach,
      push: (value) => {
        if (subscriber.push(value)) metrics?.delivered(kind);
      },
      fail: (error) => subscriber.fail(error),
      // As for published events: a subscriber that takes nothing for the grace period is cut off.
      room: async () => {
        let since = Date.now();
        while (!subscriber.done && subscriber.pending > subscriber.bufferSize / 2) {
          const left = since + this.graceMs - Date.now();
          if (left <= 0) return subscriber.overflow();
          let timer: NodeJS.Timeout | undefined;
          const took = await Promise.race([subscriber.whenRoom().then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, left, false)))]);
          clearTimeout(timer);
          if (took) since = Date.now();
        }
      },
      get done() {
        return subscriber.done;
      },
    };
  }

  private subscriber<T>(kind: string, select: (event: HubEvent) => T | undefined, options: SubscribeOptions): { subscriber: Subscriber<T>; attach(): void } {
    const metrics = this.options.metrics;
    const route = options.route;
    const subscriber = new Subscriber<T>(kind, select, options.bufferSize ?? this.options.bufferSize, options.onOverflow, metrics, (s) => {
      const self = s as Subscriber<unknown>;
      if (route === undefined) {
        if (this.subscribers.delete(self)) metrics?.unsubscribed(kind);
        return;
      }
      const set = this.routed.get(route);
      if (set?.delete(self)) {
        this.routedCount--;
        if (set.size === 0) {
          this.routed.delete(route);
          if (route.startsWith(ACCOUNT_PREFIX)) this.accountRoutes--;
        }
        metrics?.unsubscribed(kind);
      }
    });
    let attached = false;
    const attach = () => {
      if (attached) return;
      attached = true;
      if (this.closed) return subscriber.end();
      if (subscriber.done) return;
      if (route === undefined) {
        this.subscribers.add(subscriber as Subscriber<unknown>);
      } else {
        let set = this.routed.get(route);
        if (!set) {
          this.routed.set(route, (set = new Set()));
          if (route.startsWith(ACCOUNT_PREFIX)) this.accountRoutes++;
        }
        set.add(subscriber as Subscriber<unknown>);
        this.routedCount++;
      }
      metrics?.subscribed(kind);
    };
    if (this.closed) subscriber.done = true;
    return { subscriber, attach };
  }

  /** The ids of the accounts with an `accountUpdated` subscriber (routed by account). */
  *subscribedAccounts(): IterableIterator<string> {
    for (const route of this.routed.keys()) if (route.startsWith(ACCOUNT_PREFIX)) yield route.slice(ACCOUNT_PREFIX.length);
  }

  /** Whether any subscriber is routed by account: only then does the feed work out changed accounts. */
  get hasAccountSubscribers(): boolean {
    return this.accountRoutes > 0;
  }

  /**
   * Hands an event to every subscriber it is for. Synchronous while every buffer has
   * room and the process's slice lasts; otherwise returns a promise that settles once the
   * rest were offered in later turns and the full ones made room or were cut off (await it
   * before publishing the next event, to keep the order).
   */
  publish(event: HubEvent): void | Promise<void> {
    const counts: Deliveries = { blocked: null, delivered: null };
    let rest = this.subscribers.size > 0 ? this.offer(this.subscribers, event, counts) : null;
    const routed = this.routed.get(routeOf(event));
    if (routed) rest = rest ? rest.concat([...routed]) : this.offer(routed, event, counts);
    if (rest) return this.offerLater(rest, event, counts);
    return this.settle(counts);
  }

  /**
   * Hands `event` to those of `subscribers` it is for; what could not be handed on at once
   * is `blocked`. Handing on runs each subscriber's delivery (its execution and socket write,
   * shared-execution.ts): once the process's slice is spent (pacer.ts), the subscribers not
   * offered yet are returned, to be offered after the event loop has turned (a block's
   * 10,000 `blockCommitted` subscribers held it for a second).
   */
  private offer(subscribers: Iterable<Subscriber<unknown>>, event: HubEvent, counts: Deliveries): Subscriber<unknown>[] | null {
    let rest: Subscriber<unknown>[] | null = null;
    let offered = 0;
    for (const subscriber of subscribers) {
      if (rest) {
        rest.push(subscriber);
        continue;
      }
      // The clock is read every 16 subscribers: a delivery takes microseconds.
      if ((++offered & 15) === 0 && sliceSpent()) {
        rest = [subscriber];
        continue;
      }
      const value = subscriber.select(event);
      if (value === undefined) continue;
      if (!subscriber.hasRoom()) (counts.blocked ??= []).push([subscriber, value]);
      else if (subscriber.push(value)) {
        // Counted per kind and reported once: a counter increment per subscriber was a few % of a fan-out.
        const delivered = (counts.delivered ??= new Map());
        delivered.set(subscriber.kind, (delivered.get(subscriber.kind) ?? 0) + 1);
      }
    }
    return rest;
  }

  /**
   * The rest of a publication, in turns of the event loop. The subscribers were listed when
   * it began: one that subscribes meanwhile starts with the next event, as it would have had
   * the publication run at once; one that ends meanwhile takes nothing.
   */
  private async offerLater(rest: Subscriber<unknown>[], event: HubEvent, counts: Deliveries): Promise<void> {
    let remaining: Subscriber<unknown>[] | null = rest;
    while (remaining) {
      await nextTurn(this);
      remaining = this.offer(remaining, event, counts);
    }
    await this.settle(counts);
  }

  private settle(counts: Deliveries): void | Promise<void> {
    if (counts.delivered) for (const [kind, count] of counts.delivered) this.options.metrics?.delivered(kind, count);
    if (counts.blocked) return this.waitForRoom(counts.blocked);
  }

  private async waitForRoom(blocked: [Subscriber<unknown>, unknown][]): Promise<void> {
    await Promise.all(
      blocked.map(async ([subscriber, value]) => {
        while (!subscriber.done && !subscriber.hasRoom()) {
          const left = (subscriber.fullSince ?? Date.now()) + this.graceMs - Date.now();
          if (left <= 0) return subscriber.overflow();
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([subscriber.whenRoom(), new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
          clearTimeout(timer);
        }
        if (subscriber.push(value)) this.options.metrics?.delivered(subscriber.kind);
      }),
    );
  }

  /** Ends every subscription (their iterators finish) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const subscriber of [...this.subscribers]) subscriber.end();
    for (const set of [...this.routed.values()]) for (const subscriber of [...set]) subscriber.end();
  }
}
