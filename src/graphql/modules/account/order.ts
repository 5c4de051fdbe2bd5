/**
 * `Query.accounts`: filters and keyset pages in the orders of `AccountOrder`, including
 * orders by derived risk. Those are computed in SQL, exactly, from stored facts and the
 * request's marks (SPEC section 4), so a page is one statement however many accounts there
 * are:
 *
 *   equity   = C + sum(perp s*(M - E) - s*(F - Fs)) + sum(option s*V)
 *   MM       = sum(|s| * M * MMF) over perpetuals and short options
 *   notional = sum(|s| * M)
 *
 * M (index price) and V (option value per unit) come from `markOf` in TypeScript and are
 * passed in as arrays, so no Black-Scholes runs in SQL. NUMERIC +, -, * are exact; the
 * sort keys are the values the API serves, rounded half to even to 18 decimals exactly as
 * `narrow`/`wideRatio` do (the margin ratio through an exact integer division), and carried
 * as integers of 1e-18. Without an index the same fallbacks as `positionRisk` apply (a
 * perpetual at its entry price, an option at its entry premium with the strike as M).
 */
import { toSql } from '../../../fixed/index.js';
import type { Account, MarginState } from '../../../ledger/index.js';
import { ownerArgument } from '../../account-args.js';
import type { RequestContext } from '../../context.js';
import { Params, whereClause } from '../../keyset.js';
import { connectionOf, pageOf, type Connection, type PageArgs } from '../../pagination.js';
import type { CursorKey } from '../../risk-engine/engine.js';
import { columnsAt, evaluationOf, pageCandidates } from '../../risk-engine/past.js';
import type { RunQuery } from '../../snapshot.js';
import { accountFromRow } from './sql.js';

export type AccountOrder =
  | 'ID_ASC'
  | 'EQUITY_ASC'
  | 'EQUITY_DESC'
  | 'NOTIONAL_DESC'
  | 'NOTIONAL_ASC'
  | 'MARGIN_RATIO_DESC'
  | 'MARGIN_RATIO_ASC'
  | 'RISK_DESC';

export interface AccountFilter {
  owner?: string | null;
  marginState?: readonly MarginState[] | null;
  /** Only accounts with an open position in this market. */
  market?: string | null;
}

/**
 * Every order is ascending on (bucket, key, id), the key negated for descending orders.
 * A null margin ratio (equity <= 0) ranks as +infinity: last ascending, first descending;
 * RISK_DESC puts equity <= 0 first, lowest equity first, then the highest margin ratio.
 */
const SORT: Record<Exclude<AccountOrder, 'ID_ASC'>, { bucket: string; key: string }> = {
  EQUITY_ASC: { bucket: '0', key: 's.equity' },
  EQUITY_DESC: { bucket: '0', key: '-s.equity' },
  NOTIONAL_ASC: { bucket: '0', key: 's.notional' },
  NOTIONAL_DESC: { bucket: '0', key: '-s.notional' },
  MARGIN_RATIO_ASC: { bucket: 'CASE WHEN s.solvent THEN 0 ELSE 1 END', key: 'COALESCE(s.margin_ratio, 0)' },
  MARGIN_RATIO_DESC: { bucket: 'CASE WHEN s.solvent THEN 1 ELSE 0 END', key: 'COALESCE(-s.margin_ratio, 0)' },
  RISK_DESC: { bucket: 'CASE WHEN s.solvent THEN 1 ELSE 0 END', key: 'CASE WHEN s.solvent THEN -s.margin_ratio ELSE s.equity END' },
};

/** SQL: x rounded half to even to an integer, like `divRound` (PostgreSQL's round() goes half away from zero). */
export const halfEven = (x: string) => `(CASE WHEN abs(${x} - trunc(${x})) = 0.5 AND mod(trunc(${x}), 2) = 0 THEN trunc(${x}) ELSE round(${x}) END)`;

/**
 * SQL: a / b rounded half to even to an integer, for a >= 0 and b > 0, from q = div(a, b)
 * (NUMERIC div() is the exact truncated quotient): up when the remainder passes b / 2.
 */
export const quotientHalfEven = (a: string, b: string, q: string) =>
  `(${q} + CASE WHEN 2 * (${a} - ${q} * ${b}) > ${b} OR (2 * (${a} - ${q} * ${b}) = ${b} AND mod(${q}, 2) = 1) THEN 1 ELSE 0 END)`;

const RISK_SQL = (marks: { ids: string; indexes: string; values: string }, candidates: string) => `
WITH marks AS (
  SELECT * FROM unnest(${marks.ids}, ${marks.indexes}, ${marks.values}) AS k(market_id, index_price, value)
),
candidates AS (${candidates}),
exposure AS (
  SELECT p.account_id,
         sum(CASE WHEN m.kind = 'PERPETUAL'
                  THEN p.size * (x.price - x.entry) - p.size * (m.cumulative_funding - p.funding_snapshot)
                  ELSE p.size * COALESCE(k.value, x.entry) END) AS pnl,
         sum(CASE WHEN m.kind = 'PERPETUAL' OR p.size < 0
                  THEN abs(p.size) * x.price * m.maintenance_margin_fraction ELSE 0 END) AS mm,
         sum(abs(p.size) * x.price) AS notional
    FROM candidates c
    JOIN position p ON p.account_id = c.id AND p.closed_block IS NULL
    JOIN market m ON m.id = p.market_id
    LEFT JOIN marks k ON k.market_id = p.market_id
    CROSS JOIN LATERAL (
      SELECT COALESCE(p.entry_price, 0) AS entry,
             COALESCE(k.index_price, CASE WHEN m.kind = 'PERPETUAL' THEN COALESCE(p.entry_price, 0) ELSE m.strike END) AS price
    ) x
   GROUP BY p.account_id
),
risk AS (
  SELECT c.id, c.collateral + COALESCE(e.pnl, 0) AS equity, COALESCE(e.mm, 0) AS mm, COALESCE(e.notional, 0) AS notional
    FROM candidates c LEFT JOIN exposure e ON e.account_id = c.id
),
served AS (
  SELECT r.id, r.equity > 0 AS solvent,
         ${halfEven('(r.equity * 1e18)')} AS equity,
         ${halfEven('(r.notional * 1e18)')} AS notional,
         ${quotientHalfEven('(r.mm * 1e18)', 'r.equity', 'd.q')} AS margin_ratio
    FROM risk r
    CROSS JOIN LATERAL (SELECT div(r.mm * 1e18, CASE WHEN r.equity > 0 THEN r.equity END) AS q) d
)`;

