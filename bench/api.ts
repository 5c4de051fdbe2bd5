// bench/api: the API under load (issue 4): the account risk query and `accounts(first: 1000)`
// with every risk field (requests/s, p50, p99), and subscription fan-out (N graphql-ws
// clients, a committed price move, time from the commit to each client's receipt).
//
//   node bin/run-ts.js bench/api.ts [--accounts 1000] [--positions 10] [--seconds 10]
//     [--concurrency 16] [--heavy-seconds 10] [--heavy-concurrency 2] [--subscribers 5000]
//     [--client-processes 2] [--rounds 1] [--fanout-rounds 3] [--only account,heavy,fanout] [--block-every-ms 0]
//     [--server-processes 0]   (--only also takes hostile, compression and accounts)
//
// c and f start their N clients at once, as a reconnect storm after a restart would: each
// prints how many subscriptions were established and when the clients were acknowledged.
// A client refused or cut off retries after a random wait (full jitter, doubling up to 8 s,
// 8 attempts), as the typed client should; the retries are counted.
// f (--only accounts, issue 17): N clients each subscribe `accountUpdated` on a distinct
// account (--accounts must be at least --subscribers), then each round commits a price tick
// (ETH 0.1%) that changes every one of them (they all hold ETH-PERP): time from the commit
// to each client's receipt, p50 and p99, and the longest the server's event loop was held.
//
// --server-processes N (N >= 1) serves everything from `pts serve` with PTS_API_PROCESSES=N
// in a child process (node:cluster, all cores) instead of this process; c and f then report
// the clients' side only (the server's hand-over times and event loop are this process's).
// --block-every-ms N commits a block (an ETH price tick) every N ms while a and b run: the
// server shares rows and derived values between requests at the same block, so a steady
// block flatters it; a new block every 1-2 s is what a live chain looks like. Without it,
// a and b measure that steady state: their warm-up lasts until every owner was asked once
// (each account's first request at a block reads its rows and computes its risk).
// --fanout-rounds N: c commits N price moves (down, back up, ...) and reports each. The
// first runs the delivery code cold (its first JIT compilation); a server at the chain tip
// delivers a block every few seconds and is past that after its first one.
// d (--only hostile): the account query (a, as an innocent client) while heavy requests run
// beside it: two clients asking b's page of 1000 accounts without pause, and one asking
// an admitted ~900,000-value fills query (about 8 MB) over and over. Prints the longest
// the server's event loop was held (monitorEventLoopDelay) and the innocent client's
// latency, against the same client alone in the same run.
// e (--only compression): the account query, without and with `Accept-Encoding: gzip,
// deflate, br` in alternating one-second turns of one load (its answer is under the
// compression threshold, so its rate must not drop; both share the machine's noise), the page of 1000
// accounts as identity, gzip and br one after another (bytes on the wire, server CPU per
// request), and what compressing slices of that page costs per codec and level, from 1 KiB
// up (the threshold and the levels are chosen on it).
//
// The dataset goes through the same code path as the ingester's: venue events applied by
// the pure ledger (applyBlock, commitBlock) and persisted with LedgerStore.commit (one
// transaction and a NOTIFY per batch). The server is the real one (startServer) in this
// process; load and WebSocket clients run in child processes (this same file with
// --role), so the load generator does not share the server's event loop. All three share
// this machine's cores with PostgreSQL: see the printed CPU times.
//
// DATABASE_URL picks the PostgreSQL server (a fresh database is created on it and dropped
// after); unset, an embedded PostgreSQL runs in a temporary folder.
// BENCH_PROFILE=<folder> writes a CPU profile of the server process during a to
// <folder>/account-query.cpuprofile, during b to <folder>/accounts-query.cpuprofile, and during each round of c to <folder>/fanout-<round>.cpuprofile.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { benchDatabase, percentile } from './support/database.js';
import { profilePhase } from './support/profile.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    accounts: { type: 'string', default: '1000' },
    positions: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    'heavy-seconds': { type: 'string', default: '10' },
    'heavy-concurrency': { type: 'string', default: '2' },
    subscribers: { type: 'string', default: '5000' },
    'client-processes': { type: 'string', default: '2' },
    'server-processes': { type: 'string', default: '0' },
    rounds: { type: 'string', default: '1' },
    'fanout-rounds': { type: 'string', default: '3' },
    'block-every-ms': { type: 'string', default: '0' },
    only: { type: 'string', default: 'account,heavy,fanout' },
  },
  strict: false,
});

const log = (line: string) => process.stdout.write(`${line}\n`);
/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
const clock = () => performance.timeOrigin + performance.now();

const ms = (x: number) => `${x.toFixed(1)} ms`;

// ================================================================ the operations
const ACCOUNT_FIELDS = `id owner subaccount collateral equity initialMargin maintenanceMargin freeCollateral marginRatio leverage marginState
  notional unrealizedPnl accruedFunding createdBlock updatedBlock
  greeks { underlying indexPrice delta gamma theta vega notional liquidationPrice }`;
const POSITION_FIELDS = `id size entryPrice markPrice value notional unrealizedPnl realizedPnl accruedFunding settledFunding feesPaid
  initialMargin maintenanceMargin liquidationPrice delta gamma theta vega open openedBlock closedBlock`;
const MARKET_FIELDS = `id underlying kind strike expiry initialMarginFraction maintenanceMarginFraction indexPrice indexPriceStale
  impliedVolatility cumulativeFunding lastFundingRate fundingInterval maxFundingRate lastFillPrice value openInterest
  shortInterest longCount shortCount settlementPrice settledBlock listedBlock venue`;
