// The database of a pts process: DATABASE_URL's server when set, otherwise embedded
// PostgreSQL under <dataDir>/postgres (SPEC section 6), migrated before it is handed out.
import path from 'node:path';
import type { PoolOptions, PtsPool } from './adapter.js';
import { createPrisma } from './client.js';
import type { EmbeddedPostgres } from './embedded.js';
import type { PrismaClient } from './generated/client.js';
import { isConnectionError } from './connection-errors.js';
import { migrate } from './migrate.js';

export interface DatabaseConfig {
  /** A PostgreSQL server's database (DATABASE_URL); unset: embedded PostgreSQL under dataDir. */
  databaseUrl?: string | undefined;
  /** pts's data folder, PTS_DATA_DIR (embedded PostgreSQL lives in <dataDir>/postgres). */
  dataDir: string;
  /** Options of the pool under Prisma. */
  pool?: PoolOptions;
}

export interface Database {
  url: string;
  prisma: PrismaClient;
  pool: PtsPool;
  /** The embedded server, when DATABASE_URL was unset. */
  embedded?: EmbeddedPostgres;
  /** Closes Prisma and the pool, then stops the embedded server if this call started it. */
  close(): Promise<void>;
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    const { startEmbeddedPostgres } = await import('./embedded.js');
    embedded = await startEmbeddedPostgres({ dataDir: path.join(path.resolve(config.dataDir), 'postgres') });
    url = embedded.url;
  }
  try {
    await migrate(url);
  } catch (e) {
    await embedded?.stop().catch(() => undefined);
    if (isConnectionError(e)) {
      const which = config.databaseUrl ? 'DATABASE_URL' : 'embedded';
      throw new Error(`cannot reach the database at ${withoutPassword(url)} (${which}): ${(e as Error).message}`, { cause: e });
    }
    throw e;
  }
  const { prisma, pool, close: closePrisma } = createPrisma(url, config.pool);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      try {
        await closePrisma();
      } finally {
        await embedded?.stop();
      }
    })());
  return { url, prisma, pool, ...(embedded ? { embedded } : {}), close };
}

/** The url for messages: the password left out. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable url)';
  }
}
