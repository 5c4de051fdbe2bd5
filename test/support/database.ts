// A freshly migrated database per test file, cloned from the run's template
// (test/support/global-setup.ts) in a few milliseconds:
//
//   const db = await createTestDatabase();   // in beforeAll
//   ... db.prisma / db.pool / db.url ...
//   await db.drop();                         // in afterAll
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PtsPool } from '../../src/db/adapter.js';
import { createPrisma } from '../../src/db/client.js';
import type { PrismaClient } from '../../src/db/generated/client.js';
import { withDatabaseName } from '../../src/db/migrate.js';

export interface TestDatabase {
  url: string;
  prisma: PrismaClient;
  pool: PtsPool;
  /**
   * Ends this database's server sessions as a server restart would (pg_terminate_backend),
   * those whose pg_stat_activity row `a` matches `where`; resolves to how many it ended.
   */
  terminate(where?: string): Promise<number>;
  /** Lets the server accept new connections to this database, or refuse them (as one starting up would); open ones stay. */
  allowConnections(allowed: boolean): Promise<void>;
  /** Closes prisma and the pool, then drops the database. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** An empty database (no migrations applied) instead of a clone of the template. */
  empty?: boolean;
}

/** The server of this test run (a url naming its `postgres` database). */
export function testServerUrl(): string {
  const url = process.env.PTS_TEST_SERVER_URL;
  if (!url) {
    throw new Error(
      'No test PostgreSQL server: run tests through jest.config.js; its globalSetup starts one ' +
        'unless the selected test paths include no test/integration or test/e2e file.',
    );
  }
  return withDatabaseName(url, 'postgres');
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl(), application_name: 'pts-test-admin' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const template = options.empty ? 'template0' : process.env.PTS_TEST_TEMPLATE_DATABASE;
  if (!template) throw new Error('PTS_TEST_TEMPLATE_DATABASE is unset: run tests through jest.config.js.');
  const name = `pts_test_${process.env.PTS_TEST_RUN_ID ?? 'x'}_${randomBytes(6).toString('hex')}`;
  // The strategy comes from global-setup.ts (FILE_COPY on its embedded cluster, else the default).
  const strategy = !options.empty && process.env.PTS_TEST_CLONE_STRATEGY ? ` STRATEGY ${process.env.PTS_TEST_CLONE_STRATEGY}` : '';
  await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"${strategy}`));
  const url = withDatabaseName(testServerUrl(), name);
  const { prisma, pool, close } = createPrisma(url, { max: 5 });
  let dropping: Promise<void> | undefined;
  const drop = () =>
    (dropping ??= (async () => {
      try {
        await close();
      } finally {
        await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      }
    })());
  const terminate = (where = 'true') =>
    admin(async (c) => {
      // Chosen first: in one WHERE clause the server may call pg_terminate_backend before the other conditions.
      const { rows } = await c.query(
        `WITH chosen AS MATERIALIZED (SELECT a.pid FROM pg_stat_activity a WHERE a.datname = $1 AND (${where}))
         SELECT count(*)::int AS n FROM chosen WHERE pg_terminate_backend(pid)`,
        [name],
      );
      return rows[0].n as number;
    });
  const allowConnections = (allowed: boolean) => admin(async (c) => void (await c.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS ${allowed}`)));
  return { url, prisma, pool, terminate, allowConnections, drop };
}
