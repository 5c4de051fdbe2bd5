// The API process: one Node HTTP server; Apollo Server 5 answers POST/GET /graphql
// (http/routes.ts) and graphql-ws answers WebSocket upgrades on the same path and port;
// /health, /ready and /metrics beside them (SPEC section 6, src/graphql/README.md).
//
// Each HTTP operation gets its own RequestContext (one snapshot), released as soon as the
// response is ready, on errors, on timeouts and when the client goes away. Each WebSocket
// operation gets one too, released when the operation completes; subscriptions refresh it
// around every event (subscriptions/resolvers.ts).
//
// The API reads through a pool of its own (PTS_API_POOL_SIZE connections): a flood of API
// requests cannot take the connections the ingester commits with, and every statement on
// it carries a `statement_timeout` just above PTS_REQUEST_TIMEOUT_MS, so PostgreSQL itself
// cancels what a timed-out request left running.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import {
  execute,
  getOperationAST,
  GraphQLError,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config/index.js';
import { exactTypes, PtsPool } from '../db/adapter.js';
import type { Database } from '../db/database.js';
import type { LedgerParams } from '../ledger/index.js';
import type { Logger } from '../log/index.js';
import { BlockCache } from './block-cache.js';
import { compiledExecutor } from './compiled-executor.js';
import { RequestContext, type ApiDeps } from './context.js';
import { httpRoutes, type RequestInfo } from './http/routes.js';
import { LatestBlock } from './latest-block.js';
import { socketSink } from './subscriptions/socket-sink.js';
import { Readiness } from './health.js';
import { ApiMetrics, type OperationType, type Outcome } from './metrics.js';
import {
  ApiKeys,
  checkDocument,
  costError,
  costPlugin,
  DEFAULT_LIMITS,
  limitRules,
  maskError,
  parseOptions,
  RateLimiter,
  type QueryLimits,
} from './protection/index.js';
import { buildSchema } from './schema.js';
import { BlockFeed, Hub, onSubscriberOverflow, SharedSubscriptions, subscriptionResolvers } from './subscriptions/index.js';

export interface StartServerOptions {
  config: Config;
  /** The migrated database (url for the API's own pool and the LISTEN connection). */
  database: Pick<Database, 'url'>;
  logger: Logger;
  /** Overrides config.port; 0 picks a free port. */
  port?: number;
  /** Interface to listen on; default: all. */
  host?: string;
  /** Query limits (protection/limits.ts); default DEFAULT_LIMITS. */
  limits?: Partial<QueryLimits>;
  /**
   * How long a subscriber's full buffer may wait for it to read before it is cut off;
   * default 2000 ms (src/graphql/subscriptions/hub.ts).
   */
  subscriptionGraceMs?: number;
  /** Builds the schema around the Subscription resolvers; default src/graphql/schema.ts (tests swap it). */
  schema?: (subscription: ReturnType<typeof subscriptionResolvers>) => GraphQLSchema;
}

export interface PtsServer {
  /** http://host:port/graphql (the WebSocket endpoint is the same with ws://). */
  url: string;
  httpServer: http.Server;
  hub: Hub;
  feed: BlockFeed;
  metrics: ApiMetrics;
  /** Graceful: refuses new work, lets in-flight HTTP requests finish, closes WebSockets (1001). */
  stop(): Promise<void>;
}

/** Per WebSocket connection. */
interface Connection {
  /** The API key it authenticated with (null: the API is open). */
  key: string | null;
  /** Live operations by id, with their contexts. */
  operations: Map<string, RequestContext>;
}

/** Close code of a subscriber whose buffer overflowed. */
export const CLOSE_TOO_SLOW = 4008;

