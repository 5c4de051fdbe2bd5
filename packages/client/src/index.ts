/**
 * The typed partner client of the pts API (`npm install @pts/client`).
 *
 *   const pts = createPtsClient({ url: 'http://localhost:4000/graphql', apiKey });
 *   const { account } = await pts.request(AccountDocument, { owner });
 *   const stop = pts.subscribe(MarginStateChangedDocument, { owner }, ({ marginStateChanged }) => ...);
 *
 * Documents and result types are generated from src/operations/*.graphql (`npm run
 * codegen` at the repository's root): amounts are exact decimal strings (`Decimal`), block
 * numbers and timestamps plain numbers. Queries go over HTTP (fetch), subscriptions over
 * one shared graphql-ws WebSocket on the same URL, which reconnects with jittered
 * exponential backoff. Every failure is a PtsError subclass.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

export * from './generated/graphql.js';

export interface PtsClientOptions {
  /** The API endpoint, e.g. http://localhost:4000/graphql (WebSocket: the same URL with ws://). */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` (HTTP) and in connectionParams (WebSocket). */
  apiKey?: string | undefined;
  /** Times a request answered 429 is retried after its Retry-After. Default 2. */
  rateLimitRetries?: number | undefined;
  /** How the subscriptions' WebSocket reconnects after it is lost (see RECONNECT_DEFAULTS). */
  reconnect?: ReconnectOptions | undefined;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch | undefined;
  /** A WebSocket class; defaults to the global one, else the `ws` package (Node 20 has no global WebSocket). */
  webSocketImpl?: unknown;
}

export interface ReconnectOptions {
  /** Failed connection attempts in a row before subscriptions end with a PtsTransportError; `Infinity` never gives up. A connection that opens starts the count again. */
  attempts?: number | undefined;
  /** Ceiling of the wait before the first attempt, in ms; it doubles with each failed attempt. */
  baseDelayMs?: number | undefined;
  /** The largest ceiling, in ms. */
  maxDelayMs?: number | undefined;
}

/** 10 attempts over about 90 s on average (ceilings 1, 2, 4, 8, 16, then 30 s). */
export const RECONNECT_DEFAULTS = { attempts: 10, baseDelayMs: 1000, maxDelayMs: 30_000 } as const;

/**
 * The wait before reconnection attempt `retries` (0: the first): "full jitter", a uniform
 * draw in [0, min(maxDelayMs, baseDelayMs * 2^retries)). Clients dropped together, as by
 * a server restart, come back spread over the whole window instead of all at once.
 */
export function reconnectDelayMs(retries: number, options: ReconnectOptions = {}, random: () => number = Math.random): number {
  const base = options.baseDelayMs ?? RECONNECT_DEFAULTS.baseDelayMs;
  const max = options.maxDelayMs ?? RECONNECT_DEFAULTS.maxDelayMs;
  return Math.floor(random() * Math.min(max, base * 2 ** retries));
}

/** Variables argument: optional when the operation has none that are required. */
type VariablesArg<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

export interface SubscribeHandlers {
  /** The subscription ended with an error (refused, connection lost for good, ...), or one of its results carried errors. */
  onError?: ((error: PtsError) => void) | undefined;
  /** The server completed the subscription. */
  onComplete?: (() => void) | undefined;
}

export interface PtsClient {
  /** Runs a query over HTTP; resolves with its data, rejects with a PtsError. */
  request<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    ...variables: VariablesArg<TVariables>
  ): Promise<TResult>;
  /** Subscribes over WebSocket; returns the function that unsubscribes. */
  subscribe<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
    onData: (data: TResult) => void,
    handlers?: SubscribeHandlers,
  ): () => void;
  /** Ends every subscription and closes the WebSocket. */
  close(): Promise<void>;
}

interface ErrorDetails {
  status?: number;
  errors?: readonly GraphQLFormattedError[];
  closeCode?: number | undefined;
  cause?: unknown;
}

/** Any failure of the client; the subclasses below say which. */
export class PtsError extends Error {
  override name = 'PtsError';
  /** The HTTP status of the answer; 0 when there was none (WebSocket, network). */
  readonly status: number;
  /** The GraphQL errors the server answered, each with its `extensions.code`; empty when none. */
  readonly errors: readonly GraphQLFormattedError[];
  /** The WebSocket close code, when the connection closed (4403 refused key, 4008 too slow, 1006 lost, ...). */
  readonly closeCode: number | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status ?? 0;
    this.errors = details.errors ?? [];
    this.closeCode = details.closeCode;
  }

  /** The `extensions.code` of the first error (BAD_USER_INPUT, UNAUTHENTICATED, RATE_LIMITED, ...). */
  get code(): string | undefined {
    const code = this.errors[0]?.extensions?.['code'];
    return typeof code === 'string' ? code : undefined;
  }
}

/** The API could not be reached, or the connection was lost for good: `url` is where, `cause` the network error. */
export class PtsTransportError extends PtsError {
  override name = 'PtsTransportError';
  constructor(
    readonly url: string,
    cause: unknown,
    closeCode?: number,
  ) {
    super(`pts API unreachable at ${url}: ${describe(cause)}`, { cause, closeCode });
  }
}

/** An HTTP answer that is not a GraphQL response (a proxy's error page, ...): its status and the start of its body. */
export class PtsHttpError extends PtsError {
  override name = 'PtsHttpError';
  constructor(
    status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`, { status });
  }
}

