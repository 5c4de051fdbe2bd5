/**
 * One account at many blocks (SPEC section 8, `Account.history`): its rows as of each block
 * read from the row versions (src/db/README.md, "History") in one statement per table for
 * all the blocks of a page, whatever their number. Tables are named in schema `public`:
 * a request at a past block reads the `pts_past` views first, which hold one block only.
 */
import { positionFromRow } from '../../../db/store/ledger-store.js';
import { read } from '../../../db/store/columns.js';
import type { Fixed } from '../../../fixed/index.js';
import type { Account, Market, Position } from '../../../ledger/index.js';
import type { RunQuery } from '../../snapshot.js';
import { accountFromRow } from '../account/sql.js';

/** The account's rows as of one block. */
export interface AccountAt {
  block: number;
  timestamp: number;
  account: Account;
  /** Every lifecycle that existed at the block, closed ones included. */
  positions: Position[];
  markets: Map<string, Market>;
  indexPrices: Map<string, Fixed | null>;
  /** Deposits - withdrawals up to and including the block. */
  netTransfers: Fixed;
}

/** `columns` of the current row `t` joined with its newest version `v` at or before `b.n` (the pts_past views' join, at many blocks). */
const atBlocks = (table: string, key: string, where: string, fixed: readonly string[], changing: readonly string[]) => `
  SELECT b.n AS at, ${[...fixed.map((c) => `t.${c}`), ...changing.map((c) => `v.${c}`)].join(', ')}
    FROM unnest($1::int8[]) b(n)
    JOIN public.${table} t ON ${where}
    CROSS JOIN LATERAL (SELECT * FROM public.${table}_version x WHERE ${key} AND x.version_block <= b.n
                         ORDER BY x.version_block DESC LIMIT 1) v`;

const HELD = `(SELECT DISTINCT market_id FROM public.position WHERE account_id = $2)`;
/**
 * Of a market's changing columns, a tick reads only these (marks, funding, margins: risk.ts
 * and src/risk); the others (fill price, funding clock, settlement) change with nearly
 * every block and no tick value depends on them. Reading only these, a tick's markets
 * repeat from tick to tick and are made once per distinct value.
 */
const TICK_MARKET_COLUMNS = ['initial_margin_fraction', 'maintenance_margin_fraction', 'implied_volatility', 'cumulative_funding'] as const;
const MARKETS = atBlocks('market', 'x.id = t.id', `t.id IN ${HELD}`, ['id'], TICK_MARKET_COLUMNS);
const UNDERLYINGS = atBlocks('underlying', 'x.id = t.id', `t.id IN (SELECT underlying FROM public.market WHERE id IN ${HELD})`, ['id'], ['index_price']);

/**
 * The account's rows at each of `blocks` (ascending, with their timestamps); blocks where
 * it did not exist are left out. `markets` gives each market's fixed columns (any block's
 * rows: the request's); a tick's markets hold the columns a tick reads as of its block
 * (TICK_MARKET_COLUMNS) and, for the rest, the request's values.
 */
export async function accountAtBlocks(
  query: RunQuery,
  accountId: string,
  blocks: readonly BlockAt[],
  markets: ReadonlyMap<string, Market>,
): Promise<AccountAt[]> {
  if (blocks.length === 0) return [];
  const time = new Map(blocks.map((b) => [b.number, b.timestamp]));
  const numbers = blocks.map((b) => b.number);
  const params = [numbers.map(String), accountId];
  const last = numbers.at(-1)!;
  // The account's own rows change only with its events: all their versions up to the last
  // block, merged below, cost far less than a probe per block and lifecycle.
  const accountVersions = await query<Record<string, unknown>>(
    `SELECT t.id, t.owner, t.subaccount, t.created_block, v.version_block, v.collateral, v.margin_state, v.updated_block
       FROM public.account t JOIN public.account_version v ON v.id = t.id
      WHERE t.id = $1 AND v.version_block <= $2 ORDER BY v.version_block`,
    [accountId, last],
  );
  const positionVersions = await query<Record<string, unknown>>(
    `SELECT t.id, t.account_id, t.market_id, t.seq, t.opened_block, v.version_block, v.size, v.entry_price, v.realized_pnl,
            v.funding_snapshot, v.settled_funding, v.fees_paid, v.closed_block, v.updated_block
       FROM public.position t JOIN public.position_version v ON v.id = t.id
      WHERE t.account_id = $1 AND v.version_block <= $2 ORDER BY t.market_id, t.seq, v.version_block`,
    [accountId, last],
  );
  const marketRows = await query<Record<string, string | null>>(MARKETS, params);
  const underlyings = await query<Record<string, unknown>>(UNDERLYINGS, params);
  const transfers = await query<{ block_number: string; signed: string }>(
    `SELECT block_number, CASE WHEN kind = 'DEPOSIT' THEN amount ELSE -amount END::text AS signed
       FROM public.collateral_transfer WHERE account_id = $1 AND block_number <= $2 ORDER BY block_number, log_index`,
    [accountId, last],
  );
  const at = new Map<number, AccountAt>();
  const accountAt = versionsAt(accountVersions, accountFromRow);
  const lifecycles = new Map<string, Record<string, unknown>[]>();
  for (const row of positionVersions) {
    const id = row.id as string;
    const list = lifecycles.get(id);
    if (list) list.push(row);
    else lifecycles.set(id, [row]);
  }
  const positionsAt = [...lifecycles.values()].map((rows) => versionsAt(rows, positionFromRow));
  for (const block of numbers) {
    const account = accountAt(block);
    if (!account) continue;
    const positions = positionsAt.flatMap((of) => of(block) ?? []);
    at.set(block, { block, timestamp: time.get(block)!, account, positions, markets: new Map(), indexPrices: new Map(), netTransfers: 0n });
  }
  const made = new Map<string, Market>();
  for (const row of marketRows) {
    const entry = at.get(read.int(row.at));
    const fixed = markets.get(row.id!);
    if (!entry || !fixed) continue;
    const key = `${row.id}|${row.initial_margin_fraction}|${row.maintenance_margin_fraction}|${row.implied_volatility}|${row.cumulative_funding}`;
    let market = made.get(key);
    if (!market) {
      market = {
        ...fixed,
        initialMarginFraction: read.fixed(row.initial_margin_fraction),
        maintenanceMarginFraction: read.fixed(row.maintenance_margin_fraction),
        impliedVolatility: read.fixedOrNull(row.implied_volatility),
        cumulativeFunding: read.fixed(row.cumulative_funding),
      };
      made.set(key, market);
    }
    entry.markets.set(row.id!, market);
  }
  // An index price repeats from tick to tick until it moves: parsed once per distinct text.
  const prices = new Map<unknown, Fixed | null>();
  for (const row of underlyings) {
    let price = prices.get(row.index_price);
    if (price === undefined) prices.set(row.index_price, (price = read.fixedOrNull(row.index_price)));
    at.get(read.int(row.at))?.indexPrices.set(row.id as string, price);
  }
  // Net transfers so far: a running sum over the account's transfers, read once.
  let sum = 0n;
  let next = 0;
  for (const block of numbers) {
    while (next < transfers.length && read.int(transfers[next]!.block_number) <= block) sum += read.fixed(transfers[next++]!.signed);
    const entry = at.get(block);
    if (entry) entry.netTransfers = sum;
  }
  return numbers.flatMap((block) => at.get(block) ?? []);
}