export async function startServer(options: StartServerOptions): Promise<PtsServer> {
  const { config, database, logger } = options;
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const timeoutMs = config.requestTimeoutMs;
  const params: LedgerParams = { oracleStalenessSeconds: config.oracleStalenessSeconds, riskFreeRate: config.riskFreeRate };

  const pool = new PtsPool({
    connectionString: database.url,
    max: config.apiPoolSize,
    application_name: 'pts-api',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 10_000,
    types: exactTypes,
    // The request timer answers first; this cancels the statement it leaves behind.
    ...(timeoutMs > 0 ? { statement_timeout: timeoutMs + 1000 } : {}),
    // A snapshot left open by a bug cannot pin a connection (and vacuum) for long.
    idle_in_transaction_session_timeout: Math.max(60_000, 2 * timeoutMs),
  });
  // Trusted only while the feed below LISTENs; it forgets the block on every notification.
  const latestBlock = new LatestBlock({ listening: () => feed.connected });
  const blockCache = new BlockCache();
  const deps: ApiDeps = { pool, params, blockCache, latestBlock };

  const metrics = new ApiMetrics(async () => {
    const { rows } = await pool.query('SELECT block_number, head_block_number FROM cursor WHERE id = 1');
    return rows[0] ? { block: Number(rows[0].block_number), head: Number(rows[0].head_block_number) } : null;
  });
  const readiness = new Readiness({ pool, maxLag: config.readyMaxLag, confirmations: config.confirmations });
  const keys = new ApiKeys(config.apiKeys);
  const rates = new RateLimiter(config.rateLimitPerSecond);

  const hub = new Hub({ bufferSize: config.subscriptionBufferSize, graceMs: options.subscriptionGraceMs, metrics });
  const feed = new BlockFeed({
    connectionString: database.url,
    logger: logger.child({ component: 'subscription-feed' }),
    publish: (event) => hub.publish(event),
    onNotified: (commit) => {
      latestBlock.forget();
      blockCache.committed(commit);
    },
  });
  const schema = (options.schema ?? ((Subscription) => buildSchema({ Subscription })))(subscriptionResolvers(hub));

  // Its request listener is added once Apollo has started (httpRoutes).
  const httpServer = http.createServer();
  // Apollo's hooks find the request's info through its context, and formatError (which is
  // given no context) the request id through the errors didEncounterErrors saw first. No
  // AsyncLocalStorage: it turns on promise hooks for the whole process, a cost on every
  // await of every request and subscription event (a tenth of the fan-out's CPU).
  // (Apollo hands hooks a shallow clone of the context: a symbol property survives it.)
  const INFO = Symbol('request info');
  const infoOf = (context: RequestContext) => (context as RequestContext & { [INFO]?: RequestInfo })[INFO];
  const errorRequestIds = new WeakMap<object, string>();
  const requestIdOf = (error: unknown) => (typeof error === 'object' && error !== null ? errorRequestIds.get(error) : undefined);

  // ---------------------------------------------------------------- Apollo (HTTP)
  const requestPlugin: ApolloServerPlugin<RequestContext> = {
    async requestDidStart({ contextValue }) {
      const info = infoOf(contextValue);
      return {
        async didResolveOperation({ operation }) {
          if (info && operation) info.operation = operation.operation as OperationType;
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) errorRequestIds.set(error, contextValue.requestId);
        },
        async willSendResponse({ response, contextValue }) {
          // Everything is resolved: give the snapshot back before the bytes go out.
          await contextValue.release();
          if (!info || info.outcome) return;
          const body = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
          info.outcome = !body.errors?.length ? 'success' : body.data === undefined ? 'rejected' : 'error';
        },
      };
    },
  };
  const apollo = new ApolloServer<RequestContext>({
    gateway: compiledExecutor(schema),
    introspection: config.introspection,
    // The schema has no mutations and keys travel in a header, never in cookies: there is
    // no side effect for a cross-site request to trigger, and plain GET queries (curl,
    // browsers) should work without a preflight header.
    csrfPrevention: false,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // The command that runs the server owns SIGINT/SIGTERM and drains in order (stop()).
    // Apollo's own handler (on outside NODE_ENV=test) stopped it and re-raised the signal
    // mid-shutdown, killing the process with the database and the devnet still stopping.
    stopOnTerminationSignals: false,
    validationRules: limitRules(limits),
    parseOptions: parseOptions(limits),
    formatError: (formatted, error) => maskError(formatted, error, requestIdOf(error), logger),
    logger: apolloLogger(logger),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: timeoutMs + 1000 }),
      costPlugin(limits),
      requestPlugin,
      // No cache hints are served; the default cache-control plugin would still wrap every
      // field resolver (about a fifth of execution time on the account risk query).
      ApolloServerPluginCacheControlDisabled(),
      ...(config.introspection ? [] : [ApolloServerPluginLandingPageDisabled()]),
    ],
  });
  await apollo.start();

  httpServer.on(
    'request',
    httpRoutes({
      apollo,
      context: (info) => Object.assign(new RequestContext(deps, { requestId: info.requestId, assumeLatestBlock: true }), { [INFO]: info }),
      keys,
      rates,
      readiness,
      metrics,
      logger,
      timeoutMs,
    }),
  );

  // ---------------------------------------------------------------- WebSocket (graphql-ws)
  // Upgrades are routed to it here rather than by ws listening on the HTTP server itself,
  // which would also re-emit the HTTP server's errors (a port in use) on the WebSocket
  // server, where graphql-ws prints them as an internal error of its own.
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  httpServer.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((request.url ?? '').split('?', 1)[0] !== '/graphql') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wsServer.handleUpgrade(request, socket, head, (ws) => wsServer.emit('connection', ws, request));
  });
  const connections = new WeakMap<WebSocket, Connection>();
  wsServer.on('connection', (socket) => {
    metrics.connectionOpened();
    socket.once('close', () => metrics.connectionClosed());
  });
  const closeTooSlow = (socket: WebSocket, message: string) => {
    logger.warn('closing a subscriber that does not keep up', { reason: message });
    socket.close(CLOSE_TOO_SLOW, message);
    // A client that stopped reading may never answer the close handshake.
    setTimeout(() => socket.terminate(), 5000).unref();
  };
  const releaseOperation = (socket: WebSocket, id: string) => {
    const connection = connections.get(socket);
    const context = connection?.operations.get(id);
    if (!context) return;
    connection!.operations.delete(id);
    void context.release();
  };

  const shared = new SharedSubscriptions();
  const maskedResult = (result: ExecutionResult, requestId: string) => ({
    ...result,
    errors: result.errors?.map((e) => maskError(e.toJSON(), e, requestId, logger)),
  });
  const wsCleanup = useServer<Record<string, unknown> | undefined>(
    {
      schema,
      subscribe: shared.subscribe,
      onConnect: (ctx) => {
        const params = ctx.connectionParams ?? {};
        const given = params.authorization ?? params.Authorization ?? ctx.extra.request.headers.authorization;
        const auth = keys.check(given);
        if (!auth.ok) {
          metrics.observeRequest('unknown', 'unauthorized', 'ws', 0);
          ctx.extra.socket.close(4403, `Forbidden: ${auth.message} (connectionParams: { authorization: "Bearer <key>" })`.slice(0, 123));
          return false;
        }
        connections.set(ctx.extra.socket, { key: auth.key, operations: new Map() });
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const started = performance.now();
        const connection = connections.get(ctx.extra.socket);
        const refuse = (outcome: Outcome, operation: OperationType, errors: GraphQLError[]) => {
          metrics.observeRequest(operation, outcome, 'ws', (performance.now() - started) / 1000);
          return errors;
        };
        if (!connection) return refuse('unauthorized', 'unknown', [new GraphQLError('Not authenticated', { extensions: { code: 'UNAUTHENTICATED' } })]);
        if (connection.key !== null) {
          const decision = rates.take(connection.key);
          if (!decision.allowed) {
            return refuse('rate_limited', 'unknown', [
              new GraphQLError(rates.message(decision.retryAfterSeconds), {
                extensions: { code: 'RATE_LIMITED', retryAfterSeconds: decision.retryAfterSeconds },
              }),
            ]);
          }
        }
        const checked = checkDocument(schema, payload.query, limits, config.introspection);
        if ('errors' in checked) return refuse('rejected', 'unknown', checked.errors.map(withRequestCode));
        const operation = getOperationAST(checked.document, payload.operationName);
        if (!operation) {
          return refuse('rejected', 'unknown', [
            new GraphQLError(
              payload.operationName ? `Unknown operation named "${payload.operationName}".` : 'Must provide operation name if query contains multiple operations.',
              { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } },
            ),
          ]);
        }
        const type = operation.operation as OperationType;
        const tooCostly = costError(schema, checked.document, operation, payload.variables ?? undefined, limits);
        if (tooCostly) return refuse('rejected', type, [tooCostly]);
        const context = new RequestContext(deps);
        onSubscriberOverflow(context, (message) => closeTooSlow(ctx.extra.socket, message));
        shared.deliverTo(context, socketSink(ctx.extra.socket, id, (result) => maskedResult(result, context.requestId)));
        connection.operations.set(id, context);
        metrics.observeRequest(type, 'success', 'ws', (performance.now() - started) / 1000);
        return {
          schema,
          document: shared.document(checked.document, payload.query),
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: context,
        };
      },
      // Queries and mutations over WebSocket get the same time limit as over HTTP.
      execute: (args: ExecutionArgs) => withTimeout(args, timeoutMs),
      onNext: (_ctx, _id, _payload, args, result) => (result.errors?.length ? maskedResult(result, (args.contextValue as RequestContext).requestId) : undefined),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatRequestError(e)),
      onComplete: (ctx, id) => releaseOperation(ctx.extra.socket, id),
      onClose: (ctx) => {
        const connection = connections.get(ctx.extra.socket);
        for (const id of [...(connection?.operations.keys() ?? [])]) releaseOperation(ctx.extra.socket, id);
      },
    },
    wsServer,
  );

  // ---------------------------------------------------------------- start
  try {
    await feed.start();
    const port = options.port ?? config.port;
    await new Promise<void>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use (another pts, or another server): set PORT to a free one`, { cause: error }) : error);
      httpServer.once('error', failed);
      httpServer.listen(port, options.host, () => {
        httpServer.off('error', failed);
        resolve();
      });
    });
  } catch (error) {
    await feed.stop();
    await Promise.resolve(wsCleanup.dispose()).catch(() => undefined);
    await apollo.stop().catch(() => undefined);
    await pool.end();
    throw error;
  }
  const address = httpServer.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : 'localhost';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/graphql`;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      readiness.drain();
      // WebSocket clients are told to go away (1001) and their operations completed...
      await Promise.resolve(wsCleanup.dispose()).catch((error: Error) => logger.warn('closing WebSockets failed', { error: error.message }));
      // ...while in-flight HTTP requests finish (up to the request timeout) before the port closes.
      await apollo.stop();
      await feed.stop();
      hub.close();
      await pool.end();
    })());

  return { url, httpServer, hub, feed, metrics, stop };
}

