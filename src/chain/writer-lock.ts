/**
 * The advisory lock that makes one ingester the only writer of a database. A second
 * ingester waits for it as a standby and takes over when the first one's session ends.
 *
 * The lock lives exactly as long as the database session (connection) that took it: when
 * the server drops that connection (a restart, a terminated backend, a network fault)
 * the lock goes with it and a standby may take it. `lost` says so; the ingester then
 * takes the lock again and reloads its state from the database before it writes.
 */
import type pg from 'pg';
import type { Logger } from '../log/index.js';

/** The advisory lock's key: the same in every pts ingester. */
export const LOCK_KEY = 0x70747369; // "ptsi"

interface Session {
  client: pg.PoolClient;
  locked: boolean;
  ended: boolean;
  onEnd: () => void;
}

export class WriterLock {
  private session: Session | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    /** Milliseconds between attempts while another ingester holds the lock (default 500). */
    private readonly retryMs = 500,
  ) {}

  /** Whether the connection that held the lock has ended: the lock is gone with it. */
  get lost(): boolean {
    return this.session?.ended === true;
  }

  /**
   * Takes the lock on a new connection, waiting while another ingester holds it; resolves
   * false when `stopping()` turns true first. Throws when the database cannot be reached.
   */
  async take(stopping: () => boolean): Promise<boolean> {
    await this.unlock();
    const client = await this.pool.connect();
    const session: Session = { client, locked: false, ended: false, onEnd: () => undefined };
    session.onEnd = () => {
      session.ended = true;
      if (session.locked) this.logger.warn('lost the database connection that held the writer lock; taking it again before writing');
    };
    client.once('end', session.onEnd);
    this.session = session;
    let waiting = false;
    try {
      while (!(await client.query('SELECT pg_try_advisory_lock($1) AS locked', [LOCK_KEY])).rows[0].locked) {
        if (stopping()) {
          await this.unlock();
          return false;
        }
        if (!waiting) this.logger.warn('another ingester holds this database; waiting to take over');
        waiting = true;
        await new Promise((r) => setTimeout(r, this.retryMs));
      }
    } catch (error) {
      await this.unlock();
      throw error;
    }
    session.locked = true;
    return true;
  }

  /** Gives the lock back and returns its connection to the pool (which discards an ended one). */
  async unlock(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = null;
    session.client.off('end', session.onEnd);
    let error: Error | undefined = session.ended ? new Error('connection ended') : undefined;
    if (session.locked && !session.ended) {
      await session.client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch((e: Error) => (error = e));
    }
    session.client.release(error);
  }
}