/** The partner client's Account operation (packages/client/src/operations/account.graphql), spelled out. */
const ACCOUNT_QUERY = `query Account($owner: String!, $subaccount: SafeInt = 0) {
  meta { chainId blockNumber blockHash blockTimestamp headBlockNumber }
  account(owner: $owner, subaccount: $subaccount) { ${ACCOUNT_FIELDS} positions { ${POSITION_FIELDS} market { ${MARKET_FIELDS} } } } }`;
/** A page of 1000 accounts with every risk field and their positions' risk. */
const ACCOUNTS_QUERY = `query Accounts { meta { blockNumber } accounts(first: 1000) { pageInfo { hasNextPage endCursor }
  edges { cursor node { ${ACCOUNT_FIELDS} positions { ${POSITION_FIELDS} market { id } } } } } }`;
/** Admitted by the cost estimate (about 900,000 values), answered in about 8 MB: the heaviest a client may ask. */
const FILLS_QUERY = `query Fills($outer: Int = 1000, $inner: Int = 150) { fills(first: $outer) { edges { node { id market { fills(first: $inner) { edges { node { id price size fee } } } } } } } }`;
const SUBSCRIPTION_BLOCKS = 'subscription { blockCommitted { chainId blockNumber blockHash blockTimestamp headBlockNumber reorg { depth commonAncestor } } }';
const SUBSCRIPTION_MARGIN = `subscription ($owner: String) { marginStateChanged(owner: $owner) {
  account { id owner subaccount } from to blockNumber blockTimestamp equity initialMargin maintenanceMargin } }`;
/** A dashboard's live account: its risk and its positions' (f). */
const SUBSCRIPTION_ACCOUNT = `subscription ($owner: String!) { accountUpdated(owner: $owner) {
  id collateral equity initialMargin maintenanceMargin freeCollateral marginRatio leverage marginState unrealizedPnl
  positions { market { id } size markPrice unrealizedPnl } } }`;

