// A real chain for integration tests: anvil, the reference venue, a fresh database and
// an in-process ingester following them.
import { Ingester, type IngesterOptions } from '../../src/chain/ingester.js';
import { Rpc } from '../../src/chain/rpc.js';
import { startAnvil, type Anvil, type AnvilOptions } from '../../src/devnet/anvil.js';
import { anvilAccount, deployVenue, type VenueDeployment } from '../../src/devnet/deploy.js';
import { VenueDriver } from '../../src/devnet/venue-driver.js';
import { createLogger, silentLogger } from '../../src/log/index.js';

/** PTS_DEBUG=1 shows what the ingester logs during a test. */
const logger = process.env.PTS_DEBUG ? createLogger('pretty') : silentLogger;
import { createTestDatabase, type TestDatabase } from './database.js';
import { snapshotTables } from './snapshot.js';

export const TRADERS = Array.from({ length: 6 }, (_, i) => anvilAccount(i + 1).address.toLowerCase() as `0x${string}`);

export interface Devnet {
  anvil: Anvil;
  deployment: VenueDeployment;
  venue: VenueDriver;
  db: TestDatabase;
  /** An ingester of the venue into `db` (or another database), running until stopped. */
  follow(options?: Partial<IngesterOptions> & { db?: TestDatabase; rpcUrls?: string[] }): FollowingIngester;
  close(): Promise<void>;
}

export interface FollowingIngester {
  ingester: Ingester;
  /** Why `run()` rejected, once it has. */
  failure?: unknown;
  /** Resolves once the committed state reaches `block`. */
  reached(block: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startDevnet(options: { anvil?: AnvilOptions } = {}): Promise<Devnet> {
  const [anvil, db] = await Promise.all([startAnvil(options.anvil), createTestDatabase()]);
  const deployment = await deployVenue(anvil.rpcUrl);
  const followers: FollowingIngester[] = [];
  const net: Devnet = {
    anvil,
    deployment,
    venue: new VenueDriver(deployment),
    db,
    follow(options = {}) {
      const rpc = new Rpc(options.rpcUrls ?? [net.anvil.rpcUrl], options.logger ?? logger, { maxBackoffMs: 200 });
      const ingester = new Ingester({
        rpc,
        pool: (options.db ?? db).pool,
        logger,
        venues: [deployment.address.toLowerCase()],
        startBlock: Number(deployment.blockNumber),
        pollIntervalMs: 50,
        ...options,
      });
      const running = ingester.run();
      const follower: FollowingIngester = {
        ingester,
        async reached(block, timeoutMs = 30_000) {
          const deadline = Date.now() + timeoutMs;
          while ((ingester.lastBlock ?? -1) < block) {
            await Promise.race([running, new Promise((r) => setTimeout(r, 20))]);
            if (Date.now() > deadline) throw new Error(`ingester at ${ingester.lastBlock}, not ${block}, after ${timeoutMs} ms`);
          }
        },
        async stop() {
          await ingester.stop();
          await running.catch(() => undefined);
          await rpc.close();
        },
      };
      running.catch((error) => {
        follower.failure = error;
      });
      followers.push(follower);
      return follower;
    },
    async close() {
      await Promise.all(followers.map((f) => f.stop()));
      await Promise.all([net.anvil.stop(), db.drop()]);
    },
  };
  return net;
}

/**
 * Asserts that `net`'s database, once at block `tip`, holds exactly what a fresh ingest
 * of the same chain into a new database does, table by table.
 */
export async function expectEqualToFreshIngest(net: Devnet, tip: number): Promise<void> {
  const fresh = await createTestDatabase();
  const replay = net.follow({ db: fresh });
  try {
    await replay.reached(tip);
    expect(await snapshotTables(net.db.pool)).toEqual(await snapshotTables(fresh.pool));
  } finally {
    await replay.stop();
    await fresh.drop();
  }
}

/** The next timestamp at or after `after` that is a multiple of `period`. */
export function alignedTime(after: number, period: number): number {
  return Math.ceil(after / period) * period;
}
