/**
 * A binary min-heap of (key, account slot, version) in typed arrays: 10 bytes an entry with
 * float32 keys (factor ranges), 14 with float64 keys (block times). Entries are never
 * removed one by one: an account's entries go stale when its version moves on (it was
 * evaluated again), and stale entries are dropped when popped or when the heap is full
 * (`compact`; it grows by half when still over 2/3 live, so compactions come at least every
 * third of its capacity in pushes: amortized O(1), and at most ~2.3x its live entries). A stale entry that looks live (versions wrap at
 * 2^16) only costs a spurious evaluation, never a missed one.
 */
export class RangeHeap {
  keys: Float32Array | Float64Array;
  slots: Uint32Array;
  versions: Uint16Array;
  size = 0;

  constructor(private readonly wide: boolean, capacity = 16) {
    this.keys = wide ? new Float64Array(capacity) : new Float32Array(capacity);
    this.slots = new Uint32Array(capacity);
    this.versions = new Uint16Array(capacity);
  }

  push(key: number, slot: number, version: number, live: Uint16Array): void {
    if (this.size === this.keys.length) this.makeRoom(live);
    let i = this.size++;
    const keys = this.keys;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!(keys[parent]! > key)) break;
      this.move(parent, i);
      i = parent;
    }
    keys[i] = key;
    this.slots[i] = slot;
    this.versions[i] = version;
  }

  /**
   * Makes room for `count` more entries at once (one allocation: growing step by step under a
   * large ledger costs V8 full collections for the off-heap memory) and, when they are many
   * next to the heap, takes them unordered (`append`) to be ordered once by `restore`: O(n)
   * instead of O(count log n). Returns whether to append.
   */
  reserve(count: number, live: Uint16Array): boolean {
    if (this.size + count > this.keys.length) {
      this.compact(live);
      if (this.size + count > this.keys.length) this.resize(this.size + count + ((this.size + count) >> 1));
    }
    return count > this.size >> 2;
  }

  /** Adds an entry without ordering; `restore` must follow before any other use. */
  append(key: number, slot: number, version: number): void {
    const i = this.size++;
    this.keys[i] = key;
    this.slots[i] = slot;
    this.versions[i] = version;
  }

  restore(): void {
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /**
   * Calls `found(slot)` for every live entry with key < threshold, without changing the heap:
   * O(k) for k such entries (a subtree whose root is not below the threshold holds none).
   */
  collect(threshold: number, live: Uint16Array, found: (slot: number) => void, stack: number[] = []): void {
    if (this.size === 0 || !(this.keys[0]! < threshold)) return;
    stack.length = 0;
    stack.push(0);
    const { keys, slots, versions, size } = this;
    while (stack.length > 0) {
      const i = stack.pop()!;
      const slot = slots[i]!;
      if (versions[i] === live[slot]) found(slot);
      const left = 2 * i + 1;
      if (left < size && keys[left]! < threshold) stack.push(left);
      if (left + 1 < size && keys[left + 1]! < threshold) stack.push(left + 1);
    }
  }

  /** Removes every entry with key < threshold: O(k log n). */
  popBelow(threshold: number): void {
    while (this.size > 0 && this.keys[0]! < threshold) this.pop();
  }

  clear(): void {
    this.size = 0;
  }

  /** Drops stale entries and restores the heap order: O(n). */
  compact(live: Uint16Array): void {
    const { keys, slots, versions } = this;
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      const slot = slots[i]!;
      if (versions[i] !== live[slot]) continue;
      keys[n] = keys[i]!;
      slots[n] = slot;
      versions[n] = versions[i]!;
      n++;
    }
    this.size = n;
    this.restore();
  }

  /** Full: drop the stale entries; grow when more than 2/3 of it is still live. */
  private makeRoom(live: Uint16Array): void {
    this.compact(live);
    if (this.size * 3 <= this.keys.length * 2) return;
    this.resize(this.keys.length + (this.keys.length >> 1));
  }

  private resize(capacity: number): void {
    const keys = this.wide ? new Float64Array(capacity) : new Float32Array(capacity);
    keys.set(this.keys);
    const slots = new Uint32Array(capacity);
    slots.set(this.slots);
    const versions = new Uint16Array(capacity);
    versions.set(this.versions);
    this.keys = keys;
    this.slots = slots;
    this.versions = versions;
  }

  private pop(): void {
    const last = --this.size;
    if (last === 0) return;
    this.move(last, 0);
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const { keys, slots, versions, size } = this;
    const key = keys[start]!;
    const slot = slots[start]!;
    const version = versions[start]!;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && keys[child + 1]! < keys[child]!) child++;
      if (!(keys[child]! < key)) break;
      this.move(child, i);
      i = child;
    }
    keys[i] = key;
    slots[i] = slot;
    versions[i] = version;
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from]!;
    this.slots[to] = this.slots[from]!;
    this.versions[to] = this.versions[from]!;
  }
}
