// The HTTP side of the API on Node's own server: POST/GET /graphql through Apollo's
// integration interface (executeHTTPGraphQLRequest), GET /health, /ready and /metrics, and a
// JSON 404 for anything else. No web framework: the API has four routes, and Express's
// router, body parser and response helpers took about a tenth of the server's CPU on the
// account risk query (bench/api a).
//
// Every response carries the request's id (`x-request-id`: the client's, when well formed).
// A /graphql request is refused before its body is read when its API key is missing, wrong
// (401) or over its rate (429); past PTS_REQUEST_TIMEOUT_MS it is answered 503 and its
// snapshot released; its metrics are taken when the response closes, whatever ended it.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Logger } from '../../log/index.js';
import type { RequestContext } from '../context.js';
import type { Readiness } from '../health.js';
import type { ApiMetrics, OperationType, Outcome } from '../metrics.js';
import type { ApiKeys, RateLimiter } from '../protection/index.js';
import { BodyError, readJsonBody } from './body.js';
import { ResponseBuffers } from './response-buffers.js';

/** What one HTTP request carries through the routes, Apollo's hooks and the metrics. */
export interface RequestInfo {
  requestId: string;
  started: number;
  operation: OperationType;
  outcome: Outcome | null;
  context: RequestContext | null;
  timedOut: boolean;
}

export interface HttpRoutesOptions {
  apollo: ApolloServer<RequestContext>;
  /** The context of a /graphql request, made when Apollo asks for it (after the body is read). */
  context(info: RequestInfo): RequestContext;
  keys: ApiKeys;
  rates: RateLimiter;
  readiness: Readiness;
  metrics: ApiMetrics;
  logger: Logger;
  /** PTS_REQUEST_TIMEOUT_MS; 0: no limit. */
  timeoutMs: number;
  /** Largest JSON body read, in decoded bytes; default 1 MiB. */
  bodyLimit?: number;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;
const READ_METHODS = new Set(['GET', 'HEAD']);

/** The server's request listener. */
export function httpRoutes(options: HttpRoutesOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { apollo, keys, rates, readiness, metrics, logger, timeoutMs } = options;
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const bodies = new ResponseBuffers();

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

    const auth = keys.check(req.headers.authorization);
    if (!auth.ok) {
      info.outcome = 'unauthorized';
      res.setHeader('WWW-Authenticate', auth.reason === 'missing' ? 'Bearer realm="pts"' : 'Bearer realm="pts", error="invalid_token"');
      return sendError(res, info, 401, auth.message, 'UNAUTHENTICATED');
    }
    if (auth.key !== null) {
      const decision = rates.take(auth.key);
      if (!decision.allowed) {
        info.outcome = 'rate_limited';
        res.setHeader('Retry-After', String(decision.retryAfterSeconds));
        return sendError(res, info, 429, rates.message(decision.retryAfterSeconds), 'RATE_LIMITED', {
          retryAfterSeconds: decision.retryAfterSeconds,
        });
      }
    }

    if (timeoutMs > 0) {
      const timer = setTimeout(() => {
        info.timedOut = true;
        info.outcome = 'timeout';
        void info.context?.release();
        if (!res.headersSent) {
          sendError(
            res,
            info,
            503,
            `Request timed out after ${timeoutMs} ms (PTS_REQUEST_TIMEOUT_MS): ask for less (a smaller \`first\`, fewer fields) or retry`,
            'REQUEST_TIMEOUT',
            { timeoutMs },
          );
        }
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
    if (response.body.kind === 'complete') return bodies.end(res, response.body.string);
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };

  const route = async (req: IncomingMessage, res: ServerResponse, info: RequestInfo) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    let path = query < 0 ? url : url.slice(0, query);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    if (path === '/graphql') return graphql(req, res, info, query < 0 ? '' : url.slice(query));
    if (path !== '/health' && path !== '/ready' && path !== '/metrics') {
      return sendError(res, info, 404, 'Not found: the API is at /graphql (also /health, /ready, /metrics)', 'NOT_FOUND');
    }
    if (!READ_METHODS.has(req.method ?? '')) {
      res.setHeader('Allow', 'GET, HEAD');
      return sendError(res, info, 405, `${path} answers GET only`, 'METHOD_NOT_ALLOWED');
    }
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path === '/ready') {
      const report = await readiness.check();
      return sendJson(res, report.ready ? 200 : 503, report);
    }
    const text = await metrics.text();
    res.setHeader('Content-Type', metrics.contentType);
    res.end(text);
  };

  return (req, res) => {
    const given = req.headers['x-request-id'];
    const info: RequestInfo = {
      requestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
      started: performance.now(),
      operation: 'unknown',
      outcome: null,
      context: null,
      timedOut: false,
    };
    res.setHeader('x-request-id', info.requestId);
    route(req, res, info).catch((error: unknown) => {
      info.outcome = 'error';
      logger.error('internal error', {
        requestId: info.requestId,
        path: req.url,
        error: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      if (!res.headersSent) sendError(res, info, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
      else res.destroy();
    });
  };
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
