// Answers compressed by the client's Accept-Encoding (issue 17, item 2): brotli or gzip,
// q-values honoured, identity otherwise. An answer shorter than the threshold goes out as
// it is, with no more work than a header: the small account query is most of the API's
// traffic, and compressing it would cost more CPU than it saves time (bench/api e measures
// both sides). A large one is streamed through node's zlib, which compresses on the libuv
// thread pool, off the event loop, and writes each compressed chunk to the socket as it
// comes: the whole compressed answer is never held.
import { pipeline } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, constants, createBrotliCompress, createGzip, gzip, gzipSync, type BrotliOptions, type ZlibOptions } from 'node:zlib';
import { ResponseBuffers } from './response-buffers.js';

export type ContentEncoding = 'br' | 'gzip';

/**
 * The coding to answer with under an `Accept-Encoding` header: the acceptable one (q > 0)
 * with the highest q-value, brotli on a tie (smaller at the same CPU, bench/api e); null
 * for identity (no header, nothing acceptable, or only codings we do not make). `*` stands
 * for the codings the header does not name.
 */
export function acceptedEncoding(header: string | string[] | undefined): ContentEncoding | null {
  if (header === undefined) return null;
  let br = -1;
  let gzip = -1;
  let any = -1;
  for (const item of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name = '', ...parameters] = item.split(';');
    const coding = name.trim().toLowerCase();
    let q = 1;
    for (const parameter of parameters) {
      const at = parameter.indexOf('=');
      if (at < 0 || parameter.slice(0, at).trim().toLowerCase() !== 'q') continue;
      const value = parameter.slice(at + 1).trim();
      // RFC 9110 qvalue: 0 to 1 with at most three decimals; anything else is not a preference we can read.
      q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : 0;
    }
    if (coding === 'br') br = q;
    else if (coding === 'gzip' || coding === 'x-gzip') gzip = q;
    else if (coding === '*') any = q;
  }
  if (br < 0) br = any;
  if (gzip < 0) gzip = any;
  if (br > 0 && br >= gzip) return 'br';
  return gzip > 0 ? 'gzip' : null;
}

const brotliOnce = promisify(brotliCompress);
const gzipOnce = promisify(gzip);

/**
 * `bytes` compressed once, well, for a file served again and again (explorer.ts): brotli 9
 * and gzip 9 on the thread pool. On graphiql's 1 MB script brotli 9 takes about 0.25 s for
 * 29% (quality 11: 4 s for 27%; quality 1: 37%).
 */
export function compressOnce(bytes: Buffer, encoding: ContentEncoding): Promise<Buffer> {
  return encoding === 'br'
    ? brotliOnce(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } })
    : gzipOnce(bytes, { level: 9 });
}

export interface CompressionOptions {
  /** Answers shorter than this, in characters, are not compressed; default 14 KiB (see below). */
  minLength?: number;
  /** Answers at least this long (in characters) are streamed through the thread pool; shorter ones compressed in one call; default 64 KiB. */
  streamLength?: number;
  /** Brotli quality, 0 to 11; default 1 (bench/api e). */
  brotliQuality?: number;
  /** Gzip level, 1 to 9; default 4 (bench/api e). */
  gzipLevel?: number;
  /** Where large answers are encoded to UTF-8; default a pool of its own. */
  buffers?: ResponseBuffers;
}

/** Output chunks of 64 KiB: a quarter of the thread-pool round trips of zlib's default 16 KiB. */
const CHUNK = 64 * 1024;

/**
 * Compresses answers for the clients that accept it. The numbers are bench/api e's:
 * - Not below 14 KiB: such an answer fits TCP's initial window (10 segments, about 14.6 kB)
 *   and goes out in the first round trip compressed or not, while compressing it costs the
 *   server: with a 4 KiB threshold the account query (a 12.7 kB answer) fell from 1273 to
 *   765 req/s in the same run.
 * - Brotli at quality 1: on the page of 1000 accounts it makes 18% of the text (quality 4:
 *   16%) at a third of quality 4's CPU or less, less than gzip's at any level; gzip level 4
 *   for the clients without brotli (18%; level 6 doubles the CPU for 16%).
 * - One call below 64 KiB (at most about half a millisecond of the event loop): a stream's
 *   thread-pool round trips cost more than compressing that much.
 */
export class Compression {
  readonly minLength: number;
  private readonly streamLength: number;
  private readonly brotli: BrotliOptions;
  private readonly gzip: ZlibOptions;
  private readonly buffers: ResponseBuffers;

  constructor(options: CompressionOptions = {}) {
    this.minLength = options.minLength ?? 14 * 1024;
    this.streamLength = options.streamLength ?? 64 * 1024;
    this.brotli = {
      chunkSize: CHUNK,
      params: { [constants.BROTLI_PARAM_QUALITY]: options.brotliQuality ?? 1, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT },
    };
    this.gzip = { level: options.gzipLevel ?? 4, chunkSize: CHUNK };
    this.buffers = options.buffers ?? new ResponseBuffers();
  }

  /**
   * Ends `res` with `text` as UTF-8, compressed when it is long enough and `req` accepts br
   * or gzip. Every answer says `Vary: Accept-Encoding`, so a cache never hands a compressed
   * one to a client that did not ask for it.
   */
  end(req: IncomingMessage, res: ServerResponse, text: string): void {
    res.appendHeader('Vary', 'Accept-Encoding');
    if (text.length < this.minLength) return void res.end(text);
    const encoding = req.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304 ? null : acceptedEncoding(req.headers['accept-encoding']);
    if (encoding === null) return this.buffers.end(res, text);
    res.setHeader('Content-Encoding', encoding);
    const { bytes, release } = this.buffers.encode(text);
    const options = this.options(encoding, bytes.length);
    if (text.length < this.streamLength) {
      const compressed = encoding === 'br' ? brotliCompressSync(bytes, options) : gzipSync(bytes, options);
      release();
      res.setHeader('Content-Length', compressed.length);
      return void res.end(compressed);
    }
    res.removeHeader('Content-Length');
    const encoder = encoding === 'br' ? createBrotliCompress(options) : createGzip(options);
    // The input goes back to the pool once zlib has read it all, or nothing reads the
    // output any more (the client left: pipeline destroys the encoder; a compression step
    // still running on the pool may then read a reused buffer, into output no one reads).
    pipeline(encoder, res, release);
    encoder.end(bytes);
  }

  private options(encoding: ContentEncoding, size: number): BrotliOptions | ZlibOptions {
    if (encoding === 'gzip') return this.gzip;
    // The size lets brotli fit its window and buffers to the answer instead of its 4 MiB default.
    return { ...this.brotli, params: { ...this.brotli.params, [constants.BROTLI_PARAM_SIZE_HINT]: size } };
  }
}
