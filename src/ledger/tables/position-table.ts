import type { PositionTerms } from '../../risk/position.js';
import type { Position } from '../state.js';
import type { AccountTable } from './account-table.js';
import { Column, FixedColumn, FixedRecords, grownCapacity } from './columns.js';

/** A closed-block column holds NaN while the position is open (NaN is the one value unequal to itself). */
function isOpenAt(closedBlock: number): boolean {
  return closedBlock !== closedBlock;
}

/** No slot (the end of a chain, an account without positions). */
const NONE = -1;

// A slot's record (`terms`): what the margin pass reads, together.
const SIZE = 0;
const ENTRY = 1;
const FUNDING = 2;
const NEXT = 0;
/** The market row (low 16 bits) and these flags. */
const META = 1;
const MARKET_MASK = 0xffff;
const ENTRY_NULL = 1 << 16;
const OPEN = 1 << 17;

/**
 * The latest lifecycle of each (account, market) position, one slot each in columns. An
 * account's slots are chained (`firstSlot`, `nextSlot`), and each market lists its slots,
 * so the ledger reads an account's positions, or a market's holders, without a map per
 * account. A lifecycle that replaces a closed one takes over its slot.
 */
export class PositionTable {
  private slots = 0;
  private readonly marketRows = new Map<string, number>();
  private readonly marketIds: string[] = [];
  /** Per market: its slots, in a growable array, and how many are used. */
  private readonly marketSlots: { slots: Int32Array; length: number }[] = [];
  private readonly account: Column<Int32Array>;
  private readonly seq: Column<Uint32Array>;
  /** Size, entry price (0 when null), funding snapshot; the next slot of the account; market and flags. */
  private readonly terms: FixedRecords;
  private readonly realizedPnl: FixedColumn;
  private readonly settledFunding: FixedColumn;
  private readonly feesPaid: FixedColumn;
  private readonly openedBlock: Column<Float64Array>;
  /** NaN: still open. */
  private readonly closedBlock: Column<Float64Array>;
  private readonly updatedBlock: Column<Float64Array>;
  /** Per account row: its first slot. */
  private readonly firstSlot: Column<Int32Array>;
  private readonly scratch: PositionTerms = { size: 0n, entryPrice: null, fundingSnapshot: 0n };

  constructor(private readonly accounts: AccountTable, capacity = 1024) {
    this.account = new Column(Int32Array, capacity);
    this.seq = new Column(Uint32Array, capacity);
    this.terms = new FixedRecords(capacity, 3, 2);
    this.realizedPnl = new FixedColumn(capacity);
    this.settledFunding = new FixedColumn(capacity);
    this.feesPaid = new FixedColumn(capacity);
    this.openedBlock = new Column(Float64Array, capacity);
    this.closedBlock = new Column(Float64Array, capacity);
    this.updatedBlock = new Column(Float64Array, capacity);
    this.firstSlot = new Column(Int32Array, capacity, NONE);
  }

  /** Makes room for `count` positions of `accounts` accounts at once (a load knows how many it reads). */
  reserve(count: number, accounts: number): void {
    for (const column of this.columns()) column.reserve(count);
    this.firstSlot.reserve(accounts);
  }

  /** Positions held (one per account and market, open or closed). */
  get count(): number {
    return this.slots;
  }

  /** The latest lifecycle of an account's position in a market. */
  latest(accountId: string, marketId: string): Position | undefined {
    const slot = this.slotOf(accountId, marketId);
    return slot === NONE ? undefined : this.at(slot);
  }

  /** By `positionKey(accountId, marketId)` (account ids never contain '|'). */
  get(key: string): Position | undefined {
    const bar = key.indexOf('|');
    return this.latest(key.slice(0, bar), key.slice(bar + 1));
  }

  /**
   * Stores a position version as the latest of its (account, market), unless a later
   * lifecycle is there already (an older one is history only).
   */
  put(position: Position): void {
    const marketRow = this.marketRow(position.marketId);
    let slot = this.slotOf(position.accountId, position.marketId);
    if (slot !== NONE && this.seq.array[slot]! > position.seq) return;
    if (slot === NONE) slot = this.addSlot(this.accounts.rowFor(position.accountId), marketRow);
    this.write(slot, position.seq, position.size, position.entryPrice, position.realizedPnl, position.fundingSnapshot, position.settledFunding,
      position.feesPaid, position.openedBlock, position.closedBlock, position.updatedBlock);
  }

