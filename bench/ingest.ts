// bench/ingest: backfill throughput, memory and live block-to-commit latency of the
// ingester on a real anvil chain and PostgreSQL (issue 3).
//
//   node --expose-gc bin/run-ts.js bench/ingest.ts [--events 200000] [--accounts 1000] [--per-block 200] [--live 200] [--preexisting 0]
//
// --preexisting N (issue 15) puts N accounts x 5 positions (bench/scale-dataset.ts, on the
// workload's ETH and BTC index prices, under their own market ids) in the database before
// the backfill, in the two blocks before the venue's: the ingester loads them (the load is
// timed apart), and every price the workload reports moves them. The rate is then the
// backfill's at N pre-existing accounts, to set beside the rate at --preexisting 0.
//
// Memory is read at 25/50/75/100% of the backfill after a full GC (--expose-gc), on the
// ingester's thread: the time those forced GCs take is printed and left out of the rate
// (it is the benchmark's, not the ingester's); the rate with it is printed too.
// BENCH_LOG=1 shows the ingester's own log lines (progress, range narrowing).
// BENCH_PROFILE=<folder> writes a CPU profile of the backfill to <folder>/backfill.cpuprofile.
// DATABASE_URL picks the PostgreSQL server (a fresh database is created on it and
// dropped after); unset, an embedded PostgreSQL runs in a temporary folder.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { benchDatabase, percentile } from './support/database.js';
import { cpuSecondsOf, profilePhase } from './support/profile.js';
import { VenueArtifact } from '../src/chain/artifacts.js';
import { Ingester } from '../src/chain/ingester.js';
import { Rpc } from '../src/chain/rpc.js';
import { createPool } from '../src/db/adapter.js';
import { migrate } from '../src/db/migrate.js';
import { startAnvil } from '../src/devnet/anvil.js';
import { deployVenue } from '../src/devnet/deploy.js';
import { VenueDriver } from '../src/devnet/venue-driver.js';
import { Workload, traderAddresses } from '../src/devnet/workload.js';
import { createLogger, silentLogger, type Logger } from '../src/log/index.js';
import { buildScaleDataset } from './scale-dataset.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    accounts: { type: 'string', default: '1000' },
    'per-block': { type: 'string', default: '200' },
    live: { type: 'string', default: '200' },
    preexisting: { type: 'string', default: '0' },
  },
});
const EVENTS = Number(values.events);
const ACCOUNTS = Number(values.accounts);
const PER_BLOCK = Number(values['per-block']);
const LIVE_BLOCKS = Number(values.live);
const PREEXISTING = Number(values.preexisting);

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const log = (line: string) => process.stdout.write(`${line}\n`);
const gc = (globalThis as { gc?: () => void }).gc;