// ================================================================ child: HTTP load
interface LoadJob {
  url: string;
  query: string;
  /** Variables of request i: owners[i % owners.length] as $owner, or none. */
  owners: string[] | null;
  concurrency: number;
  seconds: number;
  /** Unmeasured at first: this long, and until a request for every owner has completed (each account's rows and derived values are then cached at the block). */
  warmupSeconds: number;
  /** Keeps measuring past `seconds` until this many requests completed (at most 60 s more). */
  minRequests: number;
  /** Waits for a `go` message before sending anything (booted and ready meanwhile). */
  waitForGo?: boolean;
  /**
   * Header sets, taking turns every `sliceMs` (e: without and with `accept-encoding`, in
   * alternating slices, so slow changes in the machine's load reach both alike); a
   * compressed answer is decoded to be checked. Default: one set, empty.
   */
  headers?: Record<string, string>[];
  /** Length of a header set's turn, in ms; default 1000. */
  sliceMs?: number;
}
/** What the requests of one header set got. */
interface LoadGroup {
  latencies: number[];
  /** Measured time in its turns. */
  seconds: number;
  /** Body bytes received while measuring, as they came over the wire (compressed or not). */
  bytes: number;
  /** The Content-Encoding of its last answer, or `identity`. */
  encoding: string;
}
interface LoadResult {
  requests: number;
  errors: number;
  firstError: string | null;
  seconds: number;
  latencies: number[];
  cpuMs: number;
  /** One per header set. */
  groups: LoadGroup[];
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  if (job.waitForGo) {
    process.send!({ type: 'ready' });
    await new Promise<void>((resolve) => process.once('message', () => resolve()));
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency, maxFreeSockets: job.concurrency });
  const target = new URL(job.url);
  const bodies = (job.owners ?? [null]).map((owner) =>
    Buffer.from(JSON.stringify(owner === null ? { query: job.query } : { query: job.query, variables: { owner } })),
  );
  const { brotliDecompressSync, gunzipSync } = await import('node:zlib');
  const decode: Record<string, (b: Buffer) => Buffer> = { identity: (b) => b, br: brotliDecompressSync, gzip: gunzipSync };
  const headerSets = job.headers ?? [{}];
  const groups: LoadGroup[] = headerSets.map(() => ({ latencies: [], seconds: 0, bytes: 0, encoding: 'identity' }));
  const sliceMs = job.sliceMs ?? 1000;
  let sliceOrigin = performance.now();
  const post = (body: Buffer, headers: Record<string, string>) =>
    new Promise<{ status: number; text: string; bytes: number; encoding: string }>((resolve, reject) => {
      const req = http.request(
        {
          agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            const encoding = res.headers['content-encoding'] ?? 'identity';
            try {
              resolve({ status: res.statusCode ?? 0, text: decode[encoding]!(raw).toString(), bytes: raw.length, encoding });
            } catch (error) {
              reject(error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let completed = 0;
  let measuring = false;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const body = bodies[next++ % bodies.length]!;
      const set = Math.floor((performance.now() - sliceOrigin) / sliceMs) % headerSets.length;
      const started = performance.now();
      let failure: string | null = null;
      let received = 0;
      try {
        const { status, text, bytes, encoding } = await post(body, headerSets[set]!);
        received = bytes;
        groups[set]!.encoding = encoding;
        // Full check of a response's head, cheap for big ones: data and no errors.
        if (status !== 200 || !text.startsWith('{"data":') || text.includes('"errors":')) failure = `HTTP ${status}: ${text.slice(0, 300)}`;
      } catch (error) {
        failure = (error as Error).message;
      }
      completed++;
      if (!measuring) continue;
      const latency = performance.now() - started;
      latencies.push(latency);
      groups[set]!.latencies.push(latency);
      groups[set]!.bytes += received;
      if (failure !== null) {
        errors++;
        firstError ??= failure;
      }
    }
  };
  const workers = Array.from({ length: job.concurrency }, worker);
  await new Promise((r) => setTimeout(r, job.warmupSeconds * 1000));
  while (completed < bodies.length) await new Promise((r) => setTimeout(r, 10));
  measuring = true;
  process.send!({ type: 'measuring' });
  const cpu = process.cpuUsage();
  const started = performance.now();
  sliceOrigin = started;
  await new Promise((r) => setTimeout(r, job.seconds * 1000));
  while (latencies.length < job.minRequests && performance.now() - started < (job.seconds + 60) * 1000) await new Promise((r) => setTimeout(r, 50));
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  for (let at = 0, i = 0; at < seconds * 1000; at += sliceMs, i++) groups[i % groups.length]!.seconds += Math.min(sliceMs, seconds * 1000 - at) / 1000;
  const used = process.cpuUsage(cpu);
  stop = true;
  await Promise.all(workers);
  agent.destroy();
  return { requests: latencies.length, errors, firstError, seconds, latencies, cpuMs: (used.user + used.system) / 1000, groups };
}

// ================================================================ child: WebSocket subscribers
interface FanoutJob {
  url: string;
  /**
   * One client per owner. `blocks` (c): blockCommitted and marginStateChanged of that owner;
   * `accounts` (f): accountUpdated of that owner's account.
   */
  owners: string[];
  mode: 'blocks' | 'accounts';
}

/** What a subscriber process reports per round: receipt times (ms since the epoch). */
interface FanoutReport {
  blocks: [number, number[]][];
  transitions: { block: number; at: number }[];
  accounts: number[];
  failures: string[];
  failureCount: number;
  /** Reconnections the clients made (their retries, with jitter). */
  retries: number;
  /** When each client was first acknowledged by the server (`connection_ack`), once: the storm's connect times (since the last report). */
  connectedAt: number[];
  cpuMs: number;
}

async function runSubscribers(job: FanoutJob): Promise<void> {
  const { createClient } = await import('graphql-ws');
  const { default: WebSocket } = await import('ws');
  const send = (message: unknown) => process.send!(message);
  const blocks = new Map<number, number[]>(); // block number -> receipt times
  const transitions: { owner: string; block: number; at: number }[] = [];
  const accounts: number[] = [];
  const failures: string[] = [];
  const connectedAt: number[] = [];
  let retries = 0;
  let closing = false;
  const subscribe = <T>(client: ReturnType<typeof createClient>, name: string, query: string, variables: Record<string, unknown> | undefined, next: (data: T, at: number) => void) =>
    client.subscribe<T>(
      { query, ...(variables ? { variables } : {}) },
      {
        next: (result) => {
          const at = clock();
          if (!result.data) return void failures.push(`${name}: ${JSON.stringify(result)}`);
          next(result.data, at);
        },
        error: (error) => failures.push(`${name}: ${describe(error)}`),
        complete: () => undefined,
      },
    );
  const clients = job.owners.map((owner) => {
    let connected = false;
    // As after a restart, every client connects at once; one that is refused or cut off
    // retries after a random wait (full jitter, doubling up to 8 s), as the typed client does.
    const client = createClient({
      url: job.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 8,
      shouldRetry: () => !closing,
      retryWait: (retry) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(8000, 250 * 2 ** retry))),
      onNonLazyError: (error) => failures.push(describe(error)),
      on: {
        connected: () => {
          if (!connected) connectedAt.push(clock());
          connected = true;
        },
        closed: () => {
          if (!closing) retries++;
        },
      },
    });
    if (job.mode === 'accounts') {
      subscribe<{ accountUpdated: { id: string } }>(client, 'accountUpdated', SUBSCRIPTION_ACCOUNT, { owner }, (_data, at) => accounts.push(at));
      return client;
    }
    subscribe<{ blockCommitted: { blockNumber: number } }>(client, 'blockCommitted', SUBSCRIPTION_BLOCKS, undefined, (data, at) => {
      const n = data.blockCommitted.blockNumber;
      let list = blocks.get(n);
      if (!list) blocks.set(n, (list = []));
      list.push(at);
    });
    subscribe<{ marginStateChanged: { blockNumber: number } }>(client, 'marginStateChanged', SUBSCRIPTION_MARGIN, { owner }, (data, at) =>
      transitions.push({ owner, block: data.marginStateChanged.blockNumber, at }),
    );
    return client;
  });
  let cpu = process.cpuUsage();
  let stopProfile = async () => {};
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'mark') {
      stopProfile = await profilePhase(`fanout-client-${process.pid}`);
      cpu = process.cpuUsage();
      send({ type: 'marked' });
    } else if (message.type === 'received') {
      send({ type: 'received', received: accounts.length + transitions.length + [...blocks.values()].reduce((n, times) => n + times.length, 0) });
    } else if (message.type === 'report') {
      const used = process.cpuUsage(cpu);
      await stopProfile();
      const cpuMs = (used.user + used.system) / 1000;
      send({ type: 'report', blocks: [...blocks], transitions, accounts, failures: failures.slice(0, 5), failureCount: failures.length, retries, connectedAt, cpuMs } satisfies FanoutReport & { type: string });
      blocks.clear();
      transitions.length = accounts.length = connectedAt.length = 0;
      failures.length = 0;
      retries = 0;
    } else if (message.type === 'close') {
      closing = true;
      await Promise.all(clients.map((c) => c.dispose()));
      send({ type: 'closed' });
      process.exit(0);
    }
  });
  send({ type: 'started' });
}