/** The server answered with GraphQL errors (invalid, refused, failed): `errors`, `code` (the first one's). */
export class PtsGraphQLError extends PtsError {
  override name = 'PtsGraphQLError';
  constructor(errors: readonly GraphQLFormattedError[], status: number) {
    super(errors.map((e) => e.message).join('; ') || `GraphQL error (HTTP ${status})`, { status, errors });
  }
}

/** Refused by a rate limit (HTTP 429 once the retries are spent, or a refused subscription): wait `retryAfter` seconds. */
export class PtsRateLimitedError extends PtsGraphQLError {
  override name = 'PtsRateLimitedError';
  constructor(
    errors: readonly GraphQLFormattedError[],
    status: number,
    readonly retryAfter: number | undefined,
  ) {
    super(errors, status);
  }
}

/**
 * The server closed the WebSocket and the client will not reconnect by itself:
 * `closeCode` 4403 (API key refused), 4400 (bad request), 4008 (too slow to read its
 * messages), 4029 (too many connections, once the attempts are spent), ...
 */
export class PtsClosedError extends PtsError {
  override name = 'PtsClosedError';
  constructor(closeCode: number, reason: string) {
    super(`WebSocket closed: ${closeCode} ${reason}`.trimEnd(), { closeCode });
  }
}

/** Refusals that would be refused again: no reconnection. */
const FINAL_CLOSE_CODES = new Set([4400, 4403, 4008]);
/** Closes that say the connection was lost, not refused (going away, abnormal, restart, try later, bad gateway). */
const LOST_CLOSE_CODES = new Set([1001, 1005, 1006, 1012, 1013, 1014]);

