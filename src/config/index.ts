import { parseFixed, type Fixed } from '../fixed/index.js';

/** Everything configurable, from the environment (SPEC section 6); `variables` below reads each field. */
export interface Config {
  /** DATABASE_URL: PostgreSQL to use; unset: embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  /** PTS_DATA_DIR. Default `./.pts`. */
  dataDir: string;
  /** PTS_RPC_URL: one or more JSON-RPC URLs (http(s) or ws(s)), comma separated, tried in order. */
  rpcUrls: string[];
  /** PTS_VENUE_ADDRESSES: venue contracts to follow, comma separated, lower-cased. */
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
  /** PTS_HISTORY_BLOCKS: past blocks whose state the API can serve (`block:` arguments); 0 keeps all. Default 0. */
  historyBlocks: number;
  /** PTS_BATCH_BLOCKS: most blocks per database transaction while backfilling. Default 500. */
  batchBlocks: number;
  /** PTS_POLL_INTERVAL_MS: head polling interval when the RPC has no WebSocket. Default 1000. */
  pollIntervalMs: number;
  /** PTS_READY_MAX_LAG: blocks the ingester may lag behind the head while /ready says ready. Default 10. */
  readyMaxLag: number;
  /** PTS_API_KEYS: comma-separated bearer keys; empty: the API is open. */
  apiKeys: string[];
  /** PTS_RATE_LIMIT: requests per second per API key. Default 50. */
  rateLimitPerSecond: number;
  /** PTS_INTROSPECTION: schema introspection and the explorer page on. Default false; `pts dev`: true. */
  introspection: boolean;
  /** PTS_RISK_PAGE: the live risk page at `/` in a browser. Default false; `pts dev`: true. */
  riskPage: boolean;
  /** PTS_REQUEST_TIMEOUT_MS: per-request execution limit. Default 10000. */
  requestTimeoutMs: number;
  /** PTS_API_POOL_SIZE: PostgreSQL connections of the API's own read pool (per API process). Default 10. */
  apiPoolSize: number;
  /** PTS_API_PROCESSES: processes serving the API on PORT (`pts start`, `pts serve`). Default 1. */
  apiProcesses: number;
  /** PTS_SUBSCRIPTION_BUFFER: events held per subscriber before a too-slow one is disconnected. Default 1000. */
  subscriptionBufferSize: number;
  /** PTS_MAX_RESPONSE_BYTES: largest HTTP response body, in bytes. Default 16 MiB. */
  maxResponseBytes: number;
  /** PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION: subscriptions one WebSocket connection may hold. Default 100. */
  maxSubscriptionsPerConnection: number;
  /** PTS_MAX_CONNECTIONS_PER_CLIENT: WebSocket connections per API key (per client address when the API is open). Default 100. */
  maxConnectionsPerClient: number;
  /** PTS_CORS_ORIGINS: origins allowed cross-origin access (`*`: any); empty: none. `pts dev`: `*`. */
  corsOrigins: string[];
  /** PTS_LOG_FORMAT: "json" lines, or "pretty" with a progress bar. Default: pretty on a terminal. */
  logFormat: 'json' | 'pretty';
}

/** A variable that is malformed or missing. The `pts` command prints the message and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode = 2;
}

type Env = Record<string, string | undefined>;

/** One environment variable: the Config field it fills, how it is read, what it means. */
export interface Variable<F extends keyof Config = keyof Config> {
  name: string;
  field: F;
  /** The value when unset or blank, written as the variable would be (it goes through `parse`); omitted: `parse('')`. */
  default?: string | (() => string);
  /** A `pts` command that has its own default (`pts dev` opens CORS to every origin). */
  commandDefault?: { command: string; value: string };
  /** The default as `pts help` and the README state it, when `default` alone does not say it. */
  defaultText?: string;
  /** Reads a value (trimmed; '' when unset without a default); throws a ConfigError naming the variable and the allowed values. */
  parse(value: string, name: string): Config[F];
  /** One line for `pts help`. */
  description: string;
}

const variable = <F extends keyof Config>(v: Variable<F>): Variable => v as unknown as Variable;

const invalid = (name: string, allowed: string, value: string) =>
  new ConfigError(`${name} must be ${allowed}, got ${JSON.stringify(value)}`);

