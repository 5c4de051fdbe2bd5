/**
 * The risk engine's rows: every account's collateral and stored margin state, and its open
 * positions' sizes, entries and funding snapshots, as float64 columns (an account's
 * positions chained by slot, freed slots reused). Floats suffice: they only choose which
 * accounts the exact SQL orders (engine.ts), and each sum carries its error bound.
 */
import type { Market, MarginState } from '../../ledger/index.js';
import type { Mark } from '../../risk/mark.js';
import { Column, grownCapacity } from '../../ledger/tables/columns.js';
import type { Queryable } from '../../db/store/bulk.js';
import type { copyOut as CopyOut } from '../../db/store/copy-out.js';
import type { EngineFilter } from './engine.js';

const NONE = -1;
const STATES: readonly MarginState[] = ['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT'];
const STATE_CODES = new Map(STATES.map((state, code) => [state, code]));

/** Where `evaluate` writes each account's values and error bounds. */
export interface Evaluated {
  equity: Float64Array;
  equityError: Float64Array;
  maintenance: Float64Array;
  maintenanceError: Float64Array;
  notional: Float64Array;
  notionalError: Float64Array;
}

export class AccountColumns {
  private readonly rows = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly collateral = new Column(Float64Array, 1024);
  private readonly state = new Column(Uint8Array, 1024);
  /** 1 while the account's row is in the database (a rollback can take an account away). */
  private readonly present = new Column(Uint8Array, 1024);
  private readonly firstSlot = new Column(Int32Array, 1024, NONE);
  private slots = 0;
  private readonly free: number[] = [];
  private readonly pAccount = new Column(Int32Array, 1024);
  private readonly pMarket = new Column(Uint16Array, 1024);
  private readonly pSize = new Column(Float64Array, 1024);
  private readonly pEntry = new Column(Float64Array, 1024);
  private readonly pSnapshot = new Column(Float64Array, 1024);
  private readonly pNext = new Column(Int32Array, 1024);
  private readonly marketRows = new Map<string, number>();
  private readonly marketIds: string[] = [];
  /** Per market row: which accounts hold it open (built on demand, dropped when rows change). */
  private holders = new Map<number, Uint8Array>();

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
    await copyOut(client, 'SELECT id, collateral, margin_state FROM account', (f) => this.setAccount(f[0]!, Number(f[1]), f[2] as MarginState));
    await copyOut(client, 'SELECT account_id, market_id, size, entry_price, funding_snapshot FROM position WHERE closed_block IS NULL', (f) =>
      this.addPosition(this.rows.get(f[0]!)!, f[1]!, Number(f[2]), f[3] === null ? 0 : Number(f[3]), Number(f[4])),
    );
    this.holders.clear();
  }

  /** These accounts' rows and open positions, read again. */
  async reload(client: Queryable, ids: readonly string[]): Promise<void> {
    const accounts = await client.query('SELECT id, collateral::float8 AS c, margin_state FROM account WHERE id = ANY($1::text[])', [ids]);
    const positions = await client.query(
      `SELECT account_id, market_id, size::float8 AS s, COALESCE(entry_price, 0)::float8 AS e, funding_snapshot::float8 AS f
         FROM position WHERE account_id = ANY($1::text[]) AND closed_block IS NULL`,
      [ids],
    );
    for (const row of accounts.rows) this.clearPositions(this.setAccount(row.id, Number(row.c), row.margin_state));
    for (const row of positions.rows) this.addPosition(this.rows.get(row.account_id)!, row.market_id, Number(row.s), Number(row.e), Number(row.f));
    this.holders.clear();
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
    const m = this.marketIds.length;
    const perp = new Uint8Array(m);
    const hasIndex = new Uint8Array(m);
    const index = new Float64Array(m);
    const funding = new Float64Array(m);
    const value = new Float64Array(m);
    const hasValue = new Uint8Array(m);
    const mmf = new Float64Array(m);
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
      strike[k] = toUnits(market.strike);
    }
    const n = this.ids.length;
    const gross = new Float64Array(n);
    const sizes = new Float64Array(n);
    const { equity, maintenance, notional } = out;
    const account = this.pAccount.array;
    const market = this.pMarket.array;
    const size = this.pSize.array;
    const entry = this.pEntry.array;
    const snapshot = this.pSnapshot.array;
    for (let p = 0; p < this.slots; p++) {
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
      } else {
        price = hasIndex[k] ? index[k]! : strike[k]!;
        term = s * (hasValue[k] ? value[k]! : e);
        magnitude = Math.abs(term);
        if (s < 0) maintenance[a] = maintenance[a]! + abs * price * mmf[k]!;
      }
      equity[a] = equity[a]! + term;
      gross[a] = gross[a]! + magnitude;
      notional[a] = notional[a]! + abs * price;
      sizes[a] = sizes[a]! + abs;
    }
    const collateral = this.collateral.array;
    for (let a = 0; a < n; a++) {
      const c = collateral[a]!;
      equity[a] = equity[a]! + c;
      const floor = absolute * (1 + sizes[a]!);
      out.equityError[a] = relative * (gross[a]! + Math.abs(c)) + floor;
      out.maintenanceError[a] = relative * maintenance[a]! + floor;
      out.notionalError[a] = relative * notional[a]! + floor;
    }
  }

  private setAccount(id: string, collateral: number, state: MarginState): number {
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.ids.length;
      this.rows.set(id, row);
      this.ids.push(id);
    }
    this.collateral.ensure(row);
    this.state.ensure(row);
    this.present.ensure(row);
    this.firstSlot.ensure(row);
    this.collateral.array[row] = collateral;
    this.state.array[row] = STATE_CODES.get(state)!;
    this.present.array[row] = 1;
    return row;
  }

  private clearPositions(row: number): void {
    if (row >= this.firstSlot.array.length) return;
    for (let slot = this.firstSlot.array[row]!; slot !== NONE; slot = this.pNext.array[slot]!) {
      this.pAccount.array[slot] = NONE;
      this.free.push(slot);
    }
    this.firstSlot.array[row] = NONE;
  }

  private addPosition(row: number, marketId: string, size: number, entry: number, snapshot: number): void {
    let k = this.marketRows.get(marketId);
    if (k === undefined) {
      k = this.marketIds.length;
      this.marketRows.set(marketId, k);
      this.marketIds.push(marketId);
    }
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
