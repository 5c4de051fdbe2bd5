import { read } from '../../../db/store/columns.js';
import type { FundingSettlementRecord } from '../../../ledger/index.js';
import type { ListQuery } from '../../keyset.js';

/** A market's settled funding periods, in period order (which is chain order). */
export function fundingList(filter: { market?: string; newestFirst?: boolean | null }): ListQuery {
  return {
    kind: 'funding',
    table: 'funding_settlement',
    key: [{ column: 'period', type: 'int8' }],
    descending: filter.newestFirst ?? false,
    where: (p) => (filter.market !== undefined ? [`t.market_id = ${p.add(filter.market, 'text')}`] : []),
  };
}

export function fundingFromRow(row: Record<string, unknown>): FundingSettlementRecord {
  return {
    marketId: row.market_id as string,
    period: read.int(row.period),
    periods: read.int(row.periods),
    rate: read.fixed(row.rate),
    indexPrice: read.fixed(row.index_price),
    cumulativeFunding: read.fixed(row.cumulative_funding),
    blockNumber: read.int(row.block_number),
    timestamp: read.int(row.timestamp),
  };
}
