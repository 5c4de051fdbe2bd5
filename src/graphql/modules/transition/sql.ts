import { read } from '../../../db/store/columns.js';
import type { MarginState, TransitionRecord } from '../../../ledger/index.js';
import { blockRange, type BlockRange, type ListQuery } from '../../keyset.js';
import { accountScope, type AccountScope } from '../account/sql.js';

export interface TransitionFilter extends BlockRange, AccountScope {
  to?: readonly MarginState[] | null;
  newestFirst?: boolean | null;
}

/** Margin transitions in chain order; an account changes state at most once per block. */
export function transitionList(filter: TransitionFilter): ListQuery {
  return {
    kind: 'transition',
    table: 'margin_transition',
    key: [
      { column: 'block_number', type: 'int8' },
      { column: 'account_id', type: 'text' },
    ],
    descending: filter.newestFirst ?? false,
    where: (p) => [
      ...accountScope(p, filter),
      ...(filter.to != null ? [`t."to" = ANY(${p.add(filter.to, 'margin_state[]')})`] : []),
      ...blockRange(p, filter),
    ],
  };
}

export function transitionFromRow(row: Record<string, unknown>): TransitionRecord {
  return {
    accountId: row.account_id as string,
    blockNumber: read.int(row.block_number),
    timestamp: read.int(row.timestamp),
    from: row.from as MarginState,
    to: row.to as MarginState,
    equity: read.fixed(row.equity),
    initialMargin: read.fixed(row.initial_margin),
    maintenanceMargin: read.fixed(row.maintenance_margin),
  };
}
