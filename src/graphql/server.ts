// The API process: one Node HTTP server; Apollo Server 5 answers POST/GET /graphql
// (http/apollo.ts, http/routes.ts) and graphql-ws answers WebSocket upgrades on the same
// path and port (ws/server.ts); /health, /ready and /metrics beside them (SPEC section 6,
// src/graphql/README.md). Both transports admit operations through one Admission
// (protection/admission.ts); subscriptions are delivered by one SubscriptionPipeline
// (subscriptions/pipeline.ts). This file only builds the parts and starts and stops them.
//
// The API reads through a pool of its own (PTS_API_POOL_SIZE connections): a flood of API
// requests cannot take the connections the ingester commits with, and every statement on
// it carries a `statement_timeout` just above PTS_REQUEST_TIMEOUT_MS, so PostgreSQL itself
// cancels what a timed-out request left running.
import { dropAbandonedExecutionRejections } from './protection/abandoned-rejections.js';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import type { Config } from '../config/index.js';
import { exactTypes, PtsPool } from '../db/adapter.js';
import type { Database } from '../db/database.js';
import type { LedgerParams } from '../ledger/index.js';
import type { Logger } from '../log/index.js';
import { BlockCache } from './block-cache.js';
import { RequestContext, type ApiDeps } from './context.js';
import { Readiness } from './health.js';
import { startApollo } from './http/apollo.js';
import { Cors } from './http/cors.js';
import { EXPLORER_ASSETS, explorerPage } from './http/explorer.js';
import { RISK_PAGE_ASSETS, riskPage } from './http/risk-page.js';
import { AssetFiles } from './http/static-files.js';
import { httpRoutes, type RequestInfo } from './http/routes.js';
import { LatestBlock } from './latest-block.js';
import { RiskEngine } from './risk-engine/engine.js';
import { PastBlocks } from './risk-engine/past.js';
import { ApiMetrics } from './metrics.js';
import { Admission, maskError, type QueryLimits } from './protection/index.js';
import { buildSchema } from './schema.js';
import { SubscriptionPipeline, type BlockFeed, type Hub, type PipelineOptions, type subscriptionResolvers } from './subscriptions/index.js';
import { startWebSocketApi } from './ws/server.js';

export { CLOSE_TOO_SLOW } from './ws/server.js';

/**
 * Connections the kernel holds for the server before it accepts them (Node's default is
 * 511): a reconnect storm of 10,000 clients overflowed it. Linux caps it at
 * net.core.somaxconn (4096 on current kernels; checked at start, `listenBacklogCap`).
 */
export const LISTEN_BACKLOG = 4096;

/** The kernel's cap on a listen backlog (Linux: net.core.somaxconn); null where it cannot be read. */
export function listenBacklogCap(): number | null {
  try {
    const value = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    return Number.isSafeInteger(value) ? value : null;
  } catch {
    return null;
  }
}

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
  /** How long /ready and /metrics reuse what they computed, in ms; default 1000 (http/routes.ts). */
  statusCacheMs?: number;
  /** `afterBlock` replays: chunk size and a test hook (subscriptions/replay.ts). */
  replay?: PipelineOptions['replay'];
  /** Whether risk-ordered pages use the risk engine (risk-engine/); default true (benchmarks compare without). */
  riskEngine?: boolean;
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
  riskEngine: RiskEngine;
  /** Graceful: refuses new work, lets in-flight HTTP requests finish, closes WebSockets (1001). */
  stop(): Promise<void>;
}

