// The browser pages pts serves itself (the explorer, explorer.ts; the risk page,
// risk-page.ts): each an HTML page with a strict Content-Security-Policy, and their files
// under /graphql/assets/, read out of npm packages (browser builds) and out of this folder
// (the pages' own scripts). Nothing is bundled and nothing comes from a CDN: the files are
// served as the packages ship them, so a page works offline and loads or connects to
// nothing but this origin.
//
// Files are read once, and compressed once per coding (brotli or gzip, by Accept-Encoding)
// when first asked; each answer carries an ETag, and `Cache-Control: no-cache` makes a
// browser check it on each visit, which a 304 answers without a body.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptedEncoding, compressOnce, type ContentEncoding } from './compression.js';

export const ASSET_PATH = '/graphql/assets/';
export const JS = 'text/javascript; charset=utf-8';
export const CSS = 'text/css; charset=utf-8';

/** One file a page loads, by its name under /graphql/assets/. */
export interface Asset {
  /** Where it is read from (called once, when the server starts). */
  path: () => string;
  type: string;
}

const require = createRequire(import.meta.url);
/** A file of an installed npm package. */
export const inPackage = (name: string, file: string) => join(dirname(require.resolve(`${name}/package.json`)), file);
/** A file next to the module whose `import.meta.url` is `base`. */
export const besides = (base: string, file: string) => fileURLToPath(new URL(file, base));

/** React 18's browser builds: both pages render with React (the `React` and `ReactDOM` globals). */
export const REACT_ASSETS: Record<string, Asset> = {
  'react.production.min.js': { path: () => inPackage('react', 'umd/react.production.min.js'), type: JS },
  'react-dom.production.min.js': { path: () => inPackage('react-dom', 'umd/react-dom.production.min.js'), type: JS },
};

/**
 * A page's Content-Security-Policy: only this origin (scripts, styles, requests and the
 * WebSocket to /graphql), plus the inline scripts whose hashes are given (an import map).
 * Inline styles are allowed: React and the libraries set them; fonts and icons may be data: URLs.
 */
export function pagePolicy(inlineScriptHashes: readonly string[] = []): string {
  return [
    "default-src 'none'",
    `script-src 'self'${inlineScriptHashes.map((hash) => ` '${hash}'`).join('')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The CSP source of an inline script: `sha256-<base64>` of its text. */
export function scriptHash(text: string): string {
  return `sha256-${createHash('sha256').update(text).digest('base64')}`;
}

/** Shorter than this, a file is sent as it is; longer ones are compressed once and kept, so they cost no CPU per request. */
const MIN_COMPRESSED = 1024;

/** One file: its bytes, its ETag, and its compressed forms once asked for. */
class Representation {
  readonly tag: string;
  private readonly encoded = new Map<ContentEncoding, Promise<Buffer>>();

  constructor(
    readonly bytes: Buffer,
    readonly type: string,
  ) {
    this.tag = createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
  }

  body(encoding: ContentEncoding | null): Promise<Buffer> | Buffer {
    if (encoding === null) return this.bytes;
    let body = this.encoded.get(encoding);
    if (!body) this.encoded.set(encoding, (body = compressOnce(this.bytes, encoding)));
    return body;
  }
}

/** An HTML page: its text, served with its Content-Security-Policy. */
export class HtmlPage {
  private readonly page: Representation;

  constructor(
    html: string,
    private readonly policy: string,
  ) {
    this.page = new Representation(Buffer.from(html), 'text/html; charset=utf-8');
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Content-Security-Policy', this.policy);
    res.setHeader('Referrer-Policy', 'no-referrer');
    await send(req, res, this.page);
  }
}

/** The files of the pages that are on, under /graphql/assets/. */
export class AssetFiles {
  private readonly files: Promise<Map<string, Representation>>;

  constructor(assets: Record<string, Asset>) {
    this.files = Promise.all(
      Object.entries(assets).map(async ([name, asset]) => [name, new Representation(await readFile(asset.path()), asset.type)] as const),
    ).then((entries) => new Map(entries));
    // Reported by the first request that needs them (a 500 naming the file), not as an unhandled rejection.
    this.files.catch(() => undefined);
  }

  /** Answers the asset `name` (under /graphql/assets/); false when there is none by that name. */
  async serve(req: IncomingMessage, res: ServerResponse, name: string): Promise<boolean> {
    const files = await this.files;
    const file = files.has(name) ? files.get(name) : undefined;
    if (!file) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = 405;
      res.setHeader('Allow', 'GET, HEAD');
      res.end();
      return true;
    }
    await send(req, res, file);
    return true;
  }
}

async function send(req: IncomingMessage, res: ServerResponse, file: Representation): Promise<void> {
  const encoding = file.bytes.length >= MIN_COMPRESSED ? acceptedEncoding(req.headers['accept-encoding']) : null;
  res.setHeader('Content-Type', file.type);
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.appendHeader('Vary', 'Accept-Encoding');
  // Each coding is a representation of its own, with its own ETag.
  res.setHeader('ETag', `"${file.tag}${encoding ? `-${encoding}` : ''}"`);
  if (matches(req.headers['if-none-match'], file.tag)) {
    res.statusCode = 304;
    return void res.end();
  }
  const body = await file.body(encoding);
  if (encoding) res.setHeader('Content-Encoding', encoding);
  res.setHeader('Content-Length', body.length);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Whether an If-None-Match header names a representation of the file tagged `tag` (weak comparison). */
function matches(header: string | undefined, tag: string): boolean {
  if (!header) return false;
  return header.split(',').some((item) => {
    const etag = item.trim().replace(/^W\//, '');
    return etag === '*' || etag === `"${tag}"` || etag === `"${tag}-br"` || etag === `"${tag}-gzip"`;
  });
}
