// What one operation may spend: wall time (PTS_REQUEST_TIMEOUT_MS), bytes of answer
// (PTS_MAX_RESPONSE_BYTES, serialize.ts) and the event loop in slices. The same budget
// bounds an HTTP query, a WebSocket query and each event of a subscription.
// The slices are the process's, shared by every operation: while one has work left,
// the others' get their turns in between.
//
// Execution and serialization are synchronous wherever values are already in memory (the
// block cache, memoized views), so one large answer could hold the event loop for seconds
// and every other client with it. `pace()` is called where work grows with the answer
// (list fields, the serializer's walk): after SLICE_MS of such work without a turn of
// the event loop it waits for the next one, so other requests and I/O run in between,
// and once the budget is spent (timed out, the client gone) it throws, so an abandoned
// execution stops at its next list instead of running to the end.
import { GraphQLError } from 'graphql';

/** Paced work allowed between two turns of the event loop. */
export const SLICE_MS = 20;

/** When the current slice of paced work began. */
let sliceStart = 0;
/** A check-phase callback is queued that starts the next slice. */
let nextSliceQueued = false;

function queueNextSlice(): void {
  nextSliceQueued = true;
  setImmediate(() => {
    nextSliceQueued = false;
    sliceStart = performance.now();
  });
}

/**
 * True when paced work has run for SLICE_MS since the slice began. Paced work after the
 * event loop has turned (no next slice queued) starts a new slice, so work that never
 * exceeds a slice never waits.
 */
function sliceSpent(): boolean {
  if (!nextSliceQueued) {
    sliceStart = performance.now();
    queueNextSlice();
    return false;
  }
  return performance.now() - sliceStart >= SLICE_MS;
}

/**
 * Resolves when paced work may go on. Each waiter has a check-phase callback of its own,
 * and a waiter's work runs in the microtasks right after its callback, before the next
 * one's: so each callback sees the work of those before it, and once the slice is spent
 * the rest wait for the next turn (after I/O) instead of all going on at once (a thousand
 * pages of one batched statement resume together).
 */
function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    const attempt = () => (sliceSpent() ? setImmediate(attempt) : resolve());
    setImmediate(attempt);
  });
}

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
    this.waiting++;
    return nextTurn().then(() => {
      this.waiting--;
      this.flush();
      return this.pace(value);
    });
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

/** Waits for the next turn of the event loop when the current slice is spent (the serializer's walk). */
export function paceWork(budget?: ExecutionBudget): Promise<void> | undefined {
  if (budget?.spent) throw budget.reason;
  return sliceSpent() ? nextTurn() : undefined;
}
