// bench/history: the goals of issue 16 (history for analytics) on this machine.
//
//   node bin/run-ts.js bench/history.ts [--accounts 100000] [--blocks 20000] [--fills 10] [--samples 200]
//     [--database <url>] [--only account,page,hourly]
//
// The dataset: --accounts accounts x 5 positions (bench/scale-dataset.ts, blocks 1-2, their
// row versions seeded as the migration seeds an existing database), then --blocks blocks
// through the ledger and LedgerStore.commit (batches of 500, as the ingester's backfill),
// spanning 30 days: every 20th block moves one index price, each block has --fills fills of
// random accounts, and one tracked account trades in 10 markets. A real API server (startServer,
// risk engine on) then answers, at random past blocks:
//   - the tracked account with its 10 positions and every risk field (goal: p99 <= 20 ms);
//   - accounts(first: 50, orderBy: RISK_DESC) over every account (goal: <= 1 s);
//   - the tracked account's 30 days of hourly history, 720 ticks (goal: <= 100 ms);
// and it prints the storage of the row versions against the rest of the ledger tables
// (goal: <= 2x). The backfill rate goal (>= 90% of before) is bench/ingest's, run on both
// commits. DATABASE_URL picks the server; unset, an embedded PostgreSQL in a temporary folder.
// --database <url> uses (and keeps) that database instead, building the dataset only when it
// is empty: the reads can then be measured again without the minutes of ingest.
// BENCH_PROFILE=<folder> writes a CPU profile of each read phase (support/profile.ts).
import { parseArgs } from 'node:util';
import { benchDatabase, percentile, type BenchDatabase } from './support/database.js';
import { profilePhase } from './support/profile.js';
import { buildScaleDataset, header, listings, ORACLES, ownerOf, PARAMS, SPOT, T0, VENUE } from './scale-dataset.js';
import { createPool } from '../src/db/adapter.js';
import { migrate } from '../src/db/migrate.js';
import { LedgerStore } from '../src/db/store/ledger-store.js';
import { parseFixed } from '../src/fixed/index.js';
import { loadConfig } from '../src/config/index.js';
import { startServer } from '../src/graphql/server.js';
import { applyBlock, commitBlock, type BlockChanges, type VenueEvent } from '../src/ledger/index.js';
import { silentLogger } from '../src/log/index.js';
import { random } from '../src/devnet/workload.js';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '100000' },
    blocks: { type: 'string', default: '20000' },
    fills: { type: 'string', default: '10' },
    samples: { type: 'string', default: '200' },
    database: { type: 'string' },
    only: { type: 'string', default: 'account,page,hourly' },
  },
});
const ACCOUNTS = Number(values.accounts);
const BLOCKS = Number(values.blocks);
const FILLS = Number(values.fills);
const SAMPLES = Number(values.samples);
const DAYS = 30;
const log = (line: string) => process.stdout.write(`${line}\n`);
const ms = (v: number) => `${v.toFixed(1)} ms`;
const sorted = (list: number[]) => [...list].sort((a, b) => a - b);


