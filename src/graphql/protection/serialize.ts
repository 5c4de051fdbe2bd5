// JSON text of a GraphQL result, within a byte cap (PTS_MAX_RESPONSE_BYTES) and without
// holding the event loop: the same text as JSON.stringify, built in slices (budget.ts).
//
// JSON.stringify of a large answer is one synchronous call (a 30 MB answer held the event
// loop for about 100 ms here) and only tells its size once the whole string exists. This
// walk goes object by object, hands every object whose values are all plain (a node's
// scalar fields, most of an answer) to JSON.stringify whole, counts what it has written,
// stops as soon as the cap is passed, and lets the event loop turn between slices.
import { paceWork, type ExecutionBudget } from './budget.js';

/** The answer would exceed `maxBytes`. */
export class ResponseTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the answer exceeds ${maxBytes} bytes`);
  }
}

/**
 * A subtree of at most this many values goes to JSON.stringify whole: fast (native), and
 * short enough (about a millisecond) to write between two looks at the clock.
 */
const NATIVE_VALUES = 4096;

interface Frame {
  value: Record<string, unknown> | unknown[];
  keys: string[] | null; // null for an array
  index: number;
  /** Whether something was written inside this object or array yet (a comma before the next). */
  wrote: boolean;
}

/**
 * `JSON.stringify(value)` for JSON data (plain objects, arrays, strings, finite numbers,
 * booleans, null; undefined properties left out, as JSON.stringify does). A small value
 * (most answers and subscription events) is written at once and returned as a string;
 * a large one in slices, as a promise. Fails with ResponseTooLargeError once the text
 * passes `maxBytes` (UTF-8), and with the budget's reason when it is spent.
 */
export function serializeJson(value: unknown, maxBytes: number, budget?: ExecutionBudget): string | Promise<string> {
  if (isSmall(value)) return checked(JSON.stringify(value) ?? 'null', maxBytes);
  return serializeLarge(value as object, maxBytes, budget);
}

async function serializeLarge(value: object, maxBytes: number, budget: ExecutionBudget | undefined): Promise<string> {
  const parts: string[] = [];
  let length = 0;
  const write = (text: string) => {
    parts.push(text);
    length += text.length;
    // Length in UTF-16 units is at most the UTF-8 byte count: over the cap, certainly too large.
    if (length > maxBytes) throw new ResponseTooLargeError(maxBytes);
  };
  const stack: Frame[] = [];
  const open = (v: Record<string, unknown> | unknown[]) => {
    const array = Array.isArray(v);
    write(array ? '[' : '{');
    stack.push({ value: v, keys: array ? null : Object.keys(v), index: 0, wrote: false });
  };
  open(value as Record<string, unknown>);
  while (stack.length > 0) {
    // Each step writes at most a small subtree: a look at the clock per step is cheap enough.
    const wait = paceWork(budget ?? stack, budget);
    if (wait) await wait;
    const frame = stack.at(-1)!;
    const size = frame.keys === null ? (frame.value as unknown[]).length : frame.keys.length;
    if (frame.index >= size) {
      write(frame.keys === null ? ']' : '}');
      stack.pop();
      continue;
    }
    const i = frame.index++;
    let item: unknown;
    let prefix: string;
    if (frame.keys === null) {
      item = (frame.value as unknown[])[i];
      // JSON.stringify writes null for what JSON cannot hold inside an array.
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') item = null;
      prefix = frame.wrote ? ',' : '';
    } else {
      const key = frame.keys[i]!;
      item = (frame.value as Record<string, unknown>)[key];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      prefix = `${frame.wrote ? ',' : ''}${JSON.stringify(key)}:`;
    }
    frame.wrote = true;
    if (isSmall(item)) {
      write(prefix + (JSON.stringify(item) ?? 'null'));
    } else {
      if (prefix) write(prefix);
      open(item as Record<string, unknown>);
    }
  }
  return checked(parts.join(''), maxBytes);
}

/**
 * Whether `value` holds at most NATIVE_VALUES values (or is not a container, or has its
 * own toJSON): counted with an early exit, far cheaper than writing them.
 */
function isSmall(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  let count = 0;
  const pending: object[] = [value];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (typeof (next as { toJSON?: unknown }).toJSON === 'function') continue;
    if (Array.isArray(next)) {
      count += next.length;
      if (count > NATIVE_VALUES) return false;
      for (const item of next) if (item !== null && typeof item === 'object') pending.push(item);
    } else {
      for (const key in next) {
        if (++count > NATIVE_VALUES) return false;
        const item = (next as Record<string, unknown>)[key];
        if (item !== null && typeof item === 'object') pending.push(item);
      }
    }
  }
  return true;
}

function checked(text: string, maxBytes: number): string {
  if (text.length > maxBytes || Buffer.byteLength(text) > maxBytes) throw new ResponseTooLargeError(maxBytes);
  return text;
}
