import type { BlockChanges, LedgerState } from '../../ledger/index.js';
import { positionKey } from '../../ledger/index.js';
import { rowOf, type SqlRow, type TableSpec } from './columns.js';
import { mutableTables, type MutableTable } from './tables.js';

/** The version a mutable row had before a block changed it; `prior: null` means it was new. */
export interface UndoEntry {
  table: MutableTable;
  key: SqlRow;
  prior: SqlRow | null;
}

/**
 * What it takes to undo a block: the prior version of every mutable row it changed,
 * read from the ledger state as it stood before the block (pure).
 */
export function undoEntries(before: LedgerState, changes: BlockChanges): UndoEntry[] {
  const entries: UndoEntry[] = [];
  const add = <T>(table: MutableTable, record: T, prior: T | undefined) => {
    const spec = mutableTables[table] as unknown as TableSpec<T>;
    entries.push({ table, key: keyValues(spec, record), prior: prior === undefined ? null : rowOf(spec, prior) });
  };
  for (const market of changes.markets) add('markets', market, before.markets.get(market.id));
  for (const underlying of changes.underlyings) add('underlyings', underlying, before.underlyings.get(underlying.id));
  for (const source of changes.oracleSources) {
    add('oracleSources', source, before.underlyings.get(source.underlying)?.sources.get(source.source));
  }
  for (const account of changes.accounts) add('accounts', account, before.accounts.get(account.id));
  for (const position of changes.positions) {
    const current = before.positions.get(positionKey(position.accountId, position.marketId));
    add('positions', position, current?.id === position.id ? current : undefined);
  }
  return entries;
}

export function keyValues<T>(spec: TableSpec<T>, record: T): SqlRow {
  return spec.key.map((name) => spec.columns.find((c) => c.name === name)!.value(record));
}
