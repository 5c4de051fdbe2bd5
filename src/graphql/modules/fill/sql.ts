import { readerOf } from '../../../db/store/columns.js';
import { fills } from '../../../db/store/tables.js';
import { blockRange, type BlockRange, type ListQuery } from '../../keyset.js';
import { accountScope, type AccountScope } from '../account/sql.js';

export interface FillFilter extends BlockRange, AccountScope {
  market?: string | null;
  liquidation?: boolean | null;
  newestFirst?: boolean | null;
}

/** Fills in chain order: (block, log index) is their primary key. */
export function fillList(filter: FillFilter): ListQuery {
  return {
    kind: 'fill',
    table: 'fill',
    key: [
      { column: 'block_number', type: 'int8' },
      { column: 'log_index', type: 'int4' },
    ],
    descending: filter.newestFirst ?? false,
    where: (p) => [
      ...(filter.market != null ? [`t.market_id = ${p.add(filter.market, 'text')}`] : []),
      ...accountScope(p, filter),
      ...blockRange(p, filter),
      ...(filter.liquidation != null ? [`t.liquidation = ${p.add(filter.liquidation, 'bool')}`] : []),
    ],
  };
}

export const fillFromRow = readerOf(fills);
