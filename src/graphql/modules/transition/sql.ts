import { readerOf } from '../../../db/store/columns.js';
import { transitions } from '../../../db/store/tables.js';
import type { MarginState } from '../../../ledger/index.js';
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

export const transitionFromRow = readerOf(transitions);
