/**
 * The typed partner client of the pts API (`import { createPtsClient } from 'pts/client'`).
 *
 *   const pts = createPtsClient({ url: 'http://localhost:4000/graphql', apiKey });
 *   const { account } = await pts.request(AccountDocument, { owner });
 *   const stop = pts.subscribe(MarginStateChangedDocument, { owner }, ({ marginStateChanged }) => ...);
 *
 * Documents and result types are generated from src/client/operations/*.graphql
 * (`npm run codegen`): amounts are exact decimal strings (`Decimal`), block numbers and
 * timestamps plain numbers. Queries go over HTTP (fetch), subscriptions over one shared
 * graphql-ws WebSocket on the same URL.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

export * from './generated/graphql.js';

export interface PtsClientOptions {
  /** The API endpoint, e.g. http://localhost:4000/graphql (WebSocket: the same URL with ws://). */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` (HTTP) and in connectionParams (WebSocket). */
  apiKey?: string;
  /** Times a request answered 429 is retried after its Retry-After. Default 2. */
  rateLimitRetries?: number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** A WebSocket implementation; defaults to the global one, else the `ws` package (Node). */
  webSocketImpl?: unknown;
}

/** Variables argument: optional when the operation has none that are required. */
type VariablesArg<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

export interface SubscribeHandlers {
  /** The subscription ended with an error (refused, connection closed, ...). */
  onError?: (error: PtsError) => void;
  /** The server completed the subscription. */
  onComplete?: () => void;
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

/** A failed request or subscription: the HTTP status (0 over WebSocket) and the GraphQL errors. */
export class PtsError extends Error {
  override name = 'PtsError';

  constructor(
    message: string,
    readonly status: number,
    readonly errors: readonly GraphQLFormattedError[],
    /** WebSocket close code, when the connection was closed (4403 forbidden, 4008 too slow, ...). */
    readonly closeCode?: number,
  ) {
    super(message);
  }

  /** The `extensions.code` of the first error (BAD_USER_INPUT, RATE_LIMITED, ...). */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.['code'] as string | undefined;
  }
}

export function createPtsClient(options: PtsClientOptions): PtsClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const authorization = options.apiKey ? `Bearer ${options.apiKey}` : undefined;
  const printed = new WeakMap<object, string>();
  const source = (document: TypedDocumentNode<unknown, never>) => {
    let text = printed.get(document);
    if (text === undefined) printed.set(document, (text = print(document)));
    return text;
  };
  let ws: Promise<Client> | null = null;
  const webSocket = () =>
    (ws ??= (async () => {
      const impl = options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket ?? (await import('ws')).default;
      return createClient({
        url: options.url.replace(/^http/, 'ws'),
        webSocketImpl: impl,
        connectionParams: authorization ? { authorization } : {},
        lazy: true,
        // Reconnect on network trouble, never when the server refused us.
        retryAttempts: 5,
        shouldRetry: (event) => !isCloseEvent(event) || ![4400, 4403, 4008].includes(event.code),
      });
    })());

  return {
    async request(document, ...[variables]) {
      const body = JSON.stringify({ query: source(document as TypedDocumentNode<unknown, never>), variables: variables ?? {} });
      for (let attempt = 0; ; attempt++) {
        const response = await doFetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...(authorization ? { authorization } : {}) },
          body,
        });
        const retryAfter = Number(response.headers.get('retry-after'));
        if (response.status === 429 && attempt < (options.rateLimitRetries ?? 2) && retryAfter > 0) {
          await response.body?.cancel();
          await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
          continue;
        }
        const text = await response.text();
        let payload: { data?: unknown; errors?: GraphQLFormattedError[] };
        try {
          payload = JSON.parse(text);
        } catch {
          throw new PtsError(`HTTP ${response.status}: ${text.slice(0, 200)}`, response.status, []);
        }
        if (payload.errors?.length || !response.ok) {
          const errors = payload.errors ?? [];
          throw new PtsError(errors.map((e) => e.message).join('; ') || `HTTP ${response.status}`, response.status, errors);
        }
        return payload.data as never;
      }
    },

    subscribe(document, variables, onData, handlers = {}) {
      let dispose: (() => void) | null = null;
      let stopped = false;
      void webSocket().then(
        (client) => {
          if (stopped) return;
          dispose = client.subscribe<never>(
            { query: source(document as TypedDocumentNode<unknown, never>), variables },
            {
              next: (result) => {
                if (result.errors?.length) {
                  handlers.onError?.(new PtsError(result.errors.map((e) => e.message).join('; '), 0, result.errors));
                } else if (result.data) {
                  onData(result.data);
                }
              },
              error: (error) => handlers.onError?.(toPtsError(error)),
              complete: () => handlers.onComplete?.(),
            },
          );
        },
        (error: unknown) => handlers.onError?.(toPtsError(error)),
      );
      return () => {
        stopped = true;
        dispose?.();
      };
    },

    async close() {
      const client = ws;
      ws = null;
      if (client) await (await client).dispose();
    },
  };
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && typeof (value as { code: unknown }).code === 'number';
}

function toPtsError(error: unknown): PtsError {
  if (Array.isArray(error)) {
    const errors = error as GraphQLFormattedError[];
    return new PtsError(errors.map((e) => e.message).join('; '), 0, errors);
  }
  if (isCloseEvent(error)) {
    return new PtsError(`WebSocket closed: ${error.code} ${error.reason}`, 0, [], error.code);
  }
  return new PtsError(error instanceof Error ? error.message : String(error), 0, []);
}
