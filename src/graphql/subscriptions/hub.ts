// In-process fan-out of committed blocks and margin transitions to subscribers, each with
// a bounded buffer: a subscriber that does not keep up is cut off, never buffered without
// bound.
import { GraphQLError } from 'graphql';
import type { ReorgInfo } from '../../db/store/ledger-store.js';
import type { TransitionRecord } from '../../ledger/index.js';

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

export type HubEvent = BlockEvent | TransitionEvent;

/** Counters the hub reports to (src/graphql/metrics.ts). */
export interface HubMetrics {
  subscribed(kind: string): void;
  unsubscribed(kind: string): void;
  delivered(kind: string): void;
  dropped(kind: string, count: number): void;
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
}

/** A subscriber's stream: an async iterator that ends when returned, closed or overflowed. */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T>>;
}

interface Subscriber {
  kind: string;
  offer(event: HubEvent): void;
  end(): void;
}

export class Hub {
  private readonly subscribers = new Set<Subscriber>();
  private closed = false;

  constructor(private readonly options: { bufferSize: number; metrics?: HubMetrics }) {}

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Subscribes to the events `select` maps to a value (undefined: not for this subscriber). */
  subscribe<T>(kind: string, select: (event: HubEvent) => T | undefined, options: SubscribeOptions = {}): Subscription<T> {
    const bufferSize = options.bufferSize ?? this.options.bufferSize;
    const metrics = this.options.metrics;
    const buffer: T[] = [];
    let head = 0; // buffer[head..] is pending; compacted as it is consumed
    let waiting: ((result: IteratorResult<T>) => void) | null = null;
    let failure: GraphQLError | null = null;
    let done = false;

    const finish = () => {
      if (done) return;
      done = true;
      if (this.subscribers.delete(subscriber)) metrics?.unsubscribed(kind);
      buffer.length = head = 0;
      const resolve = waiting;
      waiting = null;
      resolve?.({ value: undefined, done: true });
    };

    const subscriber: Subscriber = {
      kind,
      offer: (event) => {
        if (done) return;
        const value = select(event);
        if (value === undefined) return;
        if (waiting) {
          const resolve = waiting;
          waiting = null;
          metrics?.delivered(kind);
          resolve({ value, done: false });
          return;
        }
        if (buffer.length - head >= bufferSize) {
          const message = overflowMessage(bufferSize);
          metrics?.dropped(kind, buffer.length - head + 1);
          failure = new GraphQLError(message, { extensions: { code: SUBSCRIBER_TOO_SLOW, bufferSize } });
          finish();
          options.onOverflow?.(message);
          return;
        }
        buffer.push(value);
      },
      end: finish,
    };

    if (this.closed) done = true;
    else {
      this.subscribers.add(subscriber);
      metrics?.subscribed(kind);
    }

    const iterator: Subscription<T> = {
      next: () => {
        if (head < buffer.length) {
          const value = buffer[head++]!;
          if (head > 1024 && head * 2 > buffer.length) {
            buffer.splice(0, head);
            head = 0;
          }
          metrics?.delivered(kind);
          return Promise.resolve({ value, done: false });
        }
        if (failure) {
          const error = failure;
          failure = null;
          return Promise.reject(error);
        }
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return: () => {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw: (error?: unknown) => {
        finish();
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Hands an event to every subscriber (synchronously; it only enters their buffers). */
  publish(event: HubEvent): void {
    for (const subscriber of this.subscribers) subscriber.offer(event);
  }

  /** Ends every subscription (their iterators finish) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const subscriber of [...this.subscribers]) subscriber.end();
  }
}