export async function startServer(options: StartServerOptions): Promise<PtsServer> {
  const { config, database, logger } = options;
  dropAbandonedExecutionRejections(logger);
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
  const metrics = new ApiMetrics(async () => {
    const { rows } = await pool.query('SELECT block_number, head_block_number FROM cursor WHERE id = 1');
    return rows[0] ? { block: Number(rows[0].block_number), head: Number(rows[0].head_block_number) } : null;
  });
  const readiness = new Readiness({ pool, maxLag: config.readyMaxLag, confirmations: config.confirmations });
  const cors = new Cors(config.corsOrigins);

  // Trusted only while the pipeline's feed LISTENs; it forgets the block on every notification.
  const latestBlock = new LatestBlock({ listening: () => pipeline.feed.connected });
  const blockCache = new BlockCache();
  const riskEngine = new RiskEngine({ pool, logger: logger.child({ component: 'risk-engine' }), params });
  const useRiskEngine = options.riskEngine ?? true;

  // The schema needs the pipeline's Subscription resolvers, the pipeline the admission's
  // serializer, the admission the schema: the serializer is reached through `admission`.
  let admission: Admission;
  const format = (result: ExecutionResult, requestId: string) => ({
    ...result,
    errors: result.errors?.map((e) => maskError(e.toJSON(), e, requestId, logger)),
  });
  const pipeline = new SubscriptionPipeline({
    connectionString: database.url,
    pool,
    params,
    blockCache,
    // `deps` is made below; warming starts only once subscriptions arrive.
    warmContext: () => new RequestContext(deps),
    ...(options.replay ? { replay: options.replay } : {}),
    logger: logger.child({ component: 'subscription-feed' }),
    bufferSize: config.subscriptionBufferSize,
    ...(options.subscriptionGraceMs !== undefined ? { graceMs: options.subscriptionGraceMs } : {}),
    metrics,
    onNotified: (commit) => {
      latestBlock.forget();
      blockCache.committed(commit);
      if (useRiskEngine) riskEngine.committed(commit);
    },
    serialize: (result, requestId) => admission.serialize(result, undefined, requestId),
    format,
  });
  const schema = (options.schema ?? ((Subscription) => buildSchema({ Subscription })))(pipeline.resolvers);
  admission = new Admission({
    schema,
    apiKeys: config.apiKeys,
    ratePerSecond: config.rateLimitPerSecond,
    introspection: config.introspection,
    timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    maxConnectionsPerClient: config.maxConnectionsPerClient,
    maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const deps: ApiDeps = { pool, params, blockCache, latestBlock, ...(useRiskEngine ? { riskEngine, pastBlocks: new PastBlocks(riskEngine) } : {}), budget: () => admission.budget() };

  // Its request listener is added once Apollo has started.
  const httpServer = http.createServer();
  // Apollo hands its hooks a shallow clone of the context: a symbol property survives it.
  const INFO = Symbol('request info');
  const apollo = await startApollo({
    schema,
    admission,
    httpServer,
    infoOf: (context) => (context as RequestContext & { [INFO]?: RequestInfo })[INFO],
    logger,
  });
  httpServer.on(
    'request',
    httpRoutes({
      apollo,
      context: (info) => Object.assign(new RequestContext(deps, { requestId: info.requestId, assumeLatestBlock: true, budget: info.budget }), { [INFO]: info }),
      admission,
      cors,
      readiness,
      metrics,
      logger,
      ...(options.statusCacheMs !== undefined ? { statusCacheMs: options.statusCacheMs } : {}),
      explorer: config.introspection ? explorerPage() : null,
      riskPage: config.riskPage ? riskPage() : null,
      assets: config.introspection || config.riskPage ? new AssetFiles({ ...(config.introspection ? EXPLORER_ASSETS : {}), ...(config.riskPage ? RISK_PAGE_ASSETS : {}) }) : null,
    }),
  );
  const webSockets = startWebSocketApi({ httpServer, schema, admission, pipeline, cors, context: () => new RequestContext(deps), format, metrics, logger });

  // ---------------------------------------------------------------- start
  try {
    await pipeline.start();
    if (useRiskEngine) riskEngine.start();
    const port = options.port ?? config.port;
    await new Promise<void>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use (another pts, or another server): set PORT to a free one`, { cause: error }) : error);
      httpServer.once('error', failed);
      httpServer.listen({ port, host: options.host, backlog: LISTEN_BACKLOG }, () => {
        httpServer.off('error', failed);
        resolve();
      });
    });
  } catch (error) {
    await pipeline.stop();
    await webSockets.dispose();
    await apollo.stop().catch(() => undefined);
    riskEngine.stop();
    await riskEngine.idle();
    await pool.end();
    throw error;
  }
  const cap = listenBacklogCap();
  if (cap !== null && cap < LISTEN_BACKLOG) {
    logger.warn('the kernel caps the listen backlog below what the API asks: a reconnect storm may be refused', { asked: LISTEN_BACKLOG, somaxconn: cap, fix: `sysctl -w net.core.somaxconn=${LISTEN_BACKLOG}` });
  }
  const address = httpServer.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : 'localhost';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/graphql`;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      readiness.drain();
      // WebSocket clients are told to go away (1001) and their operations completed...
      await webSockets.dispose();
      // ...while in-flight HTTP requests finish (up to the request timeout) before the port closes.
      await apollo.stop();
      await pipeline.stop();
      riskEngine.stop();
      await riskEngine.idle();
      await pool.end();
    })());

  return { url, httpServer, hub: pipeline.hub, feed: pipeline.feed, metrics, riskEngine, stop };
}
