// Issue 3: database faults. A batch's transaction fails while the ingester is pipelining
// (the next batch already applied in memory): it logs the failure, reloads its state from
// the last commit and ends exactly where an undisturbed ingest does.
import { Workload, traderAddresses } from '../../../src/devnet/workload.js';
import type { Logger } from '../../../src/log/index.js';
import { createTestDatabase } from '../../support/database.js';
import { startDevnet } from '../../support/devnet.js';
import { snapshotTables } from '../../support/snapshot.js';

describe('database faults', () => {
  it('a failed batch write is retried from the last commit; nothing lost or doubled', async () => {
    const net = await startDevnet();
    const fresh = await createTestDatabase();
    try {
      const now = Number((await net.deployment.publicClient.getBlock()).timestamp);
      const workload = new Workload(net.venue, { traders: traderAddresses(30), eventsPerBlock: 30, startTime: now });
      for (const calls of workload.setup()) await net.venue.send(calls);
      for (let i = 0; i < 60; i++) await net.venue.send(workload.block());
      const tip = Number(await net.deployment.publicClient.getBlockNumber({ cacheTime: 0 }));

      // The 3rd and 6th transactions that write fills fail (a sequence is not rolled back).
      await net.db.pool.query(`
        CREATE SEQUENCE fault_seq;
        CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF nextval('fault_seq') IN (3, 6) THEN RAISE EXCEPTION 'injected fault'; END IF;
          RETURN NULL;
        END $$;
        CREATE TRIGGER inject_fault AFTER INSERT ON fill FOR EACH STATEMENT EXECUTE FUNCTION inject_fault();`);
      const errors: string[] = [];
      const logger: Logger = {
        info: () => undefined,
        warn: () => undefined,
        error: (message, fields) => void errors.push(`${message} ${String(fields?.error)}`),
        progress: () => undefined,
        child: () => logger,
      };
      // Small batches: many writes, each overlapping the next batch's apply.
      const following = net.follow({ logger, batchBlocks: 5 });
      await following.reached(tip, 60_000);
      expect(errors).toHaveLength(2);
      expect(errors[0]).toContain('injected fault');
      await net.db.pool.query('DROP TRIGGER inject_fault ON fill');

      const replay = net.follow({ db: fresh });
      await replay.reached(tip);
      expect(await snapshotTables(net.db.pool)).toEqual(await snapshotTables(fresh.pool));
    } finally {
      await net.close();
      await fresh.drop();
    }
  }, 120_000);
});