export async function accountsPage(ctx: RequestContext, filter: AccountFilter, orderBy: AccountOrder, args: PageArgs): Promise<Connection<Account>> {
  const kind = `account:${orderBy}`;
  const byId = orderBy === 'ID_ASC';
  const page = pageOf(args, kind, byId ? ['text'] : ['int4', 'numeric', 'text']);
  const p = new Params();
  let sql: string;
  if (byId) {
    const where = filterConditions(p, filter);
    if (page.after) where.push(`a.id > ${p.add(page.after[0], 'text')}`);
    sql = `SELECT a.* FROM account a ${whereClause(where)} ORDER BY a.id LIMIT ${p.add(page.first + 1, 'int8')}`;
  } else {
    const marks = await ctx.loaders.risk.marks();
    const ids = [...marks.keys()];
    const arrays = {
      ids: p.add(ids, 'text[]'),
      indexes: p.add(ids.map((id) => nullable(marks.get(id)!.indexPrice)), 'numeric[]'),
      values: p.add(ids.map((id) => nullable(marks.get(id)!.value)), 'numeric[]'),
    };
    // The engine's candidates (risk-engine/engine.ts) hold every account that can be on
    // this page; at a past block, the same choice from that block's columns (past.ts);
    // without either (loading, behind, an owner filter), every account is one.
    // The block first: whether a cursor's block is the newest (the engine's) is known then.
    const at = filter.owner == null ? await ctx.blockIfAny() : null;
    const cursor = page.after as CursorKey | null;
    const engine = at ? ctx.riskEngine : undefined;
    const past = at ? ctx.pastBlocks : undefined;
    let picked: string[] | null = null;
    if (at && engine) picked = await engine.candidates(at, orderBy, filter, cursor, page.first);
    else if (at && past) {
      const query: RunQuery = (sql, params) => ctx.query(sql, params);
      const markets = await ctx.loaders.markets();
      const evaluation = await past.at(at, async () => evaluationOf(await columnsAt(query, at, past.engine), markets, marks));
      picked = pageCandidates(evaluation, orderBy, filter, cursor, page.first);
    }
    const where = filterConditions(p, filter);
    if (picked) where.push(`a.id = ANY(${p.add(picked, 'text[]')})`);
    const candidates = `SELECT a.id, a.collateral FROM account a ${whereClause(where)}`;
    const sort = SORT[orderBy];
    const after = page.after
      ? `WHERE (keyed.bucket, keyed.k, keyed.id) > (${p.add(page.after[0], 'int4')}, ${p.add(page.after[1], 'numeric')}, ${p.add(page.after[2], 'text')})`
      : '';
    sql = `${RISK_SQL(arrays, candidates)},
keyed AS (SELECT s.id, ${sort.bucket} AS bucket, ${sort.key} AS k FROM served s)
SELECT a.*, keyed.bucket AS sort_bucket, keyed.k::text AS sort_key
  FROM keyed JOIN account a ON a.id = keyed.id
  ${after}
 ORDER BY keyed.bucket, keyed.k, keyed.id
 LIMIT ${p.add(page.first + 1, 'int8')}`;
  }
  const fetched = await ctx.query<Record<string, unknown>>(sql, p.values);
  await ctx.budget.resume();
  const rows = fetched.map((row) => ({ row, account: accountFromRow(row) }));
  ctx.loaders.primeAccounts(rows.map((r) => r.account));
  const keyOf = byId
    ? ({ row }: { row: Record<string, unknown> }) => [row.id as string]
    : ({ row }: { row: Record<string, unknown> }) => [String(row.sort_bucket), row.sort_key as string, row.id as string];
  const block = (await ctx.blockIfAny()) ?? undefined;
  return connectionOf(rows, page, kind, keyOf, (r) => r.account, async () => {
    const at = filter.owner == null ? await ctx.blockIfAny() : null;
    const counted = at ? await ctx.riskEngine?.count(at, filter) : null;
    if (counted != null) return counted;
    const q = new Params();
    const [row] = await ctx.query<{ n: number }>(`SELECT count(*)::int4 AS n FROM account a ${whereClause(filterConditions(q, filter))}`, q.values);
    return row!.n;
  }, block);
}

function filterConditions(p: Params, filter: AccountFilter): string[] {
  const where: string[] = [];
  if (filter.owner != null) where.push(`a.owner = ${p.add(ownerArgument(filter.owner), 'text')}`);
  if (filter.marginState != null) where.push(`a.margin_state = ANY(${p.add(filter.marginState, 'margin_state[]')})`);
  if (filter.market != null) {
    where.push(`EXISTS (SELECT 1 FROM position p WHERE p.account_id = a.id AND p.market_id = ${p.add(filter.market, 'text')} AND p.closed_block IS NULL)`);
  }
  return where;
}

function nullable(value: bigint | null): string | null {
  return value === null ? null : toSql(value);
}
