import { read } from '../../../db/store/columns.js';
import type { FillRecord } from '../../../ledger/index.js';
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

export function fillFromRow(row: Record<string, unknown>): FillRecord {
  return {
    blockNumber: read.int(row.block_number),
    logIndex: row.log_index as number,
    transactionHash: row.transaction_hash as string,
    transactionIndex: row.transaction_index as number,
    timestamp: read.int(row.timestamp),
    marketId: row.market_id as string,
    accountId: row.account_id as string,
    positionId: row.position_id as string,
    size: read.fixed(row.size),
    price: read.fixed(row.price),
    fee: read.fixed(row.fee),
    realizedPnl: read.fixed(row.realized_pnl),
    liquidation: row.liquidation as boolean,
    liquidator: (row.liquidator as string | null) ?? null,
    penalty: read.fixedOrNull(row.penalty),
  };
}
