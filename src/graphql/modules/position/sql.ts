import { positionFromRow } from '../../../db/store/ledger-store.js';
import { parseFixed, type Fixed } from '../../../fixed/index.js';
import type { Position } from '../../../ledger/index.js';
import type { ListQuery } from '../../keyset.js';
import type { RunQuery } from '../../snapshot.js';

/** Positions of some accounts, grouped by account; open ones only unless `includeClosed`. */
export async function loadPositionsOf(query: RunQuery, accountIds: readonly string[], includeClosed: boolean): Promise<Map<string, Position[]>> {
  const rows = await query<Record<string, unknown>>(
    `SELECT * FROM position WHERE account_id = ANY($1::text[])${includeClosed ? '' : ' AND closed_block IS NULL'}
      ORDER BY account_id, market_id, seq`,
    [accountIds],
  );
  const byAccount = new Map<string, Position[]>();
  for (const row of rows) {
    const position = positionFromRow(row);
    let list = byAccount.get(position.accountId);
    if (!list) byAccount.set(position.accountId, (list = []));
    list.push(position);
  }
  return byAccount;
}

export async function loadPositions(query: RunQuery, ids: readonly string[]): Promise<Map<string, Position>> {
  const rows = await query<Record<string, unknown>>('SELECT * FROM position WHERE id = ANY($1::text[])', [ids]);
  return new Map(rows.map((row) => [row.id as string, positionFromRow(row)]));
}

/**
 * Funding settled into collateral over every lifecycle of an account in a market (SPEC
 * section 8, `FundingTotals.allTime`), by `fundingKey(account, market)`: the sum of the
 * lifecycles' settled funding.
 */
export async function loadSettledFunding(query: RunQuery, keys: readonly string[]): Promise<Map<string, Fixed>> {
  const pairs = keys.map((key) => JSON.parse(key) as [string, string]);
  const rows = await query<{ account_id: string; market_id: string; settled: string }>(
    `SELECT p.account_id, p.market_id, sum(p.settled_funding)::text AS settled FROM position p
      WHERE (p.account_id, p.market_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) GROUP BY p.account_id, p.market_id`,
    [pairs.map(([account]) => account), pairs.map(([, market]) => market)],
  );
  const found = new Map(rows.map((row) => [fundingKey(row.account_id, row.market_id), parseFixed(row.settled)]));
  return new Map(keys.map((key) => [key, found.get(key) ?? 0n]));
}

export function fundingKey(accountId: string, marketId: string): string {
  return JSON.stringify([accountId, marketId]);
}

export function positionList(filter: { market?: string | null; underlying?: string | null; includeClosed?: boolean | null }): ListQuery {
  return {
    kind: 'position',
    table: 'position',
    key: [{ column: 'id', type: 'text' }],
    descending: false,
    where: (p) => [
      ...(filter.includeClosed ? [] : ['t.closed_block IS NULL']),
      ...(filter.market != null ? [`t.market_id = ${p.add(filter.market, 'text')}`] : []),
      ...(filter.underlying != null ? [`t.market_id IN (SELECT id FROM market WHERE underlying = ${p.add(filter.underlying, 'text')})`] : []),
    ],
  };
}
