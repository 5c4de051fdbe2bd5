// Cross-origin access (PTS_CORS_ORIGINS): which web pages on other origins may read the
// API's answers over HTTP (CORS headers, preflight included) and open its WebSocket.
//
// Browsers send cross-site requests whatever the server says; CORS only decides whether
// the page may read the answer. Writes are not the risk here (the schema has no
// mutations), but an unauthenticated GET from any site still makes the server work, so
// Apollo's CSRF prevention is on (a GET needs a header a cross-site form cannot set, such
// as `content-type: application/json` or `apollo-require-preflight`), and a WebSocket
// upgrade, which browsers never preflight, is refused from an origin not allowed.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Request headers a page may send: the JSON content type, API keys, request ids, Apollo's CSRF headers. */
const ALLOWED_HEADERS = 'content-type, authorization, x-request-id, apollo-require-preflight, x-apollo-operation-name';
/** Response headers a page may read besides the simple ones. */
const EXPOSED_HEADERS = 'x-request-id, x-client-request-id, retry-after';
/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = 600;

export class Cors {
  private readonly any: boolean;
  private readonly origins: ReadonlySet<string>;

  /** `origins`: `scheme://host[:port]` each, or `*` for any; empty: no cross-origin access. */
  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.origins = new Set(origins.filter((o) => o !== '*').map((o) => o.toLowerCase()));
  }

  /** Whether a page of `origin` may read answers (and connect). */
  allows(origin: string): boolean {
    return this.any || this.origins.has(origin.toLowerCase());
  }

  /**
   * Sets the CORS headers of an answer to `req`; answers a preflight (OPTIONS) itself and
   * returns true when it did. An origin not allowed gets no CORS headers, so its page
   * cannot read the answer.
   */
  handle(req: IncomingMessage, res: ServerResponse, methods: string): boolean {
    const origin = req.headers.origin;
    const allowed = origin !== undefined && this.allows(origin);
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', this.any ? '*' : origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    // Caches must not hand one origin's answer to another.
    if (!this.any && this.origins.size > 0) res.setHeader('Vary', 'Origin');
    if (req.method !== 'OPTIONS') return false;
    if (allowed) {
      res.setHeader('Access-Control-Allow-Methods', methods);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE));
    }
    res.setHeader('Allow', `${methods}, OPTIONS`);
    res.statusCode = 204;
    res.end();
    return true;
  }

  /**
   * Whether a WebSocket upgrade may proceed: a client that sends no Origin (not a browser),
   * a page of the API's own origin, or an allowed origin.
   */
  allowsWebSocket(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (this.allows(origin)) return true;
    try {
      return new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
    } catch {
      return false;
    }
  }
}