const anvil = await startAnvil();
const db = await benchDatabase();
try {
  log(`pts bench/ingest: ${EVENTS} events, ${ACCOUNTS} accounts, ~${PER_BLOCK} events per block${PREEXISTING ? `, ${PREEXISTING} pre-existing accounts` : ''}; ${db.kind}`);
  // Two empty blocks before the venue's: where pre-existing accounts are written.
  if (PREEXISTING > 0) await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: ['0x2'] }) });
  const deployment = await deployVenue(anvil.rpcUrl);
  const venue = new VenueDriver(deployment);
  const now = Number((await deployment.publicClient.getBlock()).timestamp);
  const workload = new Workload(venue, { traders: traderAddresses(ACCOUNTS), eventsPerBlock: PER_BLOCK, startTime: now, seed: 11 });

  // 1. The chain.
  let started = performance.now();
  let generated = 0;
  for (const calls of workload.setup()) {
    await venue.send(calls);
    generated += calls.length;
  }
  while (generated < EVENTS) {
    const calls = workload.block();
    await venue.send(calls);
    generated += PER_BLOCK;
  }
  const head = Number(await deployment.publicClient.getBlockNumber({ cacheTime: 0 }));
  log(`generated ${head - Number(deployment.blockNumber)} blocks in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // 2. Backfill.
  await migrate(db.url);
  const pool = createPool(db.url, { max: 10 });
  if (PREEXISTING > 0) {
    const headers = await Promise.all([1, 2].map(async (n) => {
      const block = await deployment.publicClient.getBlock({ blockNumber: BigInt(Number(deployment.blockNumber) - 3 + n) });
      return { number: Number(block.number), hash: block.hash!, parentHash: block.parentHash, timestamp: Number(block.timestamp) };
    }));
    const built = performance.now();
    await buildScaleDataset(pool, PREEXISTING, log, {
      blocks: [headers[0]!, headers[1]!],
      spot: { ETH: 2000, BTC: 60000, SOL: 150 }, // the workload's first prices
      oracles: [deployment.owner.address.toLowerCase()], // the workload's reporter: its prices replace these
      marketPrefix: 'D-',
    });
    log(`${PREEXISTING} pre-existing accounts written in ${((performance.now() - built) / 1000).toFixed(1)} s (blocks ${headers[0]!.number}-${headers[1]!.number})`);
  }
  /** When the ingester had loaded its state ("ingester starting"). */
  let loadedAt = 0;
  const logger = process.env.BENCH_LOG ? createLogger('json') : silentLogger;
  const timing: Logger = { ...logger, info: (message, fields) => ((loadedAt ||= message === 'ingester starting' ? performance.now() : 0), logger.info(message, fields)), child: () => timing };
  const rpc = new Rpc([anvil.rpcUrl, anvil.wsUrl], silentLogger);
  let committedEvents = 0;
  const memory: { block: number; heap: number; rss: number }[] = [];
  /** Time the memory readings took on the ingester's thread (a full GC each): the benchmark's, not the ingester's. */
  let readingMs = 0;
  let nextSample = 0.25;
  const latencies: number[] = [];
  const sentAt = new Map<number, number>();
  const ingester = new Ingester({
    rpc,
    pool,
    logger: timing,
    venues: [deployment.address.toLowerCase()],
    startBlock: Number(deployment.blockNumber),
    pollIntervalMs: 1000,
    onCommit(batch) {
      for (const changes of batch) {
        committedEvents += changes.eventCount;
        const sent = sentAt.get(changes.block.number);
        if (sent !== undefined) latencies.push(performance.now() - sent);
      }
      const done = (batch.at(-1)!.block.number - Number(deployment.blockNumber)) / (head - Number(deployment.blockNumber));
      if (done >= nextSample && nextSample <= 1) {
        const before = performance.now();
        gc?.();
        const usage = process.memoryUsage();
        memory.push({ block: batch.at(-1)!.block.number, heap: usage.heapUsed, rss: usage.rss });
        readingMs += performance.now() - before;
        nextSample += 0.25;
      }
    },
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const stopProfile = await profilePhase('backfill');
  started = performance.now();
  const cpuBefore = process.cpuUsage();
  const othersBefore = [cpuSecondsOf('anvil'), cpuSecondsOf('postgres')];
  const running = ingester.run();
  while ((ingester.lastBlock ?? 0) < head) await new Promise((r) => setTimeout(r, 5));
  // From the state loaded (with pre-existing accounts, loading them is timed apart).
  const loadSeconds = loadedAt ? (loadedAt - started) / 1000 : 0;
  if (PREEXISTING > 0) log(`ingester state load: ${loadSeconds.toFixed(1)} s`);
  const seconds = (performance.now() - started) / 1000 - loadSeconds;
  const cpu = process.cpuUsage(cpuBefore);
  const others = [cpuSecondsOf('anvil'), cpuSecondsOf('postgres')].map((after, i) => (after === null ? '?' : (after - othersBefore[i]!).toFixed(1)));
  await stopProfile();
  const blocks = head - Number(deployment.blockNumber);
  const ingesting = seconds - readingMs / 1000;
  log(
    `backfill: ${committedEvents} events in ${blocks} blocks, ${seconds.toFixed(2)} s, of which ${readingMs.toFixed(0)} ms were the ${memory.length} memory readings' forced GCs; ` +
      `without them ${ingesting.toFixed(2)} s = ${Math.round(committedEvents / ingesting)} events/s (${Math.round(blocks / ingesting)} blocks/s), with them ${Math.round(committedEvents / seconds)} events/s; ` +
      `CPU: ingester ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, anvil ${others[0]} s, PostgreSQL ${others[1]} s, on ${availableParallelism()} cores`,
  );
  log(`memory after GC at 25/50/75/100% of the backfill: heap ${memory.map((m) => mb(m.heap)).join(' / ')}; rss ${memory.map((m) => mb(m.rss)).join(' / ')}; peak rss ${mb(peakRss)}`);

  // 3. Live: one block at a time, time from the block being mined to its commit.
  const liveWorkload = new Workload(venue, { traders: traderAddresses(ACCOUNTS), eventsPerBlock: 20, startTime: now, seed: 12 });
  let blockNumber = head;
  for (let i = 0; i < LIVE_BLOCKS; i++) {
    const calls = liveWorkload.block();
    // Under automine the block exists when eth_sendTransaction returns.
    await deployment.walletClient.writeContract({ address: venue.address, abi: VenueArtifact.abi, functionName: 'batch', args: [calls] });
    sentAt.set(++blockNumber, performance.now());
    while ((ingester.lastBlock ?? 0) < blockNumber) await new Promise((r) => setImmediate(r));
  }
  latencies.sort((a, b) => a - b);
  if (latencies.length > 0) log(`live: ${latencies.length} blocks of ~20 events, block-to-commit latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (from eth_sendTransaction returning under automine)`);
  clearInterval(sampler);
  await ingester.stop();
  await running;
  await rpc.close();
  await pool.end();
} finally {
  await anvil.stop();
  await db.done();
}