  /**
   * Loads a position version of the account in row `accountRow` of the account table,
   * rows in any order: of the versions of one (account, market), the highest seq stays.
   * A restart reads the database in its physical order and names accounts by row (sorting
   * millions of rows, or finding each account by its id, cost more than the load itself).
   */
  load(
    accountRow: number, marketId: string, seq: number, size: bigint, entryPrice: bigint | null, realizedPnl: bigint, fundingSnapshot: bigint,
    settledFunding: bigint, feesPaid: bigint, openedBlock: number, closedBlock: number | null, updatedBlock: number,
  ): void {
    if (!(accountRow >= 0 && accountRow < this.accounts.size)) throw new Error(`no account in row ${accountRow}`);
    const marketRow = this.marketRow(marketId);
    let slot = this.slotIn(accountRow, marketRow);
    if (slot === NONE) slot = this.addSlot(accountRow, marketRow);
    else if (this.seq.array[slot]! > seq) return;
    this.write(slot, seq, size, entryPrice, realizedPnl, fundingSnapshot, settledFunding, feesPaid, openedBlock, closedBlock, updatedBlock);
  }

  private write(
    slot: number, seq: number, size: bigint, entryPrice: bigint | null, realizedPnl: bigint, fundingSnapshot: bigint,
    settledFunding: bigint, feesPaid: bigint, openedBlock: number, closedBlock: number | null, updatedBlock: number,
  ): void {
    this.seq.array[slot] = seq;
    const market = this.terms.int(slot, META) & MARKET_MASK;
    this.terms.setInt(slot, META, market | (entryPrice === null ? ENTRY_NULL : 0) | (closedBlock === null ? OPEN : 0));
    this.terms.setFixed(slot, SIZE, size);
    this.terms.setFixed(slot, ENTRY, entryPrice ?? 0n);
    this.realizedPnl.set(slot, realizedPnl);
    this.terms.setFixed(slot, FUNDING, fundingSnapshot);
    this.settledFunding.set(slot, settledFunding);
    this.feesPaid.set(slot, feesPaid);
    this.openedBlock.array[slot] = openedBlock;
    this.closedBlock.array[slot] = closedBlock ?? NaN;
    this.updatedBlock.array[slot] = updatedBlock;
  }

  /** The account's open positions, by market id. */
  openOf(accountId: string): Map<string, Position> {
    const open = new Map<string, Position>();
    const row = this.accounts.row(accountId);
    if (row === undefined || row >= this.firstSlot.array.length) return open;
    for (let slot = this.firstSlot.array[row]!; slot !== NONE; slot = this.terms.int(slot, NEXT)) {
      if (isOpenAt(this.closedBlock.array[slot]!)) open.set(this.marketIds[this.terms.int(slot, META) & MARKET_MASK]!, this.at(slot));
    }
    return open;
  }

  /**
   * Each open position's market and margin terms, without building its `Position`: the
   * margin pass reads only these, for thousands of accounts a block. `terms` is one object,
   * refilled for each position: read it in `visit`, do not keep it. `accountRow`: the
   * account's row if the caller has it (a lookup by id is a cache miss or two at a million).
   */
  forEachOpenTerms(accountId: string, visit: (marketId: string, terms: PositionTerms) => void, accountRow?: number): void {
    const row = accountRow ?? this.accounts.row(accountId);
    if (row === undefined || row >= this.firstSlot.array.length) return;
    const terms = this.scratch;
    const records = this.terms;
    for (let slot = this.firstSlot.array[row]!; slot !== NONE; slot = records.int(slot, NEXT)) {
      const meta = records.int(slot, META);
      if (!(meta & OPEN)) continue;
      terms.size = records.fixed(slot, SIZE);
      terms.entryPrice = meta & ENTRY_NULL ? null : records.fixed(slot, ENTRY);
      terms.fundingSnapshot = records.fixed(slot, FUNDING);
      visit(this.marketIds[meta & MARKET_MASK]!, terms);
    }
  }

  /** Whether the account has an open position in the market. */
  holds(accountId: string, marketId: string): boolean {
    const slot = this.slotOf(accountId, marketId);
    return slot !== NONE && isOpenAt(this.closedBlock.array[slot]!);
  }

