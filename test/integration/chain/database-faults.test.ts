// Issue 3: database faults. A batch's transaction fails while the ingester is pipelining
// (the next batch already applied in memory): it logs the failure, reloads its state from
// the last commit and ends exactly where an undisturbed ingest does. The server drops
// every connection (a restart): nothing crashes, the ingester takes its writer lock again
// and ends where an undisturbed ingest does; while another ingester holds the lock, it
// waits.
import pg from 'pg';
import { LOCK_KEY } from '../../../src/chain/writer-lock.js';
import { Workload, traderAddresses } from '../../../src/devnet/workload.js';
import type { VenueDriver } from '../../../src/devnet/venue-driver.js';
import { expectEqualToFreshIngest, startDevnet, type Devnet } from '../../support/devnet.js';
import { capturingLogger } from '../../support/logger.js';
import { snapshotTables } from '../../support/snapshot.js';

/** A chain of `blocks` workload blocks; resolves to its tip. */
async function chainOf(net: Devnet, blocks: number): Promise<{ tip: number; workload: Workload }> {
  const now = Number((await net.deployment.publicClient.getBlock()).timestamp);
  const workload = new Workload(net.venue, { traders: traderAddresses(30), eventsPerBlock: 30, startTime: now });
  for (const calls of workload.setup()) await net.venue.send(calls);
  for (let i = 0; i < blocks; i++) await net.venue.send(workload.block());
  return { tip: Number(await net.deployment.publicClient.getBlockNumber({ cacheTime: 0 })), workload };
}

/** The database's sessions holding the ingester's advisory lock. */
const HOLDS_WRITER_LOCK = `a.pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`;

describe('database faults', () => {
  it('a failed batch write is retried from the last commit; nothing lost or doubled', async () => {
    const net = await startDevnet();
    try {
      const { tip } = await chainOf(net, 60);
      // The 3rd and 6th transactions that write fills fail (a sequence is not rolled back).
      await net.db.pool.query(`
        CREATE SEQUENCE fault_seq;
        CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF nextval('fault_seq') IN (3, 6) THEN RAISE EXCEPTION 'injected fault'; END IF;
          RETURN NULL;
        END $$;
        CREATE TRIGGER inject_fault AFTER INSERT ON fill FOR EACH STATEMENT EXECUTE FUNCTION inject_fault();`);
      const logger = capturingLogger();
      // Small batches: many writes, each overlapping the next batch's apply.
      const following = net.follow({ logger, batchBlocks: 5 });
      await following.reached(tip, 60_000);
      expect(logger.messages('error')).toEqual(['ingestion step failed; retrying', 'ingestion step failed; retrying']);
      expect(logger.lines.find((l) => l.level === 'error')?.fields.error).toContain('injected fault');
      await net.db.pool.query('DROP TRIGGER inject_fault ON fill');

      await expectEqualToFreshIngest(net, tip);
    } finally {
      await net.close();
    }
  }, 120_000);

  it('the server drops every connection again and again while blocks come: nothing crashes, the ingester ends where an undisturbed ingest does', async () => {
    const net = await startDevnet();
    try {
      const { workload } = await chainOf(net, 20);
      const logger = capturingLogger();
      const following = net.follow({ logger, batchBlocks: 3 });
      // Every 100-200 ms, whatever the ingester is doing (fetching, applying, writing, idle).
      let producing = true;
      let terminated = 0;
      const restarts = (async () => {
        while (producing) {
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 100));
          terminated += await net.db.terminate();
        }
      })();
      const tip = await more(net.venue, workload, 60);
      producing = false;
      await restarts;
      await following.reached(tip, 60_000);
      expect(terminated).toBeGreaterThanOrEqual(2);
      expect(following.failure).toBeUndefined();
      expect(logger.messages('error')).toEqual([]); // each failure was known for a dropped connection
      expect(logger.messages('warn')).toContain('lost the database connection that held the writer lock; taking it again before writing');

      await expectEqualToFreshIngest(net, tip);
    } finally {
      await net.close();
    }
  }, 180_000);

  it('a database that refuses connections for a while: one line when it goes, one when it is back, and nothing lost', async () => {
    const net = await startDevnet();
    try {
      let { tip, workload } = await chainOf(net, 5);
      const logger = capturingLogger();
      const following = net.follow({ logger });
      await following.reached(tip);
      await net.db.allowConnections(false);
      try {
        expect(await net.db.terminate()).toBeGreaterThan(0);
        tip = await more(net.venue, workload, 5);
        await until(() => logger.messages('warn').includes('database unavailable; retrying with backoff'));
        await new Promise((r) => setTimeout(r, 3500)); // attempts at 1, 2 and 4 s: all refused
      } finally {
        await net.db.allowConnections(true);
      }
      await following.reached(tip, 30_000);
      expect(logger.messages('warn').filter((m) => m === 'database unavailable; retrying with backoff')).toHaveLength(1);
      expect(logger.lines.filter((l) => l.message === 'database reachable again').map((l) => l.fields.outageSeconds)).toEqual([expect.any(Number)]);
      expect(logger.messages('error')).toEqual([]);
      await expectEqualToFreshIngest(net, tip);
    } finally {
      await net.close();
    }
  }, 120_000);

  it('an ingester whose lock connection drops while another waits for the lock writes nothing until it has the lock again', async () => {
    const net = await startDevnet();
    const other = new pg.Client({ connectionString: net.db.url }); // another ingester, as far as the lock goes
    try {
      let { tip, workload } = await chainOf(net, 10);
      const logger = capturingLogger();
      const following = net.follow({ logger });
      await following.reached(tip);
      await other.connect();
      const taken = other.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]); // waits: the ingester holds it
      // Only the lock's session ends; the waiting session gets the lock as it goes.
      expect(await net.db.terminate(HOLDS_WRITER_LOCK)).toBe(1);
      await taken;
      await until(() => logger.messages('warn').includes('another ingester holds this database; waiting to take over'));
      expect(logger.messages('warn')).toContain('lost the database connection that held the writer lock; taking it again before writing');
      const stored = await snapshotTables(net.db.pool);
      tip = await more(net.venue, workload, 5);
      await new Promise((r) => setTimeout(r, 1000));
      expect(following.ingester.lastBlock).toBeLessThan(tip);
      expect(await snapshotTables(net.db.pool)).toEqual(stored);

      // The lock comes free: the ingester takes it and goes on from what is stored.
      await other.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
      await following.reached(tip);
      tip = await more(net.venue, workload, 5);
      await following.reached(tip);
      expect(following.failure).toBeUndefined();
      expect(logger.messages('error')).toEqual([]);

      await expectEqualToFreshIngest(net, tip);
    } finally {
      await other.end().catch(() => undefined);
      await net.close();
    }
  }, 120_000);
});

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${condition}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `blocks` more workload blocks; resolves to the new tip. */
async function more(venue: VenueDriver, workload: Workload, blocks: number): Promise<number> {
  let tip = 0;
  for (let i = 0; i < blocks; i++) tip = Number((await venue.send(workload.block())).blockNumber);
  return tip;
}
