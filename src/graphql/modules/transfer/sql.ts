import { read } from '../../../db/store/columns.js';
import type { TransferRecord } from '../../../ledger/index.js';
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

export function transferFromRow(row: Record<string, unknown>): TransferRecord {
  return {
    blockNumber: read.int(row.block_number),
    logIndex: row.log_index as number,
    transactionHash: row.transaction_hash as string,
    timestamp: read.int(row.timestamp),
    accountId: row.account_id as string,
    kind: row.kind as TransferRecord['kind'],
    amount: read.fixed(row.amount),
    collateralAfter: read.fixed(row.collateral_after),
  };
}
