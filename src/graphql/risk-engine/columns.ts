/**
 * The risk engine's rows: every account's collateral and stored margin state, and its open
 * positions' sizes, entries and funding snapshots, as float64 columns (an account's
 * positions chained by slot, freed slots reused). Floats suffice to choose which accounts
 * the exact SQL orders (engine.ts), each sum with its error bound. The same values are kept
 * exactly too, for what a stress test serves (stress.ts): each account's equity is its
 * part that no mark moves, K (collateral, and each perpetual's -s*E + s*Fs), plus each
 * position's size times its market's unit (M - F, or the option's value); K and the sums
 * of sizes per market are kept up to date, so the total equity at any marks is a sum over
 * markets.
 */
import type { Market, MarginState } from '../../ledger/index.js';
import type { Mark } from '../../risk/mark.js';
import { Column, FixedColumn, grownCapacity } from '../../ledger/tables/columns.js';
import { fixedOfNumeric18 } from '../../db/store/copy-out.js';
import { ONE, wide, type Fixed, type Wide } from '../../fixed/index.js';
import { accountRisk, type AccountRisk } from '../../risk/account.js';
import { positionRisk, type PositionRisk } from '../../risk/position.js';
import type { Queryable } from '../../db/store/bulk.js';
import type { copyOut as CopyOut } from '../../db/store/copy-out.js';
import type { EngineFilter } from './engine.js';

const NONE = -1;
/** Positions per step of `evaluation` (a few milliseconds each). */
const STEP_SLOTS = 200_000;
const STATES: readonly MarginState[] = ['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT'];
const STATE_CODES = new Map(STATES.map((state, code) => [state, code]));

/** Where `evaluate` writes each account's values and error bounds. */
export interface Evaluated {
  equity: Float64Array;
  equityError: Float64Array;
  maintenance: Float64Array;
  maintenanceError: Float64Array;
  /** Initial margin and its bound (stress.ts classifies states with it); optional for pages. */
  initial?: Float64Array;
  initialError?: Float64Array;
  notional: Float64Array;
  notionalError: Float64Array;
}

/** Zeroed values for `n` accounts (what `evaluate` adds to). */
export function emptyEvaluated(n: number): Evaluated {
  return {
    equity: new Float64Array(n),
    equityError: new Float64Array(n),
    maintenance: new Float64Array(n),
    maintenanceError: new Float64Array(n),
    notional: new Float64Array(n),
    notionalError: new Float64Array(n),
  };
}

export class AccountColumns {
  private rows = new Map<string, number>();
  private ids: string[] = [];
  private collateral = new Column(Float64Array, 1024);
  private state = new Column(Uint8Array, 1024);
  /** 1 while the account's row is in the database (a rollback can take an account away). */
  private present = new Column(Uint8Array, 1024);
  private firstSlot = new Column(Int32Array, 1024, NONE);
  private slots = 0;
  private free: number[] = [];
  private pAccount = new Column(Int32Array, 1024);
  private pMarket = new Column(Uint16Array, 1024);
  private pSize = new Column(Float64Array, 1024);
  private pEntry = new Column(Float64Array, 1024);
  private pSnapshot = new Column(Float64Array, 1024);
  private pNext = new Column(Int32Array, 1024);
  private marketRows = new Map<string, number>();
  private marketIds: string[] = [];
  /** Per market row: which accounts hold it open (built on demand, dropped when rows change). */
  private holders = new Map<number, Uint8Array>();
  // Exact copies (stress.ts).
  private collateralExact = new FixedColumn(1024);
  private pSizeExact = new FixedColumn(1024);
  private pEntryExact = new FixedColumn(1024);
  /** 1 where a position has no entry price (null in its row). */
  private pEntryNull = new Column(Uint8Array, 1024);
  private pSnapshotExact = new FixedColumn(1024);
  /** Per account: the wide part of its equity that no mark moves. */
  private constant: Wide[] = [];
  /** The sum of `constant` over every present account. */
  private constantTotal: Wide = 0n;
  /** Per market row: the sum of open sizes, and of size x entry (36 decimals, for markets without a mark). */
  private marketSize: Fixed[] = [];
  private marketSizeEntry: bigint[] = [];
  /** Whether each market (by id) is a perpetual: its kind never changes once listed. */
  private perpetualIds = new Set<string>();
  /** False in a copy of the floats only (`copy(false)`): the exact copies and totals are neither kept nor read. */
  private exact = true;

