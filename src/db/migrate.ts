// Applies prisma/migrations in-process, recording them in Prisma's own `_prisma_migrations`
// table exactly as `prisma migrate deploy` does, so `npx prisma migrate status` and
// `migrate deploy` agree with it.
//
// Why not drive the Prisma CLI (measured here, Prisma 6.19.3 through the pg adapter):
// - `prisma migrate deploy` takes ~12 s wall per call even with nothing to apply: ~2 s
//   of CLI start-up, then its wasm schema engine leaves a 10 s timer running after the
//   work is done (`migrate status` ~2.3 s). This runner applies the initial migration
//   to an empty database in ~0.15 s (embedded, fsync off) to ~0.4 s (PostgreSQL 15 with
//   fsync), and returns in ~40 ms, connection included, when there is nothing to do.
// - Through the adapter the CLI takes its advisory lock with pool.query on an arbitrary
//   pooled connection and applies migration.sql by splitting it on ';' outside any
//   transaction: concurrent starts are not reliably serialised, a failure leaves a
//   half-applied migration, and a ';' inside a string or function body breaks it.
// Here: one dedicated connection holds Prisma's own advisory lock (so this runner and a
// concurrent `prisma migrate deploy` exclude each other too), each migration runs whole
// through the simple query protocol inside its own transaction together with its
// `_prisma_migrations` row, and concurrent callers wait on the lock and then find
// nothing left to apply. A migration that cannot run inside a transaction (CREATE INDEX
// CONCURRENTLY) is not supported by this runner.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The advisory lock key Prisma Migrate uses on PostgreSQL. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

/** `_prisma_migrations` as Prisma's schema engine creates it on PostgreSQL. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  /** Folder name, e.g. 20261128035850_init; migrations apply in name order. */
  name: string;
  sql: string;
  /** sha256 hex of migration.sql, as Prisma records it. */
  checksum: string;
}

export interface MigrateOptions {
  /** Defaults to the project's prisma/migrations. */
  migrationsDir?: string;
}

/** A url, or a pool (whose connection is borrowed and returned). */
export type DatabaseTarget = string | pg.Pool;

/** prisma/migrations of this package, found upwards from this file (src/ or dist/). */
export function defaultMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('prisma/migrations not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export async function readMigrations(migrationsDir = defaultMigrationsDir()): Promise<Migration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    const file = path.join(migrationsDir, name, 'migration.sql');
    if (!existsSync(file)) continue;
    const bytes = await readFile(file);
    migrations.push({ name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') });
  }
  return migrations;
}

/** The same server url with another database name. */
export function withDatabaseName(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

export function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

const pgErrorCode = (e: unknown): string | undefined => (e as { code?: string } | null)?.code;

/** Creates the url's database when it does not exist (concurrent callers are fine). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseNameOf(url);
  const admin = new pg.Client({ connectionString: withDatabaseName(url, 'postgres'), application_name: 'pts-migrate' });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return false;
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return true;
  } catch (e) {
    // duplicate_database, or the catalog's unique index when two creates race
    if (pgErrorCode(e) === '42P04' || pgErrorCode(e) === '23505') return false;
    throw e;
  } finally {
    await admin.end();
  }
}

type Session = { client: pg.ClientBase; done(error?: unknown): Promise<void> };

async function connect(target: DatabaseTarget, createMissing: boolean): Promise<Session> {
  if (typeof target !== 'string') {
    const client = await target.connect();
    return { client, done: async (error) => client.release(error instanceof Error ? error : undefined) };
  }
  const open = async () => {
    const client = new pg.Client({ connectionString: target, application_name: 'pts-migrate' });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  let client: pg.Client;
  try {
    client = await open();
  } catch (e) {
    if (!createMissing || pgErrorCode(e) !== '3D000') throw e; // 3D000: database does not exist
    await ensureDatabase(target);
    client = await open();
  }
  return { client, done: () => client.end() };
}

/**
 * Applies pending migrations (creating the database itself when it is missing).
 * Safe to call from several processes at once; returns the names it applied.
 */
export async function migrate(target: DatabaseTarget, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const migrations = await readMigrations(options.migrationsDir);
  const { client, done } = await connect(target, true);
  const applied: string[] = [];
  let failure: unknown;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
        'SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
      );
      const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
      if (failed) {
        throw new Error(
          `Migration ${failed.migration_name} failed earlier (recorded by prisma migrate deploy); ` +
            'resolve it with `npx prisma migrate resolve` before migrating again.',
        );
      }
      const finished = new Set(
        rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => r.migration_name),
      );
      for (const m of migrations) {
        if (finished.has(m.name)) continue;
        await client.query('BEGIN');
        try {
          await client.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
             VALUES ($1, $2, $3, clock_timestamp(), 0)`,
            [randomUUID(), m.checksum, m.name],
          );
          await client.query(m.sql); // simple protocol: the whole script, statements and all
          await client.query(
            `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1
             WHERE migration_name = $1 AND finished_at IS NULL`,
            [m.name],
          );
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`Migration ${m.name} failed and was rolled back: ${(e as Error).message}`, { cause: e });
        }
        applied.push(m.name);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]).catch(() => undefined);
    }
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    await done(failure);
  }
  return { applied };
}

/**
 * Whether every local migration is applied. False when the database or its
 * `_prisma_migrations` table does not exist yet; rejects when the server is unreachable.
 */
export async function migrationsApplied(target: DatabaseTarget, options: MigrateOptions = {}): Promise<boolean> {
  const migrations = await readMigrations(options.migrationsDir);
  let session: Session;
  try {
    session = await connect(target, false);
  } catch (e) {
    if (pgErrorCode(e) === '3D000') return false;
    throw e;
  }
  try {
    const table = await session.client.query<{ t: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS t`);
    if (!table.rows[0]?.t) return false;
    const { rows } = await session.client.query<{ migration_name: string }>(
      'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const done = new Set(rows.map((r) => r.migration_name));
    return migrations.every((m) => done.has(m.name));
  } finally {
    await session.done();
  }
}
