/**
 * Risk-ordered pages and stresses at a past block (SPEC section 8), without a probe per row.
 *
 * Through the `pts_past` views a pass over every account costs a backward probe of the
 * versions per account and per position (src/db/README.md, "History: row versions"), and
 * the exact SQL order then computes every account in NUMERIC. Instead, every account and
 * open position as of the block is read set-based, one statement per table (each row's
 * newest version at or before the block, from one ordered scan of the versions), into the
 * engine's columns (columns.ts), evaluated in float64 at the block's marks with error
 * bounds, and a page's candidates are chosen as the engine chooses them (bounds.ts). The
 * page is still ordered and served by order.ts's SQL over those few accounts, so values,
 * order and cursors are exactly those of a full pass at that block.
 *
 * When the API's risk engine holds a newer block of the same chain, the columns are a copy
 * of the engine's instead, with the rows changed since the past block rolled back (their
 * versions after it name them; one backward probe each gives it at the block).
 *
 * A block's columns are kept (the last few blocks asked) for the pages after the first: a
 * cursor remembers its block, so a client paging a past list comes back to it. A block of
 * the canonical chain never changes once committed; a reorg that abandons it changes its
 * hash, the key.
 */
import type { Market, MarginState } from '../../ledger/index.js';
import type { Mark } from '../../risk/mark.js';
import type { RunQuery, SnapshotBlock } from '../snapshot.js';
import { ABSOLUTE_ERROR, boundsOfAll, candidates, RELATIVE_ERROR, type Bounds, type RiskOrder } from './bounds.js';
import { AccountColumns, emptyEvaluated, type Evaluated } from './columns.js';
import type { CursorKey, EngineFilter, RiskEngine } from './engine.js';

/**
 * Every account and open position of the request's snapshot, in columns. At a past block
 * (`past`: its number) the rows are read from the versions directly, in schema `public`:
 * for each row its newest version at or before the block (DISTINCT ON over the primary
 * key's order); a row without one did not exist yet. At the newest block, the tables.
 */
export async function readColumns(query: RunQuery, past: number | null): Promise<AccountColumns> {
  const columns = new AccountColumns();
  columns.fill(...(await readRows(query, past)));
  return columns;
}

type KindRow = { id: string; kind: string };
type AccountRow = { id: string; c: string; margin_state: MarginState };
type PositionRow = { account_id: string; market_id: string; s: string; e: string | null; f: string };

/** The rows `readColumns` reads. */
async function readRows(query: RunQuery, past: number | null): Promise<[KindRow[], AccountRow[], PositionRow[]]> {
  return past === null
    ? Promise.all([
        query<{ id: string; kind: string }>('SELECT id, kind::text FROM market'),
        query<{ id: string; c: string; margin_state: MarginState }>('SELECT id, collateral::text AS c, margin_state FROM account'),
        query<{ account_id: string; market_id: string; s: string; e: string | null; f: string }>(
          'SELECT account_id, market_id, size::text AS s, entry_price::text AS e, funding_snapshot::text AS f FROM position WHERE closed_block IS NULL',
        ),
      ])
    : await Promise.all([
        // A market's kind never changes once listed: the current row's.
        query<{ id: string; kind: string }>('SELECT id, kind::text FROM public.market'),
        query<AccountRow>(
          `SELECT DISTINCT ON (id) id, collateral::text AS c, margin_state FROM public.account_version
            WHERE version_block <= $1 ORDER BY id DESC, version_block DESC`,
          [past],
        ),
        // Joined before DISTINCT ON: the planner cannot estimate how many versions are open after it.
        query<PositionRow>(
          `SELECT account_id, market_id, s, e, f FROM (
             SELECT DISTINCT ON (v.id) t.account_id, t.market_id, v.size::text AS s, v.entry_price::text AS e,
                    v.funding_snapshot::text AS f, v.closed_block
               FROM public.position_version v JOIN public.position t ON t.id = v.id
              WHERE v.version_block <= $1 ORDER BY v.id DESC, v.version_block DESC) p
            WHERE p.closed_block IS NULL`,
          [past],
        ),
      ]);
}

/**
 * The accounts whose own row changed after block $1, as of it (collateral null: it did not
 * exist yet): the versions after it name them, a backward probe gives each at the block.
 */
const ACCOUNTS_CHANGED = `SELECT a.id, v.collateral::text AS c, v.margin_state
  FROM (SELECT DISTINCT id FROM public.account_version WHERE version_block > $1) a
  LEFT JOIN LATERAL (SELECT x.collateral, x.margin_state FROM public.account_version x WHERE x.id = a.id AND x.version_block <= $1
                      ORDER BY x.version_block DESC LIMIT 1) v ON true`;

