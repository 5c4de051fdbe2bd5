// GET /health: the process is up. GET /ready: the API can serve current data: migrations
// applied, something ingested, and the ingester within PTS_READY_MAX_LAG blocks of the head
// it has seen. Load balancers take a 503 from /ready as "send traffic elsewhere".
import type pg from 'pg';
import { migrationsApplied } from '../db/migrate.js';

export interface ReadyReport {
  ready: boolean;
  /** Why not ready. */
  reason?: string;
  /** Last committed block (the cursor). */
  block?: number;
  /** Chain head the ingester last saw. */
  head?: number;
  /** Blocks behind the head, after the configured confirmations. */
  lag?: number;
  maxLag: number;
}

export class Readiness {
  private migrated = false;
  private draining = false;

  constructor(
    private readonly options: {
      pool: pg.Pool;
      /** PTS_READY_MAX_LAG. */
      maxLag: number;
      /** PTS_CONFIRMATIONS: the ingester stays this far behind the head on purpose. */
      confirmations: number;
      /** Defaults to migrationsApplied(pool). */
      migrationsApplied?: () => Promise<boolean>;
    },
  ) {}

  /** From now on /ready answers 503 (the server is draining). */
  drain(): void {
    this.draining = true;
  }

  async check(): Promise<ReadyReport> {
    const maxLag = this.options.maxLag;
    if (this.draining) return { ready: false, reason: 'shutting down', maxLag };
    try {
      if (!this.migrated) {
        // Cached once true: applied migrations do not come undone.
        this.migrated = await (this.options.migrationsApplied ?? (() => migrationsApplied(this.options.pool)))();
        if (!this.migrated) return { ready: false, reason: 'database migrations are not applied (run `pts migrate`)', maxLag };
      }
      const { rows } = await this.options.pool.query('SELECT block_number, head_block_number FROM cursor WHERE id = 1');
      const row = rows[0];
      if (!row) return { ready: false, reason: 'no block ingested yet', maxLag };
      const block = Number(row.block_number);
      const head = Number(row.head_block_number);
      const lag = Math.max(0, head - this.options.confirmations - block);
      if (lag > maxLag) {
        return { ready: false, reason: `ingester is ${lag} blocks behind the head (PTS_READY_MAX_LAG=${maxLag})`, block, head, lag, maxLag };
      }
      return { ready: true, block, head, lag, maxLag };
    } catch (error) {
      return { ready: false, reason: `database unavailable: ${(error as Error).message}`, maxLag };
    }
  }
}
