import type pg from 'pg';

/** Tables compared when two ingests must agree; undo_log depends on when the head was seen. */
export const LEDGER_TABLES = [
  'market', 'underlying', 'oracle_source', 'account', 'position', 'fill', 'collateral_transfer', 'price_report',
  'volatility_report', 'margin_fraction_update', 'index_price', 'funding_sample', 'funding_settlement',
  'option_settlement', 'margin_transition', 'anomaly', 'block',
  // The past of the mutable rows (issue 16): a reorg must leave exactly a fresh ingest's versions.
  'market_version', 'underlying_version', 'oracle_source_version', 'account_version', 'position_version',
] as const;

/** Every row of every ledger table, as text, in a stable order: equal snapshots mean equal databases. */
export async function snapshotTables(pool: Pick<pg.Pool, 'query'>, tables: readonly string[] = LEDGER_TABLES): Promise<Record<string, string[]>> {
  const snapshot: Record<string, string[]> = {};
  for (const table of tables) {
    const { rows } = await pool.query(`SELECT t::text AS row FROM "${table}" t ORDER BY t::text`);
    snapshot[table] = rows.map((r) => r.row as string);
  }
  const cursor = await pool.query('SELECT chain_id, block_number, block_hash, block_timestamp FROM cursor');
  snapshot.cursor = cursor.rows.map((r) => JSON.stringify(r));
  return snapshot;
}

/** The ledger tables a block's state is: the current rows and history, not the versions. */
export const STATE_TABLES = LEDGER_TABLES.filter((table) => !table.endsWith('_version'));

/**
 * `snapshotTables` of STATE_TABLES as of a past block: the same tables read through the `pts_past` views
 * (prisma/migrations/*_history_versions) at `block`, in one read-only transaction.
 */
export async function snapshotTablesAt(pool: pg.Pool, block: number): Promise<Record<string, string[]>> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query("SELECT set_config('search_path', 'pts_past, public', true), set_config('pts.block', $1, true)", [String(block)]);
    return await snapshotTables(client, STATE_TABLES);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}
