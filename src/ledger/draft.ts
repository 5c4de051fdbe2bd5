import type { Fixed } from '../fixed/index.js';
import type { MarginState } from '../risk/margin-state.js';
import type { PositionTerms } from '../risk/position.js';
import type { AnomalyKind } from './anomalies.js';
import type { AnomalyRecord, BlockChanges } from './changes.js';
import type { BlockHeader, LogRef } from './events.js';
import type { MarginIndexChanges } from './margin-index/index.js';
import {
  isOpen, positionKey,
  type Account, type LedgerState, type Market, type OracleSource, type Position, type Underlying,
} from './state.js';

type Records = Omit<BlockChanges, 'block' | 'eventCount' | 'markets' | 'underlyings' | 'oracleSources' | 'accounts' | 'positions' | 'marginIndex'>;

const NONE: ReadonlyMap<string, Position> = new Map();

/**
 * The block being applied: reads see the base state with this block's writes on top;
 * the base is never modified. Its contents become the block's `BlockChanges`.
 */
export class Draft {
  readonly markets = new Map<string, Market>();
  readonly underlyings = new Map<string, Underlying>();
  readonly sources = new Map<string, OracleSource>();
  readonly accounts = new Map<string, Account>();
  /** Latest lifecycle per (account, market), for reads. */
  readonly positions = new Map<string, Position>();
  /** Every lifecycle version written, by position id: a block may close one and open the next. */
  private readonly positionVersions = new Map<string, Position>();
  /** Accounts that had an event in this block. */
  readonly touched = new Set<string>();
  readonly records: Records = {
    fills: [],
    transfers: [],
    priceReports: [],
    volatilityReports: [],
    marginFractionUpdates: [],
    indexPrices: [],
    fundingSamples: [],
    fundingSettlements: [],
    optionSettlements: [],
    transitions: [],
    anomalies: [],
  };
  private readonly draftMarketsByAccount = new Map<string, Set<string>>();
  /** Set by the margin pass. */
  marginIndex: MarginIndexChanges | null = null;

  constructor(
    readonly base: LedgerState,
    readonly block: BlockHeader,
  ) {}

  market(id: string): Market | undefined {
    return this.markets.get(id) ?? this.base.markets.get(id);
  }

  putMarket(market: Market): void {
    this.markets.set(market.id, market);
  }

  underlying(id: string): Underlying | undefined {
    return this.underlyings.get(id) ?? this.base.underlyings.get(id);
  }

  putUnderlying(underlying: Underlying): void {
    this.underlyings.set(underlying.id, underlying);
  }

  putSource(source: OracleSource): void {
    this.sources.set(`${source.underlying}|${source.source}`, source);
  }

  account(id: string): Account | undefined {
    return this.accounts.get(id) ?? this.base.accounts.get(id);
  }

  /**
   * An account's collateral and margin state as of now in this block, into `into`, without
   * building the account (the margin pass reads only these, for thousands of accounts a
   * block, and builds the account only when its state changes). False: no such account.
   * `row`: its row in the base state's table (`base.accounts.row(id)`).
   */
  accountMargin(id: string, row: number | undefined, into: { collateral: Fixed; marginState: MarginState }): boolean {
    const drafted = this.accounts.get(id);
    if (drafted) {
      into.collateral = drafted.collateral;
      into.marginState = drafted.marginState;
      return true;
    }
    if (row === undefined) return false;
    into.collateral = this.base.accounts.collateralAt(row);
    into.marginState = this.base.accounts.marginStateAt(row);
    return true;
  }

  putAccount(account: Account): void {
    this.accounts.set(account.id, account);
  }

  position(accountId: string, marketId: string): Position | undefined {
    const key = positionKey(accountId, marketId);
    return this.positions.get(key) ?? this.base.positions.get(key);
  }

  putPosition(position: Position): void {
    this.positions.set(positionKey(position.accountId, position.marketId), position);
    this.positionVersions.set(position.id, position);
    let markets = this.draftMarketsByAccount.get(position.accountId);
    if (!markets) this.draftMarketsByAccount.set(position.accountId, (markets = new Set()));
    markets.add(position.marketId);
  }

  /**
   * The account's open positions as of now in this block. Always a Map's iterator: the
   * margin pass loops over it for every evaluated account, and V8 keeps that loop free of
   * per-step allocations only while the loop sees one kind of iterator.
   */
  openPositions(accountId: string): MapIterator<Position> {
    const base = this.base.openPositions.get(accountId);
    const drafted = this.draftMarketsByAccount.get(accountId);
    // Most accounts evaluated in a block are holders without an event of their own.
    if (!drafted) return (base ?? NONE).values();
    const open = new Map<string, Position>();
    for (const [marketId, position] of base ?? NONE) if (!drafted.has(marketId)) open.set(marketId, position);
    for (const marketId of drafted) {
      const position = this.position(accountId, marketId);
      if (position && isOpen(position)) open.set(marketId, position);
    }
    return open.values();
  }

  /**
   * Each open position's market and margin terms as of now in this block
   * (`PositionTable.forEachOpenTerms`; `baseRow`: the account's row in the base state, if known).
   */
  forEachOpenTerms(accountId: string, visit: (marketId: string, terms: PositionTerms) => void, baseRow?: number): void {
    if (!this.draftMarketsByAccount.has(accountId)) return this.base.positions.forEachOpenTerms(accountId, visit, baseRow);
    for (const position of this.openPositions(accountId)) visit(position.marketId, position);
  }

  anomaly(log: LogRef | null, kind: AnomalyKind, message: string, data: AnomalyRecord['data'] = {}): void {
    this.records.anomalies.push({
      blockNumber: this.block.number,
      seq: this.records.anomalies.length,
      logIndex: log?.logIndex ?? null,
      transactionHash: log?.transactionHash ?? null,
      venue: log?.venue ?? null,
      kind,
      message,
      data,
    });
  }

  changes(eventCount: number): BlockChanges {
    return {
      block: this.block,
      eventCount,
      markets: [...this.markets.values()],
      underlyings: [...this.underlyings.values()],
      oracleSources: [...this.sources.values()],
      accounts: [...this.accounts.values()],
      positions: [...this.positionVersions.values()],
      ...this.records,
      marginIndex: this.marginIndex,
    };
  }
}
