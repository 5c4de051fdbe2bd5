// bench/scale: the tracker at 100,000 and 1,000,000 accounts x 5 positions (issue 15).
//
//   node --max-semi-space-size=64 bin/run-ts.js bench/scale.ts [--accounts 100000,1000000] [--ticks 50] [--only load,ticks,api]
//     [--requests 20] [--sql-requests 2]
//
// For each size: the dataset (bench/scale-dataset.ts: three underlyings, perpetuals and
// options, written straight into PostgreSQL), then, in a child process as the ingester
// would run: the state load (time, RSS after it), and price ticks through the ledger and
// the store: a 0.1% ETH report and a 7% ETH move, each from the report to the block's
// commit (applyBlock with its margin pass, the undo entries, LedgerStore.commit), p50/p99
// over --ticks, with the transitions each made.
// api: an API server in a child process (`startServer`, its risk engine loading the
// accounts), `accounts(first: 50)` in each risk order, with and without the filters, the
// first page and a page after the first 1,000 accounts, p50/p99 over --requests; then the
// same through today's full SQL pass (a server without the engine), over --sql-requests
// (each is a pass over every account), and the ratio. Then stress(ETH -20%) with its first
// 50 changed accounts, with the engine's columns and reading every account per request.
// RSS of the API process. BENCH_PROFILE=<folder> writes a CPU profile of each 7% move and of
// the API process during the engine's pages (bench/support/profile.ts).
//
// DATABASE_URL picks the PostgreSQL server (a fresh database per size, dropped after;
// --keep keeps it and prints its URL); unset, an embedded PostgreSQL in a temporary folder.
// --reuse <url> measures a kept dataset as it is (the ticks move it on: the state loads
// and pages compare, tick for tick only on a fresh one), one size.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchDatabase, percentile } from './support/database.js';
import { profilePhase } from './support/profile.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    accounts: { type: 'string', default: '100000,1000000' },
    ticks: { type: 'string', default: '50' },
    only: { type: 'string', default: 'load,ticks,api' },
    requests: { type: 'string', default: '20' },
    'sql-requests': { type: 'string', default: '2' },
    engine: { type: 'string', default: 'true' },
    url: { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string', default: '' },
  },
  strict: false,
});
const log = (line: string) => process.stdout.write(`${line}\n`);
const ms = (x: number) => `${x.toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

if (values.role === 'ingester') await ingester(String(values.url));
else if (values.role === 'api') await api(String(values.url));
else await main();

/** The API's side: risk-ordered pages with the engine, then through today's SQL pass. */
async function api(url: string): Promise<void> {
  process.env.NODE_ENV ??= 'production';
  const { loadConfig } = await import('../src/config/index.js');
  const { startServer } = await import('../src/graphql/server.js');
  const { createLogger, silentLogger } = await import('../src/log/index.js');
  const config = { ...loadConfig({}), logFormat: 'json' as const, requestTimeoutMs: 600_000 };
  const post = async (server: { url: string }, query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
    return body.data;
  };
  const orders = ['RISK_DESC', 'MARGIN_RATIO_DESC', 'MARGIN_RATIO_ASC', 'EQUITY_DESC', 'EQUITY_ASC', 'NOTIONAL_DESC', 'NOTIONAL_ASC'];
  const filters = ['', 'marginState: [MARGIN_CALL],', 'market: "ETH-60D-3000-C",'];
  const page = (order: string, filter: string) => `query ($after: String) { accounts(first: 50, orderBy: ${order}, ${filter} after: $after) { pageInfo { endCursor } edges { node { id equity marginRatio } } } }`;
  const deepCursor = async (server: { url: string }, order: string, filter: string) =>
    (await post(server, `{ accounts(first: 1000, orderBy: ${order}, ${filter}) { pageInfo { endCursor } } }`)).accounts.pageInfo.endCursor as string;
  const stressQuery = (shocks: string) => `{ stress(shocks: [${shocks}]) {
    accountsBefore { healthy marginCall liquidatable bankrupt } accountsAfter { healthy marginCall liquidatable bankrupt }
    totalEquityBefore totalEquityAfter deficitAfter
    accounts(first: 50) { totalCount edges { node { account { id } equity marginRatio marginState } } } } }`;
  const STRESS = stressQuery('{ underlying: "ETH", priceMove: "-0.2" }');
  // Each asked once at the block: the outcome is made, not taken from the engine's cache.
  const COLD_STRESSES = ['{ underlying: "ETH", priceMove: "-0.1", volatilityMove: "0.1" }', '{ underlying: "BTC", priceMove: "-0.3" }', '{ underlying: "ETH", priceMove: "0.05" }, { underlying: "SOL", priceMove: "-0.25" }'];
  const stressSummary = (data: any) =>
    `${data.stress.accounts.totalCount} accounts change state (${JSON.stringify(data.stress.accountsBefore)} -> ${JSON.stringify(data.stress.accountsAfter)}), deficit ${data.stress.deficitAfter}`;
  const measure = async (server: { url: string }, query: string, variables: Record<string, unknown>, count: number) => {
    const times: number[] = [];
    let first: unknown;
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      const data = await post(server, query, variables);
      times.push(performance.now() - t);
      first ??= data;
    }
    return { first: times[0]!, times: [...times].sort((a, b) => a - b), after: times.slice(1).sort((a, b) => a - b), data: first };
  };

  const started = performance.now();
  const server = await startServer({ config, database: { url }, logger: process.env.BENCH_LOG ? createLogger('pretty') : silentLogger, port: 0, host: '127.0.0.1' });
  while (!server.riskEngine.currentBlock) await new Promise((r) => setTimeout(r, 50));
  (globalThis as { gc?: () => void }).gc?.();
  log(`   API process: risk engine loaded in ${((performance.now() - started) / 1000).toFixed(1)} s; RSS ${mib(process.memoryUsage().rss)}`);
  const requests = Number(values.requests);
  const answers = new Map<string, unknown>();
  const stopProfile = await profilePhase(`scale-api-pages`);
  for (const order of orders) {
    for (const filter of filters) {
      if (filter && order !== 'RISK_DESC' && order !== 'MARGIN_RATIO_DESC') continue;
      const query = page(order, filter);
      const firstPage = await measure(server, query, { after: null }, requests);
      const after = await deepCursor(server, order, filter);
      const deep = await measure(server, query, { after }, requests);
      answers.set(`${order}|${filter}`, [firstPage.data, deep.data, after]);
      // The first ask of an order and filter at a block takes a pass over every account and
      // starts making its index (order-index.ts); the pages after it walk the index. A live
      // server makes ahead the indexes asked at the block before.
      log(
        `   accounts(first: 50, orderBy: ${order}${filter ? `, ${filter.slice(0, -1)}` : ''}) engine: first ask ${ms(firstPage.first)}, then first page p50 ${ms(percentile(firstPage.after, 50))}, p99 ${ms(percentile(firstPage.after, 99))}; ` +
          `after 1,000: p50 ${ms(percentile(deep.times, 50))}, p99 ${ms(percentile(deep.times, 99))}`,
      );
    }
  }
  await stopProfile();
  const stress = await measure(server, STRESS, {}, requests);
  const cold = [stress.first];
  for (const shocks of COLD_STRESSES) cold.push((await measure(server, stressQuery(shocks), {}, 1)).first);
  log(`   stress(ETH -20%) engine: first ask ${cold.map(ms).join(', ')} (4 shocks); asked again (kept) p50 ${ms(percentile(stress.times, 50))}; ${stressSummary(stress.data)}`);
  log(`   API process RSS after the pages and stress: ${mib(process.memoryUsage().rss)}`);
  await server.stop();

  // Today's path: every account's risk in SQL per request.
  const sqlRequests = Number(values['sql-requests']);
  if (sqlRequests <= 0) return;
  const sql = await startServer({ config, database: { url }, logger: silentLogger, port: 0, host: '127.0.0.1', riskEngine: false });
  for (const order of ['RISK_DESC', 'EQUITY_DESC']) {
    const query = page(order, '');
    const [engineFirst, , after] = answers.get(`${order}|`) as [unknown, unknown, string];
    const firstPage = await measure(sql, query, { after: null }, sqlRequests);
    const deep = await measure(sql, query, { after }, sqlRequests);
    const same = JSON.stringify(firstPage.data) === JSON.stringify(engineFirst);
    log(
      `   accounts(first: 50, orderBy: ${order}) full SQL pass: first page p50 ${ms(percentile(firstPage.times, 50))}, after 1,000 p50 ${ms(percentile(deep.times, 50))} ` +
        `(${same ? 'the same page as the engine' : 'A DIFFERENT PAGE FROM THE ENGINE'})`,
    );
  }
  // Without the engine a stress reads every account and position in the request's snapshot.
  const sqlStress = await measure(sql, STRESS, {}, sqlRequests);
  const same = JSON.stringify(sqlStress.data) === JSON.stringify(stress.data);
  log(`   stress(ETH -20%) reading every account: p50 ${ms(percentile(sqlStress.times, 50))} (${same ? 'the same answer as the engine' : 'A DIFFERENT ANSWER FROM THE ENGINE'})`);
  await sql.stop();
}

async function main(): Promise<void> {
  const { createPool } = await import('../src/db/adapter.js');
  const { migrate } = await import('../src/db/migrate.js');
  const { buildScaleDataset } = await import('./scale-dataset.js');
  const reuse = String(values.reuse);
  // A kept dataset is one size, whatever --accounts says.
  for (const size of reuse ? [0] : String(values.accounts).split(',').map(Number)) {
    const db = reuse ? { url: reuse, kind: 'a kept dataset', done: async () => {} } : await benchDatabase();
    const pool = createPool(db.url, { max: 4 });
    try {
      if (!reuse) {
        await migrate(db.url);
        log(`pts bench/scale: ${size.toLocaleString('en-US')} accounts x 5 positions (${db.kind})`);
        const started = performance.now();
        await buildScaleDataset(pool, size, log);
        log(`   dataset built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      } else {
        log(`pts bench/scale: ${db.url} as it is (--reuse)`);
      }
      const only = new Set(String(values.only).split(','));
      if (only.has('load') || only.has('ticks')) await runChild('ingester', db.url);
      if (only.has('api')) await runChild('api', db.url);
    } finally {
      await pool.end();
      if (values.keep && !reuse) log(`   kept: --reuse ${db.url}`);
      else await db.done();
    }
  }
}

