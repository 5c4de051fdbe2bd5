/**
 * One warning when a dependency (the RPC node, the database) stops answering and one line
 * when it answers again, however many attempts fail in between: a minute's outage retried
 * every second must not write sixty lines.
 */
import type { Fields, Logger } from './index.js';

export class OutageLog {
  private since: number | null = null;

  constructor(
    private readonly logger: Logger,
    /** What is out, as the lines name it: "RPC", "database". */
    private readonly name: string,
  ) {}

  /** Whether an outage is under way (an attempt failed and none has succeeded since). */
  get down(): boolean {
    return this.since !== null;
  }

  /** An attempt failed: the first failure of an outage is logged with `fields`. */
  failed(fields: Fields): void {
    if (this.since !== null) return;
    this.since = Date.now();
    this.logger.warn(`${this.name} unavailable; retrying with backoff`, fields);
  }

  /** An attempt succeeded: ends the outage, if there was one, with its length. */
  succeeded(fields: Fields = {}): void {
    if (this.since === null) return;
    this.logger.info(`${this.name} reachable again`, { ...fields, outageSeconds: (Date.now() - this.since) / 1000 });
    this.since = null;
  }
}
