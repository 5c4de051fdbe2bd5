import { readerOf } from '../../../db/store/columns.js';
import { anomalies } from '../../../db/store/tables.js';
import type { AnomalyRecord } from '../../../ledger/index.js';
import { blockRange, type BlockRange, type ListQuery } from '../../keyset.js';

/** An anomaly as served: its JSON data as the stored text (parsing it could turn long numbers into floats). */
export type AnomalyRow = Omit<AnomalyRecord, 'data'> & { data: string | null };

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

/** anomalyList selects the JSON column as text (see AnomalyRow.data). */
export const anomalyFromRow = readerOf(anomalies) as unknown as (row: Record<string, unknown>) => AnomalyRow;