/** A graphql-ws failure in words: a CloseEvent's code and reason, an ErrorEvent's message, GraphQL errors as JSON. */
function describe(error: unknown): string {
  const e = error as { code?: number; reason?: string; message?: string; type?: string };
  if (typeof e?.code === 'number') return `closed ${e.code}${e.reason ? ` ${e.reason}` : ''}`;
  if (e?.type === 'error' || e instanceof Error) return `error: ${e.message}`;
  return JSON.stringify(error);
}

// ================================================================ child dispatch
if (values.role === 'load') {
  process.once('message', async (job: LoadJob) => {
    // Exit once the result is out: a big one (many latencies) is still in flight when send returns.
    process.send!({ type: 'result', ...(await runLoad(job)) }, () => process.exit(0));
  });
} else if (values.role === 'subscribers') {
  process.once('message', (job: FanoutJob) => void runSubscribers(job));
} else {
  await main();
}

function child(role: string): ChildProcess {
  return fork(fileURLToPath(new URL('../bin/run-ts.js', import.meta.url)), [fileURLToPath(import.meta.url), '--role', role], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function once<T>(proc: ChildProcess, type?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: any) => {
      if (type !== undefined && message?.type !== type) return;
      proc.off('message', onMessage);
      proc.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code}`));
    proc.on('message', onMessage);
    proc.once('exit', onExit);
  });
}

/** Runs a load in a child process; `onMeasuring` is called when its warm-up ends. */
async function load(job: LoadJob, onMeasuring?: () => void): Promise<LoadResult> {
  return (await startLoad(job, onMeasuring)).result;
}

/** A load in a child process, and (with `waitForGo`) once it has booted, how to start it. */
async function startLoad(job: LoadJob, onMeasuring?: () => void): Promise<{ go(): void; result: Promise<LoadResult> }> {
  const proc = child('load');
  proc.on('message', (message: { type?: string }) => {
    if (message?.type === 'measuring') onMeasuring?.();
  });
  const ready = job.waitForGo ? once(proc, 'ready') : undefined;
  proc.send(job);
  const result = once<LoadResult>(proc, 'result');
  await ready;
  return { go: () => proc.send({ type: 'go' }), result };
}

// ================================================================ main
async function main(): Promise<void> {
  // As bin/pts.js runs the server (graphql-js without its development-mode checks); set
  // before the server's modules load, which read it once.
  process.env.NODE_ENV ??= 'production';
  const { createPool } = await import('../src/db/adapter.js');
  const { startEmbeddedPostgres } = await import('../src/db/embedded.js');
  const { migrate } = await import('../src/db/migrate.js');
  const { LedgerStore } = await import('../src/db/store/ledger-store.js');
  const { loadConfig } = await import('../src/config/index.js');
  const { startServer } = await import('../src/graphql/server.js');
  const { silentLogger } = await import('../src/log/index.js');
  const { Market } = await import('./api-dataset.js');

  const ACCOUNTS = Number(values.accounts);
  const POSITIONS = Number(values.positions);
  const SUBSCRIBERS = Number(values.subscribers);
  const only = new Set(String(values.only).split(','));
  const rounds = Number(values.rounds);
  const fanoutRounds = Number(values['fanout-rounds']);


  const db = await benchDatabase();
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let external: Awaited<ReturnType<typeof startPtsServe>> | undefined;
  const pool = createPool(db.url, { max: 4 });
  try {
    // ------------------------------------------------------------ dataset
    let started = performance.now();
    await migrate(db.url);
    const market = new Market({ accounts: ACCOUNTS, positionsPerAccount: POSITIONS, seed: 7 });
    const store = new LedgerStore(pool);
    const setup = market.setup();
    for (let i = 0; i < setup.length; i += 20) {
      const batch = setup.slice(i, i + 20);
      await store.commit({ chainId: 31337, headBlockNumber: batch.at(-1)!.block.number, batch, undo: new Map() });
    }
    const states = market.states();
    log(
      `pts bench/api: ${db.kind}; ${ACCOUNTS} accounts x ${POSITIONS} positions over ${market.marketCount} markets ` +
        `(${market.optionCount} options), ${setup.length} blocks committed in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `margin states ${JSON.stringify(states)}`,
    );

    // The fan-out's clients all come from this machine's address: one client, as the per-client cap counts them.
    const config = { ...loadConfig({}), logFormat: 'json' as const, maxConnectionsPerClient: 1_000_000 };
    const serverProcesses = Number(values['server-processes']);
    let url: string;
    let serverCpu: () => number;
    if (serverProcesses > 0) {
      external = await startPtsServe(db.url, serverProcesses);
      url = external.url;
      serverCpu = () => processTreeCpuMs(external!.child.pid!);
      log(`server ${url}: pts serve with PTS_API_PROCESSES=${serverProcesses}; API pool ${config.apiPoolSize} per process; client load in child processes`);
    } else {
      server = await startServer({ config, database: { url: db.url }, logger: silentLogger, port: 0, host: '127.0.0.1' });
      url = server.url;
      serverCpu = () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      };
      log(`server ${url}; API pool ${config.apiPoolSize}, request timeout ${config.requestTimeoutMs} ms; client load in child processes`);
    }
    const owners = market.owners;

    // A correctness check of both operations before timing them.
    const sample = await postJson(url, ACCOUNT_QUERY, { owner: owners[0] });
    if (sample.errors || sample.data.account.positions.length !== POSITIONS) throw new Error(`account query: ${JSON.stringify(sample).slice(0, 500)}`);
    const liq = sample.data.account.greeks.map((g: any) => `${g.underlying} ${g.liquidationPrice}`).join(', ');
    log(`account ${owners[0]}: ${sample.data.account.positions.length} positions, equity ${sample.data.account.equity}, liquidation prices ${liq}`);

    const report = (name: string, result: LoadResult, cpuBefore: number, concurrency: number) => {
      const sorted = result.latencies.sort((a, b) => a - b);
      const serverCpuMs = serverCpu() - cpuBefore;
      log(
        `${name}: ${(result.requests / result.seconds).toFixed(0)} req/s over ${result.seconds.toFixed(1)} s at concurrency ${concurrency}; ` +
          `p50 ${ms(percentile(sorted, 50))}, p90 ${ms(percentile(sorted, 90))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? NaN)}; ` +
          `${result.errors} errors${result.firstError ? ` (${result.firstError})` : ''}; ` +
          `CPU per request: server ${ms(serverCpuMs / Math.max(1, result.requests))}, load generator ${ms(result.cpuMs / Math.max(1, result.requests))}`,
      );
    };

    // Blocks committed during a load (--block-every-ms), as an ingester at the chain tip would.
    const blockEvery = Number(values['block-every-ms']);
    let tick = 0;
    const ticking = () => {
      if (!(blockEvery > 0)) return { stop: async () => '' };
      let count = 0;
      let busy: Promise<void> = Promise.resolve();
      const timer = setInterval(() => {
        busy = busy.then(async () => {
          const block = market.tick(++tick);
          await store.commit({ chainId: 31337, headBlockNumber: block.block.number, batch: [block], undo: new Map() });
          count++;
        });
      }, blockEvery);
      return {
        stop: async () => {
          clearInterval(timer);
          await busy;
          return `; a new block every ${blockEvery} ms: ${count} blocks`;
        },
      };
    };

    for (let round = 1; round <= rounds; round++) {
      if (rounds > 1) log(`-- round ${round}`);
      // ---------------------------------------------------------- a. account risk query
      if (only.has('account')) {
        const concurrency = Number(values.concurrency);
        const before = serverCpu();
        const ticks = ticking();
        // From the end of the load's warm-up, as its figures: the first touch of each account reads its rows.
        let profiling: Promise<() => Promise<void>> | undefined;
        const job = { url, query: ACCOUNT_QUERY, owners: shuffled(owners), concurrency, seconds: Number(values.seconds), warmupSeconds: 2, minRequests: 0 };
        const result = await load(job, () => (profiling = profilePhase('account-query')));
        await (await profiling)?.();
        report(`a. account risk query (${POSITIONS} positions, every field${await ticks.stop()})`, result, before, concurrency);
      }
      // ---------------------------------------------------------- b. accounts(first: 1000)
      if (only.has('heavy')) {
        const concurrency = Number(values['heavy-concurrency']);
        const before = serverCpu();
        const ticks = ticking();
        let profiling: Promise<() => Promise<void>> | undefined;
        const job = { url, query: ACCOUNTS_QUERY, owners: null, concurrency, seconds: Number(values['heavy-seconds']), warmupSeconds: 2, minRequests: 5 };
        const result = await load(job, () => (profiling = profilePhase('accounts-query')));
        await (await profiling)?.();
        report(`b. accounts(first: 1000) with risk fields${await ticks.stop()}`, result, before, concurrency);
      }
    }

    // ------------------------------------------------------------ d. heavy requests beside an innocent one
    if (only.has('hostile') && server) {
      const seconds = Number(values.seconds);
      const innocent = { url, query: ACCOUNT_QUERY, owners: shuffled(owners), concurrency: 4, seconds, warmupSeconds: 2, minRequests: 0 };
      const alone = await load(innocent);
      const sortedAlone = alone.latencies.sort((a, b) => a - b);
      const delay = monitorEventLoopDelay({ resolution: 5 });
      let measuring = false;
      // The heavy clients boot first and start when the innocent one has warmed up (with the
      // event loop held, it could not finish its warm-up while they ran).
      const heavy = await Promise.all([
        startLoad({ url, query: ACCOUNTS_QUERY, owners: null, concurrency: 2, seconds, warmupSeconds: 0, minRequests: 0, waitForGo: true }),
        startLoad({ url, query: FILLS_QUERY, owners: null, concurrency: 1, seconds, warmupSeconds: 0, minRequests: 0, waitForGo: true }),
      ]);
      const beside = await load(innocent, () => {
        for (const h of heavy) h.go();
        delay.enable();
        measuring = true;
      });
      delay.disable();
      const [pages, fills] = (await Promise.all(heavy.map((h) => h.result))) as [LoadResult, LoadResult];
      const sorted = beside.latencies.sort((a, b) => a - b);
      const nsToMs = (ns: number) => ms(ns / 1e6);
      log(
        `d. account risk query alone: p50 ${ms(percentile(sortedAlone, 50))}, p99 ${ms(percentile(sortedAlone, 99))}, ${(alone.requests / alone.seconds).toFixed(0)} req/s; ` +
          `beside heavy requests: p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? NaN)}, ${(beside.requests / beside.seconds).toFixed(0)} req/s, ${beside.errors} errors`,
      );
      const p50 = (r: LoadResult) => ms(percentile(r.latencies.sort((a, b) => a - b), 50));
      log(
        `   heavy: accounts(first: 1000) ${pages.requests} answered in p50 ${p50(pages)} (${pages.errors} errors${pages.firstError ? `: ${pages.firstError.slice(0, 120)}` : ''}), ` +
          `fills ~900,000 values ${fills.requests} answered in p50 ${p50(fills)} (${fills.errors} errors${fills.firstError ? `: ${fills.firstError.slice(0, 120)}` : ''}); ` +
          `event loop held at most ${nsToMs(delay.max)} (p99 ${nsToMs(delay.percentile(99))}, mean ${nsToMs(delay.mean)}) while measured${measuring ? '' : ' (never measured)'}`,
      );
    }

    // ------------------------------------------------------------ e. compression
    if (only.has('compression')) {
      const ACCEPT = 'gzip, deflate, br'; // what browsers send, and most HTTP clients
      const concurrency = Number(values.concurrency);
      // The account query from one load, without and with Accept-Encoding in alternating
      // one-second turns: both see the same server, block and neighbours' load. The server's
      // CPU is read at each turn's end.
      {
        const sets: Record<string, string>[] = [{}, { 'accept-encoding': ACCEPT }];
        const sliceMs = 1000;
        const cpuBySet = sets.map(() => 0);
        let timer: NodeJS.Timeout | undefined;
        const job = { url, query: ACCOUNT_QUERY, owners: shuffled(owners), concurrency, seconds: Number(values.seconds), warmupSeconds: 2, minRequests: 0, headers: sets, sliceMs };
        const before = serverCpu();
        const result = await load(job, () => {
          let last = serverCpu();
          let turn = 0;
          timer = setInterval(() => {
            const now = serverCpu();
            cpuBySet[turn++ % sets.length]! += now - last;
            last = now;
          }, sliceMs);
        });
        clearInterval(timer);
        report(`e. account risk query, without and with Accept-Encoding in turns of ${sliceMs} ms`, result, before, concurrency);
        result.groups.forEach((group, i) => {
          const sorted = group.latencies.sort((a, b) => a - b);
          log(
            `   ${i === 0 ? 'no Accept-Encoding' : `Accept-Encoding: ${ACCEPT}`}: ${(sorted.length / group.seconds).toFixed(0)} req/s, ` +
              `p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, server CPU per request ${ms(cpuBySet[i]! / Math.max(1, sorted.length))}; ` +
              `${bytesPer(group)} per answer, ${group.encoding}`,
          );
        });
      }
      // A page of 1000 accounts in each coding: bytes on the wire and the server's CPU.
      for (const coding of ['identity', 'gzip', 'br']) {
        const concurrency = Number(values['heavy-concurrency']);
        const before = serverCpu();
        const headers: Record<string, string> = coding === 'identity' ? {} : { 'accept-encoding': coding };
        const job = { url, query: ACCOUNTS_QUERY, owners: null, concurrency, seconds: Number(values['heavy-seconds']), warmupSeconds: 2, minRequests: 5, headers: [headers] };
        const result = await load(job);
        report(`e. accounts(first: 1000), ${coding} (${bytesPer(result.groups[0]!)} per answer, ${result.groups[0]!.encoding})`, result, before, concurrency);
      }
      // What compressing alone costs, by answer size: slices of that page's text, in one thread.
      const { text } = await postRaw(url, ACCOUNTS_QUERY);
      const zlib = await import('node:zlib');
      const codecs: [string, (b: Buffer) => Buffer][] = [
        ...[1, 4, 6].map((level): [string, (b: Buffer) => Buffer] => [`gzip ${level}`, (b) => zlib.gzipSync(b, { level })]),
        ...[1, 2, 3, 4, 5, 11].map((q): [string, (b: Buffer) => Buffer] => [
          `br ${q}`,
          (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: q, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length } }),
        ]),
      ];
      for (const size of [1024, 2048, 4096, 16_384, 65_536, 1 << 20, text.length]) {
        const input = Buffer.from(text.slice(0, size));
        const cells = codecs.map(([name, compress]) => {
          if (name === 'br 11' && size > 1 << 20) return `${name} -`;
          let out = 0;
          let n = 0;
          const started = performance.now();
          while (n < 3 || (performance.now() - started < 200 && n < 10_000)) {
            out = compress(input).length;
            n++;
          }
          const us = ((performance.now() - started) / n) * 1000;
          return `${name} ${us < 1000 ? `${us.toFixed(0)} us` : ms(us / 1000)} ${((100 * out) / input.length).toFixed(0)}%`;
        });
        log(`e. compressing ${input.length} B of that answer: ${cells.join(', ')}`);
      }
    }

    // ------------------------------------------------------------ c. and f. fan-out
    // When the server writes each subscription message to its socket (eagerSend writes a whole
    // text frame; ws writes a header, then the text): what the server did, apart from when the
    // clients, on the same cores, got to read it.
    const sent: number[] = [];
    if (only.has('fanout') || only.has('accounts')) {
      // In this process, the server's side is seen too: when each message is handed to its
      // socket and when the hub had each block. From `pts serve` (--server-processes), only
      // the clients' side, and the subscriptions are known established once each client had
      // a first message (a block committed for it before the rounds).
      const hub = server?.hub;
      const published = new Map<number, number>();
      if (hub) {
        const { Socket } = await import('node:net');
        const write = Socket.prototype.write;
        Socket.prototype.write = function (this: InstanceType<typeof Socket>, chunk: unknown, ...rest: unknown[]) {
          if ((typeof chunk === 'string' || Buffer.isBuffer(chunk)) && chunk.includes('"type":"next"')) sent.push(clock());
          return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
        } as typeof write;
        const publish = hub.publish.bind(hub);
        hub.publish = (event) => {
          if (event.kind === 'block' && !published.has(event.blockNumber)) published.set(event.blockNumber, clock());
          return publish(event);
        };
      }

      /**
       * SUBSCRIBERS clients in child processes connect at once (a reconnect storm: as after a
       * restart), then `fanoutRounds` blocks are committed and each reported from the commit.
       */
      const fanout = async (mode: FanoutJob['mode'], label: string) => {
        const processes = Math.max(1, Number(values['client-processes']));
        const perClient = mode === 'accounts' ? 1 : 2;
        const base = hub?.subscriberCount ?? 0;
        const connectStarted = clock();
        const procs = Array.from({ length: processes }, () => child('subscribers'));
        // accounts: distinct accounts (the dataset has at least SUBSCRIBERS); blocks: owners in turn.
        const clientOwners = Array.from({ length: SUBSCRIBERS }, (_, i) => owners[i % owners.length]!);
        await Promise.all(
          procs.map((proc, k) => {
            const ready = once(proc, 'started');
            proc.send({ url, owners: clientOwners.filter((_, i) => i % processes === k), mode } satisfies FanoutJob);
            return ready;
          }),
        );
        const expected = perClient * SUBSCRIBERS;
        const collect = () =>
          Promise.all(
            procs.map((proc) => {
              const got = once<FanoutReport>(proc, 'report');
              proc.send({ type: 'report' });
              return got;
            }),
          );
        let established: number;
        let connectReports: FanoutReport[];
        if (hub) {
          while (hub.subscriberCount - base < expected) {
            if (clock() - connectStarted > 180_000) {
              log(`${label} WARNING: only ${hub.subscriberCount - base} of ${expected} subscriptions after 3 min; measuring those (client failures below)`);
              break;
            }
            await new Promise((r) => setTimeout(r, 50));
          }
          established = hub.subscriberCount - base;
          connectReports = await collect();
        } else {
          // From `pts serve`: a subscription is live once it has had a message. ETH ticks
          // (each reaches every subscriber) until one reached all of them, at most 3 min.
          established = 0;
          connectReports = [];
          for (let warm = 1; established < SUBSCRIBERS && clock() - connectStarted < 180_000; warm++) {
            const block = market.tick(warm);
            await store.commit({ chainId: 31337, headBlockNumber: block.block.number, batch: [block], undo: new Map() });
            for (let wait = 0; wait < 10 && established < SUBSCRIBERS; wait++) {
              await new Promise((r) => setTimeout(r, 1000));
              const reports = await collect();
              connectReports.push(...reports);
              const got = (r: FanoutReport) => (mode === 'accounts' ? r.accounts.length : r.blocks.find(([n]) => n === block.block.number)?.[1].length ?? 0);
              established = wait === 0 ? reports.reduce((n, r) => n + got(r), 0) : established + reports.reduce((n, r) => n + got(r), 0);
            }
          }
          if (established < SUBSCRIBERS) log(`${label} WARNING: only ${established} of ${SUBSCRIBERS} clients had a message after 3 min; measuring those (client failures below)`);
          established *= perClient;
        }
        const establishedMs = clock() - connectStarted;
        const connects = connectReports.flatMap((r) => r.connectedAt.map((t) => t - connectStarted)).sort((a, b) => a - b);
        log(
          `${label} ${SUBSCRIBERS} graphql-ws clients connecting at once (${processes} processes): ${established}/${expected} subscriptions established in ${(establishedMs / 1000).toFixed(1)} s; ` +
            `connection_ack p50 ${ms(percentile(connects, 50))}, p99 ${ms(percentile(connects, 99))}, max ${ms(connects.at(-1) ?? NaN)} (${connects.length} clients); ` +
            `${connectReports.reduce((n, r) => n + r.retries, 0)} client retries, ${connectReports.reduce((n, r) => n + r.failureCount, 0)} client failures`,
        );
        for (const r of connectReports) for (const f of r.failures) log(`   client failure: ${f}`);

        for (let round = 1; round <= fanoutRounds; round++) {
          const move = mode === 'accounts' ? Object.assign(market.tick(round), { description: `ETH ${round % 2 === 1 ? 'up' : 'down'} 0.1%`, transitions: [] as { accountId: string }[] }) : market.priceMove(round);
          const subscribedOwners = new Map<string, number>();
          for (const owner of clientOwners) subscribedOwners.set(owner, (subscribedOwners.get(owner) ?? 0) + 1);
          let expectedTransitions = 0;
          if (mode === 'blocks') for (const t of move.transitions) expectedTransitions += subscribedOwners.get(t.accountId.split(':')[0]!) ?? 0;
          sent.length = 0;
          const cpuBefore = serverCpu();
          await Promise.all(
            procs.map((proc) => {
              const marked = once(proc, 'marked');
              proc.send({ type: 'mark' });
              return marked;
            }),
          );
          const stopProfile = await profilePhase(`${mode}-${round}`);
          // The longest the server's event loop was held during the round (its delivery is paced in slices).
          const held = monitorEventLoopDelay({ resolution: 5 });
          held.enable();
          const t0 = clock();
          await store.commit({ chainId: 31337, headBlockNumber: move.block.number, batch: [move], undo: new Map() });
          const committed = clock();
          // Until the server has handed every expected message to its socket (at most 60 s),
          // then a moment for the clients to read them: a round never spills into the next.
          const expectedMessages = mode === 'accounts' ? SUBSCRIBERS : SUBSCRIBERS + expectedTransitions;
          const handedOrReceived = async () => (hub ? sent.length : (await Promise.all(procs.map((proc) => {
            const got = once<{ received: number }>(proc, 'received');
            proc.send({ type: 'received' });
            return got;
          }))).reduce((n, r) => n + r.received, 0));
          while ((await handedOrReceived()) < expectedMessages && clock() - committed < 60_000) await new Promise((r) => setTimeout(r, 50));
          await new Promise((r) => setTimeout(r, 1000));
          held.disable();
          await stopProfile();
          const fanoutCpu = serverCpu() - cpuBefore;
          const reports = await collect();
          const blockTimes: number[] = [];
          const transitionTimes: number[] = [];
          const accountTimes: number[] = [];
          let failures = 0;
          let clientCpu = 0;
          for (const r of reports) {
            clientCpu += r.cpuMs;
            for (const [n, times] of r.blocks) if (n === move.block.number) blockTimes.push(...times.map((t) => t - committed));
            for (const t of r.transitions) if (t.block === move.block.number) transitionTimes.push(t.at - committed);
            accountTimes.push(...r.accounts.map((t) => t - committed));
            failures += r.failureCount;
            for (const f of r.failures) log(`   client failure: ${f}`);
          }
          const all = [...blockTimes, ...transitionTimes, ...accountTimes].sort((a, b) => a - b);
          for (const xs of [blockTimes, transitionTimes, accountTimes]) xs.sort((a, b) => a - b);
          const line = (name: string, xs: number[], expectedCount: number, verb = 'received') =>
            `${name} ${xs.length}/${expectedCount} ${verb}, p50 ${ms(percentile(xs, 50))}, p99 ${ms(percentile(xs, 99))}, max ${ms(xs.at(-1) ?? NaN)}`;
          log(
            `${label} block ${move.block.number} (${move.description}; ${move.transitions.length} margin transitions), commit took ${ms(committed - t0)}; ` +
              `${hub ? `the server's hub had it ${ms((published.get(move.block.number) ?? NaN) - committed)} after the commit returned; ` : ''}from the commit returning:`,
          );
          if (mode === 'accounts') {
            log(`   ${line('accountUpdated:', accountTimes, SUBSCRIBERS)}`);
          } else {
            log(`   ${line('blockCommitted:', blockTimes, SUBSCRIBERS)}`);
            log(`   ${line('marginStateChanged:', transitionTimes, expectedTransitions)}`);
          }
          log(`   ${line('all messages:', all, expectedMessages)}; ${failures} client failures; CPU: server process ${ms(fanoutCpu)} (commit included), client processes ${ms(clientCpu)}`);
          const handed = sent.map((t) => t - committed).sort((a, b) => a - b);
          if (hub) log(`   ${line('server side:', handed, expectedMessages, 'handed to their sockets')}; event loop held at most ${ms(held.max / 1e6)}`);
        }
        await Promise.all(
          procs.map((proc) => {
            const closed = once(proc, 'closed').catch(() => undefined);
            proc.send({ type: 'close' });
            return closed;
          }),
        );
        while (hub && hub.subscriberCount > base) await new Promise((r) => setTimeout(r, 50));
      };
      if (only.has('fanout')) await fanout('blocks', 'c.');
      if (only.has('accounts')) {
        if (ACCOUNTS < SUBSCRIBERS) log(`f. skipped: --accounts ${ACCOUNTS} < --subscribers ${SUBSCRIBERS} (each subscriber watches a distinct account)`);
        else await fanout('accounts', 'f.');
      }
    }
  } finally {
    await server?.stop();
    await external?.stop();
    await pool.end();
    await db.done();
  }
}