/** These blocks with their timestamps (the stored ones). */
export async function blocksOf(query: RunQuery, numbers: readonly number[]): Promise<BlockAt[]> {
  const rows = await query<{ number: string; timestamp: string }>('SELECT number, timestamp FROM public.block WHERE number = ANY($1::int8[]) ORDER BY number', [numbers.map(String)]);
  return rows.map((r) => ({ number: read.int(r.number), timestamp: read.int(r.timestamp) }));
}

/** A block and its timestamp. */
export interface BlockAt {
  number: number;
  timestamp: number;
}

/**
 * A row's version at a block, from its versions in block order: for ascending blocks (each
 * call moves forward), the last version at or before the block, mapped once; undefined
 * before the first.
 */
function versionsAt<T>(rows: readonly Record<string, unknown>[], of: (row: Record<string, unknown>) => T): (block: number) => T | undefined {
  let next = 0;
  let current: T | undefined;
  return (block) => {
    while (next < rows.length && read.int(rows[next]!.version_block) <= block) current = of(rows[next++]!);
    return current;
  };
}

/** For each timestamp, the last block at or before it (and at or before `upTo`), with its timestamp; null where none. */
export async function blocksAtTimes(query: RunQuery, timestamps: readonly number[], upTo: number): Promise<(BlockAt | null)[]> {
  if (timestamps.length === 0) return [];
  const rows = await query<{ t: string; number: string | null; timestamp: string | null }>(
    `SELECT t.k AS t, b.number, b.timestamp
       FROM unnest($1::int8[]) t(k)
       LEFT JOIN LATERAL (SELECT b.number, b.timestamp FROM public.block b WHERE b.timestamp <= t.k AND b.number <= $2
                           ORDER BY b.timestamp DESC, b.number DESC LIMIT 1) b ON true`,
    [timestamps.map(String), upTo],
  );
  const found = new Map(rows.map((r) => [read.int(r.t), r.number === null ? null : { number: read.int(r.number), timestamp: read.int(r.timestamp) }]));
  return timestamps.map((t) => found.get(t) ?? null);
}

/**
 * Blocks after `after`, up to `upTo`, with a timestamp in [from, to], at which one of the
 * account's values may change: its own rows or those of the markets it ever held and their
 * underlyings changed, or (holding an option: time moves its value) any block. At most `limit`.
 */
export async function candidateBlocks(
  query: RunQuery,
  accountId: string,
  range: { after: number; upTo: number; from: number; to: number },
  limit: number,
): Promise<BlockAt[]> {
  const rows = await query<{ n: string; timestamp: string }>(
    `WITH held AS (SELECT DISTINCT market_id FROM public.position WHERE account_id = $1),
          changed AS (
            SELECT version_block AS n FROM public.account_version WHERE id = $1
            UNION SELECT version_block FROM public.position_version WHERE id IN (SELECT id FROM public.position WHERE account_id = $1)
            UNION SELECT version_block FROM public.market_version WHERE id IN (SELECT market_id FROM held)
            UNION SELECT version_block FROM public.underlying_version
                   WHERE id IN (SELECT underlying FROM public.market WHERE id IN (SELECT market_id FROM held))
            UNION SELECT number FROM public.block
                   WHERE EXISTS (SELECT 1 FROM public.market WHERE id IN (SELECT market_id FROM held) AND kind <> 'PERPETUAL')
                     AND number > $2 AND number <= $3)
     SELECT c.n, b.timestamp FROM changed c JOIN public.block b ON b.number = c.n
      WHERE c.n > $2 AND c.n <= $3 AND b.timestamp >= $4 AND b.timestamp <= $5
      ORDER BY c.n LIMIT $6`,
    [accountId, range.after, range.upTo, range.from, range.to, limit],
  );
  return rows.map((r) => ({ number: read.int(r.n), timestamp: read.int(r.timestamp) }));
}
