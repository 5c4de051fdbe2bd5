// Prisma Client over the project's pg pool (src/db/adapter.ts).
import { PrismaPg } from '@prisma/adapter-pg';
import { createPool, type PoolOptions, type PtsPool } from './adapter.js';
import { PrismaClient } from './generated/client.js';

export { Prisma, PrismaClient } from './generated/client.js';

export interface PrismaHandle {
  prisma: PrismaClient;
  /** The pool under Prisma: also usable directly for raw pg queries (exact strings). */
  pool: PtsPool;
  /** Disconnects Prisma and ends the pool; idempotent. */
  close(): Promise<void>;
}

export function createPrisma(url: string, options: PoolOptions = {}): PrismaHandle {
  const pool = createPool(url, options);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      try {
        await prisma.$disconnect();
      } finally {
        await pool.end();
      }
    })());
  return { prisma, pool, close };
}
