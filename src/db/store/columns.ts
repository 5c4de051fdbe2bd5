import { formatFixed, parseFixed, type Fixed } from '../../fixed/index.js';

/** A value as sent to PostgreSQL inside a text-encoded array: exact, never a JS number. */
export type SqlValue = string | boolean | null;
export type SqlRow = SqlValue[];

/**
 * One column of a table and the record field it holds: how the field is written (an
 * unnest() array element or a COPY field) and how the value PostgreSQL returns is read
 * back. Writes and reads both go through it, so a column cannot be added to one side only.
 */
export interface Column<T> {
  name: string;
  /** PostgreSQL element type of the unnest() array parameter. */
  type: string;
  /** The record field: a key, or a key and a key of the object under it. */
  field: readonly [string] | readonly [string, string];
  value(record: T): SqlValue;
  /** The field's value from what the driver returns for the column (src/db/adapter.ts). */
  parse(raw: unknown): unknown;
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

/**
 * The record a selected row holds (`SELECT *` or any superset of the spec's columns, by
 * name): the inverse of rowOf.
 */
export function recordOf<T>(spec: TableSpec<T>, row: Record<string, unknown>): T {
  const record: Record<string, unknown> = {};
  for (const column of spec.columns) {
    const value = column.parse(row[column.name]);
    const [key, inner] = column.field;
    if (inner === undefined) record[key] = value;
    else ((record[key] ??= {}) as Record<string, unknown>)[inner] = value;
  }
  return record as T;
}

/** recordOf as a row mapper, for lists of rows. */
export function readerOf<T>(spec: TableSpec<T>): (row: Record<string, unknown>) => T {
  return (row) => recordOf(spec, row);
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

/** The keys of T whose values are V (null allowed where the column is nullable). */
type KeyOf<T, V> = { [K in keyof T & string]: T[K] extends V ? K : never }[keyof T & string];
/** A field of T holding V: its key, or a key and a key of the object under it. */
export type Field<T, V> =
  | KeyOf<T, V>
  | { [K in keyof T & string]: T[K] extends bigint | string | number | boolean | null ? never : readonly [K, KeyOf<T[K], V>] }[keyof T & string];

function column<T, V>(name: string, type: string, field: string | readonly [string, string], encode: (value: V) => SqlValue, parse: (raw: unknown) => unknown): Column<T> {
  const path: readonly [string] | readonly [string, string] = typeof field === 'string' ? [field] : field;
  const [key, inner] = path;
  const get: (record: T) => V =
    inner === undefined
      ? (record) => (record as Record<string, V>)[key]!
      : (record) => (record as Record<string, Record<string, V>>)[key]![inner]!;
  return {
    name,
    type,
    field: path,
    value: (record) => {
      const value = get(record);
      return value === null || value === undefined ? null : encode(value);
    },
    parse: (raw) => (raw === null || raw === undefined ? null : parse(raw)),
  };
}

const same = (raw: unknown) => raw;

export const col = {
  text: <T>(name: string, field: Field<T, string | null>) => column<T, string>(name, 'text', field, same as (v: string) => string, same),
  fixed: <T>(name: string, field: Field<T, Fixed | null>) => column<T, Fixed>(name, 'numeric', field, formatFixed, (raw) => parseFixed(String(raw))),
  int8: <T>(name: string, field: Field<T, number | null>) => column<T, number>(name, 'int8', field, String, Number),
  int4: <T>(name: string, field: Field<T, number | null>) => column<T, number>(name, 'int4', field, String, Number),
  bool: <T>(name: string, field: Field<T, boolean>) => column<T, boolean>(name, 'bool', field, same as (v: boolean) => boolean, same),
  /** Written as JSON text; read back as the driver returns it (an object, or text when selected as ::text). */
  json: <T>(name: string, field: Field<T, unknown>) => column<T, unknown>(name, 'jsonb', field, (v) => JSON.stringify(v), same),
  enum: <T>(name: string, type: string, field: Field<T, string>) => column<T, string>(name, type, field, same as (v: string) => string, same),
};

/** Reading back: NUMERIC and INT8 arrive as strings (src/db/adapter.ts). */
export const read = {
  fixed: (value: unknown): Fixed => parseFixed(String(value)),
  fixedOrNull: (value: unknown): Fixed | null => (value === null ? null : parseFixed(String(value))),
  int: (value: unknown): number => Number(value),
  intOrNull: (value: unknown): number | null => (value === null ? null : Number(value)),
};
