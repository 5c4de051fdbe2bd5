/**
 * Keyset pages in SQL, for every connection of the schema. A list is a table, filter
 * conditions and a unique sort key; a page is `WHERE key > cursor ORDER BY key LIMIT
 * first + 1` (never OFFSET). A connection nested under a list of parents (each account's
 * fills, ...) is fetched for all parents that share the same field arguments in one
 * statement: a LATERAL subquery per parent id keeps each parent's page an index range.
 */
import type { RequestContext } from './context.js';
import type { Now } from './memo.js';
import { connectionOf, pageOf, type Connection, type Page, type PageArgs } from './pagination.js';

/** Numbered, typed statement parameters: `p.add(value, 'int8')` gives `$3::int8`. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

export interface KeyColumn {
  column: string;
  type: 'int8' | 'int4' | 'text';
}

export interface ListQuery {
  /** Tags the cursors of this list. */
  kind: string;
  /** Table (aliased `t` in conditions). */
  table: string;
  /** The sort key: unique within the list. */
  key: readonly KeyColumn[];
  descending: boolean;
  /** Filter conditions on `t`; values go through `p`. */
  where: (p: Params) => string[];
}

/** A connection under a parent: `column` of the table names the parent `id`. */
export interface ParentScope {
  column: string;
  id: string;
  /** The field and its arguments: parents sharing it are fetched in one statement. */
  batch: string;
}

type Row = Record<string, unknown>;

export async function fetchConnection<N>(
  ctx: RequestContext,
  list: ListQuery,
  args: PageArgs,
  nodeOf: (row: Row) => Now<N>,
  parent?: ParentScope,
): Promise<Connection<N>> {
  const page = pageOf(args, list.kind, list.key.map((k) => k.type));
  let rows: Row[];
  let totalCount: () => Promise<number>;
  if (parent) {
    const { column, id, batch } = parent;
    rows = await ctx.loaders
      .batch(`page|${list.kind}|${batch}`, (ids) => pagesOf(ctx, list, page, column, ids))
      .load(id);
    totalCount = () => ctx.loaders.batch(`count|${list.kind}|${batch}`, (ids) => countsOf(ctx, list, column, ids)).load(id);
  } else {
    const p = new Params();
    const where = list.where(p);
    const sql = `SELECT t.* FROM ${list.table} t ${whereClause([...where, ...after(list, page, p)])} ORDER BY ${orderBy(list)} LIMIT ${p.add(page.first + 1, 'int8')}`;
    rows = await ctx.query<Row>(sql, p.values);
    totalCount = async () => {
      const q = new Params();
      const [row] = await ctx.query<{ n: number }>(`SELECT count(*)::int4 AS n FROM ${list.table} t ${whereClause(list.where(q))}`, q.values);
      return row!.n;
    };
  }
  // Many parents' pages arrive together (one batched statement) and each is built in its
  // own continuation: the budget decides before building, not after (budget.ts).
  await ctx.budget.resume();
  return connectionOf(rows, page, list.kind, (row) => list.key.map((k) => String(row[k.column])), nodeOf, totalCount, (await ctx.blockIfAny()) ?? undefined);
}

async function pagesOf(ctx: RequestContext, list: ListQuery, page: Page, column: string, ids: readonly string[]): Promise<Map<string, Row[]>> {
  const p = new Params();
  const parents = p.add(ids, 'text[]');
  const where = [`t.${column} = parent.id`, ...list.where(p), ...after(list, page, p)];
  const sql = `SELECT t.* FROM unnest(${parents}) WITH ORDINALITY AS parent(id, ord)
    CROSS JOIN LATERAL (SELECT t.* FROM ${list.table} t ${whereClause(where)} ORDER BY ${orderBy(list)} LIMIT ${p.add(page.first + 1, 'int8')}) t
    ORDER BY parent.ord, ${orderBy(list)}`;
  const byParent = new Map<string, Row[]>(ids.map((id) => [id, []]));
  for (const row of await ctx.query<Row>(sql, p.values)) byParent.get(row[column] as string)?.push(row);
  return byParent;
}

async function countsOf(ctx: RequestContext, list: ListQuery, column: string, ids: readonly string[]): Promise<Map<string, number>> {
  const p = new Params();
  const where = [`t.${column} = ANY(${p.add(ids, 'text[]')})`, ...list.where(p)];
  const rows = await ctx.query<{ parent: string; n: number }>(
    `SELECT t.${column} AS parent, count(*)::int4 AS n FROM ${list.table} t ${whereClause(where)} GROUP BY t.${column}`,
    p.values,
  );
  const counts = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const row of rows) counts.set(row.parent, row.n);
  return counts;
}

/** The keyset condition: rows strictly after the cursor's key in the list's order. */
function after(list: ListQuery, page: Page, p: Params): string[] {
  if (!page.after) return [];
  const columns = list.key.map((k) => `t.${k.column}`).join(', ');
  const values = page.after.map((value, i) => p.add(value, list.key[i]!.type)).join(', ');
  return [`(${columns}) ${list.descending ? '<' : '>'} (${values})`];
}

function orderBy(list: ListQuery): string {
  return list.key.map((k) => `t.${k.column}${list.descending ? ' DESC' : ''}`).join(', ');
}

export function whereClause(conditions: readonly string[]): string {
  return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
}

export interface BlockRange {
  fromBlock?: number | null;
  toBlock?: number | null;
}

/** Inclusive block range conditions on `t.block_number`. */
export function blockRange(p: Params, range: BlockRange): string[] {
  const conditions: string[] = [];
  if (range.fromBlock != null) conditions.push(`t.block_number >= ${p.add(range.fromBlock, 'int8')}`);
  if (range.toBlock != null) conditions.push(`t.block_number <= ${p.add(range.toBlock, 'int8')}`);
  return conditions;
}