export function createPtsClient(options: PtsClientOptions): PtsClient {
  const { url } = options;
  const wsUrl = url.replace(/^http/, 'ws');
  const doFetch = options.fetch ?? globalThis.fetch;
  const authorization = options.apiKey ? `Bearer ${options.apiKey}` : undefined;
  const reconnect = options.reconnect ?? {};
  const printed = new WeakMap<object, string>();
  const source = (document: object) => {
    let text = printed.get(document);
    if (text === undefined) printed.set(document, (text = print(document as TypedDocumentNode)));
    return text;
  };

  // A close event (1006) says nothing of why; the socket's last error (ECONNREFUSED, ...) does.
  let lastSocketError: unknown;
  let ws: Promise<Client> | null = null;
  const webSocket = () =>
    (ws ??= (async () => {
      const impl = options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket ?? (await importWs(wsUrl));
      return createClient({
        url: wsUrl,
        webSocketImpl: impl,
        connectionParams: authorization ? { authorization } : {},
        lazy: true,
        retryAttempts: reconnect.attempts ?? RECONNECT_DEFAULTS.attempts,
        retryWait: (retries) => sleep(reconnectDelayMs(retries, reconnect)),
        // Reconnect after network trouble (graphql-ws alone would not retry a refused
        // connection), never after a refusal that would be repeated.
        shouldRetry: (event) => !isCloseEvent(event) || !FINAL_CLOSE_CODES.has(event.code),
        on: {
          connected: () => (lastSocketError = undefined),
          error: (error) => (lastSocketError = error),
        },
      });
    })().catch((error: unknown) => {
      ws = null; // a later subscribe tries again
      throw error;
    }));

  const socketError = (error: unknown): PtsError => {
    if (Array.isArray(error)) return graphQLError(error as GraphQLFormattedError[], 0);
    if (isCloseEvent(error)) {
      return LOST_CLOSE_CODES.has(error.code)
        ? new PtsTransportError(wsUrl, lastSocketError === undefined ? `closed ${error.code}` : causeOf(lastSocketError), error.code)
        : new PtsClosedError(error.code, error.reason);
    }
    return error instanceof PtsError ? error : new PtsTransportError(wsUrl, causeOf(error));
  };

  async function request<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    ...[variables]: VariablesArg<TVariables>
  ): Promise<TResult> {
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query: source(document), variables: variables ?? {} }),
    };
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, init);
        const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
        if (response.status === 429 && retryAfter !== undefined && attempt < (options.rateLimitRetries ?? 2)) {
          await response.body?.cancel();
          await sleep(retryAfter * 1000);
          continue;
        }
        text = await response.text();
      } catch (error) {
        throw new PtsTransportError(url, causeOf(error));
      }
      return dataOf(response, text) as TResult;
    }
  }

  function subscribe<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
    onData: (data: TResult) => void,
    handlers: SubscribeHandlers = {},
  ): () => void {
    let dispose: (() => void) | undefined;
    let stopped = false;
    webSocket().then(
      (client) => {
        if (stopped) return;
        dispose = client.subscribe<TResult>(
          { query: source(document), variables },
          {
            next: (result) => {
              if (result.errors?.length) handlers.onError?.(graphQLError(result.errors, 0));
              else if (result.data) onData(result.data);
            },
            error: (error) => handlers.onError?.(socketError(error)),
            complete: () => handlers.onComplete?.(),
          },
        );
      },
      (error: unknown) => handlers.onError?.(socketError(error)),
    );
    return () => {
      stopped = true;
      dispose?.();
    };
  }

  return {
    request,
    subscribe,
    async close() {
      const client = ws;
      ws = null;
      await (await client?.catch(() => undefined))?.dispose();
    },
  };
}

/** The data of an HTTP answer, or the PtsError it amounts to. */
function dataOf(response: Response, text: string): unknown {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new PtsHttpError(response.status, text);
  }
  const errors = isObject(payload) && Array.isArray(payload['errors']) ? (payload['errors'] as GraphQLFormattedError[]) : [];
  if (errors.length) throw graphQLError(errors, response.status, retryAfterSeconds(response.headers.get('retry-after')));
  if (!response.ok || !isObject(payload) || !isObject(payload['data'])) throw new PtsHttpError(response.status, text);
  return payload['data'];
}

function graphQLError(errors: readonly GraphQLFormattedError[], status: number, retryAfter?: number): PtsGraphQLError {
  const limited = errors.find((e) => e.extensions?.['code'] === 'RATE_LIMITED');
  if (status !== 429 && !limited) return new PtsGraphQLError(errors, status);
  const said = limited?.extensions?.['retryAfterSeconds'];
  return new PtsRateLimitedError(errors, status, retryAfter ?? (typeof said === 'number' ? said : undefined));
}

/** Retry-After in seconds (the pts API sends seconds, never an HTTP date). */
function retryAfterSeconds(header: string | null): number | undefined {
  const seconds = header === null || header.trim() === '' ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

// Node before 22 has no global WebSocket and `ws` is an optional peer dependency. The
// specifier is a variable so that bundlers (for browsers, which have WebSocket) leave it.
async function importWs(wsUrl: string): Promise<unknown> {
  const name = 'ws';
  try {
    return ((await import(name)) as { default: unknown }).default;
  } catch (error) {
    const missing = new Error('this runtime has no WebSocket: install the `ws` package (Node 20) or pass webSocketImpl', { cause: error });
    throw new PtsTransportError(wsUrl, missing);
  }
}

/** The network error inside what fetch or a WebSocket reports: fetch's TypeError('fetch failed') and ws's error event wrap it. */
function causeOf(error: unknown): unknown {
  if (!isObject(error)) return error;
  return error['cause'] ?? error['error'] ?? error;
}

/** One line for a network error: its message, else its code (an AggregateError of ECONNREFUSED has no message). */
function describe(cause: unknown): string {
  if (isObject(cause)) {
    for (const key of ['message', 'code', 'type']) {
      const value = cause[key];
      if (typeof value === 'string' && value !== '') return value;
    }
  }
  return String(cause);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return isObject(value) && typeof value['code'] === 'number' && 'reason' in value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
