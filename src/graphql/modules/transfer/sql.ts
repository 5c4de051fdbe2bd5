import { readerOf } from '../../../db/store/columns.js';
import { transfers } from '../../../db/store/tables.js';
import type { ListQuery } from '../../keyset.js';

export function transferList(filter: { newestFirst?: boolean | null }): ListQuery {
  return {
    kind: 'transfer',
    table: 'collateral_transfer',
    key: [
      { column: 'block_number', type: 'int8' },
      { column: 'log_index', type: 'int4' },
    ],
    descending: filter.newestFirst ?? false,
    where: () => [],
  };
}

export const transferFromRow = readerOf(transfers);
