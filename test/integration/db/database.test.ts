// src/db: embedded PostgreSQL and DATABASE_URL, migrations, exact numbers.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { createPool } from '../../../src/db/adapter.js';
import { openDatabase } from '../../../src/db/database.js';
import { DataDirInUseError, freePort, startEmbeddedPostgres } from '../../../src/db/embedded.js';
import { Prisma, type PrismaClient } from '../../../src/db/generated/client.js';
import { defaultMigrationsDir, migrate, migrationsApplied, readMigrations, withDatabaseName } from '../../../src/db/migrate.js';
import { createTestDatabase, testServerUrl } from '../../support/database.js';

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pts-db-test-'));
  await chmod(dir, 0o755); // as root, PostgreSQL runs as the postgres user and must enter it
  tempDirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

// 48 significant digits: 30 integer, 18 fractional.
const BIG = '123456789012345678901234567890.123456789012345678';

function market(id: string, strike: string): Prisma.MarketCreateInput {
  return {
    id,
    underlying: 'ETH',
    kind: 'CALL',
    strike,
    expiry: 1_900_000_000n,
    initialMarginFraction: '0.1',
    maintenanceMarginFraction: '0.05',
    fundingInterval: 3600n,
    maxFundingRate: '0.001',
    cumulativeFunding: '0',
    fundingPeriod: 0n,
    fundingWeightedPremium: '0',
    fundingCoveredSeconds: 0n,
    fundingAccountedUntil: 0n,
    venue: '0x00000000000000000000000000000000000000aa',
    listedBlock: 1n,
    updatedBlock: 1n,
  };
}

function account(owner: string, subaccount: bigint, collateral: string): Prisma.AccountCreateInput {
  return {
    id: `${owner}:${subaccount}`,
    owner,
    subaccount,
    collateral,
    marginState: 'HEALTHY',
    createdBlock: 1n,
    updatedBlock: 1n,
  };
}

async function writeSample(prisma: PrismaClient): Promise<void> {
  await prisma.market.create({ data: market('ETH-CALL-1', BIG) });
  await prisma.account.create({ data: account('0x00000000000000000000000000000000000000b1', 0n, BIG) });
}

