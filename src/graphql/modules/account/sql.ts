import { readerOf } from '../../../db/store/columns.js';
import { accounts } from '../../../db/store/tables.js';
import { accountId, type Account } from '../../../ledger/index.js';
import { ownerArgument, subaccountArgument } from '../../account-args.js';
import type { Params } from '../../keyset.js';
import type { RunQuery } from '../../snapshot.js';

export const accountFromRow = readerOf(accounts);

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
