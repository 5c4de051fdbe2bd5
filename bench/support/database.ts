// What every bench needs: a database of its own and percentiles.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { withDatabaseName } from '../../src/db/migrate.js';

export interface BenchDatabase {
  url: string;
  /** What it runs on, for the report. */
  kind: string;
  /** Drops it (or stops the embedded server and removes its folder). */
  done(): Promise<void>;
}

/**
 * A fresh database on DATABASE_URL's server (dropped by `done`); with DATABASE_URL unset,
 * an embedded PostgreSQL in a temporary folder.
 */
export async function benchDatabase(): Promise<BenchDatabase> {
  const admin = process.env.DATABASE_URL;
  if (admin) {
    const name = `pts_bench_${Date.now()}`;
    const run = async (sql: string) => {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await run(`CREATE DATABASE "${name}"`);
    return {
      url: withDatabaseName(admin, name),
      kind: 'DATABASE_URL server',
      done: () => run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'pts-bench-pg-'));
  const server = await startEmbeddedPostgres({ dataDir: dir });
  return {
    url: server.url,
    kind: 'embedded PostgreSQL',
    async done() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The p-th percentile (nearest rank) of ascending values; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