  /** The accounts with an open position in the market. */
  *holders(marketId: string): IterableIterator<string> {
    const row = this.marketRows.get(marketId);
    if (row === undefined) return;
    const list = this.marketSlots[row]!;
    for (let i = 0; i < list.length; i++) {
      const slot = list.slots[i]!;
      if (isOpenAt(this.closedBlock.array[slot]!)) yield this.accounts.idAt(this.account.array[slot]!);
    }
  }

  /** How many accounts hold an open position in the market. */
  holderCount(marketId: string): number {
    let count = 0;
    for (const _ of this.holders(marketId)) count++;
    return count;
  }

  /** The latest lifecycle of every (account, market), open or closed. */
  *values(): IterableIterator<Position> {
    for (let slot = 0; slot < this.slots; slot++) yield this.at(slot);
  }

  /** Every account with at least one slot, with its open positions. */
  *openByAccount(): IterableIterator<[string, Map<string, Position>]> {
    for (let row = 0; row < this.accounts.size; row++) {
      if (row >= this.firstSlot.array.length || this.firstSlot.array[row] === NONE) continue;
      const id = this.accounts.idAt(row);
      yield [id, this.openOf(id)];
    }
  }

  private at(slot: number): Position {
    const accountId = this.accounts.idAt(this.account.array[slot]!);
    const meta = this.terms.int(slot, META);
    const marketId = this.marketIds[meta & MARKET_MASK]!;
    const seq = this.seq.array[slot]!;
    const closed = this.closedBlock.array[slot]!;
    return {
      id: `${accountId}:${marketId}:${seq}`,
      accountId,
      marketId,
      seq,
      size: this.terms.fixed(slot, SIZE),
      entryPrice: meta & ENTRY_NULL ? null : this.terms.fixed(slot, ENTRY),
      realizedPnl: this.realizedPnl.get(slot),
      fundingSnapshot: this.terms.fixed(slot, FUNDING),
      settledFunding: this.settledFunding.get(slot),
      feesPaid: this.feesPaid.get(slot),
      openedBlock: this.openedBlock.array[slot]!,
      closedBlock: isOpenAt(closed) ? null : closed,
      updatedBlock: this.updatedBlock.array[slot]!,
    };
  }

  private columns(): { reserve(capacity: number): void }[] {
    return [
      this.account, this.seq, this.terms, this.realizedPnl, this.settledFunding, this.feesPaid, this.openedBlock, this.closedBlock,
      this.updatedBlock,
    ];
  }

  private slotOf(accountId: string, marketId: string): number {
    const row = this.accounts.row(accountId);
    const marketRow = this.marketRows.get(marketId);
    return row === undefined || marketRow === undefined ? NONE : this.slotIn(row, marketRow);
  }

  private slotIn(accountRow: number, marketRow: number): number {
    if (accountRow >= this.firstSlot.array.length) return NONE;
    for (let slot = this.firstSlot.array[accountRow]!; slot !== NONE; slot = this.terms.int(slot, NEXT)) {
      if ((this.terms.int(slot, META) & MARKET_MASK) === marketRow) return slot;
    }
    return NONE;
  }

  private marketRow(marketId: string): number {
    let row = this.marketRows.get(marketId);
    if (row === undefined) {
      row = this.marketIds.length;
      if (row > 0xffff) throw new Error('more than 65,536 markets');
      this.marketRows.set(marketId, row);
      this.marketIds.push(marketId);
      this.marketSlots.push({ slots: new Int32Array(64), length: 0 });
    }
    return row;
  }

  private addSlot(accountRow: number, marketRow: number): number {
    const slot = this.slots++;
    if (slot >= this.account.array.length) for (const column of this.columns()) column.reserve(grownCapacity(this.account.array.length, slot + 1));
    this.firstSlot.ensure(accountRow);
    this.account.array[slot] = accountRow;
    this.terms.setInt(slot, META, marketRow);
    this.terms.setInt(slot, NEXT, this.firstSlot.array[accountRow]!);
    this.firstSlot.array[accountRow] = slot;
    const list = this.marketSlots[marketRow]!;
    if (list.length === list.slots.length) {
      const grown = new Int32Array(list.slots.length * 2);
      grown.set(list.slots);
      list.slots = grown;
    }
    list.slots[list.length++] = slot;
    return slot;
  }
}
