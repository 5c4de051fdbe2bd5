// What one operation may spend: wall time (PTS_REQUEST_TIMEOUT_MS), bytes of answer
// (PTS_MAX_RESPONSE_BYTES, serialize.ts) and the event loop in slices. The same budget
// bounds an HTTP query, a WebSocket query and each event of a subscription.
// The slices are the process's (pacer.ts), shared by every operation: while one has work
// left, the others get their turns in between.
//
// Execution and serialization are synchronous wherever values are already in memory (the
// block cache, memoized views), so one large answer could hold the event loop for seconds
// and every other client with it. `pace()` is called where work grows with the answer
// (list fields, the serializer's walk): after SLICE_MS of such work without a turn of
// the event loop it waits for the next one, so other requests and I/O run in between,
// and once the budget is spent (timed out, the client gone) it throws, so an abandoned
// execution stops at its next list instead of running to the end.
import { GraphQLError } from 'graphql';
import { currentSlice, nextTurn, sliceSpent } from './pacer.js';

export { SLICE_MS } from './pacer.js';

/**
 * Continuations one operation resumes at once per slice (`resume`). A thousand pages
 * arriving in one batch resume together: each asks the clock before doing its work, so all
 * would pass before any had worked. Past this many, the next ones wait their turn one by
 * one (pacer.ts), each seeing the work of those before it.
 */
export const RESUMES_PER_SLICE = 4;

/** The error an operation ends with once its budget is spent. */
export function timeoutError(ms: number): GraphQLError {
  return new GraphQLError(`Request timed out after ${ms} ms (PTS_REQUEST_TIMEOUT_MS): ask for less (a smaller \`first\`, fewer fields) or retry`, {
    extensions: { code: 'REQUEST_TIMEOUT', timeoutMs: ms },
  });
}

export function cancelledError(): GraphQLError {
  return new GraphQLError('Request cancelled: the client went away', { extensions: { code: 'REQUEST_CANCELLED' } });
}

/**
 * One operation's budget. The time limit is a deadline read where work is paced, not a
 * timer: a subscription event renews its subscriber's budget, and thousands of timers per
 * event would cost more than the events. Reads waiting on PostgreSQL are bounded by the
 * pool's statement_timeout; an HTTP request is answered 503 by its own timer (routes.ts).
 */
export class ExecutionBudget {
  private readonly deadline: number;
  private ended: GraphQLError | undefined;
  /** This operation's paced continuations waiting for a turn. */
  private waiting = 0;
  /** DataLoader batches held until no continuation waits (scheduleBatch). */
  private held: (() => void)[] = [];
  private flushQueued = false;
  /** Continuations resumed at once in the slice `resumedIn`. */
  private resumed = 0;
  private resumedIn = -1;

  /** `timeoutMs` 0: no time limit (the budget still paces and can be cancelled). */
  constructor(readonly timeoutMs: number) {
    this.deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
  }

  /** Whether the budget has ended (cancelled, or past its deadline). */
  get spent(): boolean {
    if (this.ended === undefined && performance.now() >= this.deadline) this.ended = timeoutError(this.timeoutMs);
    return this.ended !== undefined;
  }

  /** Why the budget ended, or undefined while it lasts. */
  get reason(): GraphQLError | undefined {
    return this.spent ? this.ended : undefined;
  }

  /** Ends the budget: the next `pace()` throws `reason`. The first reason stays. */
  abort(reason: GraphQLError): void {
    this.ended ??= reason;
  }

  /**
   * `value`, at once while the slice lasts, else after the event loop has turned; throws
   * (or rejects) once the budget is spent. A plain value stays plain on the fast path, so
   * the executor completes it without a promise.
   */
  pace<T>(value: T): T | Promise<T> {
    if (this.spent) throw this.ended;
    if (!sliceSpent()) return value;
    return this.waitTurn(value);
  }

  /**
   * For a continuation resumed by a batched load, before the work it does with the rows
   * (building pages, deriving risk): `pace`, but at most RESUMES_PER_SLICE pass at once in
   * a slice; the others wait their turn and go on one by one.
   */
  resume(): void | Promise<void> {
    if (this.spent) throw this.ended;
    if (!sliceSpent() && this.passes()) return;
    return this.waitTurn(undefined);
  }

  private waitTurn<T>(value: T): Promise<T> {
    this.waiting++;
    const turn = nextTurn(this).then(() => {
      this.waiting--;
      this.flush();
      return this.pace(value);
    });
    // graphql-js abandons the promises of a list's earlier items when a later one throws
    // (a spent budget's pace does): the rejection of such a promise, at its turn, would
    // reach nobody, and Node ends a process on an unhandled rejection. Whoever awaits it
    // still gets the rejection.
    turn.catch(() => undefined);
    return turn;
  }

  /** Whether one more resumed continuation may go on at once in the current slice. */
  private passes(): boolean {
    if (this.resumedIn !== currentSlice()) {
      this.resumedIn = currentSlice();
      this.resumed = 0;
    }
    return ++this.resumed <= RESUMES_PER_SLICE;
  }

  /**
   * When one of this operation's DataLoaders sends its batch (their `batchScheduleFn`).
   * As DataLoader would (once the promise jobs queued now have run) while nothing waits;
   * while paced continuations wait, they resume in turns, each in a callback of its own,
   * and their loads would make a statement per turn (or per account): the batch is held
   * until none waits, and takes the loads of all of them.
   */
  scheduleBatch(dispatch: () => void): void {
    if (this.waiting === 0 && this.held.length === 0) return void (resolved ??= Promise.resolve()).then(() => process.nextTick(dispatch));
    this.held.push(dispatch);
    this.flush();
  }

  /** Sends the held batches once no continuation waits, after the released ones' work. */
  private flush(): void {
    if (this.waiting > 0 || this.flushQueued || this.held.length === 0) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      if (this.waiting > 0) return; // more waiting since: the last of them flushes
      const held = this.held;
      this.held = [];
      for (const dispatch of held) dispatch();
    });
  }
}

let resolved: Promise<void> | undefined;

/**
 * Waits for a turn when the current slice is spent (the serializer's walk); `owner` is
 * whose turn it is (the budget, when the walk has one).
 */
export function paceWork(owner: object, budget?: ExecutionBudget): Promise<void> | undefined {
  if (budget?.spent) throw budget.reason;
  return sliceSpent() ? nextTurn(owner) : undefined;
}
