import { marketFromRow } from '../../../db/store/ledger-store.js';
import { read } from '../../../db/store/columns.js';
import type { Fixed } from '../../../fixed/index.js';
import type { Market } from '../../../ledger/index.js';
import type { RunQuery } from '../../snapshot.js';

/** Markets are few (one per listed instrument): one statement loads them all. */
export const MARKETS_SQL = 'SELECT * FROM market ORDER BY id';

/** Every market, by id; from `rows` of MARKETS_SQL when they were read already (past-block.ts). */
export async function loadMarkets(query: RunQuery, rows?: Record<string, unknown>[]): Promise<Map<string, Market>> {
  rows ??= await query<Record<string, unknown>>(MARKETS_SQL);
  return new Map(rows.map((row) => [row.id as string, marketFromRow(row)]));
}

/** Open interest of a market: its open positions summed by side. */
export interface MarketStats {
  openInterest: Fixed;
  shortInterest: Fixed;
  longCount: number;
  shortCount: number;
}

export const NO_STATS: MarketStats = { openInterest: 0n, shortInterest: 0n, longCount: 0, shortCount: 0 };

export async function loadMarketStats(query: RunQuery, ids: readonly string[]): Promise<Map<string, MarketStats>> {
  const rows = await query<Record<string, unknown>>(
    `SELECT market_id,
            COALESCE(sum(size) FILTER (WHERE size > 0), 0) AS long_size,
            COALESCE(-sum(size) FILTER (WHERE size < 0), 0) AS short_size,
            (count(*) FILTER (WHERE size > 0))::int4 AS long_count,
            (count(*) FILTER (WHERE size < 0))::int4 AS short_count
       FROM position
      WHERE market_id = ANY($1::text[]) AND closed_block IS NULL
      GROUP BY market_id`,
    [ids],
  );
  return new Map(
    rows.map((row) => [
      row.market_id as string,
      {
        openInterest: read.fixed(row.long_size),
        shortInterest: read.fixed(row.short_size),
        longCount: row.long_count as number,
        shortCount: row.short_count as number,
      },
    ]),
  );
}