/** A non-negative integer in [min, max]. */
const integer = (min = 0, max = Number.MAX_SAFE_INTEGER) => (value: string, name: string): number => {
  const allowed = max === Number.MAX_SAFE_INTEGER ? `an integer, at least ${min}` : `an integer from ${min} to ${max}`;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw invalid(name, allowed, value);
  const n = Number(value);
  if (n < min || n > max) throw invalid(name, allowed, value);
  return n;
};

const BOOLEANS = new Map([['true', true], ['false', false], ['1', true], ['0', false], ['yes', true], ['no', false]]);
const boolean = (value: string, name: string): boolean => {
  const b = BOOLEANS.get(value.toLowerCase());
  if (b === undefined) throw invalid(name, `one of ${[...BOOLEANS.keys()].join(', ')} (any case)`, value);
  return b;
};

const oneOf = <T extends string>(...values: T[]) => (value: string, name: string): T => {
  if (!(values as string[]).includes(value)) throw invalid(name, `one of ${values.join(', ')}`, value);
  return value as T;
};

const text = (value: string): string => value;

/** Comma separated, blanks ignored, each item checked by `item`. */
const list = <T>(item: (value: string, name: string) => T) => (value: string, name: string): T[] =>
  value.split(',').map((s) => s.trim()).filter(Boolean).map((s) => item(s, name));

const decimal = (value: string, name: string): Fixed => {
  try {
    return parseFixed(value);
  } catch {
    throw invalid(name, 'a decimal number such as 0.05', value);
  }
};

const urlWithScheme = (schemes: string[]) => (value: string, name: string): string => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || !schemes.includes(url.protocol.slice(0, -1))) {
    // Not the value itself: a database or RPC URL often holds a password or an API key.
    const got = url ? `a ${url.protocol}// URL` : 'something that is not a URL';
    throw new ConfigError(`${name} must be a URL starting ${schemes.map((s) => `${s}://`).join(', ')}, got ${got}`);
  }
  return value;
};

const address = (value: string, name: string): `0x${string}` => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw invalid(name, 'comma-separated addresses (0x and 40 hex digits)', value);
  return value.toLowerCase() as `0x${string}`;
};

const ORIGINS = '* alone (any origin) or comma-separated origins such as https://app.example.com or http://localhost:3000 (no path)';
/** `*`, or origins as browsers send them (scheme://host[:port], no path), lower-cased. */
const origins = (value: string, name: string): string[] => {
  const all = list((item) => item.toLowerCase())(value, name);
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s:]+(:\d{1,5})?$/;
  if (all.includes('*') ? all.length > 1 : !all.every((o) => origin.test(o))) throw invalid(name, ORIGINS, value);
  return all;
};

/**
 * Every variable pts reads, in the order `pts help` and the README list them. A unit test
 * checks the README's configuration table against this one.
 */