async function expectSample(prisma: PrismaClient): Promise<void> {
  const m = await prisma.market.findUniqueOrThrow({ where: { id: 'ETH-CALL-1' } });
  expect(m.strike.toFixed(18)).toBe(BIG);
  expect(m.kind).toBe('CALL');
  expect(m.expiry).toBe(1_900_000_000n);
  const a = await prisma.account.findUniqueOrThrow({ where: { id: '0x00000000000000000000000000000000000000b1:0' } });
  expect(a.collateral.toFixed(18)).toBe(BIG);
  expect(a.marginState).toBe('HEALTHY');
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** exact sum of decimal strings with 18 fractional digits, via bigint */
function exactSum(values: string[]): string {
  const scale = 10n ** 18n;
  const total = values.reduce((sum, v) => {
    const negative = v.startsWith('-');
    const [int, frac = ''] = v.replace('-', '').split('.');
    const scaled = BigInt(int!) * scale + BigInt(frac.padEnd(18, '0'));
    return sum + (negative ? -scaled : scaled);
  }, 0n);
  const abs = total < 0n ? -total : total;
  return `${total < 0n ? '-' : ''}${abs / scale}.${(abs % scale).toString().padStart(18, '0')}`;
}

describe('openDatabase without DATABASE_URL: embedded PostgreSQL', () => {
  test('starts under <dataDir>/postgres, migrates, stores exact values, and keeps them across restarts', async () => {
    const dataDir = await tempDir();
    const first = await openDatabase({ dataDir });
    try {
      expect(first.embedded).toBeDefined();
      expect(existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
      expect(first.url).toMatch(/^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/pts$/);
      expect(await migrationsApplied(first.url)).toBe(true);
      await writeSample(first.prisma);
      await expectSample(first.prisma);
      const raw = await first.pool.query('SELECT strike FROM market');
      expect(raw.rows[0].strike).toBe(BIG);
    } finally {
      await first.close();
    }
    expect(await reachable(first.url)).toBe(false); // stopped

    const second = await openDatabase({ dataDir });
    try {
      await expectSample(second.prisma);
      expect(await second.prisma.market.count()).toBe(1);
    } finally {
      await second.close();
    }
  });

  test('a killed owner takes its server with it; an orphaned postmaster and a stale postmaster.pid are cleared; a second start refuses', async () => {
    const dataDir = path.join(await tempDir(), 'postgres');
    // A process that starts the server and dies by SIGKILL: no handler of it runs.
    const script = path.join(path.dirname(dataDir), 'crash.mts');
    const embeddedModule = new URL('src/db/embedded.js', `file://${repoRoot}`).href;
    await writeFile(
      script,
      `const { startEmbeddedPostgres } = await import(${JSON.stringify(embeddedModule)});\n` +
        `const pg = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, initdbFlags: ["--no-sync"] });\n` +
        `console.log(pg.pid);\nprocess.kill(process.pid, 'SIGKILL');\n`,
    );
    const crashed = spawn(process.execPath, [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    crashed.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise((resolve) => crashed.on('exit', resolve));
    const postmasterPid = Number(out.trim());
    expect(postmasterPid).toBeGreaterThan(0);
    // The kernel's parent-death signal: a fast shutdown, which removes postmaster.pid.
    await until(() => !alive(postmasterPid) && !existsSync(path.join(dataDir, 'postmaster.pid')), 'the postmaster to exit');

    const restarted = await startEmbeddedPostgres({ dataDir });
    expect(await reachable(restarted.url)).toBe(true);

    // One owner: a second start refuses, naming the folder and the owner, and leaves the server alone.
    const pidFileBefore = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
    const refused = startEmbeddedPostgres({ dataDir });
    await expect(refused).rejects.toThrow(DataDirInUseError);
    await expect(refused).rejects.toThrow(`the embedded PostgreSQL data folder ${dataDir} is in use by pts process ${process.pid}`);
    expect(await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).toBe(pidFileBefore);
    expect(await reachable(restarted.url)).toBe(true);

    // An orphan (a postmaster nobody owns, as a crash leaves it where there is no parent-death
    // signal): the same server command line, started by hand after a clean stop.
    const commandLine = (await readFile(`/proc/${restarted.pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
    await restarted.stop();
    expect(await reachable(restarted.url)).toBe(false);
    const postgresArgs = commandLine.slice(commandLine.findIndex((a) => a.endsWith('/postgres')));
    const orphan = spawn(postgresArgs[0]!, postgresArgs.slice(1), { stdio: 'ignore', detached: true, ...(await postgresUser()) });
    orphan.unref();
    await until(async () => (await reachable(restarted.url)) === true, 'the orphan to serve');
    const fresh = await startEmbeddedPostgres({ dataDir });
    expect(alive(orphan.pid!)).toBe(false); // shut down
    expect(await reachable(fresh.url)).toBe(true);
    await fresh.stop();

    // A postmaster.pid whose process is gone (and an unrelated live pid: our own).
    for (const pid of [4_194_000, process.pid]) {
      await writeFile(path.join(dataDir, 'postmaster.pid'), `${pid}\n${dataDir}\n0\n5432\n\n127.0.0.1\n0 0\nready\n`);
      const again = await startEmbeddedPostgres({ dataDir });
      expect(await reachable(again.url)).toBe(true);
      await again.stop();
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** As root, PostgreSQL must run as the postgres user. */
async function postgresUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

const systemServer = 'postgresql://postgres@127.0.0.1:5432/postgres';
const systemReachable = await reachable(systemServer);

describe('openDatabase with DATABASE_URL', () => {
  test(`uses that server (${systemReachable ? 'the machine PostgreSQL' : 'a second embedded server'}), no embedded start`, async () => {
    let url: string;
    let cleanup: () => Promise<void>;
    if (systemReachable) {
      const name = `pts_it_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: systemServer });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      url = withDatabaseName(systemServer, name);
      cleanup = async () => {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      };
    } else {
      const server = await startEmbeddedPostgres({ dataDir: path.join(await tempDir(), 'other'), database: 'pts_url' });
      url = server.url;
      cleanup = () => server.stop();
    }
    try {
      const dataDir = await tempDir();
      expect(await migrationsApplied(url)).toBe(false);
      const db = await openDatabase({ databaseUrl: url, dataDir });
      try {
        expect(db.embedded).toBeUndefined();
        expect(db.url).toBe(url);
        expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false);
        expect(await migrationsApplied(url)).toBe(true);
        await writeSample(db.prisma);
        await expectSample(db.prisma);
      } finally {
        await db.close();
      }
      expect(await reachable(url)).toBe(true); // not ours to stop
    } finally {
      await cleanup();
    }
  });

  test('says clearly when that server cannot be reached, without the password', async () => {
    const port = await freePort(); // nothing listens there
    await expect(openDatabase({ databaseUrl: `postgresql://pts:s3cret@127.0.0.1:${port}/pts`, dataDir: await tempDir() })).rejects.toThrow(
      `cannot reach the database at postgresql://pts:***@127.0.0.1:${port}/pts (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});

describe('migrate', () => {
  test('applies once, is idempotent, and is safe from 3 concurrent callers; Prisma agrees', async () => {
    const db = await createTestDatabase({ empty: true });
    try {
      const migrations = await readMigrations();
      expect(migrations.length).toBeGreaterThan(0);
      const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
      expect(results.flatMap((r) => r.applied)).toEqual(migrations.map((m) => m.name));
      expect(await migrate(db.url)).toEqual({ applied: [] });

      // Recorded exactly as prisma migrate deploy records them.
      const { rows } = await db.pool.query('SELECT * FROM _prisma_migrations ORDER BY started_at');
      expect(rows).toHaveLength(migrations.length);
      rows.forEach((row, i) => {
        expect(row.migration_name).toBe(migrations[i]!.name);
        expect(row.checksum).toBe(migrations[i]!.checksum);
        expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
        expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.rolled_back_at).toBeNull();
        expect(row.logs).toBeNull();
        expect(row.applied_steps_count).toBe(1);
      });

      const status = await execFileAsync(path.join(repoRoot, 'node_modules/.bin/prisma'), ['migrate', 'status'], {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: db.url, CHECKPOINT_DISABLE: '1' },
      });
      expect(status.stdout).toContain('Database schema is up to date!');
    } finally {
      await db.drop();
    }
  });

  test('creates a missing database, also when 3 callers race', async () => {
    const name = `pts_test_missing_${randomBytes(5).toString('hex')}`;
    const url = withDatabaseName(testServerUrl(), name);
    try {
      expect(await migrationsApplied(url)).toBe(false);
      const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
      expect(results.flatMap((r) => r.applied)).toHaveLength((await readMigrations()).length);
      expect(await migrationsApplied(url)).toBe(true);
    } finally {
      const admin = new pg.Client({ connectionString: testServerUrl() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  test('a failing migration is rolled back whole and not recorded', async () => {
    const db = await createTestDatabase(); // already has the real migrations
    const migrationsDir = path.join(await tempDir(), 'migrations');
    try {
      await cp(defaultMigrationsDir(), migrationsDir, { recursive: true });
      await mkdir(path.join(migrationsDir, '29990101000000_broken'));
      await writeFile(
        path.join(migrationsDir, '29990101000000_broken', 'migration.sql'),
        'CREATE TABLE "half_done" (id INTEGER);\nSELECT 1 / 0;\n',
      );
      await expect(migrate(db.url, { migrationsDir })).rejects.toThrow(/29990101000000_broken.*division by zero/);
      const table = await db.pool.query(`SELECT to_regclass('half_done') AS t`);
      expect(table.rows[0].t).toBeNull();
      const recorded = await db.pool.query(`SELECT 1 FROM _prisma_migrations WHERE migration_name LIKE '%broken'`);
      expect(recorded.rowCount).toBe(0);
      expect(await migrationsApplied(db.url, { migrationsDir })).toBe(false);
    } finally {
      await db.drop();
    }
  });
});

describe('migrationsApplied', () => {
  test('false before migrating, true after (url or pool)', async () => {
    const db = await createTestDatabase({ empty: true });
    try {
      expect(await migrationsApplied(db.url)).toBe(false);
      expect(await migrationsApplied(db.pool)).toBe(false);
      await migrate(db.pool);
      expect(await migrationsApplied(db.url)).toBe(true);
      expect(await migrationsApplied(db.pool)).toBe(true);
    } finally {
      await db.drop();
    }
  });
});

describe('exact numbers', () => {
  test('NUMERIC and INT8 (and their arrays) come back from pg as strings', async () => {
    const db = await createTestDatabase();
    try {
      const collateral = '1234567890123456789012345678901234567890.123456789012345678'; // 58 digits
      await db.prisma.account.create({ data: account('0x00000000000000000000000000000000000000c1', 9223372036854775807n, collateral) });
      const { rows } = await db.pool.query(
        `SELECT collateral, subaccount, ARRAY[collateral, 0.5] AS collaterals, ARRAY[subaccount] AS subaccounts,
                1.5::numeric AS small, 2::int8 AS two FROM account`,
      );
      expect(rows[0]).toEqual({
        collateral,
        subaccount: '9223372036854775807',
        collaterals: [collateral, '0.5'],
        subaccounts: ['9223372036854775807'],
        small: '1.5',
        two: '2',
      });
      // A standalone pool from createPool behaves the same.
      const pool = createPool(db.url, { max: 1 });
      try {
        const r = await pool.query(`SELECT 0.1::numeric AS n, ARRAY[0.1, 0.2]::numeric[] AS a, current_setting('application_name') AS app`);
        expect(r.rows[0]).toEqual({ n: '0.1', a: ['0.1', '0.2'], app: 'pts' });
      } finally {
        await pool.end();
      }
    } finally {
      await db.drop();
    }
  });

  test("name columns read as text, also through Prisma and inside transactions (prisma/orm#27403 shim)", async () => {
    const db = await createTestDatabase();
    try {
      const r = await db.pool.query('SELECT current_database() AS d');
      expect(r.fields[0]!.dataTypeID).toBe(25);
      const client = await db.pool.connect();
      try {
        const t = await client.query('SELECT datname FROM pg_database LIMIT 1');
        expect(t.fields[0]!.dataTypeID).toBe(25);
      } finally {
        client.release();
      }
      const viaPrisma = await db.prisma.$queryRaw<{ d: string }[]>`SELECT current_database() AS d`;
      expect(viaPrisma[0]!.d).toBe(new URL(db.url).pathname.slice(1));
      const inTx = await db.prisma.$transaction((tx) => tx.$queryRaw<{ n: string }[]>`SELECT 'x'::name AS n`);
      expect(inTx).toEqual([{ n: 'x' }]);
    } finally {
      await db.drop();
    }
  });

  test('Prisma aggregate _sum over NUMERIC(78,18) is exact', async () => {
    const db = await createTestDatabase();
    try {
      const values = [
        BIG,
        '987654321098765432109876543210.987654321098765432',
        '0.000000000000000001',
        '-0.300000000000000000',
        '100000000000000000000000000000000000000000.100000000000000001',
        '0.1',
        '0.2',
      ];
      await db.prisma.account.createMany({
        data: values.map((v, i) => account('0x00000000000000000000000000000000000000d1', BigInt(i), v)),
      });
      const expected = exactSum(values);
      const { _sum } = await db.prisma.account.aggregate({ _sum: { collateral: true } });
      expect(_sum.collateral!.toFixed(18)).toBe(expected);
      const sql = await db.pool.query('SELECT sum(collateral) AS s FROM account');
      expect(sql.rows[0].s).toBe(expected);
    } finally {
      await db.drop();
    }
  });
});