/** graphql-js's execute with the request time limit: the result is an error after `ms`, and the snapshot is released. */
async function withTimeout(args: ExecutionArgs, ms: number): Promise<ExecutionResult> {
  if (ms <= 0) return execute(args);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<ExecutionResult>((resolve) => {
    timer = setTimeout(() => {
      void (args.contextValue as RequestContext).release();
      resolve({
        errors: [
          new GraphQLError(`Request timed out after ${ms} ms (PTS_REQUEST_TIMEOUT_MS): ask for less or retry`, {
            extensions: { code: 'REQUEST_TIMEOUT', timeoutMs: ms },
          }),
        ],
      });
    }, ms);
  });
  try {
    return await Promise.race([Promise.resolve(execute(args)), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Parse and validation errors over WebSocket get the codes Apollo gives them over HTTP. */
function withRequestCode(error: GraphQLError): GraphQLError {
  if (error.extensions?.code) return error;
  const code = error.message.startsWith('Syntax Error') ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED';
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    originalError: error.originalError ?? null,
    extensions: { ...error.extensions, code },
  });
}

function formatRequestError(error: GraphQLError): GraphQLFormattedError {
  return error.toJSON();
}

function apolloLogger(logger: Logger) {
  return {
    debug: () => undefined,
    info: (message: unknown) => logger.info(String(message)),
    warn: (message: unknown) => logger.warn(String(message)),
    error: (message: unknown) => logger.error(String(message)),
  };
}