export const variables: readonly Variable[] = [
  variable({
    name: 'DATABASE_URL', field: 'databaseUrl', parse: (v, n) => (v ? urlWithScheme(['postgresql', 'postgres'])(v, n) : undefined),
    description: 'PostgreSQL to use (postgresql://...); unset: embedded PostgreSQL under PTS_DATA_DIR/postgres',
  }),
  variable({ name: 'PTS_DATA_DIR', field: 'dataDir', default: './.pts', parse: text, description: 'folder of the embedded PostgreSQL (one pts process at a time)' }),
  variable({
    name: 'PTS_RPC_URL', field: 'rpcUrls', parse: list(urlWithScheme(['http', 'https', 'ws', 'wss'])), defaultText: 'unset (required by start, ingest)',
    description: 'JSON-RPC endpoints of the chain, comma separated, http(s):// or ws(s)://, tried in order',
  }),
  variable({
    name: 'PTS_VENUE_ADDRESSES', field: 'venueAddresses', parse: list(address), defaultText: 'unset (required by start, ingest)',
    description: 'venue contract addresses to follow, comma separated',
  }),
  variable({ name: 'PTS_START_BLOCK', field: 'startBlock', default: '0', parse: integer(), description: 'first block to ingest when the database is empty' }),
  variable({ name: 'PTS_CONFIRMATIONS', field: 'confirmations', default: '0', parse: integer(), description: 'blocks to stay behind the head' }),
  variable({ name: 'PTS_REORG_DEPTH', field: 'reorgDepth', default: '128', parse: integer(), description: 'blocks behind the head that may still reorg (undo logs are kept for them)' }),
  variable({
    name: 'PTS_HISTORY_BLOCKS', field: 'historyBlocks', default: '0', parse: integer(), defaultText: '0 (keep all)',
    description: 'past blocks whose state the API serves (block: arguments); older row versions are pruned; 0 keeps all',
  }),
  variable({ name: 'PTS_BATCH_BLOCKS', field: 'batchBlocks', default: '500', parse: integer(1), description: 'most blocks per database transaction while backfilling' }),
  variable({ name: 'PTS_POLL_INTERVAL_MS', field: 'pollIntervalMs', default: '1000', parse: integer(1), description: 'head polling interval at the tip, in milliseconds' }),
  variable({
    name: 'PTS_ORACLE_STALENESS_SECONDS', field: 'oracleStalenessSeconds', default: '3600', parse: integer(),
    description: 'how old a price report may be and still count in the index median',
  }),
  variable({ name: 'PTS_RISK_FREE_RATE', field: 'riskFreeRate', default: '0', parse: decimal, description: 'annual, continuously compounded rate for option pricing (0.05)' }),
  variable({ name: 'PORT', field: 'port', default: '4000', parse: integer(0, 65535), description: 'HTTP and WebSocket port of the API' }),
  variable({
    name: 'PTS_API_KEYS', field: 'apiKeys', parse: list(text), defaultText: 'unset (API open)',
    description: 'comma-separated API keys; requests must send one as a Bearer token',
  }),
  variable({ name: 'PTS_RATE_LIMIT', field: 'rateLimitPerSecond', default: '50', parse: integer(), description: 'requests per second per API key (HTTP requests, WebSocket operations, /metrics); 0: no limit' }),
  variable({
    name: 'PTS_INTROSPECTION', field: 'introspection', default: 'false', parse: boolean, commandDefault: { command: 'dev', value: 'true' }, defaultText: 'false (pts dev: true)',
    description: 'schema introspection and the explorer (GraphiQL at /graphql in a browser) (true/false, 1/0, yes/no)',
  }),
  variable({
    name: 'PTS_RISK_PAGE', field: 'riskPage', default: 'false', parse: boolean, commandDefault: { command: 'dev', value: 'true' }, defaultText: 'false (pts dev: true)',
    description: 'the live risk page at / in a browser: accounts riskiest first, transitions, one account\'s positions and equity (true/false, 1/0, yes/no)',
  }),
  variable({ name: 'PTS_REQUEST_TIMEOUT_MS', field: 'requestTimeoutMs', default: '10000', parse: integer(1), description: 'per-request execution limit, in milliseconds' }),
  variable({ name: 'PTS_API_POOL_SIZE', field: 'apiPoolSize', default: '10', parse: integer(1), description: "PostgreSQL connections of the API's read pool (per API process)" }),
  variable({ name: 'PTS_API_PROCESSES', field: 'apiProcesses', default: '1', parse: integer(1), description: 'processes serving the API on PORT (pts start, pts serve)' }),
  variable({
    name: 'PTS_SUBSCRIPTION_BUFFER', field: 'subscriptionBufferSize', default: '1000', parse: integer(1),
    description: 'events buffered per subscriber before a too-slow one is disconnected',
  }),
  variable({
    name: 'PTS_MAX_RESPONSE_BYTES', field: 'maxResponseBytes', default: '16777216', parse: integer(1024),
    description: 'largest answer of one operation or subscription event (HTTP and WebSocket), in bytes of JSON',
  }),
  variable({
    name: 'PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION', field: 'maxSubscriptionsPerConnection', default: '100', parse: integer(1),
    description: 'subscriptions one WebSocket connection may hold',
  }),
  variable({
    name: 'PTS_MAX_CONNECTIONS_PER_CLIENT', field: 'maxConnectionsPerClient', default: '100', parse: integer(1),
    description: 'WebSocket connections per API key (per client address when the API is open; behind a proxy every client has its address: raise it, or give clients keys)',
  }),
  variable({
    name: 'PTS_CORS_ORIGINS', field: 'corsOrigins', parse: origins, commandDefault: { command: 'dev', value: '*' }, defaultText: 'unset (no cross-origin access; pts dev: *)',
    description: 'origins allowed cross-origin access, comma separated (https://app.example.com), or * for any',
  }),
  variable({ name: 'PTS_READY_MAX_LAG', field: 'readyMaxLag', default: '10', parse: integer(), description: 'blocks the ingester may lag behind the head while /ready says ready' }),
  variable({
    name: 'PTS_LOG_FORMAT', field: 'logFormat', default: () => (process.stderr.isTTY ? 'pretty' : 'json'), defaultText: 'pretty on a terminal, else json',
    parse: oneOf('json', 'pretty'), description: 'json: one JSON object per line; pretty: readable lines and a progress bar',
  }),
];

