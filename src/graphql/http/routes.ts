// The HTTP side of the API on Node's own server: POST/GET /graphql through Apollo's
// integration interface (executeHTTPGraphQLRequest), the explorer page for a browser's GET
// /graphql (explorer.ts) and the risk page at GET / (risk-page.ts), each when on, with their
// files under /graphql/assets/ (static-files.ts), GET /health, /ready and /metrics, and a
// JSON 404 for anything else. No web framework: the API has four routes, and Express's
// router, body parser and response helpers took about a tenth of the server's CPU on the
// account risk query (bench/api a).
//
// Every response carries the request's id (`x-request-id`, made by the server; a client's
// own well-formed `x-request-id` is logged beside it and echoed as `x-client-request-id`),
// and CORS headers for allowed origins (cors.ts). A /graphql request passes the admission
// (protection/admission.ts): refused before its body is read when its API key is missing,
// wrong (401) or over its rate (429), and before parsing when its text nests too deep;
// past PTS_REQUEST_TIMEOUT_MS it is answered 503, its budget ended (its execution stops at
// its next list) and its snapshot released; a client that goes away ends it the same way.
// Its metrics are taken when the response closes, whatever ended it. Its answer, and that of
// /metrics, is compressed by the client's Accept-Encoding when long enough (compression.ts).
//
// /metrics needs an API key when PTS_API_KEYS is set and counts against its rate; /ready
// and /health stay open for load balancers and probes. All three answer from what they
// computed within the last second, so a flood of them costs no database work.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Logger } from '../../log/index.js';
import type { RequestContext } from '../context.js';
import type { Readiness } from '../health.js';
import type { ApiMetrics, OperationType, Outcome } from '../metrics.js';
import { cancelledError, timeoutError, type Admission, type ExecutionBudget, type Principal } from '../protection/index.js';
import { BodyError, readJsonBody } from './body.js';
import { Compression } from './compression.js';
import { wantsExplorer } from './explorer.js';
import { ASSET_PATH, type AssetFiles, type HtmlPage } from './static-files.js';
import type { Cors } from './cors.js';

/** What one HTTP request carries through the routes, Apollo's hooks and the metrics. */
export interface RequestInfo {
  requestId: string;
  /** The client's own `x-request-id`, when well formed. */
  clientRequestId: string | null;
  started: number;
  /** What the operation may spend; ended by the timeout or the client leaving. */
  budget: ExecutionBudget;
  operation: OperationType;
  outcome: Outcome | null;
  context: RequestContext | null;
  timedOut: boolean;
}

