// The explorer (issue 17, item 4): GraphiQL at GET /graphql for a browser, on when
// introspection is (PTS_INTROSPECTION; `pts dev` by default). Everything the page loads is
// served from here, under /graphql/assets/, out of npm packages: GraphiQL's browser build
// (the graphiql package, whose 4.x line is the last to ship one) on React 18's UMD builds,
// and our start script (explorer/start.js). Nothing comes from a CDN, so it works offline,
// and the page's Content-Security-Policy lets it load or connect to nothing but this origin.
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

const require = createRequire(import.meta.url);
const inPackage = (name: string, file: string) => join(dirname(require.resolve(`${name}/package.json`)), file);

const JS = 'text/javascript; charset=utf-8';
/** What the page loads, by name under /graphql/assets/, in the order it loads the scripts. */
const ASSETS: Record<string, { path: () => string; type: string }> = {
  'graphiql.min.css': { path: () => inPackage('graphiql', 'graphiql.min.css'), type: 'text/css; charset=utf-8' },
  'react.production.min.js': { path: () => inPackage('react', 'umd/react.production.min.js'), type: JS },
  'react-dom.production.min.js': { path: () => inPackage('react-dom', 'umd/react-dom.production.min.js'), type: JS },
  'graphiql.min.js': { path: () => inPackage('graphiql', 'graphiql.min.js'), type: JS },
  'explorer.js': { path: () => fileURLToPath(new URL('./explorer/start.js', import.meta.url)), type: JS },
};
export const ASSET_PATH = '/graphql/assets/';

const scripts = Object.keys(ASSETS).filter((name) => name.endsWith('.js'));
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pts GraphQL explorer</title>
<link rel="stylesheet" href="${ASSET_PATH}graphiql.min.css">
<style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
<div id="graphiql">Loading the explorer...</div>
${scripts.map((name) => `<script src="${ASSET_PATH}${name}"></script>`).join('\n')}
</body>
</html>
`;

/**
 * Only this origin: scripts and styles from /graphql/assets/ (GraphiQL sets inline styles;
 * its fonts and icons are data: URLs in its CSS), requests and the WebSocket to /graphql.
 */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

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

export class Explorer {
  private readonly page = new Representation(Buffer.from(PAGE), 'text/html; charset=utf-8');
  private readonly assets: Promise<Map<string, Representation>>;

  constructor() {
    this.assets = Promise.all(
      Object.entries(ASSETS).map(async ([name, asset]) => [name, new Representation(await readFile(asset.path()), asset.type)] as const),
    ).then((entries) => new Map(entries));
    // Reported by the first request that needs them (a 500 naming the file), not as an unhandled rejection.
    this.assets.catch(() => undefined);
  }

  /** Whether `req` is a browser opening /graphql: GET or HEAD, HTML accepted, no `query` parameter. */
  static wantsPage(req: IncomingMessage, search: string): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (!req.headers.accept?.includes('text/html')) return false;
    return !new URLSearchParams(search).has('query');
  }

  /** Answers the page. */
  async servePage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Content-Security-Policy', PAGE_POLICY);
    res.setHeader('Referrer-Policy', 'no-referrer');
    await send(req, res, this.page);
  }

  /** Answers the asset `name` (under /graphql/assets/); false when there is none by that name. */
  async serveAsset(req: IncomingMessage, res: ServerResponse, name: string): Promise<boolean> {
    const asset = Object.hasOwn(ASSETS, name) ? (await this.assets).get(name) : undefined;
    if (!asset) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = 405;
      res.setHeader('Allow', 'GET, HEAD');
      res.end();
      return true;
    }
    await send(req, res, asset);
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
