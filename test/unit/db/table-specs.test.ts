// Each table spec is the one mapping between a table's columns and its record (writes
// through rowOf, reads through recordOf): a record written and read back must come back
// whole, field for field, or a column is missing or mapped to the wrong field.
import { recordOf, rowOf, type SqlValue, type TableSpec } from '../../../src/db/store/columns.js';
import * as tables from '../../../src/db/store/tables.js';
import type { BlockChanges } from '../../../src/ledger/index.js';
import { ALICE, BOB, ev, LedgerChain, ORACLE_2 } from '../../support/ledger.js';

/** What pg returns for a value sent as array text: NUMERIC and INT8 stay strings (src/db/adapter.ts), INT4 is a number, JSONB is parsed. */
function asSelected<T>(spec: TableSpec<T>, row: readonly SqlValue[]): Record<string, unknown> {
  return Object.fromEntries(
    spec.columns.map((column, i) => {
      const value = row[i]!;
      if (value === null) return [column.name, null];
      if (column.type === 'int4') return [column.name, Number(value)];
      if (column.type === 'jsonb') return [column.name, JSON.parse(value as string)];
      return [column.name, value];
    }),
  );
}

function scenario(): BlockChanges[] {
  const chain = new LedgerChain();
  chain.block(1000, [
    ev.perp('ETH-PERP', 'ETH', { interval: 100 }),
    ev.option('ETH-C-3000', 'ETH', 'CALL', 3000, 5000),
    ev.price('ETH', 3000),
    ev.price('ETH', 3010, ORACLE_2),
    ev.deposit(ALICE, 1000),
    ev.deposit(BOB, 100000),
  ]);
  chain.block(1010, [ev.vol('ETH-C-3000', '0.6'), ev.fill('ETH-PERP', ALICE, 2, 3000, 1), ev.fill('ETH-PERP', BOB, -2, 3000, 1)]);
  chain.block(1050, [ev.fill('ETH-C-3000', ALICE, 1, 100), ev.fill('ETH-C-3000', BOB, -1, 100), ev.fractions('ETH-PERP', '0.2', '0.1')]);
  chain.block(1150, [ev.price('ETH', 2600), ev.price('ETH', 2600, ORACLE_2), ev.withdraw(BOB, 10), ev.malformed()]);
  chain.block(1250, [ev.liquidate('ETH-PERP', ALICE, -2, 2600, 5)]);
  chain.block(6000, [ev.price('ETH', 2500)]);
  return chain.history;
}

const mutable: [keyof BlockChanges, TableSpec<never>][] = [
  ['markets', tables.markets as TableSpec<never>],
  ['underlyings', tables.underlyings as TableSpec<never>],
  ['oracleSources', tables.oracleSources as TableSpec<never>],
  ['accounts', tables.accounts as TableSpec<never>],
  ['positions', tables.positions as TableSpec<never>],
];

describe('table specs', () => {
  const history = scenario();

  it.each([...mutable, ...tables.historyTables.map(([field, spec]) => [field, spec as TableSpec<never>] as const)])(
    '%s: a record read back equals the record written',
    (field, spec) => {
      const records = history.flatMap((changes) => changes[field] as unknown as object[]);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) {
        // An underlying's sources are rows of their own table (oracle_source).
        const expected = field === 'underlyings' ? { ...record, sources: undefined } : record;
        const read = recordOf(spec, asSelected(spec, rowOf(spec, record as never)));
        expect({ ...(read as object), sources: undefined }).toEqual({ ...expected, sources: undefined });
      }
    },
  );
});
