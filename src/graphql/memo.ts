/**
 * Per-request memos that can be read synchronously once settled. graphql-js completes a
 * field whose resolver returns a plain value at once, and one that returns a promise
 * through the microtask queue with per-field bookkeeping; a response of hundreds of
 * derived fields over the same few memoized values is several times cheaper when the
 * resolvers return the values themselves. So memos hand out `T | Promise<T>`: the value
 * when it is there, the promise until then.
 */
export type Now<T> = T | Promise<T>;

export class MemoMap<K, V> {
  // Made on first use: a subscription event makes a request's memos and most stay empty.
  private pending: Map<K, Promise<V>> | undefined;
  private settled: Map<K, V> | undefined;

  /**
   * The value of `key`, computing it once with `compute`. `peek` may answer synchronously
   * where another request already computed it (the block's shared cache): `undefined`
   * means it has not.
   */
  now(key: K, compute: () => Promise<V>, peek?: () => V | undefined): Now<V> {
    if (this.settled?.has(key)) return this.settled.get(key)!;
    if (peek && !this.pending?.has(key)) {
      const value = peek();
      if (value !== undefined) {
        this.settle(key, value);
        return value;
      }
    }
    let promise = this.pending?.get(key);
    if (!promise) {
      promise = compute().then((value) => {
        this.settle(key, value);
        return value;
      });
      (this.pending ??= new Map()).set(key, promise);
    }
    return promise;
  }

  get(key: K, compute: () => Promise<V>, peek?: () => V | undefined): Promise<V> {
    return Promise.resolve(this.now(key, compute, peek));
  }

  /** The value of `key` if computed, else `undefined` (computing nothing). */
  settledValue(key: K): V | undefined {
    return this.settled?.get(key);
  }

  /** Records a value read elsewhere (a list statement already returned the row). */
  settle(key: K, value: V): void {
    (this.settled ??= new Map()).set(key, value);
  }
}

/** A single memoized value: `MemoMap`'s rules for one key, in plain fields. */
export class Memo<T> {
  private has = false;
  private value: T | undefined;
  private pending: Promise<T> | undefined;

  constructor(
    private readonly compute: () => Promise<T>,
    private readonly peek?: () => T | undefined,
  ) {}

  now(): Now<T> {
    if (this.has) return this.value as T;
    if (this.peek && !this.pending) {
      const value = this.peek();
      if (value !== undefined) {
        this.settle(value);
        return value;
      }
    }
    return (this.pending ??= this.compute().then((value) => {
      this.settle(value);
      return value;
    }));
  }

  get(): Promise<T> {
    return Promise.resolve(this.now());
  }

  /** The value if computed, else `undefined` (computing nothing). */
  settled(): T | undefined {
    return this.value;
  }

  /** Records the value known beforehand (a subscription event's block values). */
  settle(value: T): void {
    this.has = true;
    this.value = value;
  }
}

/** `f(value)`, synchronously when the value is already there. */
export function then<T, R>(value: Now<T>, f: (value: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}