const PHASES = new Set(values.only.split(','));
const db: BenchDatabase = values.database ? { url: values.database, kind: 'kept database', done: async () => {} } : await benchDatabase();
const pool = createPool(db.url);
let server: Awaited<ReturnType<typeof startServer>> | undefined;
try {
  log(`pts bench/history: ${ACCOUNTS} accounts x 5 positions, ${BLOCKS} blocks over ${DAYS} days with ${FILLS} fills each; ${db.kind}`);
  await migrate(pool);
  const built = Number((await pool.query('SELECT count(*) AS n FROM block')).rows[0].n) > 0;
  const rand = random(16);
  const tracked = ownerOf(ACCOUNTS); // a new account: deposits, then trades in 10 markets
  const last = 2 + BLOCKS;
  if (!built) {
    const step = Math.floor((DAYS * 86400) / BLOCKS);
    await buildScaleDataset(pool, ACCOUNTS, log, { blocks: [header(1, T0), header(2, T0 + step)] });
    // The dataset writes blocks 1-2's rows by SQL: their versions, as the migration seeds them.
    for (const sql of [
      `INSERT INTO account_version SELECT id, updated_block, collateral, margin_state, updated_block FROM account ON CONFLICT DO NOTHING`,
      `INSERT INTO position_version SELECT id, updated_block, size, entry_price, realized_pnl, funding_snapshot, settled_funding, fees_paid, closed_block, updated_block FROM position ON CONFLICT DO NOTHING`,
    ]) await pool.query(sql);
    const store = new LedgerStore(pool);
    const state = await store.loadState();
    const markets = listings(SPOT, T0).map((l) => l.id);
    const prices: Record<string, number> = { ...SPOT };
    let commitMs = 0;
    let events = 0;
    let batch: BlockChanges[] = [];
    const started = performance.now();
    for (let n = 3; n < 3 + BLOCKS; n++) {
      const drafts: Record<string, unknown>[] = [];
      // One index moves every 20 blocks (each move re-evaluates every account holding it, in the ledger's margin pass).
      if (n % 20 === 0) {
        const underlying = Object.keys(prices)[(n / 20) % 3]!;
        prices[underlying] = prices[underlying]! * (1 + (rand() - 0.5) * 0.02);
        for (const source of ORACLES) drafts.push({ type: 'PriceReported', underlying, source, price: parseFixed(prices[underlying]!.toFixed(6)) });
      }
      if (n === 3) drafts.push({ type: 'Deposited', owner: tracked, subaccount: 0, amount: parseFixed('10000000') });
      const fill = (owner: string, market: string) => {
        const underlying = market.split('-')[0]!;
        const option = !market.endsWith('PERP');
        const price = option ? 50 + rand() * 100 : prices[underlying]! * (1 + (rand() - 0.5) * 0.002);
        drafts.push({ type: 'Filled', marketId: market, owner, subaccount: 0, sizeDelta: parseFixed(((rand() - 0.5) * 2).toFixed(4)), price: parseFixed(price.toFixed(6)), fee: 0n });
      };
      for (let i = 0; i < FILLS; i++) fill(ownerOf(Math.floor(rand() * ACCOUNTS)), markets[Math.floor(rand() * markets.length)]!);
      if (n % 50 === 3) fill(tracked, markets[((n - 3) / 50) % 10]!);
      const head = header(n, T0 + (n - 1) * step);
      const changes = applyBlock(state, head, drafts.map((d, i) => ({ ...d, blockNumber: n, transactionIndex: i, logIndex: i, transactionHash: `0x${n.toString(16).padStart(8, '0')}${i.toString(16).padStart(56, '0')}`, venue: VENUE }) as VenueEvent), PARAMS);
      commitBlock(state, changes);
      events += drafts.length;
      batch.push(changes);
      if (batch.length === 500 || n === 2 + BLOCKS) {
        const t = performance.now();
        await store.commit({ chainId: 31337, headBlockNumber: n, batch, undo: new Map() });
        commitMs += performance.now() - t;
        batch = [];
      }
    }
    log(`history: ${events} events in ${BLOCKS} blocks in ${((performance.now() - started) / 1000).toFixed(1)} s, of which ${(commitMs / 1000).toFixed(1)} s committing (${Math.round(events / (commitMs / 1000))} events/s committed)`);

    const size = async (tables: string[]) =>
      Number((await pool.query(`SELECT sum(pg_total_relation_size(t::regclass))::int8 AS n FROM unnest($1::text[]) t`, [tables])).rows[0].n);
    const versions = await size(['market_version', 'underlying_version', 'oracle_source_version', 'account_version', 'position_version']);
    const ledger = await size([
      'market', 'underlying', 'oracle_source', 'account', 'position', 'fill', 'collateral_transfer', 'price_report', 'volatility_report',
      'margin_fraction_update', 'index_price', 'funding_sample', 'funding_settlement', 'option_settlement', 'margin_transition', 'anomaly', 'block',
    ]);
    log(`storage: row versions ${(versions / 2 ** 20).toFixed(0)} MiB, the other ledger tables ${(ledger / 2 ** 20).toFixed(0)} MiB: overhead ${(versions / ledger).toFixed(2)}x (goal <= 2x)`);
  } else {
    const { rows } = await pool.query('SELECT max(number) AS n FROM block');
    if (Number(rows[0].n) !== last) throw new Error(`--database holds blocks up to ${rows[0].n}, not ${last}: other --accounts/--blocks`);
    log('dataset: already in --database');
  }

  // A minute per request: a slow past page is measured, not cut off.
  const config = { ...loadConfig({}), logFormat: 'json' as const, requestTimeoutMs: 60_000 };
  server = await startServer({ config, database: { url: db.url }, logger: silentLogger, port: 0, host: '127.0.0.1' });
  // Measured in the steady state: once the risk engine holds the last block, as it does a few seconds after a start.
  for (let waited = 0; !server.riskEngine.currentBlock && waited < 120_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  const post = async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(server!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const timed = async (query: string, variables: Record<string, unknown>) => {
    const t = performance.now();
    const data = await post(query, variables);
    return { data, ms: performance.now() - t };
  };
  // The reads' own random stream: the same blocks whether the dataset was just built or kept.
  const pick = random(17);
  const pastBlock = () => 3 + Math.floor(pick() * BLOCKS);
  const phase = async (name: string, run: () => Promise<void>) => {
    if (!PHASES.has(name)) return;
    const stop = await profilePhase(`history-${name}`);
    await run();
    await stop();
  };

  const ACCOUNT = `query($owner: String!, $block: BlockSelector) { account(owner: $owner, block: $block) {
    id collateral equity initialMargin maintenanceMargin freeCollateral marginRatio leverage marginState
    positions { id size entryPrice markPrice value notional unrealizedPnl accruedFunding initialMargin maintenanceMargin liquidationPrice
      delta gamma theta vega returnOnEquity funding { allTime sinceOpen sinceChange } } } }`;
  await phase('account', async () => {
    const account: number[] = [];
    let held = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const { data, ms: took } = await timed(ACCOUNT, { owner: tracked, block: { number: last - Math.floor(pick() * (BLOCKS / 2)) } });
      held = Math.max(held, data.account?.positions.length ?? 0);
      account.push(took);
    }
    log(`past account (up to ${held} positions, every risk field), ${SAMPLES} random blocks: p50 ${ms(percentile(sorted(account), 50))}, p99 ${ms(percentile(sorted(account), 99))} (goal <= 20 ms)`);
  });

  await phase('page', async () => {
    const page: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { ms: took } = await timed(`query($block: BlockSelector) { accounts(first: 50, orderBy: RISK_DESC, block: $block) { edges { node { id marginRatio equity } } } }`, { block: { number: pastBlock() } });
      page.push(took);
    }
    log(`past accounts(first: 50, orderBy: RISK_DESC) over ${ACCOUNTS + 1} accounts, 5 random blocks: p50 ${ms(percentile(sorted(page), 50))}, max ${ms(Math.max(...page))} (goal <= 1 s)`);
  });

  await phase('hourly', async () => {
    const hourly: number[] = [];
    let ticks = 0;
    for (let i = 0; i < 10; i++) {
      const { data, ms: took } = await timed(`query($owner: String!) { account(owner: $owner) { history(every: HOUR, first: 1000) { edges { node { blockNumber equity totalPnl marginRatio } } } } }`, { owner: tracked });
      ticks = data.account.history.edges.length;
      hourly.push(took);
    }
    log(`${ticks} hourly ticks (${DAYS} days) of the tracked account: p50 ${ms(percentile(sorted(hourly), 50))}, max ${ms(Math.max(...hourly))} (goal <= 100 ms)`);
  });
  log('backfill rate with the versions against without: bench/ingest on this commit and on its parent (goal >= 90%)');
} finally {
  await server?.stop();
  await pool.end();
  await db.done();
}
