import { readerOf, recordOf } from '../../../db/store/columns.js';
import { indexPrices, oracleSources, priceReports, underlyings } from '../../../db/store/tables.js';
import type { Fixed } from '../../../fixed/index.js';
import type { IndexPriceRecord, OracleSource, PriceReportRecord } from '../../../ledger/index.js';
import { blockRange, type BlockRange, type ListQuery } from '../../keyset.js';
import type { RunQuery } from '../../snapshot.js';

export interface UnderlyingRow {
  id: string;
  indexPrice: Fixed | null;
  indexStale: boolean;
  /** The latest report of each source, by source address. */
  sources: OracleSource[];
}

/**
 * Every underlying with its oracle sources, in one statement (they are few). Amounts
 * cross the JSON aggregate as text: a JSON number would be read back as a float.
 */
export const UNDERLYINGS_SQL = `SELECT u.*,
            COALESCE((SELECT json_agg(json_build_object('underlying', s.underlying, 'source', s.source, 'price', s.price::text,
                                                        'timestamp', s.timestamp::text, 'block_number', s.block_number::text)
                                      ORDER BY s.source)
                        FROM oracle_source s WHERE s.underlying = u.id), '[]') AS sources
       FROM underlying u ORDER BY u.id`;

/** Every underlying, by id; from `rows` of UNDERLYINGS_SQL when they were read already (past-block.ts). */
export async function loadUnderlyings(query: RunQuery, rows?: Record<string, unknown>[]): Promise<Map<string, UnderlyingRow>> {
  rows ??= await query<Record<string, unknown>>(UNDERLYINGS_SQL);
  return new Map(
    rows.map((row) => {
      const sources = (row.sources as Record<string, unknown>[]).map((s) => recordOf(oracleSources, s));
      return [row.id as string, { ...recordOf(underlyings, row), sources }];
    }),
  );
}

export function indexPriceList(filter: BlockRange & { underlying?: string; newestFirst?: boolean | null }): ListQuery {
  return {
    kind: 'indexPrice',
    table: 'index_price',
    key: [{ column: 'block_number', type: 'int8' }],
    descending: filter.newestFirst ?? false,
    where: (p) => [
      ...(filter.underlying !== undefined ? [`t.underlying = ${p.add(filter.underlying, 'text')}`] : []),
      ...blockRange(p, filter),
    ],
  };
}

export const indexPriceFromRow = readerOf(indexPrices);

export function priceReportList(filter: BlockRange & { underlying: string; source?: string | null }): ListQuery {
  return {
    kind: 'priceReport',
    table: 'price_report',
    key: [
      { column: 'block_number', type: 'int8' },
      { column: 'log_index', type: 'int4' },
    ],
    descending: false,
    where: (p) => [
      `t.underlying = ${p.add(filter.underlying, 'text')}`,
      // Sources are stored lower-case (addresses).
      ...(filter.source != null ? [`t.source = ${p.add(filter.source.toLowerCase(), 'text')}`] : []),
      ...blockRange(p, filter),
    ],
  };
}

export const priceReportFromRow = readerOf(priceReports);
