import type pg from 'pg';

/** Tables compared when two ingests must agree; undo_log depends on when the head was seen. */
export const LEDGER_TABLES = [
  'market', 'underlying', 'oracle_source', 'account', 'position', 'fill', 'collateral_transfer', 'price_report',
  'volatility_report', 'margin_fraction_update', 'index_price', 'funding_sample', 'funding_settlement',
  'option_settlement', 'margin_transition', 'anomaly', 'block',
] as const;

/** Every row of every ledger table, as text, in a stable order: equal snapshots mean equal databases. */
export async function snapshotTables(pool: pg.Pool): Promise<Record<string, string[]>> {
  const snapshot: Record<string, string[]> = {};
  for (const table of LEDGER_TABLES) {
    const { rows } = await pool.query(`SELECT t::text AS row FROM "${table}" t ORDER BY t::text`);
    snapshot[table] = rows.map((r) => r.row as string);
  }
  const cursor = await pool.query('SELECT chain_id, block_number, block_hash, block_timestamp FROM cursor');
  snapshot.cursor = cursor.rows.map((r) => JSON.stringify(r));
  return snapshot;
}