  get accountCount(): number {
    return this.ids.length;
  }

  idAt(row: number): string {
    return this.ids[row]!;
  }

  /** Every account and open position, read again (COPY, straight into the columns). */
  async loadAll(client: Queryable, copyOut: typeof CopyOut): Promise<void> {
    // Rows of accounts no longer there stay, absent (a row number never moves).
    for (let row = 0; row < this.ids.length; row++) {
      this.clearPositions(row);
      this.present.array[row] = 0;
    }
    this.constantTotal = 0n;
    this.marketSize.fill(0n);
    this.marketSizeEntry.fill(0n);
    await this.loadKinds(client);
    await copyOut(client, 'SELECT id, collateral, margin_state FROM account', (f) => this.setAccount(f[0]!, f[1]!, f[2] as MarginState));
    await copyOut(client, 'SELECT account_id, market_id, size, entry_price, funding_snapshot FROM position WHERE closed_block IS NULL', (f) =>
      this.addPosition(this.rows.get(f[0]!)!, f[1]!, f[2]!, f[3] ?? null, f[4]!),
    );
    this.holders.clear();
  }

  /**
   * Every account and open position from rows already read (a request's own snapshot, when
   * the engine does not hold its block): ids, collaterals, states, and positions as
   * PostgreSQL writes them (NUMERIC as text).
   */
  fill(kinds: Iterable<{ id: string; kind: string }>, accounts: Iterable<{ id: string; c: string; margin_state: MarginState }>, positions: Iterable<{ account_id: string; market_id: string; s: string; e: string | null; f: string }>): void {
    for (const market of kinds) if (market.kind === 'PERPETUAL') this.perpetualIds.add(market.id);
    for (const row of accounts) this.setAccount(row.id, row.c, row.margin_state);
    for (const row of positions) this.addPosition(this.rows.get(row.account_id)!, row.market_id, row.s, row.e, row.f);
  }

  /** These accounts' rows and open positions, read again. */
  async reload(client: Queryable, ids: readonly string[]): Promise<void> {
    await this.loadKinds(client);
    const accounts = await client.query('SELECT id, collateral::text AS c, margin_state FROM account WHERE id = ANY($1::text[])', [ids]);
    const positions = await client.query(
      `SELECT account_id, market_id, size::text AS s, entry_price::text AS e, funding_snapshot::text AS f
         FROM position WHERE account_id = ANY($1::text[]) AND closed_block IS NULL`,
      [ids],
    );
    for (const row of accounts.rows) {
      const existing = this.rows.get(row.id);
      if (existing !== undefined) this.clearPositions(existing);
      this.setAccount(row.id, row.c, row.margin_state);
    }
    for (const row of positions.rows) this.addPosition(this.rows.get(row.account_id)!, row.market_id, row.s, row.e, row.f);
    this.holders.clear();
  }

  /**
   * An independent copy (a past block's columns are this block's with the accounts changed
   * since rolled back: past.ts). Synchronous: no refresh changes the columns meanwhile.
   * Without `exact`, of the floats only (what pages need; a stress needs the exact copies):
   * a quarter of the bytes.
   */
  copy(exact = true): AccountColumns {
    const copy = new AccountColumns();
    copy.exact = exact;
    copy.rows = new Map(this.rows);
    copy.ids = this.ids.slice();
    copy.collateral = this.collateral.copy();
    copy.state = this.state.copy();
    copy.present = this.present.copy();
    copy.firstSlot = this.firstSlot.copy();
    copy.slots = this.slots;
    copy.free = this.free.slice();
    copy.pAccount = this.pAccount.copy();
    copy.pMarket = this.pMarket.copy();
    copy.pSize = this.pSize.copy();
    copy.pEntry = this.pEntry.copy();
    copy.pSnapshot = this.pSnapshot.copy();
    copy.pNext = this.pNext.copy();
    copy.marketRows = new Map(this.marketRows);
    copy.marketIds = this.marketIds.slice();
    copy.constant = this.constant.slice();
    copy.marketSize = this.marketSize.slice();
    copy.marketSizeEntry = this.marketSizeEntry.slice();
    copy.perpetualIds = new Set(this.perpetualIds);
    if (exact) {
      copy.collateralExact = this.collateralExact.copy();
      copy.pSizeExact = this.pSizeExact.copy();
      copy.pEntryExact = this.pEntryExact.copy();
      copy.pEntryNull = this.pEntryNull.copy();
      copy.pSnapshotExact = this.pSnapshotExact.copy();
      copy.constantTotal = this.constantTotal;
    }
    return copy;
  }

