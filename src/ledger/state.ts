import type { Fixed } from '../fixed/index.js';
import type { BlockHeader, MarketKind } from './events.js';
import { MarginIndex } from './margin-index/index.js';
import { AccountTable } from './tables/account-table.js';
import { PositionTable } from './tables/position-table.js';

export type { MarginState } from '../risk/margin-state.js';
import type { MarginState } from '../risk/margin-state.js';

/**
 * A perpetual's funding clock (SPEC section 3, funding). The premium sampled after the
 * last block holds until the next one; `weightedPremium` is the integral of the samples
 * over the covered part of the funding period being accumulated (premium x seconds).
 */
export interface FundingClock {
  premium: Fixed | null;
  /** k of the period [k*I, (k+1)*I) being accumulated. */
  period: number;
  weightedPremium: Fixed;
  coveredSeconds: number;
  /** Block time up to which the held sample has been accumulated. */
  accountedUntil: number;
}

export interface Market {
  id: string;
  underlying: string;
  kind: MarketKind;
  strike: Fixed;
  expiry: number;
  initialMarginFraction: Fixed;
  maintenanceMarginFraction: Fixed;
  /** Seconds; 0 disables funding (and for options). */
  fundingInterval: number;
  maxFundingRate: Fixed;
  impliedVolatility: Fixed | null;
  lastFillPrice: Fixed | null;
  cumulativeFunding: Fixed;
  lastFundingRate: Fixed | null;
  funding: FundingClock;
  settlementPrice: Fixed | null;
  settledBlock: number | null;
  venue: string;
  listedBlock: number;
  updatedBlock: number;
}

export interface OracleSource {
  underlying: string;
  source: string;
  price: Fixed;
  timestamp: number;
  blockNumber: number;
}

export interface Underlying {
  id: string;
  /** The latest report of each source, by lower-case source address. */
  sources: ReadonlyMap<string, OracleSource>;
  indexPrice: Fixed | null;
  indexStale: boolean;
  updatedBlock: number;
}

export interface Account {
  id: string;
  owner: string;
  subaccount: number;
  collateral: Fixed;
  marginState: MarginState;
  createdBlock: number;
  updatedBlock: number;
}

/** One lifecycle of a position: opened from zero, closed when it returns to zero. */
export interface Position {
  id: string;
  accountId: string;
  marketId: string;
  seq: number;
  size: Fixed;
  /** Null once closed (SPEC: "E cleared"). */
  entryPrice: Fixed | null;
  realizedPnl: Fixed;
  /** The market's cumulative funding index when funding was last settled. */
  fundingSnapshot: Fixed;
  settledFunding: Fixed;
  feesPaid: Fixed;
  openedBlock: number;
  closedBlock: number | null;
  updatedBlock: number;
}

/**
 * Everything the ledger needs to apply the next block. The shell (the ingester) owns it:
 * it loads it from the database on start and advances it with `commitBlock` after the
 * block's database transaction has committed.
 *
 * Accounts and positions are kept in columns (`tables/`), read like Maps: a venue's
 * million accounts fit in a fraction of the memory objects would take.
 */
export interface LedgerState {
  markets: Map<string, Market>;
  underlyings: Map<string, Underlying>;
  accounts: AccountTable;
  /** The latest lifecycle of each (account, market), open or closed; `get(positionKey(...))` or `latest(...)`. */
  positions: PositionTable;
  /** Derived: accounts holding an open position, by market id. */
  holders: Holders;
  /** Derived: each account's open positions, by market id. */
  openPositions: OpenPositions;
  /** Derived, in memory only: whom the margin pass must evaluate (margin-index/); empty after a load. */
  marginIndex: MarginIndex;
  lastBlock: BlockHeader | null;
}

/** The accounts holding an open position in one market. */
export interface HolderSet extends Iterable<string> {
  has(accountId: string): boolean;
  readonly size: number;
}

/** Holders by market id, read from the position table. */
export class Holders {
  constructor(private readonly positions: PositionTable) {}

  get(marketId: string): HolderSet {
    const positions = this.positions;
    return {
      [Symbol.iterator]: () => positions.holders(marketId),
      has: (accountId) => positions.holds(accountId, marketId),
      get size() {
        return positions.holderCount(marketId);
      },
    };
  }
}

/** Open positions by account id, read from the position table (each read builds the account's map). */
export class OpenPositions implements Iterable<[string, Map<string, Position>]> {
  constructor(private readonly positions: PositionTable) {}

  get(accountId: string): Map<string, Position> {
    return this.positions.openOf(accountId);
  }

  [Symbol.iterator](): IterableIterator<[string, Map<string, Position>]> {
    return this.positions.openByAccount();
  }
}

export function positionKey(accountId: string, marketId: string): string {
  return `${accountId}|${marketId}`;
}

export function positionId(accountId: string, marketId: string, seq: number): string {
  return `${accountId}:${marketId}:${seq}`;
}

export function isOpen(position: Position): boolean {
  return position.closedBlock === null;
}

export function emptyState(): LedgerState {
  const accounts = new AccountTable();
  const positions = new PositionTable(accounts);
  return {
    markets: new Map(),
    underlyings: new Map(),
    accounts,
    positions,
    holders: new Holders(positions),
    openPositions: new OpenPositions(positions),
    marginIndex: new MarginIndex(),
    lastBlock: null,
  };
}

/** Builds a state from stored rows (the derived indexes are rebuilt here). */
export function stateFrom(rows: {
  markets: Iterable<Market>;
  underlyings: Iterable<Underlying>;
  accounts: Iterable<Account>;
  positions: Iterable<Position>;
  lastBlock: BlockHeader | null;
}): LedgerState {
  const state = emptyState();
  for (const market of rows.markets) state.markets.set(market.id, market);
  for (const underlying of rows.underlyings) state.underlyings.set(underlying.id, underlying);
  for (const account of rows.accounts) state.accounts.set(account.id, account);
  for (const position of rows.positions) putPosition(state, position);
  state.lastBlock = rows.lastBlock;
  return state;
}

/** Stores a position version (the holder indexes are the table's own). */
export function putPosition(state: LedgerState, position: Position): void {
  state.positions.put(position);
}
