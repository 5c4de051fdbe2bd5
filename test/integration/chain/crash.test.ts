// Issue 3: the ingester process killed with SIGKILL at many points of a long backfill,
// restarted each time, ends in exactly the state of an uninterrupted run.
import { spawn, type ChildProcess } from 'node:child_process';
import { Workload, traderAddresses } from '../../../src/devnet/workload.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { startDevnet, type Devnet } from '../../support/devnet.js';
import { snapshotTables } from '../../support/snapshot.js';

const BLOCKS = 240;
const KILLS = 10;

function ingestProcess(net: Devnet, db: TestDatabase): ChildProcess {
  return spawn(process.execPath, ['bin/pts.js', 'ingest'], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      PTS_RPC_URL: net.anvil.rpcUrl,
      PTS_VENUE_ADDRESSES: net.deployment.address,
      PTS_START_BLOCK: String(net.deployment.blockNumber),
      PTS_BATCH_BLOCKS: '4',
      PTS_POLL_INTERVAL_MS: '50',
      PTS_LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'ignore', process.env.PTS_DEBUG ? 'inherit' : 'ignore'],
  });
}

async function cursorOf(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query('SELECT block_number::int AS n FROM cursor');
  return rows[0]?.n ?? -1;
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));

describe('crash safety', () => {
  let net: Devnet;
  let crashed: TestDatabase;
  beforeAll(async () => {
    net = await startDevnet();
    crashed = await createTestDatabase();
  });
  afterAll(async () => {
    await crashed?.drop();
    await net?.close();
  });

  it('resumes after SIGKILL at any point with nothing lost or counted twice', async () => {
    const now = Number((await net.deployment.publicClient.getBlock()).timestamp);
    const workload = new Workload(net.venue, { traders: traderAddresses(60), eventsPerBlock: 24, startTime: now });
    for (const calls of workload.setup()) await net.venue.send(calls);
    for (let i = 0; i < BLOCKS; i++) await net.venue.send(workload.block());
    const head = Number(await net.deployment.publicClient.getBlockNumber({ cacheTime: 0 }));

    // The uninterrupted run.
    const reference = net.follow();
    await reference.reached(head, 60_000);
    await reference.stop();

    // The run killed KILLS times at spread-out points of the backfill.
    const start = Number(net.deployment.blockNumber);
    const killedAt: number[] = [];
    for (let k = 1; k <= KILLS; k++) {
      const threshold = start + Math.floor(((head - start) * k) / (KILLS + 2));
      const child = ingestProcess(net, crashed);
      const deadline = Date.now() + 60_000;
      while ((await cursorOf(crashed)) < threshold && child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 3));
      }
      expect(child.exitCode).toBeNull(); // it was still running when killed
      child.kill('SIGKILL');
      await exited(child);
      killedAt.push(await cursorOf(crashed));
    }
    // Every kill landed mid-backfill, at increasing points.
    expect(killedAt[0]).toBeGreaterThan(start);
    expect(killedAt.at(-1)).toBeLessThan(head);
    expect([...killedAt].sort((a, b) => a - b)).toEqual(killedAt);

    const last = ingestProcess(net, crashed);
    const deadline = Date.now() + 60_000;
    while ((await cursorOf(crashed)) < head && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    last.kill('SIGTERM');
    expect(await exited(last)).toBe(0);

    expect(await snapshotTables(crashed.pool)).toEqual(await snapshotTables(net.db.pool));
  }, 240_000);
});