/** The positions that changed after block $1, as of it (size null: not open then). */
const POSITIONS_CHANGED = `SELECT t.account_id, t.market_id, v.size::text AS s, v.entry_price::text AS e, v.funding_snapshot::text AS f
  FROM (SELECT DISTINCT id FROM public.position_version WHERE version_block > $1) p
  JOIN public.position t ON t.id = p.id
  LEFT JOIN LATERAL (SELECT x.size, x.entry_price, x.funding_snapshot FROM public.position_version x
                      WHERE x.id = p.id AND x.version_block <= $1 AND x.closed_block IS NULL
                      ORDER BY x.version_block DESC LIMIT 1) v ON true`;

/**
 * Every account and open position as of the request's past block `block`: a copy of the
 * engine's columns rolled back when it holds a block of the same chain at or after it, else
 * `readColumns`. Rolling back costs a probe per row changed since the block, reading all a
 * row of an ordered scan per row: even when most rows changed (a block far back) the two
 * are within a factor of two, and a recent block costs a fraction (bench/history).
 * `query` runs in the request's snapshot at `block`.
 */
export async function columnsAt(query: RunQuery, block: SnapshotBlock, engine: RiskEngine | undefined): Promise<AccountColumns> {
  const held = engine?.heldCopy();
  if (held && held.number >= block.number) {
    // The engine's block must be of the chain the snapshot sees (a reorg may have replaced it since).
    const [same] = await query<{ hash: string }>('SELECT hash FROM public.block WHERE number = $1', [held.number]);
    if (same?.hash === held.hash) {
      const [kinds, accounts, positions] = await Promise.all([
        query<{ id: string; kind: string }>('SELECT id, kind::text FROM public.market'),
        query<{ id: string; c: string | null; margin_state: MarginState | null }>(ACCOUNTS_CHANGED, [block.number]),
        query<{ account_id: string; market_id: string; s: string | null; e: string | null; f: string | null }>(POSITIONS_CHANGED, [block.number]),
      ]);
      held.columns.rollBack(kinds, accounts, positions);
      return held.columns;
    }
  }
  return readColumns(query, block.number);
}

/** A block's columns and every account's values at its marks; bounds by order, made when first asked. */
export interface Evaluation {
  columns: AccountColumns;
  values: Evaluated;
  bounds: Map<RiskOrder, Bounds>;
}

/** Every account of `columns` at the marks, with error bounds (the engine's evaluation, in one go). */
export function evaluationOf(columns: AccountColumns, markets: ReadonlyMap<string, Market>, marks: ReadonlyMap<string, Mark>): Evaluation {
  const values = emptyEvaluated(columns.accountCount);
  columns.evaluate(markets, marks, values, RELATIVE_ERROR, ABSOLUTE_ERROR);
  return { columns, values, bounds: new Map() };
}

/**
 * The ids of the accounts that can be on the page after `cursor` (null: the first page)
 * in `order`, among those passing `filter` (engine.ts explains why they hold the page).
 */
export function pageCandidates(at: Evaluation, order: RiskOrder, filter: EngineFilter, cursor: CursorKey | null, first: number): string[] {
  const n = at.columns.accountCount;
  let orderBounds = at.bounds.get(order);
  if (!orderBounds) at.bounds.set(order, (orderBounds = boundsOfAll(order, at.values, n)));
  const place = cursor ? { bucket: Number(cursor[0]), key: Number(cursor[1]) / 1e18 } : null;
  return candidates(orderBounds, n, at.columns.filter(filter), place, first).map((i) => at.columns.idAt(i));
}

/** Past blocks' evaluations kept for their next pages (each holds a few dozen bytes per account and position). */
const KEPT = 2;

/** The evaluations of the last few past blocks asked, shared by the API's requests. */
export class PastBlocks {
  private readonly kept = new Map<string, Promise<Evaluation>>();

  /** `engine`: the API's risk engine, whose columns a past block's are rolled back from (`columnsAt`). */
  constructor(readonly engine?: RiskEngine) {}

  /** The evaluation at `block`, made by `make` unless kept. */
  at(block: SnapshotBlock, make: () => Promise<Evaluation>): Promise<Evaluation> {
    const key = `${block.number}:${block.hash}`;
    let made = this.kept.get(key);
    if (made) {
      this.kept.delete(key); // most recently used last
    } else {
      made = make();
      // A failed read is not kept: the next request reads again.
      made.catch(() => this.kept.get(key) === made && this.kept.delete(key));
      if (this.kept.size >= KEPT) this.kept.delete(this.kept.keys().next().value!);
    }
    this.kept.set(key, made);
    return made;
  }
}
