/**
 * Subscription events executed once per distinct operation, not once per subscriber.
 *
 * graphql-js's `subscribe` runs the operation's selection for every subscriber and every
 * event. A price move sends the same `blockCommitted` event to thousands of subscribers
 * holding the same query; the hub hands each of them the same event object, and the
 * result depends only on that event, the operation and its variables (fields below it
 * read rows as of a snapshot taken after the event's block committed). So the first
 * subscriber's execution serves every other one with the same query text, operation name
 * and variables (a result with errors is not passed on: the others execute for themselves).
 *
 * Variables that only the root field's arguments use (`marginStateChanged(owner: $owner)`)
 * choose which events a subscriber gets, not what an event resolves to: the root
 * resolvers map the event without reading their arguments (resolvers.ts). They are left
 * out of the key, so subscribers of different owners share a transition's result too.
 */
import {
  BREAK, createSourceEventStream, execute, getOperationAST, Kind, visit,
  type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema,
} from 'graphql';
import { isCompiledOperation, operationCompiler, runOperation, withGraphQLErrors } from '../compiled-executor.js';
import { then } from '../memo.js';
import type { Subscription } from './hub.js';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * Where an operation's results go when they bypass graphql-ws's loop (socket-sink.ts). A
 * returned promise holds the next result back until it settles (the socket is congested).
 */
export type ResultSink = (result: ExecutionResult) => void | Promise<void>;

/**
 * How one subscription operation is delivered, set on its context (`RequestContext.delivery`)
 * by the WebSocket server when it admits the operation (pipeline.ts).
 */
export interface Delivery {
  /** Operations with the same key share each event's result (`sharingKey`); null: never shared. */
  key: string | null;
  /**
   * Where results go directly, without graphql-ws's loop: it awaits several promises per
   * result (the source's, the mapping's, its own `next` and `send`), which cost more of a
   * 5,000-subscriber fan-out than writing the messages. Only for streams of the hub
   * (`Subscription.consume`); graphql-ws still owns the operation: its end, its errors and
   * its `complete` message. Absent: results go through graphql-ws.
   */
  sink?: ResultSink;
  /** The subscriber's buffer overflowed (hub.ts): its connection is cut off. */
  onOverflow?: (message: string) => void;
}

/** The delivery a context carries, if any. */
export function deliveryOf(context: unknown): Delivery | undefined {
  return typeof context === 'object' && context !== null ? (context as { delivery?: Delivery }).delivery : undefined;
}

/**
 * The key under which an operation's event results are shared: its name, its text, and its
 * variables only where they reach below the root field.
 */
export function sharingKey(document: DocumentNode, text: string, operationName: string | null | undefined, variables: unknown): string {
  const below = variablesBelowRoot(document, operationName) ? JSON.stringify(variables ?? {}) : '';
  return `${operationName ?? ''}\u0000${below}\u0000${text}`;
}

export class SharedSubscriptions {
  /** Per event object: results by operation key. Dropped with the event. */
  private readonly results = new WeakMap<object, Map<string, Result>>();
  private readonly turns: Turns;

  /** `concurrency`: event executions in flight at a time (default 64; see Turns). */
  constructor(concurrency = 64) {
    this.turns = new Turns(concurrency);
  }

  /** graphql-ws's `subscribe`: graphql-js's, with each event's execution shared. */
  subscribe = async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source; // the errors of setting it up
    const events = source[Symbol.asyncIterator]();
    const delivery = deliveryOf(args.contextValue);
    const key = delivery?.key ?? null;
    if (delivery?.sink && isSubscription(events)) return sinkEvents(events, (event) => this.execute(args, event, key), delivery.sink);
    return mapEvents(events, (event) => this.execute(args, event, key));
  };

  // Runs once per subscriber and event.
  private execute(args: ExecutionArgs, event: unknown, key: string | null): Result {
    if (key === null || typeof event !== 'object' || event === null) return this.turns.run(args, event);
    let byOperation = this.results.get(event);
    if (!byOperation) this.results.set(event, (byOperation = new Map()));
    const first = byOperation.get(key);
    if (first === undefined) {
      const result = this.turns.run(args, event);
      byOperation.set(key, result);
      return result;
    }
    // An error may be the first subscriber's own (its connection closing mid-read): run ours.
    if (!(first instanceof Promise)) return first.errors?.length ? this.turns.run(args, event) : first;
    return first.then((result) => (result.errors?.length ? this.turns.run(args, event) : result));
  }
}

/**
 * Event executions take turns: at most `limit` in flight (waiting on a read or a paced
 * slice), the others start in arrival order as they finish. A price tick that changes
 * 10,000 watched accounts publishes 10,000 distinct events at once; started together, each
 * holding its budget's clock, their slices interleaved until the last ones ran out of time
 * (REQUEST_TIMEOUT), and all of them answered only at the end. An execution that completes
 * at once (everything cached) holds no turn.
 */
