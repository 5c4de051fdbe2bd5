/**
 * The block span of eth_getLogs requests during backfill: it grows while requests
 * succeed and shrinks when a provider refuses a range as too wide or too large. Known
 * provider messages are parsed for the span they allow; anything else that looks like a
 * size or range complaint halves it. Never below one block, so no block is ever skipped.
 */
export class LogSpan {
  span: number;
  /** The last request at this span succeeded within the target: safe to fetch several ahead. */
  settled = false;

  constructor(
    /** First span (default 10 blocks): doubles fast where logs are sparse, and a busy chain's first response stays moderate. */
    initial = 10,
    /** Largest span ever requested (default 50,000 blocks). */
    readonly max = 50_000,
    /**
     * Aim for responses of at most this many logs (default 2,000: about 3 MB of JSON).
     * Nodes pay more than linearly for big responses: anvil used 4.1 CPU-s to serve 200,000
     * logs as 5,000-log responses three at a time, and 1.1 CPU-s as 2,000-log ones, CPU the
     * ingester shares with the node on a small machine (bench/ingest).
     */
    readonly targetLogs = 2_000,
  ) {
    this.span = Math.min(initial, max);
  }

  /** After a successful request of `blocks` blocks that returned `logs` logs. */
  succeeded(blocks: number, logs: number): void {
    this.settled = logs <= this.targetLogs;
    // Logs per block is what matters: aim straight at the target rather than halving.
    if (logs > this.targetLogs) this.span = Math.max(1, Math.floor((blocks * this.targetLogs) / logs));
    else if (blocks >= this.span && logs < this.targetLogs / 2) this.span = Math.min(this.max, this.span * 2);
  }

  /**
   * After a failed request for [from, to]: the new span if the error is a range/size
   * refusal, or null if it is not (then it is an ordinary fault: retry the same range).
   */
  refused(error: unknown, from: number, to: number): number | null {
    const message = errorText(error);
    if (!RANGE_ERROR.test(message)) return null;
    this.settled = false;
    const requested = to - from + 1;
    const suggested = suggestedSpan(message, from, requested);
    this.span = Math.max(1, Math.min(requested - 1 || 1, suggested ?? Math.floor(requested / 2)));
    return this.span;
  }
}

const RANGE_ERROR =
  /more than \d+ results|too many (results|logs)|response size|range (is )?too (wide|large|big)|block range|max(imum)? (block )?range|limited to|exceed(s|ed)? .*(range|limit)|limit exceeded|query timeout|timeout exceeded|payload too large|size exceeded|exceeded the size limit|body too large/i;

/** The span a provider's message says it accepts, if it says. */
export function suggestedSpan(message: string, from: number, requested = 1): number | null {
  // viem's own response limit: "Max: 10485760 bytes / Received: 16441904 bytes"; aim at half of it.
  const sized = /Max: (\d+) bytes\s+Received: (\d+) bytes/.exec(message);
  if (sized) return Math.max(1, Math.floor((requested * Number(sized[1])) / Number(sized[2]) / 2));
  // Alchemy: "... this block range should work: [0x1, 0x7d0]"
  const hinted = /should work: \[(0x[0-9a-f]+),\s*(0x[0-9a-f]+)\]/i.exec(message);
  if (hinted) return Math.max(1, Number(BigInt(hinted[2]!)) - Math.max(from, Number(BigInt(hinted[1]!))) + 1);
  // "exceed maximum block range: 5000", "eth_getLogs is limited to a 10,000 range", "up to a 2K block range"
  const limit = /(?:range(?: is)?(?: of)?:?|limited to(?: a)?|up to(?: a)?)\s*([\d,]+)\s*(k)?/i.exec(message);
  if (limit) return Number(limit[1]!.replace(/,/g, '')) * (limit[2] ? 1000 : 1);
  return null;
}

export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details = (error as { details?: string }).details;
  const cause = (error as { cause?: unknown }).cause;
  return [error.message, details, cause instanceof Error ? errorText(cause) : ''].filter(Boolean).join(' | ');
}
