import { read } from '../../../db/store/columns.js';
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
export async function loadUnderlyings(query: RunQuery): Promise<Map<string, UnderlyingRow>> {
  const rows = await query<Record<string, unknown>>(
    `SELECT u.id, u.index_price, u.index_stale,
            COALESCE((SELECT json_agg(json_build_object('source', s.source, 'price', s.price::text,
                                                        'timestamp', s.timestamp::text, 'block', s.block_number::text)
                                      ORDER BY s.source)
                        FROM oracle_source s WHERE s.underlying = u.id), '[]') AS sources
       FROM underlying u ORDER BY u.id`,
  );
  return new Map(
    rows.map((row) => {
      const id = row.id as string;
      const sources = (row.sources as { source: string; price: string; timestamp: string; block: string }[]).map((s) => ({
        underlying: id,
        source: s.source,
        price: read.fixed(s.price),
        timestamp: read.int(s.timestamp),
        blockNumber: read.int(s.block),
      }));
      return [id, { id, indexPrice: read.fixedOrNull(row.index_price), indexStale: row.index_stale as boolean, sources }];
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

export function indexPriceFromRow(row: Record<string, unknown>): IndexPriceRecord {
  return {
    underlying: row.underlying as string,
    blockNumber: read.int(row.block_number),
    timestamp: read.int(row.timestamp),
    price: read.fixed(row.price),
    stale: row.stale as boolean,
  };
}

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

export function priceReportFromRow(row: Record<string, unknown>): PriceReportRecord {
  return {
    blockNumber: read.int(row.block_number),
    logIndex: row.log_index as number,
    transactionHash: row.transaction_hash as string,
    timestamp: read.int(row.timestamp),
    underlying: row.underlying as string,
    source: row.source as string,
    price: read.fixed(row.price),
  };
}
