import { formatFixed, parseFixed, type Fixed } from '../../fixed/index.js';

/** A value as sent to PostgreSQL inside a text-encoded array: exact, never a JS number. */
export type SqlValue = string | boolean | null;
export type SqlRow = SqlValue[];

export interface Column<T> {
  name: string;
  /** PostgreSQL element type of the unnest() array parameter. */
  type: string;
  value(row: T): SqlValue;
}

/**
 * How a ledger record maps to a table: column order, element types and key. Rows cross
 * the wire column-wise as arrays through unnest(), one statement per table per batch.
 */
export interface TableSpec<T> {
  table: string;
  key: readonly string[];
  columns: readonly Column<T>[];
}

export function rowOf<T>(spec: TableSpec<T>, record: T): SqlRow {
  return spec.columns.map((column) => column.value(record));
}

/** The key columns of each spec, found once. */
const keyColumns = new WeakMap<TableSpec<never>, readonly Column<never>[]>();

/** A record's key as one string (its key columns' values): computed without the rest of its row. */
export function keyOf<T>(spec: TableSpec<T>, record: T): string {
  let columns = keyColumns.get(spec as TableSpec<never>) as readonly Column<T>[] | undefined;
  if (!columns) {
    columns = spec.key.map((name) => spec.columns.find((c) => c.name === name)!);
    keyColumns.set(spec as TableSpec<never>, columns as readonly Column<never>[]);
  }
  return columns.map((column) => String(column.value(record))).join('|');
}

export const col = {
  text: <T>(name: string, get: (row: T) => string | null): Column<T> => ({ name, type: 'text', value: get }),
  fixed: <T>(name: string, get: (row: T) => Fixed | null): Column<T> => ({
    name,
    type: 'numeric',
    value: (row) => nullable(get(row), formatFixed),
  }),
  int8: <T>(name: string, get: (row: T) => number | null): Column<T> => ({
    name,
    type: 'int8',
    value: (row) => nullable(get(row), String),
  }),
  int4: <T>(name: string, get: (row: T) => number | null): Column<T> => ({
    name,
    type: 'int4',
    value: (row) => nullable(get(row), String),
  }),
  bool: <T>(name: string, get: (row: T) => boolean): Column<T> => ({ name, type: 'bool', value: get }),
  json: <T>(name: string, get: (row: T) => unknown): Column<T> => ({
    name,
    type: 'jsonb',
    value: (row) => nullable(get(row), (v) => JSON.stringify(v)),
  }),
  enum: <T>(name: string, type: string, get: (row: T) => string): Column<T> => ({ name, type, value: get }),
};

function nullable<V>(value: V | null | undefined, encode: (value: V) => string): string | null {
  return value === null || value === undefined ? null : encode(value);
}

/** Reading back: NUMERIC and INT8 arrive as strings (src/db/adapter.ts). */
export const read = {
  fixed: (value: unknown): Fixed => parseFixed(String(value)),
  fixedOrNull: (value: unknown): Fixed | null => (value === null ? null : parseFixed(String(value))),
  int: (value: unknown): number => Number(value),
  intOrNull: (value: unknown): number | null => (value === null ? null : Number(value)),
};
