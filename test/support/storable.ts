// Checks a block's changes against what PostgreSQL can store (prisma/schema.prisma):
// every amount NUMERIC(78,18), every counter INT8/INT4. A value that does not fit fails the
// block's transaction, and the ingester would retry it forever (SPEC 2).
import { fitsStorage } from '../../src/ledger/accounts.js';
import type { BlockChanges } from '../../src/ledger/index.js';
import { rowOf, type TableSpec } from '../../src/db/store/columns.js';
import { blocks, historyTables, mutableTables } from '../../src/db/store/tables.js';

const INT8 = 2n ** 63n;
const INT4 = 2n ** 31n;

/** Every value in `changes` that could not be stored, as "path: value" (empty when all fit). */
export function unstorable(changes: BlockChanges): string[] {
  const problems: string[] = [];
  // Every bigint anywhere in the changes (whatever column, or none, it ends up in).
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'bigint') {
      if (!fitsStorage(value)) problems.push(`${path}: ${value}`);
    } else if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) problems.push(`${path}: ${value}`);
    } else if (value instanceof Map) {
      for (const [k, v] of value) walk(v, `${path}.${String(k)}`);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
    } else if (value !== null && typeof value === 'object') {
      // data: anomaly details (strings); marginIndex: in memory only, never stored.
      for (const [k, v] of Object.entries(value)) if (k !== 'data' && k !== 'marginIndex') walk(v, `${path}.${k}`);
    }
  };
  walk(changes, 'changes');

  // And each row exactly as the store encodes it, column by column.
  const check = <T>(spec: TableSpec<T>, records: readonly T[]) => {
    for (const record of records) {
      const row = rowOf(spec, record);
      spec.columns.forEach((column, i) => {
        const value = row[i];
        if (typeof value !== 'string') return;
        const where = `${spec.table}.${column.name}`;
        if (column.type === 'numeric') {
          const whole = value.replace(/^-/, '').split('.')[0]!;
          if (!/^\d+(\.\d{1,18})?$/.test(value.replace(/^-/, '')) || whole.replace(/^0+(?=\d)/, '').length > 60) problems.push(`${where}: ${value}`);
        } else if (column.type === 'int8' || column.type === 'int4') {
          const bound = column.type === 'int8' ? INT8 : INT4;
          if (!/^-?\d+$/.test(value) || BigInt(value) >= bound || BigInt(value) < -bound) problems.push(`${where}: ${value}`);
        }
      });
    }
  };
  check(blocks, [changes]);
  check(mutableTables.markets, changes.markets);
  check(mutableTables.underlyings, changes.underlyings);
  check(mutableTables.oracleSources, changes.oracleSources);
  check(mutableTables.accounts, changes.accounts);
  check(mutableTables.positions, changes.positions);
  for (const [field, spec] of historyTables) check(spec as TableSpec<unknown>, changes[field] as unknown[]);
  return problems;
}