function runChild(role: string, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['--role', role, '--url', url, '--ticks', String(values.ticks), '--only', String(values.only), '--requests', String(values.requests), '--sql-requests', String(values['sql-requests'])];
    const child = fork(fileURLToPath(new URL('../bin/run-ts.js', import.meta.url)), [fileURLToPath(import.meta.url), ...args], {
      execArgv: ['--max-semi-space-size=64', '--max-old-space-size=4096'],
      stdio: 'inherit',
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${role} exited with ${code}`))));
  });
}

/** The ingester's side: load the state, then price ticks through the ledger and the store. */
async function ingester(url: string): Promise<void> {
  const { createPool } = await import('../src/db/adapter.js');
  const { LedgerStore } = await import('../src/db/store/ledger-store.js');
  const { undoEntries } = await import('../src/db/store/undo.js');
  const { applyBlock, commitBlock } = await import('../src/ledger/index.js');
  const { parseFixed } = await import('../src/fixed/index.js');
  const { PARAMS, ORACLES, SPOT, VENUE, header } = await import('./scale-dataset.js');
  const only = new Set(String(values.only).split(','));
  const pool = createPool(url, { max: 4 });
  const store = new LedgerStore(pool);
  const rssBefore = process.memoryUsage().rss;
  let started = performance.now();
  const state = await store.loadState();
  const loadMs = performance.now() - started;
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  log(
    `   ingester state load: ${(loadMs / 1000).toFixed(1)} s; RSS ${mib(memory.rss)} (${mib(memory.rss - rssBefore)} for the state), ` +
      `heap ${mib(memory.heapUsed)}, array buffers ${mib(memory.arrayBuffers)}; ${state.accounts.size.toLocaleString('en-US')} accounts, ${state.positions.count.toLocaleString('en-US')} positions`,
  );
  if (!only.has('ticks')) return void (await pool.end());

  let number = state.lastBlock!.number;
  let time = state.lastBlock!.timestamp;
  let eth = SPOT.ETH!;
  const block = async (price: number) => {
    number += 1;
    time += 12;
    eth = price;
    const events = ORACLES.map((source, i) => ({
      type: 'PriceReported' as const, underlying: 'ETH', source, price: parseFixed(price.toFixed(6)),
      blockNumber: number, transactionIndex: i, logIndex: i, transactionHash: `0x${number.toString(16).padStart(64, '0')}`, venue: VENUE,
    }));
    const t0 = performance.now();
    const changes = applyBlock(state, header(number, time), events, PARAMS);
    const applied = performance.now();
    const undo = undoEntries(state, changes);
    const undone = performance.now();
    await store.commit({ chainId: 31337, headBlockNumber: number, batch: [changes], undo: new Map([[number, undo]]) });
    const stored = performance.now();
    commitBlock(state, changes);
    return {
      total: performance.now() - t0, apply: applied - t0, undo: undone - applied, store: stored - undone,
      transitions: changes.transitions.length, evaluated: changes.marginIndex?.ranges.accounts.length ?? 0, accountRows: changes.accounts.length,
    };
  };
  // The first block after a load evaluates every account once (the margin index lives in memory).
  started = performance.now();
  const first = await block(eth);
  log(`   first block after the load (every account evaluated): ${ms(first.total)} (apply ${ms(first.apply)}), ${first.transitions} transitions`);
  const ticks = Number(values.ticks);
  const parts = { total: [] as number[], apply: [] as number[], undo: [] as number[], store: [] as number[] };
  let transitions = 0;
  let evaluated = 0;
  let accountRows = 0;
  const stopTicks = await profilePhase(`scale-${state.accounts.size}-ticks`);
  for (let i = 0; i < ticks; i++) {
    const r = await block(eth * (i % 2 === 0 ? 1.001 : 0.999));
    for (const key of ['total', 'apply', 'undo', 'store'] as const) parts[key].push(r[key]);
    transitions += r.transitions;
    evaluated += r.evaluated;
    accountRows += r.accountRows;
  }
  await stopTicks();
  for (const list of Object.values(parts)) list.sort((a, b) => a - b);
  const p = (list: number[]) => `p50 ${ms(percentile(list, 50))}, p99 ${ms(percentile(list, 99))}`;
  log(`   0.1% ETH tick, report to commit: ${p(parts.total)} (applyBlock ${p(parts.apply)}; undo entries ${p(parts.undo)}; LedgerStore.commit ${p(parts.store)}); ${transitions} transitions over ${ticks} ticks (${evaluated} accounts evaluated, ${accountRows} account rows written)`);
  for (const [name, factor] of [['7% ETH move down', 0.93], ['back up', 1 / 0.93]] as const) {
    const stopProfile = await profilePhase(`scale-${state.accounts.size}-${name.replaceAll(/\W+/g, '-')}`);
    const r = await block(eth * factor);
    await stopProfile();
    log(`   ${name}, report to commit: ${ms(r.total)} (applyBlock ${ms(r.apply)}, undo entries ${ms(r.undo)}, LedgerStore.commit ${ms(r.store)}), ${r.transitions} transitions (${r.evaluated} accounts evaluated, ${r.accountRows} account rows written)`);
  }
  await pool.end();
}
