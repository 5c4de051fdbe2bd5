// Builds venue events and blocks for pure ledger tests: no chain, no database.
import { parseFixed, type Fixed } from '../../src/fixed/index.js';
import {
  applyBlock, commitBlock, DEFAULT_LEDGER_PARAMS, emptyState,
  type BlockChanges, type LedgerParams, type LedgerState, type Market, type VenueEvent,
} from '../../src/ledger/index.js';
import { accountRisk } from '../../src/risk/account.js';
import { marginStateOf, type MarginState } from '../../src/risk/margin-state.js';
import { markOf } from '../../src/risk/mark.js';
import { positionRisk } from '../../src/risk/position.js';

export const VENUE = '0x00000000000000000000000000000000000000fe';
export const ALICE = '0x000000000000000000000000000000000000a11c';
export const BOB = '0x0000000000000000000000000000000000000b0b';
export const CAROL = '0x00000000000000000000000000000000000ca401';
export const ORACLE_1 = '0x0000000000000000000000000000000000000001';
export const ORACLE_2 = '0x0000000000000000000000000000000000000002';
export const ORACLE_3 = '0x0000000000000000000000000000000000000003';

/** Decimal literal to Fixed: x('1.5'), x(3000). */
export const x = (value: string | number): Fixed => parseFixed(String(value));

type Body<T extends VenueEvent['type']> = Omit<Extract<VenueEvent, { type: T }>, 'type' | 'blockNumber' | 'transactionIndex' | 'logIndex' | 'transactionHash' | 'venue'>;
type DraftOf<T extends VenueEvent['type']> = { type: T } & Body<T>;
export type EventDraft = { [T in VenueEvent['type']]: DraftOf<T> }[VenueEvent['type']];

export const ev = {
  perp: (marketId: string, underlying: string, terms: { imf?: string; mmf?: string; interval?: number; maxRate?: string } = {}): DraftOf<'MarketListed'> => ({
    type: 'MarketListed', marketId, underlying, kind: 0, strike: 0n, expiry: 0,
    initialMarginFraction: x(terms.imf ?? '0.1'), maintenanceMarginFraction: x(terms.mmf ?? '0.05'),
    fundingInterval: terms.interval ?? 3600, maxFundingRate: x(terms.maxRate ?? '0.01'),
  }),
  option: (marketId: string, underlying: string, kind: 'CALL' | 'PUT', strike: string | number, expiry: number, terms: { imf?: string; mmf?: string } = {}): DraftOf<'MarketListed'> => ({
    type: 'MarketListed', marketId, underlying, kind: kind === 'CALL' ? 1 : 2, strike: x(strike), expiry,
    initialMarginFraction: x(terms.imf ?? '0.1'), maintenanceMarginFraction: x(terms.mmf ?? '0.05'),
    fundingInterval: 0, maxFundingRate: 0n,
  }),
  deposit: (owner: string, amount: string | number, subaccount = 0): DraftOf<'Deposited'> => ({ type: 'Deposited', owner, subaccount, amount: x(amount) }),
  withdraw: (owner: string, amount: string | number, subaccount = 0): DraftOf<'Withdrawn'> => ({ type: 'Withdrawn', owner, subaccount, amount: x(amount) }),
  fill: (marketId: string, owner: string, size: string | number, price: string | number, fee: string | number = 0, subaccount = 0): DraftOf<'Filled'> => ({
    type: 'Filled', marketId, owner, subaccount, sizeDelta: x(size), price: x(price), fee: x(fee),
  }),
  liquidate: (marketId: string, owner: string, size: string | number, price: string | number, penalty: string | number, subaccount = 0): DraftOf<'Liquidated'> => ({
    type: 'Liquidated', marketId, owner, subaccount, liquidator: BOB, sizeDelta: x(size), price: x(price), penalty: x(penalty),
  }),
  price: (underlying: string, price: string | number, source = ORACLE_1): DraftOf<'PriceReported'> => ({ type: 'PriceReported', underlying, source, price: x(price) }),
  vol: (marketId: string, iv: string | number): DraftOf<'VolatilityReported'> => ({ type: 'VolatilityReported', marketId, impliedVolatility: x(iv) }),
  fractions: (marketId: string, imf: string, mmf: string): DraftOf<'MarginFractionsUpdated'> => ({
    type: 'MarginFractionsUpdated', marketId, initialMarginFraction: x(imf), maintenanceMarginFraction: x(mmf),
  }),
  malformed: (reason = 'data too short'): DraftOf<'Malformed'> => ({ type: 'Malformed', reason, topics: ['0xdead'], data: '0x01' }),
};

/** A chain of blocks applied to a fresh ledger, committing each as the ingester would. */
export class LedgerChain {
  readonly state: LedgerState = emptyState();
  readonly history: BlockChanges[] = [];
  private number = 0;

  constructor(readonly params: LedgerParams = DEFAULT_LEDGER_PARAMS) {}

  block(timestamp: number, events: EventDraft[] = []): BlockChanges {
    this.number += 1;
    const number = this.number;
    const full = events.map((event, i) => ({
      ...event,
      blockNumber: number,
      transactionIndex: i,
      logIndex: i,
      transactionHash: `0x${number.toString(16).padStart(4, '0')}${i.toString(16).padStart(60, '0')}`,
      venue: VENUE,
    })) as VenueEvent[];
    const header = { number, hash: `0xh${number}`, parentHash: `0xh${number - 1}`, timestamp };
    const changes = applyBlock(this.state, header, full, this.params);
    commitBlock(this.state, changes);
    this.history.push(changes);
    return changes;
  }

  account(owner: string, subaccount = 0) {
    return this.state.accounts.get(`${owner.toLowerCase()}:${subaccount}`);
  }

  position(owner: string, marketId: string, subaccount = 0) {
    return this.state.positions.get(`${owner.toLowerCase()}:${subaccount}|${marketId}`);
  }

  market(id: string) {
    return this.state.markets.get(id)!;
  }
}

/**
 * What of a state the database keeps, as plain sorted data: all of it but the margin
 * index, which lives in memory (the tables' row order is the order of first sight, which a
 * load from the database need not repeat).
 */
export const stored = (state: LedgerState) => ({
  markets: state.markets,
  underlyings: state.underlyings,
  accounts: [...state.accounts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  positions: [...state.positions.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  lastBlock: state.lastBlock,
});

/** A market's mark at the state's last block (risk-free rate 0). */
export const markAt = (state: LedgerState, market: Market) =>
  markOf(market, state.underlyings.get(market.underlying)?.indexPrice ?? null, state.lastBlock!.timestamp, 0n);

/** SPEC section 4 from scratch: positionRisk over the account's open positions, summed. */
export function riskOf(state: LedgerState, accountId: string) {
  const account = state.accounts.get(accountId)!;
  const risks = [...(state.openPositions.get(accountId)?.keys() ?? [])].map((marketId) => {
    const market = state.markets.get(marketId)!;
    return positionRisk(state.positions.get(`${accountId}|${marketId}`)!, market, markAt(state, market));
  });
  return accountRisk(account.collateral, risks);
}

/** The margin state an account's positions give, from scratch. */
export function marginStateFromScratch(state: LedgerState, accountId: string): MarginState {
  const risk = riskOf(state, accountId);
  return marginStateOf(risk.equity, risk.initialMargin, risk.maintenanceMargin);
}
