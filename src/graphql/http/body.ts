// Reads a POST body as JSON: the part of Express's json parser the API used. A body that
// is too large, compressed in a way we do not read, in another charset or not JSON is
// refused with the HTTP status a client can act on, and nothing past the limit is buffered.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, type Gunzip } from 'node:zlib';

/** A request body the API does not accept, with the status to answer. */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DECODERS: Record<string, () => Gunzip> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The parsed JSON body of `req`, or undefined when it is not declared as JSON (Apollo then
 * answers that the POST body is missing or of the wrong type). `limit` bounds the decoded
 * bytes (a compressed body cannot expand past it).
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = mediaType(req.headers['content-type']);
  if (type?.essence !== 'application/json') return undefined;
  const charset = type.charset?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new BodyError(415, `Unsupported charset "${charset}": send the JSON body as UTF-8`);
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge(limit);

  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let source: Readable = req;
  if (encoding !== 'identity') {
    const decoder = DECODERS[encoding];
    if (!decoder) throw new BodyError(415, `Unsupported content encoding "${encoding}": send gzip, deflate, br or none`);
    const decoding = decoder();
    // Not pipeline(): a refused body must not destroy the request, whose socket carries the answer.
    req.on('error', (error) => decoding.destroy(error));
    source = req.pipe(decoding);
  }
  const text = await readText(req, source, limit);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BodyError(400, `Malformed JSON body: ${(error as Error).message}`);
  }
}

/**
 * The body's text. On a refusal the request is paused, not destroyed, so its answer still
 * reaches the client (the route closes the connection after it, leaving the rest unread).
 */
function readText(req: IncomingMessage, source: Readable, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      if (source !== req) {
        req.unpipe(source as Gunzip);
        source.destroy();
      }
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) return fail(tooLarge(limit));
      chunks.push(chunk);
    };
    source.on('data', onData);
    source.once('end', () => {
      if (settled) return;
      settled = true;
      resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8'));
    });
    // A client that goes away mid-body: the read ends (as a client error) instead of waiting forever.
    const incomplete = () => new BodyError(400, 'Request body incomplete: the connection closed before its end');
    source.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code?.startsWith('Z_')) fail(new BodyError(400, `Malformed compressed body: ${error.message}`));
      else fail(req.complete ? error : incomplete());
    });
    req.once('close', () => {
      if (!req.complete) fail(incomplete());
    });
  });
}

function tooLarge(limit: number): BodyError {
  return new BodyError(413, `Request body too large: at most ${limit} bytes`);
}

/** `type/subtype` in lower case and the charset parameter of a Content-Type header. */
export function mediaType(header: string | undefined): { essence: string; charset?: string } | null {
  if (!header) return null;
  const [essence, ...parameters] = header.split(';');
  let charset: string | undefined;
  for (const parameter of parameters) {
    const at = parameter.indexOf('=');
    if (at > 0 && parameter.slice(0, at).trim().toLowerCase() === 'charset') charset = parameter.slice(at + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { essence: essence!.trim().toLowerCase(), ...(charset !== undefined ? { charset } : {}) };
}
