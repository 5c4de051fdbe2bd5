import { read } from '../../../db/store/columns.js';
import { accountId, type Account, type MarginState } from '../../../ledger/index.js';
import { ownerArgument, subaccountArgument } from '../../account-args.js';
import type { Params } from '../../keyset.js';
import type { RunQuery } from '../../snapshot.js';

export function accountFromRow(row: Record<string, unknown>): Account {
  return {
    id: row.id as string,
    owner: row.owner as string,
    subaccount: read.int(row.subaccount),
    collateral: read.fixed(row.collateral),
    marginState: row.margin_state as MarginState,
    createdBlock: read.int(row.created_block),
    updatedBlock: read.int(row.updated_block),
  };
}

export async function loadAccounts(query: RunQuery, ids: readonly string[]): Promise<Map<string, Account>> {
  const rows = await query<Record<string, unknown>>('SELECT * FROM account WHERE id = ANY($1::text[])', [ids]);
  return new Map(rows.map((row) => [row.id as string, accountFromRow(row)]));
}

export interface AccountScope {
  owner?: string | null;
  subaccount?: number | null;
}

/**
 * Rows of some accounts (`t.account_id`) picked by owner and/or subaccount. With both the
 * account id is known; with one, the account table's (owner, subaccount) index finds them.
 */
export function accountScope(p: Params, scope: AccountScope, column = 't.account_id'): string[] {
  const owner = scope.owner == null ? null : ownerArgument(scope.owner);
  const subaccount = scope.subaccount == null ? null : subaccountArgument(scope.subaccount);
  if (owner != null && subaccount != null) return [`${column} = ${p.add(accountId(owner, subaccount), 'text')}`];
  if (owner != null) return [`${column} IN (SELECT id FROM account WHERE owner = ${p.add(owner, 'text')})`];
  if (subaccount != null) return [`${column} IN (SELECT id FROM account WHERE subaccount = ${p.add(subaccount, 'int8')})`];
  return [];
}
