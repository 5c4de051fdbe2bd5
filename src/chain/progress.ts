import type { BlockChanges } from '../ledger/index.js';
import type { Logger } from '../log/index.js';

/** Catching up, a report every 2 s; at the tip (one block at a time) every 15 s is enough. */
const REPORT_EVERY_MS = 2000;
const REPORT_AT_TIP_EVERY_MS = 15_000;

/**
 * Ingestion progress: blocks and events per second over the last report window, and
 * the lag behind the target (head - confirmations). On a terminal it redraws a bar;
 * otherwise it logs a structured line every couple of seconds.
 */
export class Progress {
  private windowStart = Date.now();
  private blocks = 0;
  private events = 0;
  private firstBlock: number | null = null;

  constructor(private readonly logger: Logger) {}

  committed(batch: readonly BlockChanges[], target: number): void {
    const last = batch.at(-1)!.block.number;
    this.firstBlock ??= batch[0]!.block.number;
    this.blocks += batch.length;
    for (const changes of batch) this.events += changes.eventCount;
    const now = Date.now();
    const elapsed = now - this.windowStart;
    const lag = Math.max(0, target - last);
    if (elapsed < (lag > 0 ? REPORT_EVERY_MS : REPORT_AT_TIP_EVERY_MS)) return;
    const seconds = Math.max(elapsed, 1) / 1000;
    const done = target > this.firstBlock ? (last - this.firstBlock) / (target - this.firstBlock) : 1;
    const width = 30;
    const filled = Math.round(Math.min(1, done) * width);
    const fields = {
      block: last,
      target,
      lag,
      blocksPerSecond: Math.round(this.blocks / seconds),
      eventsPerSecond: Math.round(this.events / seconds),
    };
    this.logger.progress(
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] block ${last}/${target} lag ${lag} | ${fields.blocksPerSecond} blocks/s ${fields.eventsPerSecond} events/s`,
      fields,
    );
    this.windowStart = now;
    this.blocks = 0;
    this.events = 0;
  }
}