  /**
   * Rolls a floats-only copy back to an earlier block: `accounts` changed since, as of that
   * block (collateral null: it did not exist yet), and `positions` changed since, as of that
   * block (size null: not open then). A position is its account's slot in its market (one
   * open lifecycle per account and market), so a changed one replaces whatever lifecycle
   * the slot holds; an unchanged one was open at that block exactly as it is now.
   */
  rollBack(
    kinds: Iterable<{ id: string; kind: string }>,
    accounts: Iterable<{ id: string; c: string | null; margin_state: MarginState | null }>,
    positions: Iterable<{ account_id: string; market_id: string; s: string | null; e: string | null; f: string | null }>,
  ): void {
    if (this.exact) throw new Error('rollBack: only a copy of the floats (copy(false)) rolls back');
    for (const market of kinds) if (market.kind === 'PERPETUAL') this.perpetualIds.add(market.id);
    for (const row of accounts) {
      if (row.c !== null) this.setAccount(row.id, row.c, row.margin_state!);
      else {
        const at = this.rows.get(row.id);
        if (at !== undefined) {
          this.clearPositions(at);
          this.present.array[at] = 0;
        }
      }
    }
    for (const row of positions) {
      const at = this.rows.get(row.account_id);
      if (at === undefined || this.present.array[at] !== 1) continue;
      const k = this.marketRows.get(row.market_id);
      if (k !== undefined) this.removeSlot(at, k);
      if (row.s !== null) this.addPosition(at, row.market_id, row.s, row.e, row.f!);
    }
    this.holders.clear();
  }

  /** Frees the account's slot in market `k`, if it has one. */
  private removeSlot(row: number, k: number): void {
    let previous = NONE;
    for (let slot = this.firstSlot.array[row]!; slot !== NONE; previous = slot, slot = this.pNext.array[slot]!) {
      if (this.pMarket.array[slot] !== k) continue;
      if (previous === NONE) this.firstSlot.array[row] = this.pNext.array[slot]!;
      else this.pNext.array[previous] = this.pNext.array[slot]!;
      this.pAccount.array[slot] = NONE;
      this.free.push(slot);
      return;
    }
  }

  /** A predicate over account rows for a filter the engine answers (an owner filter goes to SQL: few rows). */
  filter(filter: EngineFilter): (row: number) => boolean {
    const states = filter.marginState ? new Set(filter.marginState.map((s) => STATE_CODES.get(s))) : null;
    const held = filter.market != null ? this.holdersOf(filter.market) : null;
    const state = this.state.array;
    const present = this.present.array;
    if (!states && !held) return (row) => present[row] === 1;
    return (row) => present[row] === 1 && (states === null || states.has(state[row]!)) && (held === null || held[row] === 1);
  }

  /**
   * Each account's equity, maintenance margin and notional at the block's marks (SPEC
   * section 4, as order.ts computes them in SQL, fallbacks included), with error bounds:
   * `relative` of the sum of magnitudes plus `absolute` per unit of size.
   */
  evaluate(markets: ReadonlyMap<string, Market>, marks: ReadonlyMap<string, Mark>, out: Evaluated, relative: number, absolute: number): void {
    const steps = this.evaluation(markets, marks, out, relative, absolute);
    while (!steps.next().done);
  }

