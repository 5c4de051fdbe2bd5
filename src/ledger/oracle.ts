import { divRound, type Fixed } from '../fixed/index.js';
import type { OracleSource, Underlying } from './state.js';

/**
 * The index of an underlying at `now` (SPEC section 3, oracle): the median of the latest
 * report of every source at most `stalenessSeconds` old; with an even count, the mean of
 * the middle two (rounded half to even). With no fresh source the last index is kept and
 * flagged stale.
 */
export function indexAt(
  underlying: Pick<Underlying, 'sources' | 'indexPrice'>,
  now: number,
  stalenessSeconds: number,
): { indexPrice: Fixed | null; indexStale: boolean } {
  const fresh: Fixed[] = [];
  for (const report of underlying.sources.values()) {
    if (now - report.timestamp <= stalenessSeconds) fresh.push(report.price);
  }
  if (fresh.length === 0) return { indexPrice: underlying.indexPrice, indexStale: true };
  return { indexPrice: median(fresh), indexStale: false };
}

export function median(values: Fixed[]): Fixed {
  if (values.length === 0) throw new RangeError('median of nothing');
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const middle = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[middle]!;
  return divRound(sorted[middle - 1]! + sorted[middle]!, 2n);
}

export function withReport(underlying: Underlying, report: OracleSource): Underlying {
  const sources = new Map(underlying.sources);
  sources.set(report.source, report);
  return { ...underlying, sources, updatedBlock: report.blockNumber };
}
