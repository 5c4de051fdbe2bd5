// Jest globalSetup: one PostgreSQL server for the whole run and one migrated template
// database, cloned per test file by createTestDatabase() (test/support/database.ts).
// PTS_TEST_DATABASE_URL (any database on the server to use) picks an existing server;
// otherwise one embedded PostgreSQL starts in a temp dir (stopped by global-teardown.ts).
// Runs whose test path patterns select only unit tests skip all this.
// Workers learn the server and template through process.env.
//
// Jest loads globalSetup/globalTeardown through a CommonJS require hook (not as native
// ESM like the tests), where the project's './x.js' specifiers of .ts files do not
// resolve; so the src modules are imported here as native ESM through tsx.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { EmbeddedPostgres } from '../../src/db/embedded.js';

type Embedded = typeof import('../../src/db/embedded.js');
type Migrate = typeof import('../../src/db/migrate.js');

// A native import(): in the CommonJS transform, import() would become require().
const nativeImport = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

async function importSource<T>(rootDir: string, file: string): Promise<T> {
  const { tsImport } = await nativeImport<typeof import('tsx/esm/api')>('tsx/esm/api');
  return (await tsImport(pathToFileURL(path.join(rootDir, file)).href, pathToFileURL(path.join(rootDir, '/')).href)) as T;
}

export interface TestServerState {
  embedded?: EmbeddedPostgres;
  tempDir?: string;
  serverUrl: string;
  runId: string;
  template: string;
}

declare global {
  // eslint-disable-next-line no-var
  var __PTS_TEST_SERVER__: TestServerState | undefined;
}

interface GlobalConfig {
  testPathPatterns?: { isSet(): boolean; toExecutor(options: { rootDir: string }): { isMatch(path: string): boolean } };
}

/** False only when test path patterns select no integration or e2e test (a unit-only run). */
async function databaseNeeded(global: GlobalConfig, rootDir: string): Promise<boolean> {
  const patterns = global.testPathPatterns;
  if (!patterns?.isSet()) return true;
  const matcher = patterns.toExecutor({ rootDir });
  for (const folder of ['test/integration', 'test/e2e']) {
    const entries = await readdir(path.join(rootDir, folder), { recursive: true }).catch(() => [] as string[]);
    if (entries.some((f) => f.endsWith('.test.ts') && matcher.isMatch(path.join(rootDir, folder, f)))) return true;
  }
  return false;
}

export default async function globalSetup(global: GlobalConfig, project: { rootDir: string }): Promise<void> {
  const started = Date.now();
  if (!(await databaseNeeded(global, project.rootDir))) return;
  const { startEmbeddedPostgres } = await importSource<Embedded>(project.rootDir, 'src/db/embedded.ts');
  const { migrate, withDatabaseName } = await importSource<Migrate>(project.rootDir, 'src/db/migrate.ts');
  const runId = randomBytes(4).toString('hex');
  let embedded: EmbeddedPostgres | undefined;
  let tempDir: string | undefined;
  let serverUrl = process.env.PTS_TEST_DATABASE_URL;
  try {
    if (!serverUrl) {
      tempDir = await mkdtemp(path.join(tmpdir(), 'pts-test-pg-'));
      await chmod(tempDir, 0o755); // as root, PostgreSQL runs as the postgres user
      embedded = await startEmbeddedPostgres({
        dataDir: path.join(tempDir, 'data'),
        database: 'postgres',
        initdbFlags: ['--no-sync'],
        // A throwaway cluster: durability off, room for every worker's pools.
        postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
      });
      serverUrl = embedded.url;
    }
    const template = `pts_template_${runId}`;
    const admin = new pg.Client({ connectionString: withDatabaseName(serverUrl, 'postgres') });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${template}"`);
      await migrate(withDatabaseName(serverUrl, template));
      // Nobody may connect to it: CREATE DATABASE ... TEMPLATE needs it idle.
      await admin.query(`ALTER DATABASE "${template}" WITH ALLOW_CONNECTIONS false`);
    } finally {
      await admin.end();
    }
    globalThis.__PTS_TEST_SERVER__ = { embedded, tempDir, serverUrl, runId, template };
    process.env.PTS_TEST_SERVER_URL = serverUrl;
    process.env.PTS_TEST_TEMPLATE_DATABASE = template;
    process.env.PTS_TEST_RUN_ID = runId;
    // How createTestDatabase copies the template. FILE_COPY forces a checkpoint: cheap on the
    // fsync=off embedded cluster (~35% faster than WAL_LOG there), ~1 s on a durable server.
    process.env.PTS_TEST_CLONE_STRATEGY = embedded ? 'FILE_COPY' : '';
    if (process.env.PTS_DEBUG) {
      process.stderr.write(`\n[pts test] ${embedded ? 'embedded' : 'external'} server and template ready in ${Date.now() - started} ms\n`);
    }
  } catch (e) {
    await embedded?.stop().catch(() => undefined);
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw e;
  }
}
