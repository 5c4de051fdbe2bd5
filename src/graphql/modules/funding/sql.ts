import { readerOf } from '../../../db/store/columns.js';
import { fundingSettlements } from '../../../db/store/tables.js';
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

export const fundingFromRow = readerOf(fundingSettlements);