export interface HttpRoutesOptions {
  apollo: ApolloServer<RequestContext>;
  /** The context of a /graphql request, made when Apollo asks for it (after the body is read). */
  context(info: RequestInfo): RequestContext;
  admission: Admission;
  cors: Cors;
  readiness: Readiness;
  metrics: ApiMetrics;
  logger: Logger;
  /** Largest JSON body read, in decoded bytes; default 1 MiB. */
  bodyLimit?: number;
  /** How long /ready and /metrics reuse what they computed, in ms; default 1000. */
  statusCacheMs?: number;
  /** The explorer page (GraphiQL) at GET /graphql for a browser, when on (PTS_INTROSPECTION). */
  explorer?: HtmlPage | null;
  /** The risk page at GET /, when on (PTS_RISK_PAGE). */
  riskPage?: HtmlPage | null;
  /** The files of the pages that are on, under /graphql/assets/. */
  assets?: AssetFiles | null;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;
const READ_METHODS = new Set(['GET', 'HEAD']);

/** The server's request listener. */
export function httpRoutes(options: HttpRoutesOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { apollo, admission, cors, readiness, metrics, logger, explorer, riskPage, assets } = options;
  const timeoutMs = admission.options.timeoutMs;
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const answers = new Compression();
  const statusCacheMs = options.statusCacheMs ?? 1000;
  const readyReport = cached(() => readiness.check(), statusCacheMs);
  const metricsText = cached(() => metrics.text(), statusCacheMs);

  /** Steps 1 and 2 of the admission; false when the request was answered (401, 429). */
  const admit = (req: IncomingMessage, res: ServerResponse, info: RequestInfo): Principal | null => {
    const auth = admission.authenticate(req.headers.authorization, req.socket.remoteAddress);
    if (!auth.ok) {
      info.outcome = 'unauthorized';
      res.setHeader('WWW-Authenticate', auth.reason === 'missing' ? 'Bearer realm="pts"' : 'Bearer realm="pts", error="invalid_token"');
      sendError(res, info, 401, auth.message, 'UNAUTHENTICATED');
      return null;
    }
    const decision = admission.takeRequest(auth.principal);
    if (!decision.allowed) {
      info.outcome = 'rate_limited';
      res.setHeader('Retry-After', String(decision.retryAfterSeconds));
      const error = admission.rateError(decision.retryAfterSeconds);
      sendError(res, info, 429, error.message, 'RATE_LIMITED', { retryAfterSeconds: decision.retryAfterSeconds });
      return null;
    }
    return auth.principal;
  };

  const graphql = async (req: IncomingMessage, res: ServerResponse, info: RequestInfo, search: string) => {
    res.once('close', () => {
      const status = res.statusCode;
      // No outcome yet: the client went away before the answer (error), or Apollo answered
      // without running the pipeline (a 4xx for a request it could not read).
      const outcome = info.outcome ?? (!res.writableFinished || status >= 500 ? 'error' : status >= 400 ? 'rejected' : 'success');
      metrics.observeRequest(info.operation, outcome, 'http', (performance.now() - info.started) / 1000);
      // The client went away or the response is out: either way the snapshot goes back.
      void info.context?.release();
    });

    // The client left before the answer: its execution stops at its next list.
    res.once('close', () => {
      if (!res.writableFinished) info.budget.abort(cancelledError());
    });
    if (!admit(req, res, info)) return;

    if (timeoutMs > 0) {
      const timer = setTimeout(() => {
        info.timedOut = true;
        info.outcome = 'timeout';
        const error = timeoutError(timeoutMs);
        info.budget.abort(error);
        void info.context?.release();
        if (!res.headersSent) sendError(res, info, 503, error.message, 'REQUEST_TIMEOUT', { timeoutMs });
      }, timeoutMs);
      res.once('close', () => clearTimeout(timer));
    }

    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await readJsonBody(req, bodyLimit);
      } catch (error) {
        if (!(error instanceof BodyError)) throw error;
        info.outcome = 'rejected';
        // The rest of a refused body is not read: the connection cannot carry another request.
        if (!req.complete) res.setHeader('Connection', 'close');
        return sendError(res, info, error.status, error.message, 'BAD_REQUEST');
      }
    }
    // Step 3 of the admission, before Apollo parses the text.
    const query = req.method === 'POST' ? (body as { query?: unknown } | null)?.query : new URLSearchParams(search).get('query');
    const refused = admission.sourceError(query);
    if (refused) {
      info.outcome = 'rejected';
      return sendError(res, info, 400, refused.message, String(refused.extensions.code), withoutHttp(refused.extensions));
    }
    const headers = new HeaderMap();
    for (const name in req.headers) {
      const value = req.headers[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: async () => {
        if (info.timedOut) throw new GraphQLError('request timed out', { extensions: { code: 'REQUEST_TIMEOUT' } });
        return (info.context = options.context(info));
      },
    });
    if (res.headersSent || res.destroyed) return; // answered by the timer, or the client left
    res.statusCode = response.status ?? 200;
    for (const [name, value] of response.headers) res.setHeader(name, value);
    if (response.body.kind === 'complete') return answers.end(req, res, response.body.string);
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };

  const route = async (req: IncomingMessage, res: ServerResponse, info: RequestInfo) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    let path = query < 0 ? url : url.slice(0, query);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    if (path === '/graphql') {
      if (cors.handle(req, res, 'GET, POST')) return;
      const search = query < 0 ? '' : url.slice(query);
      // POST first: the hot path pays one comparison for the explorer.
      if (req.method !== 'POST' && wantsExplorer(req, search)) {
        if (explorer) return explorer.serve(req, res);
        return sendError(res, info, 404, 'No explorer here: set PTS_INTROSPECTION=true for GraphiQL at this URL; send queries as POST or ?query=', 'NOT_FOUND');
      }
      return graphql(req, res, info, search);
    }
    if (assets && path.startsWith(ASSET_PATH) && (await assets.serve(req, res, path.slice(ASSET_PATH.length)))) return;
    if (path === '/' && READ_METHODS.has(req.method ?? '')) {
      if (riskPage) return riskPage.serve(req, res);
      return sendError(res, info, 404, 'No risk page here: set PTS_RISK_PAGE=true for it at this URL; the API is at /graphql (also /health, /ready, /metrics)', 'NOT_FOUND');
    }
    if (path !== '/health' && path !== '/ready' && path !== '/metrics') {
      return sendError(res, info, 404, 'Not found: the API is at /graphql (also /health, /ready, /metrics)', 'NOT_FOUND');
    }
    if (cors.handle(req, res, 'GET, HEAD')) return;
    if (!READ_METHODS.has(req.method ?? '')) {
      res.setHeader('Allow', 'GET, HEAD');
      return sendError(res, info, 405, `${path} answers GET only`, 'METHOD_NOT_ALLOWED');
    }
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path === '/ready') {
      const report = await readyReport();
      return sendJson(res, report.ready ? 200 : 503, report);
    }
    if (!admit(req, res, info)) return;
    const text = await metricsText();
    res.setHeader('Content-Type', metrics.contentType);
    answers.end(req, res, text);
  };

  return (req, res) => {
    const given = req.headers['x-request-id'];
    const info: RequestInfo = {
      requestId: randomUUID(),
      clientRequestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : null,
      started: performance.now(),
      budget: admission.budget(),
      operation: 'unknown',
      outcome: null,
      context: null,
      timedOut: false,
    };
    res.setHeader('x-request-id', info.requestId);
    if (info.clientRequestId) res.setHeader('x-client-request-id', info.clientRequestId);
    route(req, res, info).catch((error: unknown) => {
      info.outcome = 'error';
      logger.error('internal error', {
        requestId: info.requestId,
        ...(info.clientRequestId ? { clientRequestId: info.clientRequestId } : {}),
        path: req.url,
        error: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      if (!res.headersSent) sendError(res, info, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
      else res.destroy();
    });
  };
}

/** `compute()`, reused for `ms` after it settled; one computation at a time. */
function cached<T>(compute: () => Promise<T>, ms: number): () => Promise<T> {
  let value: Promise<T> | null = null;
  let until = 0;
  return () => {
    if (value && performance.now() < until) return value;
    until = Infinity; // while computing: everyone waits for this one
    value = compute().finally(() => (until = performance.now() + ms));
    return value;
  };
}

function withoutHttp(extensions: Record<string, unknown>): Record<string, unknown> {
  const { http: _http, code: _code, ...rest } = extensions;
  return rest;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/** An error answered outside Apollo, in the shape of a GraphQL response. */
function sendError(res: ServerResponse, info: RequestInfo, status: number, message: string, code: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code, requestId: info.requestId, ...extra } }] });
}