/** `pts serve` with `processes` API processes on a free port, once every one of them is ready. */
async function startPtsServe(databaseUrl: string, processes: number): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const { freePort } = await import('../src/devnet/anvil.js');
  const port = await freePort();
  const child = spawn(process.execPath, ['--max-semi-space-size=64', fileURLToPath(new URL('../bin/pts.js', import.meta.url)), 'serve'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), PTS_API_PROCESSES: String(processes), PTS_LOG_FORMAT: 'json', PTS_MAX_CONNECTIONS_PER_CLIENT: '1000000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const started = performance.now();
  while ((output.match(/GraphQL API ready/g) ?? []).length < processes) {
    if (child.exitCode !== null || performance.now() - started > 60_000) throw new Error(`pts serve did not start:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    child,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** CPU time (user + system) of a process and its children so far, from /proc (Linux). */
function processTreeCpuMs(pid: number): number {
  const ticks = (p: number): number => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  };
  let total = ticks(pid);
  for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try {
      total += ticks(Number(child));
    } catch {
      // exited meanwhile
    }
  }
  return total * 10; // USER_HZ = 100 on Linux
}

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  let seed = 12345;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Bytes on the wire per answer of a load's header set. */
function bytesPer(group: LoadGroup): string {
  const b = group.bytes / Math.max(1, group.latencies.length);
  return b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`;
}

async function postRaw(url: string, query: string, variables?: Record<string, unknown>): Promise<{ text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return { text: await response.text() };
}

async function postJson(url: string, query: string, variables?: Record<string, unknown>): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return response.json();
}