/**
 * Variables read by other code than `loadConfig`, and by what. Unknown PTS_ variables get a
 * warning; of these, only those not marked `silent` do.
 */
export const otherVariables: readonly { name: string; readBy: string; silent: boolean; meant?: string }[] = [
  { name: 'NODE_ENV', readBy: 'bin/pts.js (production when unset) and graphql-js', silent: true },
  { name: 'PTS_DEBUG', readBy: 'src/db/embedded.ts (echo the embedded server log) and the tests', silent: true },
  { name: 'PTS_API_URL', readBy: 'examples/partner-client.ts', silent: false },
  // Given to the server, it would leave the API open without a word: PTS_API_KEYS protects it.
  { name: 'PTS_API_KEY', readBy: 'examples/partner-client.ts', silent: false, meant: 'PTS_API_KEYS' },
  // Set by the test setup for its workers, and inherited by the pts processes the e2e tests start.
  { name: 'PTS_TEST_*', readBy: 'the tests', silent: true },
];

/** Reads and validates every variable; `command` picks its own defaults (`pts dev`). */
export function loadConfig(env: Env = process.env, command?: string): Config {
  const config: Record<string, unknown> = {};
  for (const v of variables) {
    let value = env[v.name]?.trim() ?? '';
    if (value === '') {
      const fallback = command !== undefined && v.commandDefault?.command === command ? v.commandDefault.value : v.default;
      value = typeof fallback === 'function' ? fallback() : (fallback ?? '');
    }
    config[v.field] = v.parse(value, v.name);
  }
  return config as unknown as Config;
}

/** The settings the ingester cannot run without (`pts start`, `pts ingest`). */
export function requireChain(config: Config): void {
  if (config.rpcUrls.length === 0) throw new ConfigError('PTS_RPC_URL is not set: give the JSON-RPC URL of the chain to follow');
  if (config.venueAddresses.length === 0) throw new ConfigError('PTS_VENUE_ADDRESSES is not set: give the venue contract address(es) to follow');
}

/** One warning per PTS_ variable pts does not read, naming the closest one it does. */
export function unknownVariableWarnings(env: Env = process.env): string[] {
  const known = new Set(variables.map((v) => v.name));
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('PTS_') || known.has(name)) continue;
    const elsewhere = otherVariables.find((e) => (e.name.endsWith('*') ? name.startsWith(e.name.slice(0, -1)) : e.name === name));
    if (elsewhere?.silent) continue;
    const closest = elsewhere ? elsewhere.meant : closestName(name, [...known]);
    warnings.push(
      `${name} is ${elsewhere ? `read only by ${elsewhere.readBy}, not by pts` : 'not a pts variable'}: ignored` +
        (closest ? `; did you mean ${closest}?` : '') + (elsewhere ? '' : ' (pts help lists them)'),
    );
  }
  return warnings;
}

/** The known name within a few edits of `name` (a typo, a missing S), if any. */
function closestName(name: string, names: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of names) {
    const distance = editDistance(name, candidate);
    if (distance <= Math.max(2, Math.floor(name.length / 6)) && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

/** A variable's default as `pts help` and the README's table state it. */
export function defaultText(v: Variable): string {
  return v.defaultText ?? (typeof v.default === 'string' ? v.default : 'unset');
}
