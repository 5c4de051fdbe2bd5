import type { Fixed } from '../fixed/index.js';

export type MarketKind = 'PERPETUAL' | 'CALL' | 'PUT';
export const MARKET_KINDS: readonly MarketKind[] = ['PERPETUAL', 'CALL', 'PUT'];

/** Where a venue log sits on the chain; `(transactionIndex, logIndex)` orders a block. */
export interface LogRef {
  blockNumber: number;
  transactionIndex: number;
  logIndex: number;
  transactionHash: string;
  /** Lower-case address of the venue contract that emitted the log. */
  venue: string;
}

/** Venue events (SPEC section 2) after decoding; names are already ASCII strings. */
export type VenueEvent = LogRef & (
  | {
      type: 'MarketListed';
      marketId: string;
      underlying: string;
      /** The raw uint8: 0 PERPETUAL, 1 CALL, 2 PUT; anything else is an anomaly. */
      kind: number;
      strike: Fixed;
      expiry: number;
      initialMarginFraction: Fixed;
      maintenanceMarginFraction: Fixed;
      fundingInterval: number;
      maxFundingRate: Fixed;
    }
  | { type: 'MarginFractionsUpdated'; marketId: string; initialMarginFraction: Fixed; maintenanceMarginFraction: Fixed }
  | { type: 'Deposited'; owner: string; subaccount: number; amount: Fixed }
  | { type: 'Withdrawn'; owner: string; subaccount: number; amount: Fixed }
  | { type: 'Filled'; marketId: string; owner: string; subaccount: number; sizeDelta: Fixed; price: Fixed; fee: Fixed }
  | {
      type: 'Liquidated';
      marketId: string;
      owner: string;
      subaccount: number;
      liquidator: string;
      sizeDelta: Fixed;
      price: Fixed;
      penalty: Fixed;
    }
  | { type: 'PriceReported'; underlying: string; source: string; price: Fixed }
  | { type: 'VolatilityReported'; marketId: string; impliedVolatility: Fixed }
  /** A venue log that could not be decoded: kept in order so it becomes an anomaly. */
  | { type: 'Malformed'; reason: string; topics: readonly string[]; data: string }
);

export type VenueEventType = VenueEvent['type'];
export type EventOf<T extends VenueEventType> = Extract<VenueEvent, { type: T }>;

/** The block a set of events belongs to. */
export interface BlockHeader {
  number: number;
  hash: string;
  parentHash: string;
  /** Seconds since the epoch. */
  timestamp: number;
}

export function accountId(owner: string, subaccount: number): string {
  return `${owner.toLowerCase()}:${subaccount}`;
}

/** The owner and subaccount an `accountId` was made of. */
export function accountIdParts(id: string): { owner: string; subaccount: number } {
  const colon = id.lastIndexOf(':');
  return { owner: id.slice(0, colon), subaccount: Number.parseInt(id.slice(colon + 1), 10) };
}

/** Chain order inside a block. */
export function compareLogs(a: LogRef, b: LogRef): number {
  return a.transactionIndex - b.transactionIndex || a.logIndex - b.logIndex;
}