class Turns {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private head = 0;

  constructor(private readonly limit: number) {}

  run(args: ExecutionArgs, event: unknown): Result {
    if (this.running < this.limit) return this.start(args, event);
    return new Promise<ExecutionResult>((resolve) => this.waiting.push(() => resolve(this.start(args, event))));
  }

  private start(args: ExecutionArgs, event: unknown): Result {
    const result = executeOn(args, event);
    if (!(result instanceof Promise)) return result;
    this.running++;
    return result.finally(() => {
      this.running--;
      while (this.running < this.limit && this.head < this.waiting.length) {
        const next = this.waiting[this.head]!;
        this.waiting[this.head++] = undefined as never;
        next();
      }
      if (this.head === this.waiting.length) this.waiting.length = this.head = 0;
    });
  }
}

const compilers = new WeakMap<GraphQLSchema, ReturnType<typeof operationCompiler>>();

/**
 * The event's result: the operation's selection over the event, compiled by graphql-jit
 * (compiled once per document; graphql-js interprets the document per event, which was
 * most of a tick's cost with thousands of watched accounts).
 */
function run(args: ExecutionArgs, event: unknown): Result {
  let compile = compilers.get(args.schema);
  if (!compile) compilers.set(args.schema, (compile = operationCompiler(args.schema)));
  const compiled = compile(args.document, args.operationName ?? undefined);
  if (!isCompiledOperation(compiled)) return execute({ ...args, rootValue: event });
  return then(runOperation(compiled, event, args.contextValue, (args.variableValues ?? {}) as Record<string, unknown>) as Result, withGraphQLErrors);
}

function executeOn(args: ExecutionArgs, event: unknown): Result {
  const result = run(args, event);
  const context = args.contextValue as { blockMoved?: boolean; restart?: () => Promise<void> } | undefined;
  if (typeof context?.restart !== 'function') return result;
  // An event pinned to its block (account-changes.ts) read a row the feed had not, and the
  // chain had moved on: its fields would mix two blocks. Resolvers only read, so it runs
  // again on the newest block, as an HTTP query does (compiled-executor.ts).
  return then(result, (done) => (done.errors?.length && context.blockMoved ? context.restart!().then(() => run(args, event)) : done));
}

/**
 * Whether anything below the root fields may read a variable (or cannot be told: root
 * fragments, directives, spreads). Only then do the variables change an event's result.
 */
function variablesBelowRoot(document: DocumentNode, operationName: string | null | undefined): boolean {
  const operation = getOperationAST(document, operationName);
  if (!operation) return true;
  let found = false;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length) return true;
    if (!selection.selectionSet) continue;
    visit(selection.selectionSet, {
      Variable: () => ((found = true), BREAK),
      FragmentSpread: () => ((found = true), BREAK),
    });
    if (found) return true;
  }
  return false;
}

function isSubscription<T>(source: AsyncIterator<T>): source is Subscription<T> {
  return typeof (source as Partial<Subscription<T>>).consume === 'function';
}

/**
 * The iterator graphql-ws loops over while `source`'s values, mapped, go to `sink`: it
 * yields nothing and settles when the stream ends (or rejects with why it was cut off).
 * Consumption starts at graphql-ws's first `next()`, once it has registered the
 * operation; after the operation ends, a result still being mapped is not handed on.
 */
function sinkEvents<T, R>(source: Subscription<T>, map: (value: T) => R | Promise<R>, sink: (result: R) => void | Promise<void>): AsyncIterableIterator<never> {
  let started = false;
  let ended = false;
  const end = () => void (ended = true);
  const iterator: AsyncIterableIterator<never> = {
    next() {
      if (!started) {
        started = true;
        const open = (result: R) => (ended ? undefined : sink(result));
        source.consume((value) => then(map(value), open));
      }
      const settled = source.next() as Promise<IteratorResult<never>>;
      settled.then(end, end);
      return settled;
    },
    return() {
      end();
      return source.return() as Promise<IteratorResult<never>>;
    },
    throw(error?: unknown) {
      end();
      return source.return().then(() => Promise.reject(error));
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** `source` with `map` applied to each value; return/throw reach the source at once. */
function mapEvents<T, R>(source: AsyncIterator<T>, map: (value: T) => R | Promise<R>): AsyncIterableIterator<R> {
  const iterator: AsyncIterableIterator<R> = {
    async next() {
      const result = await source.next();
      if (result.done) return { done: true, value: undefined };
      // A result shared from another subscriber is usually settled: no extra wait for it.
      const value = map(result.value);
      return { done: false, value: value instanceof Promise ? await value : value };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
