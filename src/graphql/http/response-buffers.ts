// Large response bodies are encoded into reused buffers. Node encodes a string body on
// its own into a fresh allocation per response, and on this VM a fresh multi-megabyte
// allocation costs more than the encoding: its pages fault in one by one (an 8 MB
// `accounts(first: 1000)` answer spent about 25 ms of its ~300 ms of CPU there, bench/api
// b). A buffer goes back to the pool on its response's 'finish': by then its bytes were
// handed to the kernel, or the connection was closed and nothing reads them any more.
import type { ServerResponse } from 'node:http';

export interface ResponseBuffersOptions {
  /** Bodies shorter than this (in characters) are written as strings; default 256 KiB. */
  minLength?: number;
  /** Buffers kept for reuse; default 4. */
  keep?: number;
  /** Larger buffers are not kept (a rare huge answer does not pin its memory); default 16 MiB. */
  maxBytes?: number;
}

const encoder = new TextEncoder();

export class ResponseBuffers {
  private readonly free: Buffer[] = [];
  private readonly minLength: number;
  private readonly keep: number;
  private readonly maxBytes: number;

  constructor(options: ResponseBuffersOptions = {}) {
    this.minLength = options.minLength ?? 256 * 1024;
    this.keep = options.keep ?? 4;
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  }

  /** Ends `res` with `text` as UTF-8. */
  end(res: ServerResponse, text: string): void {
    if (text.length < this.minLength) return void res.end(text);
    const { bytes, release } = this.encode(text);
    res.setHeader('Content-Length', bytes.length);
    res.end(bytes, release);
  }

  /**
   * `text` as UTF-8 bytes, in a pooled buffer when it is long; `release` gives the buffer
   * back (once, when nothing reads the bytes any more: compression.ts streams them).
   */
  encode(text: string): { bytes: Buffer; release(): void } {
    if (text.length < this.minLength) return { bytes: Buffer.from(text), release: () => undefined };
    const size = Buffer.byteLength(text);
    const buffer = this.take(size);
    encoder.encodeInto(text, buffer);
    let released = false;
    return {
      bytes: buffer.subarray(0, size),
      release: () => {
        if (released) return;
        released = true;
        this.give(buffer);
      },
    };
  }

  /** Buffers held for reuse (for tests). */
  get held(): number {
    return this.free.length;
  }

  private take(size: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i]!.length >= size && (best < 0 || this.free[i]!.length < this.free[best]!.length)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0]!;
    // Rounded up so a slightly larger answer next time still fits.
    return Buffer.allocUnsafeSlow(Math.ceil(size / (1 << 20)) * (1 << 20));
  }

  private give(buffer: Buffer): void {
    if (buffer.length > this.maxBytes) return;
    if (this.free.length >= this.keep) {
      // Keep the largest ones: a small buffer is cheap to make again.
      const smallest = this.free.reduce((at, b, i) => (b.length < this.free[at]!.length ? i : at), 0);
      if (this.free[smallest]!.length >= buffer.length) return;
      this.free.splice(smallest, 1);
    }
    this.free.push(buffer);
  }
}
