import { read } from '../../../db/store/columns.js';
import { blockRange, type BlockRange, type ListQuery } from '../../keyset.js';

export interface AnomalyRow {
  blockNumber: number;
  seq: number;
  logIndex: number | null;
  transactionHash: string | null;
  venue: string | null;
  kind: string;
  message: string;
  /** The stored JSON text, served as is (parsing it could turn long numbers into floats). */
  data: string | null;
}

export function anomalyList(filter: BlockRange & { kind?: string | null }): ListQuery {
  return {
    kind: 'anomaly',
    // The JSON column leaves as text (see AnomalyRow.data).
    table: '(SELECT block_number, seq, log_index, transaction_hash, venue, kind, message, data::text AS data FROM anomaly)',
    key: [
      { column: 'block_number', type: 'int8' },
      { column: 'seq', type: 'int4' },
    ],
    descending: false,
    where: (p) => [...(filter.kind != null ? [`t.kind = ${p.add(filter.kind, 'text')}`] : []), ...blockRange(p, filter)],
  };
}

export function anomalyFromRow(row: Record<string, unknown>): AnomalyRow {
  return {
    blockNumber: read.int(row.block_number),
    seq: row.seq as number,
    logIndex: (row.log_index as number | null) ?? null,
    transactionHash: (row.transaction_hash as string | null) ?? null,
    venue: (row.venue as string | null) ?? null,
    kind: row.kind as string,
    message: row.message as string,
    data: (row.data as string | null) ?? null,
  };
}
