import type pg from 'pg';
import type { SqlRow, TableSpec } from './columns.js';

export type Queryable = Pick<pg.ClientBase, 'query'>;

const quote = (name: string) => `"${name}"`;

/**
 * Inserts rows in one statement: each column travels as one array parameter and
 * unnest() turns them back into rows, so a block's fills cost one round trip whatever
 * their number. `upsert` replaces rows with the same key (mutable tables).
 */
export async function insertRows<T>(client: Queryable, spec: TableSpec<T>, rows: readonly SqlRow[], upsert = false): Promise<void> {
  if (rows.length === 0) return;
  const names = spec.columns.map((c) => quote(c.name)).join(', ');
  const arrays = spec.columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const conflict = upsert
    ? ` ON CONFLICT (${spec.key.map(quote).join(', ')}) DO UPDATE SET ${spec.columns
      .filter((c) => !spec.key.includes(c.name))
      .map((c) => `${quote(c.name)} = EXCLUDED.${quote(c.name)}`)
      .join(', ')}`
    : '';
  const params = spec.columns.map((_, i) => rows.map((row) => row[i]!));
  await client.query(`INSERT INTO ${quote(spec.table)} (${names}) SELECT * FROM unnest(${arrays})${conflict}`, params);
}

/** Deletes the rows with these keys (key values in the spec's key order). */
export async function deleteRows<T>(client: Queryable, spec: TableSpec<T>, keys: readonly SqlRow[]): Promise<void> {
  if (keys.length === 0) return;
  const types = spec.key.map((name) => spec.columns.find((c) => c.name === name)!.type);
  const arrays = types.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
  const params = spec.key.map((_, i) => keys.map((key) => key[i]!));
  await client.query(
    `DELETE FROM ${quote(spec.table)} WHERE (${spec.key.map(quote).join(', ')}) IN (SELECT * FROM unnest(${arrays}))`,
    params,
  );
}