  /**
   * `evaluate` in steps of about STEP_SLOTS positions, for work that must let the event
   * loop turn between them (a million accounts take a few hundred milliseconds). The
   * columns must not change until it is done.
   */
  *evaluation(markets: ReadonlyMap<string, Market>, marks: ReadonlyMap<string, Mark>, out: Evaluated, relative: number, absolute: number): Generator<void, void, void> {
    const m = this.marketIds.length;
    const perp = new Uint8Array(m);
    const hasIndex = new Uint8Array(m);
    const index = new Float64Array(m);
    const funding = new Float64Array(m);
    const value = new Float64Array(m);
    const hasValue = new Uint8Array(m);
    const mmf = new Float64Array(m);
    const imf = new Float64Array(m);
    const strike = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      const market = markets.get(this.marketIds[k]!);
      const mark = marks.get(this.marketIds[k]!);
      if (!market || !mark) continue;
      perp[k] = market.kind === 'PERPETUAL' ? 1 : 0;
      hasIndex[k] = mark.indexPrice === null ? 0 : 1;
      index[k] = mark.indexPrice === null ? 0 : toUnits(mark.indexPrice);
      funding[k] = toUnits(market.cumulativeFunding);
      hasValue[k] = mark.value === null ? 0 : 1;
      value[k] = mark.value === null ? 0 : toUnits(mark.value);
      mmf[k] = toUnits(market.maintenanceMarginFraction);
      imf[k] = toUnits(market.initialMarginFraction);
      strike[k] = toUnits(market.strike);
    }
    const n = this.ids.length;
    const gross = new Float64Array(n);
    const sizes = new Float64Array(n);
    const { equity, maintenance, notional } = out;
    const initial = out.initial;
    const account = this.pAccount.array;
    const market = this.pMarket.array;
    const size = this.pSize.array;
    const entry = this.pEntry.array;
    const snapshot = this.pSnapshot.array;
    for (let from = 0; from < this.slots; from += STEP_SLOTS) {
      if (from > 0) yield;
      const to = Math.min(this.slots, from + STEP_SLOTS);
      for (let p = from; p < to; p++) {
        const a = account[p]!;
        if (a === NONE) continue;
        const k = market[p]!;
        const s = size[p]!;
        const abs = s < 0 ? -s : s;
        const e = entry[p]!;
        let term: number;
        let magnitude: number;
        let price: number;
        if (perp[k]) {
          const f = funding[k]!;
          price = hasIndex[k] ? index[k]! : e;
          term = s * (price - e) - s * (f - snapshot[p]!);
          magnitude = abs * (Math.abs(price) + Math.abs(e) + Math.abs(f) + Math.abs(snapshot[p]!));
          maintenance[a] = maintenance[a]! + abs * price * mmf[k]!;
          if (initial) initial[a] = initial[a]! + abs * price * imf[k]!;
        } else {
          price = hasIndex[k] ? index[k]! : strike[k]!;
          term = s * (hasValue[k] ? value[k]! : e);
          magnitude = Math.abs(term);
          if (s < 0) {
            maintenance[a] = maintenance[a]! + abs * price * mmf[k]!;
            if (initial) initial[a] = initial[a]! + abs * price * imf[k]!;
          }
        }
        equity[a] = equity[a]! + term;
        gross[a] = gross[a]! + magnitude;
        notional[a] = notional[a]! + abs * price;
        sizes[a] = sizes[a]! + abs;
      }
    }
    yield;
    const collateral = this.collateral.array;
    for (let a = 0; a < n; a++) {
      const c = collateral[a]!;
      equity[a] = equity[a]! + c;
      const floor = absolute * (1 + sizes[a]!);
      out.equityError[a] = relative * (gross[a]! + Math.abs(c)) + floor;
      out.maintenanceError[a] = relative * maintenance[a]! + floor;
      out.notionalError[a] = relative * notional[a]! + floor;
      if (initial && out.initialError) out.initialError[a] = relative * initial[a]! + floor;
    }
  }

  // ------------------------------------------------------------ exact (stress.ts)

  /** Whether the account's row is in the database. */
  isPresent(row: number): boolean {
    return this.present.array[row] === 1;
  }

  stateAt(row: number): MarginState {
    return STATES[this.state.array[row]!]!;
  }

  /** The account's exact risk at these markets and marks (src/risk, as every other path computes it). */
  exactRisk(row: number, markets: ReadonlyMap<string, Market>, marks: ReadonlyMap<string, Mark>): AccountRisk {
    const risks: PositionRisk[] = [];
    for (let slot = this.firstSlot.array[row]!; slot !== NONE; slot = this.pNext.array[slot]!) {
      const marketId = this.marketIds[this.pMarket.array[slot]!]!;
      const position = { size: this.pSizeExact.get(slot), entryPrice: this.pEntryNull.array[slot] === 1 ? null : this.pEntryExact.get(slot), fundingSnapshot: this.pSnapshotExact.get(slot) };
      risks.push(positionRisk(position, markets.get(marketId)!, marks.get(marketId)!));
    }
    return accountRisk(this.collateralExact.get(row), risks);
  }

  /** What one unit of each market adds to equity (Fixed), and whether its size x entry counts instead (no mark). */
  private units(markets: ReadonlyMap<string, Market>, marks: ReadonlyMap<string, Mark>): { unit: Fixed[]; byEntry: boolean[] } {
    const unit: Fixed[] = [];
    const byEntry: boolean[] = [];
    for (let k = 0; k < this.marketIds.length; k++) {
      const market = markets.get(this.marketIds[k]!);
      const mark = marks.get(this.marketIds[k]!);
      if (!market || !mark) {
        unit.push(0n);
        byEntry.push(false);
      } else if (market.kind === 'PERPETUAL') {
        unit.push((mark.indexPrice ?? 0n) - market.cumulativeFunding);
        byEntry.push(mark.indexPrice === null);
      } else {
        unit.push(mark.value ?? 0n);
        byEntry.push(mark.value === null);
      }
    }
    return { unit, byEntry };
  }

  /** The exact sum of every present account's equity (wide), as a sum over markets. */
  totalEquity(markets: ReadonlyMap<string, Market>, marks: ReadonlyMap<string, Mark>): Wide {
    const { unit, byEntry } = this.units(markets, marks);
    let products = 0n; // 36 decimals
    for (let k = 0; k < unit.length; k++) {
      products += unit[k]! * this.marketSize[k]!;
      if (byEntry[k]) products += this.marketSizeEntry[k]!;
    }
    return this.constantTotal + wide.ofProducts(products);
  }

  /** The exact sum of these accounts' equities (wide): their constants, and their sizes per market times its unit. */
  sumEquity(rows: readonly number[], markets: ReadonlyMap<string, Market>, marks: ReadonlyMap<string, Mark>): Wide {
    const { unit, byEntry } = this.units(markets, marks);
    const sizes: Fixed[] = unit.map(() => 0n);
    let constants = 0n;
    let entries = 0n;
    for (const row of rows) {
      constants += this.constant[row]!;
      for (let slot = this.firstSlot.array[row]!; slot !== NONE; slot = this.pNext.array[slot]!) {
        const k = this.pMarket.array[slot]!;
        const size = this.pSizeExact.get(slot);
        sizes[k] = sizes[k]! + size;
        if (byEntry[k]) entries += size * this.entryExactAt(slot);
      }
    }
    let products = entries;
    for (let k = 0; k < unit.length; k++) products += unit[k]! * sizes[k]!;
    return constants + wide.ofProducts(products);
  }

  /** An account's row (texts as PostgreSQL writes NUMERIC(78,18)); its positions are added after. */
  private setAccount(id: string, collateralText: string, state: MarginState): number {
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.ids.length;
      this.rows.set(id, row);
      this.ids.push(id);
      this.constant.push(0n);
    }
    this.collateral.ensure(row);
    this.state.ensure(row);
    this.present.ensure(row);
    this.firstSlot.ensure(row);
    this.collateral.array[row] = Number(collateralText);
    this.state.array[row] = STATE_CODES.get(state)!;
    this.present.array[row] = 1;
    if (this.exact) {
      const collateral = fixedOfNumeric18(collateralText);
      this.collateralExact.set(row, collateral);
      this.setConstant(row, wide.of(collateral));
    }
    return row;
  }

  /** Frees an account's positions and takes them (and its collateral) out of the totals. */
  private clearPositions(row: number): void {
    if (row >= this.firstSlot.array.length) return;
    for (let slot = this.firstSlot.array[row]!; slot !== NONE; slot = this.pNext.array[slot]!) {
      if (this.exact) {
        const k = this.pMarket.array[slot]!;
        const size = this.pSizeExact.get(slot);
        this.marketSize[k] = this.marketSize[k]! - size;
        this.marketSizeEntry[k] = this.marketSizeEntry[k]! - size * this.entryExactAt(slot);
      }
      this.pAccount.array[slot] = NONE;
      this.free.push(slot);
    }
    this.firstSlot.array[row] = NONE;
    if (this.exact) this.setConstant(row, 0n);
  }

  private setConstant(row: number, value: Wide): void {
    if (this.present.array[row] === 1) this.constantTotal += value - this.constant[row]!;
    this.constant[row] = value;
  }

  private addPosition(row: number, marketId: string, sizeText: string, entryText: string | null, snapshotText: string): void {
    let k = this.marketRows.get(marketId);
    if (k === undefined) {
      k = this.marketIds.length;
      this.marketRows.set(marketId, k);
      this.marketIds.push(marketId);
      this.marketSize.push(0n);
      this.marketSizeEntry.push(0n);
    }
    const size = Number(sizeText);
    const entry = entryText === null ? 0 : Number(entryText);
    const snapshot = Number(snapshotText);
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slots++;
      if (slot >= this.pAccount.array.length) {
        const capacity = grownCapacity(this.pAccount.array.length, slot + 1);
        for (const column of [this.pAccount, this.pMarket, this.pSize, this.pEntry, this.pSnapshot, this.pNext]) column.reserve(capacity);
      }
    }
    this.pAccount.array[slot] = row;
    this.pMarket.array[slot] = k;
    this.pSize.array[slot] = size;
    this.pEntry.array[slot] = entry;
    this.pSnapshot.array[slot] = snapshot;
    this.pNext.array[slot] = this.firstSlot.array[row]!;
    this.firstSlot.array[row] = slot;
    if (!this.exact) return;
    const sizeExact = fixedOfNumeric18(sizeText);
    const entryExact = entryText === null ? null : fixedOfNumeric18(entryText);
    const snapshotExact = fixedOfNumeric18(snapshotText);
    this.pSizeExact.set(slot, sizeExact);
    this.pEntryExact.set(slot, entryExact ?? 0n);
    this.pEntryNull.ensure(slot);
    this.pEntryNull.array[slot] = entryExact === null ? 1 : 0;
    this.pSnapshotExact.set(slot, snapshotExact);
    const entryOrZero = entryExact ?? 0n;
    this.marketSize[k] = this.marketSize[k]! + sizeExact;
    this.marketSizeEntry[k] = this.marketSizeEntry[k]! + sizeExact * entryOrZero;
    // A perpetual's -s*E + s*Fs moves with no mark (an option's part is all mark).
    if (this.perpetual(k)) this.setConstant(row, this.constant[row]! + (snapshotExact - entryOrZero) * sizeExact * ONE);
  }

  private async loadKinds(client: Queryable): Promise<void> {
    const { rows } = await client.query(`SELECT id FROM market WHERE kind = 'PERPETUAL'`);
    for (const row of rows) this.perpetualIds.add(row.id);
  }

  private perpetual(k: number): boolean {
    return this.perpetualIds.has(this.marketIds[k]!);
  }

  private entryExactAt(slot: number): Fixed {
    return this.pEntryNull.array[slot] === 1 ? 0n : this.pEntryExact.get(slot);
  }

  private holdersOf(marketId: string): Uint8Array {
    const k = this.marketRows.get(marketId);
    if (k === undefined) return new Uint8Array(this.ids.length);
    let held = this.holders.get(k);
    if (!held) {
      held = new Uint8Array(this.ids.length);
      for (let p = 0; p < this.slots; p++) if (this.pAccount.array[p] !== NONE && this.pMarket.array[p] === k) held[this.pAccount.array[p]!] = 1;
      this.holders.set(k, held);
    }
    return held;
  }
}

/** A Fixed (18 decimals) in units, as a float: only for the engine's candidate bounds. */
function toUnits(value: bigint): number {
  return Number(value) / 1e18;
}
