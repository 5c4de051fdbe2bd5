import { parseFixed, type Fixed } from '../fixed/index.js';

/** Everything configurable, from the environment (SPEC section 6). */
export interface Config {
  /** PostgreSQL to use; unset: embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  /** PTS_DATA_DIR. Default `./.pts`. */
  dataDir: string;
  /** PTS_RPC_URL: one or more JSON-RPC URLs (http(s) or ws(s)), comma separated, tried in order. */
  rpcUrls: string[];
  /** PTS_VENUE_ADDRESSES: venue contracts to follow, comma separated. */
  venueAddresses: `0x${string}`[];
  /** PTS_START_BLOCK: first block to ingest when the database is empty. Default 0. */
  startBlock: number;
  /** PTS_CONFIRMATIONS: blocks to stay behind the head. Default 0. */
  confirmations: number;
  /** PORT: HTTP and WebSocket port of the API. Default 4000. */
  port: number;
  /** PTS_ORACLE_STALENESS_SECONDS. Default 3600. */
  oracleStalenessSeconds: number;
  /** PTS_RISK_FREE_RATE: annual rate for option pricing. Default 0. */
  riskFreeRate: Fixed;
  /** PTS_REORG_DEPTH: blocks behind the head that may still reorg; undo logs are kept for them. Default 128. */
  reorgDepth: number;
  /** PTS_BATCH_BLOCKS: most blocks per database transaction while backfilling. Default 500. */
  batchBlocks: number;
  /** PTS_POLL_INTERVAL_MS: head polling interval when the RPC has no WebSocket. Default 1000. */
  pollIntervalMs: number;
  /** PTS_READY_MAX_LAG: blocks the ingester may lag behind the head while /ready says ready. Default 10. */
  readyMaxLag: number;
  /** PTS_API_KEYS: comma-separated bearer keys; unset: the API is open. */
  apiKeys: string[];
  /** PTS_RATE_LIMIT: requests per second per API key. Default 50. */
  rateLimitPerSecond: number;
  /** PTS_INTROSPECTION: "true" enables schema introspection. Default false. */
  introspection: boolean;
  /** PTS_REQUEST_TIMEOUT_MS: per-request execution limit. Default 10000. */
  requestTimeoutMs: number;
  /** PTS_API_POOL_SIZE: PostgreSQL connections of the API's own read pool (per API process). Default 10. */
  apiPoolSize: number;
  /** PTS_API_PROCESSES: processes serving the API on PORT (`pts start`, `pts serve`). Default 1. */
  apiProcesses: number;
  /** PTS_SUBSCRIPTION_BUFFER: events held per subscriber before a too-slow one is disconnected. Default 1000. */
  subscriptionBufferSize: number;
  /** PTS_MAX_RESPONSE_BYTES: the largest answer of one operation or subscription event. Default 16 MiB. */
  maxResponseBytes: number;
  /** PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION. Default 100. */
  maxSubscriptionsPerConnection: number;
  /** PTS_MAX_CONNECTIONS_PER_CLIENT: WebSocket connections per API key, or per address on an open API. Default 100. */
  maxConnectionsPerClient: number;
  /** PTS_CORS_ORIGINS: origins whose pages may use the API (`*`: any). Default none. */
  corsOrigins: string[];
  /** PTS_LOG_FORMAT: "json" lines, or "pretty" with a progress bar. Default: pretty on a terminal. */
  logFormat: 'json' | 'pretty';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.PTS_DATA_DIR || './.pts',
    rpcUrls: list(env.PTS_RPC_URL),
    venueAddresses: list(env.PTS_VENUE_ADDRESSES).map((address) => {
      if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new ConfigError(`PTS_VENUE_ADDRESSES: not an address: ${address}`);
      return address.toLowerCase() as `0x${string}`;
    }),
    startBlock: integer(env, 'PTS_START_BLOCK', 0),
    confirmations: integer(env, 'PTS_CONFIRMATIONS', 0),
    port: integer(env, 'PORT', 4000),
    oracleStalenessSeconds: integer(env, 'PTS_ORACLE_STALENESS_SECONDS', 3600),
    riskFreeRate: decimal(env, 'PTS_RISK_FREE_RATE', '0'),
    reorgDepth: integer(env, 'PTS_REORG_DEPTH', 128),
    batchBlocks: Math.max(1, integer(env, 'PTS_BATCH_BLOCKS', 500)),
    pollIntervalMs: integer(env, 'PTS_POLL_INTERVAL_MS', 1000),
    readyMaxLag: integer(env, 'PTS_READY_MAX_LAG', 10),
    apiKeys: list(env.PTS_API_KEYS),
    rateLimitPerSecond: integer(env, 'PTS_RATE_LIMIT', 50),
    introspection: env.PTS_INTROSPECTION === 'true',
    requestTimeoutMs: integer(env, 'PTS_REQUEST_TIMEOUT_MS', 10_000),
    apiPoolSize: Math.max(1, integer(env, 'PTS_API_POOL_SIZE', 10)),
    apiProcesses: Math.max(1, integer(env, 'PTS_API_PROCESSES', 1)),
    subscriptionBufferSize: Math.max(1, integer(env, 'PTS_SUBSCRIPTION_BUFFER', 1000)),
    maxResponseBytes: Math.max(1024, integer(env, 'PTS_MAX_RESPONSE_BYTES', 16 * 2 ** 20)),
    maxSubscriptionsPerConnection: Math.max(1, integer(env, 'PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION', 100)),
    maxConnectionsPerClient: Math.max(1, integer(env, 'PTS_MAX_CONNECTIONS_PER_CLIENT', 100)),
    corsOrigins: list(env.PTS_CORS_ORIGINS),
    logFormat: env.PTS_LOG_FORMAT === 'json' || env.PTS_LOG_FORMAT === 'pretty'
      ? env.PTS_LOG_FORMAT
      : process.stderr.isTTY ? 'pretty' : 'json',
  };
}

/** The settings the ingester cannot run without. */
export function requireChain(config: Config): void {
  if (config.rpcUrls.length === 0) throw new ConfigError('PTS_RPC_URL is not set: give the JSON-RPC URL of the chain to follow');
  if (config.venueAddresses.length === 0) throw new ConfigError('PTS_VENUE_ADDRESSES is not set: give the venue contract address(es) to follow');
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function integer(env: Env, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function decimal(env: Env, name: string, fallback: string): Fixed {
  const value = env[name] || fallback;
  try {
    return parseFixed(value);
  } catch {
    throw new ConfigError(`${name} must be a decimal number, got ${JSON.stringify(value)}`);
  }
}
