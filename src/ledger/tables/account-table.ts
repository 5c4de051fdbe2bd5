import type { MarginState } from '../../risk/margin-state.js';
import type { Account } from '../state.js';
import { Column, FixedRecords } from './columns.js';

const STATES: readonly MarginState[] = ['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT'];
const STATE_CODES = new Map(STATES.map((state, code) => [state, code]));

/**
 * The ledger's accounts, one row each in columns, looked up by id (`"<owner>:<subaccount>"`)
 * like a Map. Rows are numbered in order of first sight and never move: the number is how
 * positions and the margin index refer to an account. Reads build an `Account` object
 * (the ledger's rules work on those); writes take one.
 */
export class AccountTable implements Iterable<[string, Account]> {
  private readonly rows = new Map<string, number>();
  /** The id of each row (the same string as the map's key). */
  private readonly ids: string[] = [];
  private readonly subaccount: Column<Uint32Array>;
  /** Collateral and margin state (code), in one record per row: what the margin pass reads. */
  private readonly margin: FixedRecords;
  private readonly createdBlock: Column<Float64Array>;
  private readonly updatedBlock: Column<Float64Array>;

  constructor(capacity = 1024) {
    this.subaccount = new Column(Uint32Array, capacity);
    this.margin = new FixedRecords(capacity, 1, 1);
    this.createdBlock = new Column(Float64Array, capacity);
    this.updatedBlock = new Column(Float64Array, capacity);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Makes room for `count` accounts at once (a load knows how many it reads). */
  reserve(count: number): void {
    for (const column of [this.subaccount, this.margin, this.createdBlock, this.updatedBlock]) column.reserve(count);
  }

  /** The row of an account, or undefined. */
  row(id: string): number | undefined {
    return this.rows.get(id);
  }

  /** The row of an account, added (empty) if it has none yet. */
  rowFor(id: string): number {
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.ids.length;
      this.rows.set(id, row);
      this.ids.push(id);
    }
    return row;
  }

  idAt(row: number): string {
    return this.ids[row]!;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  get(id: string): Account | undefined {
    const row = this.rows.get(id);
    return row === undefined ? undefined : this.at(row);
  }

  at(row: number): Account {
    const id = this.ids[row]!;
    return {
      id,
      owner: id.slice(0, id.lastIndexOf(':')),
      subaccount: this.subaccount.array[row]!,
      collateral: this.margin.fixed(row, 0),
      marginState: STATES[this.margin.int(row, 0)]!,
      createdBlock: this.createdBlock.array[row]!,
      updatedBlock: this.updatedBlock.array[row]!,
    };
  }

  /** The collateral of the account in `row`, without building the account. */
  collateralAt(row: number): bigint {
    return this.margin.fixed(row, 0);
  }

  /** The margin state of the account in `row`, without building the account. */
  marginStateAt(row: number): MarginState {
    return STATES[this.margin.int(row, 0)]!;
  }

  /** Stores `account` under `id` (its own id). */
  set(id: string, account: Account): this {
    this.load(id, account.subaccount, account.collateral, account.marginState, account.createdBlock, account.updatedBlock);
    return this;
  }

  /** Stores an account from its values (a load builds no object per row). */
  load(id: string, subaccount: number, collateral: bigint, marginState: MarginState, createdBlock: number, updatedBlock: number): void {
    const row = this.rowFor(id);
    this.subaccount.ensure(row);
    this.createdBlock.ensure(row);
    this.updatedBlock.ensure(row);
    this.subaccount.array[row] = subaccount;
    this.margin.setFixed(row, 0, collateral);
    const code = STATE_CODES.get(marginState);
    if (code === undefined) throw new Error(`unknown margin state ${marginState}`);
    this.margin.setInt(row, 0, code);
    this.createdBlock.array[row] = createdBlock;
    this.updatedBlock.array[row] = updatedBlock;
  }

  *keys(): IterableIterator<string> {
    yield* this.ids;
  }

  *values(): IterableIterator<Account> {
    for (let row = 0; row < this.ids.length; row++) yield this.at(row);
  }

  *entries(): IterableIterator<[string, Account]> {
    for (let row = 0; row < this.ids.length; row++) yield [this.ids[row]!, this.at(row)];
  }

  [Symbol.iterator](): IterableIterator<[string, Account]> {
    return this.entries();
  }
}
