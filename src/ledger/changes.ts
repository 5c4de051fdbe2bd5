import type { Fixed } from '../fixed/index.js';
import type { BlockHeader } from './events.js';
import type { Account, MarginState, Market, OracleSource, Position, Underlying } from './state.js';
import type { AnomalyKind } from './anomalies.js';
import type { MarginIndexChanges } from './margin-index/index.js';

interface OnChain {
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
  timestamp: number;
}

export interface FillRecord extends OnChain {
  transactionIndex: number;
  marketId: string;
  accountId: string;
  positionId: string;
  size: Fixed;
  price: Fixed;
  fee: Fixed;
  /** What this fill realized (perpetuals: moved into collateral; options: reported only). */
  realizedPnl: Fixed;
  liquidation: boolean;
  liquidator: string | null;
  penalty: Fixed | null;
}

export interface TransferRecord extends OnChain {
  accountId: string;
  kind: 'DEPOSIT' | 'WITHDRAWAL';
  amount: Fixed;
  collateralAfter: Fixed;
}

export interface PriceReportRecord extends OnChain {
  underlying: string;
  source: string;
  price: Fixed;
}

export interface VolatilityReportRecord extends OnChain {
  marketId: string;
  impliedVolatility: Fixed;
}

export interface MarginFractionUpdateRecord extends OnChain {
  marketId: string;
  initialMarginFraction: Fixed;
  maintenanceMarginFraction: Fixed;
}

export interface IndexPriceRecord {
  underlying: string;
  blockNumber: number;
  timestamp: number;
  price: Fixed;
  stale: boolean;
}

export interface FundingSampleRecord {
  marketId: string;
  blockNumber: number;
  timestamp: number;
  premium: Fixed | null;
}

/** `periods` consecutive funding periods from `period`, all settled at `rate`. */
export interface FundingSettlementRecord {
  marketId: string;
  period: number;
  periods: number;
  rate: Fixed;
  indexPrice: Fixed;
  cumulativeFunding: Fixed;
  blockNumber: number;
  timestamp: number;
}

export interface OptionSettlementRecord {
  positionId: string;
  marketId: string;
  accountId: string;
  blockNumber: number;
  timestamp: number;
  size: Fixed;
  settlementPrice: Fixed;
  payout: Fixed;
}

export interface TransitionRecord {
  accountId: string;
  blockNumber: number;
  timestamp: number;
  from: MarginState;
  to: MarginState;
  equity: Fixed;
  initialMargin: Fixed;
  maintenanceMargin: Fixed;
}

export interface AnomalyRecord {
  blockNumber: number;
  /** Order of the anomaly within its block. */
  seq: number;
  logIndex: number | null;
  transactionHash: string | null;
  venue: string | null;
  kind: AnomalyKind;
  message: string;
  /** The offending values, as strings. */
  data: Record<string, string | number | boolean | null | readonly string[]>;
}

/**
 * What applying one block produced: the new versions of every mutable row it touched and
 * the history rows it appended. The database writes exactly this, in one transaction.
 */
export interface BlockChanges {
  block: BlockHeader;
  eventCount: number;
  markets: Market[];
  underlyings: Underlying[];
  oracleSources: OracleSource[];
  accounts: Account[];
  positions: Position[];
  fills: FillRecord[];
  transfers: TransferRecord[];
  priceReports: PriceReportRecord[];
  volatilityReports: VolatilityReportRecord[];
  marginFractionUpdates: MarginFractionUpdateRecord[];
  indexPrices: IndexPriceRecord[];
  fundingSamples: FundingSampleRecord[];
  fundingSettlements: FundingSettlementRecord[];
  optionSettlements: OptionSettlementRecord[];
  transitions: TransitionRecord[];
  anomalies: AnomalyRecord[];
  /** In memory only, not stored: the margin index's new ranges for the accounts this block evaluated. */
  marginIndex: MarginIndexChanges | null;
}
