import type { Draft } from './draft.js';
import type { EventOf } from './events.js';
import { withReport } from './oracle.js';

/** A source's new price for an underlying; the index is recomputed once the block's events are in. */
export function applyPriceReport(draft: Draft, event: EventOf<'PriceReported'>): void {
  if (event.price === 0n) {
    draft.anomaly(event, 'ZERO_PRICE', `zero price reported for ${event.underlying} by ${event.source}`, {
      underlying: event.underlying,
      source: event.source,
    });
    return;
  }
  const underlying = draft.underlying(event.underlying) ?? {
    id: event.underlying,
    sources: new Map(),
    indexPrice: null,
    indexStale: true,
    updatedBlock: draft.block.number,
  };
  const report = {
    underlying: event.underlying,
    source: event.source.toLowerCase(),
    price: event.price,
    timestamp: draft.block.timestamp,
    blockNumber: draft.block.number,
  };
  draft.putUnderlying(withReport(underlying, report));
  draft.putSource(report);
  draft.records.priceReports.push({
    blockNumber: event.blockNumber,
    logIndex: event.logIndex,
    transactionHash: event.transactionHash,
    timestamp: draft.block.timestamp,
    underlying: event.underlying,
    source: report.source,
    price: event.price,
  });
}
