// The event loop in slices, shared by every paced operation of the process (budget.ts).
//
// Paced work (list fields, pages built from a batch, derived risk, the serializer's walk)
// asks `sliceSpent()` before it goes on. Once SLICE_MS of it has run without the event
// loop turning, it waits (`nextTurn`) and I/O runs first: other requests arrive, reads
// return. Waiting work goes on in turns that are fair between operations: one waiting
// continuation of each operation in turn, not in the order they began waiting, so a
// request that just arrived waits behind one step of each heavy one, not behind all of
// their steps.

/** Paced work allowed between two turns of the event loop. */
export const SLICE_MS = 10;

/** When the current slice of paced work began, and which slice it is. */
let sliceStart = 0;
let sliceNumber = 0;
/** A check-phase callback is queued that starts the next slice. */
let nextSliceQueued = false;

function startSlice(): void {
  sliceStart = performance.now();
  sliceNumber++;
}

function queueNextSlice(): void {
  nextSliceQueued = true;
  setImmediate(() => {
    nextSliceQueued = false;
    startSlice();
  });
}

/** The current slice, to count what happens within one. */
export function currentSlice(): number {
  return sliceNumber;
}

/**
 * True when paced work has run for SLICE_MS since the slice began. Paced work after the
 * event loop has turned (no next slice queued) starts a new slice, so work that never
 * exceeds a slice never waits.
 */
export function sliceSpent(): boolean {
  if (!nextSliceQueued) {
    startSlice();
    queueNextSlice();
    return false;
  }
  return performance.now() - sliceStart >= SLICE_MS;
}

/** Waiting continuations by the operation they belong to, operations in turn order. */
const waiting = new Map<object, (() => void)[]>();

/**
 * Resolves when `owner`'s paced work may go on. Every waiter adds one check-phase
 * callback (a slot); each slot, while the slice lasts, lets one continuation go on, taken
 * from the operations in turn, and its work runs in the microtasks right after that
 * callback, before the next slot's: so each slot sees the work of those before it, and
 * once the slice is spent the others wait for the next turn, after I/O.
 */
export function nextTurn(owner: object): Promise<void> {
  return new Promise<void>((resolve) => {
    let queue = waiting.get(owner);
    if (!queue) waiting.set(owner, (queue = []));
    queue.push(resolve);
    setImmediate(slot);
  });
}

function slot(): void {
  if (sliceSpent()) return void setImmediate(slot);
  const next = waiting.entries().next();
  if (next.done) return;
  const [owner, queue] = next.value;
  const resume = queue.shift()!;
  // The operation goes to the back of the turn order, with whatever it still has waiting.
  waiting.delete(owner);
  if (queue.length > 0) waiting.set(owner, queue);
  resume();
}
