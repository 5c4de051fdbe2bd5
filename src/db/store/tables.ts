// Table specs: how each ledger row and history record is stored (prisma/schema.prisma).
import type * as L from '../../ledger/index.js';
import { col, type TableSpec } from './columns.js';
import type { UndoEntry } from './undo.js';

const onChain = <T extends { blockNumber: number; logIndex: number; transactionHash: string; timestamp: number }>() => [
  col.int8<T>('block_number', (r) => r.blockNumber),
  col.int4<T>('log_index', (r) => r.logIndex),
  col.text<T>('transaction_hash', (r) => r.transactionHash),
  col.int8<T>('timestamp', (r) => r.timestamp),
];

// Mutable rows: versioned through the undo log.

export const markets: TableSpec<L.Market> = {
  table: 'market',
  key: ['id'],
  columns: [
    col.text('id', (m) => m.id),
    col.text('underlying', (m) => m.underlying),
    col.enum('kind', 'market_kind', (m) => m.kind),
    col.fixed('strike', (m) => m.strike),
    col.int8('expiry', (m) => m.expiry),
    col.fixed('initial_margin_fraction', (m) => m.initialMarginFraction),
    col.fixed('maintenance_margin_fraction', (m) => m.maintenanceMarginFraction),
    col.int8('funding_interval', (m) => m.fundingInterval),
    col.fixed('max_funding_rate', (m) => m.maxFundingRate),
    col.fixed('implied_volatility', (m) => m.impliedVolatility),
    col.fixed('last_fill_price', (m) => m.lastFillPrice),
    col.fixed('cumulative_funding', (m) => m.cumulativeFunding),
    col.fixed('last_funding_rate', (m) => m.lastFundingRate),
    col.fixed('funding_premium', (m) => m.funding.premium),
    col.int8('funding_period', (m) => m.funding.period),
    col.fixed('funding_weighted_premium', (m) => m.funding.weightedPremium),
    col.int8('funding_covered_seconds', (m) => m.funding.coveredSeconds),
    col.int8('funding_accounted_until', (m) => m.funding.accountedUntil),
    col.fixed('settlement_price', (m) => m.settlementPrice),
    col.int8('settled_block', (m) => m.settledBlock),
    col.text('venue', (m) => m.venue),
    col.int8('listed_block', (m) => m.listedBlock),
    col.int8('updated_block', (m) => m.updatedBlock),
  ],
};

export const underlyings: TableSpec<L.Underlying> = {
  table: 'underlying',
  key: ['id'],
  columns: [
    col.text('id', (u) => u.id),
    col.fixed('index_price', (u) => u.indexPrice),
    col.bool('index_stale', (u) => u.indexStale),
    col.int8('updated_block', (u) => u.updatedBlock),
  ],
};

export const oracleSources: TableSpec<L.OracleSource> = {
  table: 'oracle_source',
  key: ['underlying', 'source'],
  columns: [
    col.text('underlying', (s) => s.underlying),
    col.text('source', (s) => s.source),
    col.fixed('price', (s) => s.price),
    col.int8('timestamp', (s) => s.timestamp),
    col.int8('block_number', (s) => s.blockNumber),
  ],
};

export const accounts: TableSpec<L.Account> = {
  table: 'account',
  key: ['id'],
  columns: [
    col.text('id', (a) => a.id),
    col.text('owner', (a) => a.owner),
    col.int8('subaccount', (a) => a.subaccount),
    col.fixed('collateral', (a) => a.collateral),
    col.enum('margin_state', 'margin_state', (a) => a.marginState),
    col.int8('created_block', (a) => a.createdBlock),
    col.int8('updated_block', (a) => a.updatedBlock),
  ],
};

export const positions: TableSpec<L.Position> = {
  table: 'position',
  key: ['id'],
  columns: [
    col.text('id', (p) => p.id),
    col.text('account_id', (p) => p.accountId),
    col.text('market_id', (p) => p.marketId),
    col.int4('seq', (p) => p.seq),
    col.fixed('size', (p) => p.size),
    col.fixed('entry_price', (p) => p.entryPrice),
    col.fixed('realized_pnl', (p) => p.realizedPnl),
    col.fixed('funding_snapshot', (p) => p.fundingSnapshot),
    col.fixed('settled_funding', (p) => p.settledFunding),
    col.fixed('fees_paid', (p) => p.feesPaid),
    col.int8('opened_block', (p) => p.openedBlock),
    col.int8('closed_block', (p) => p.closedBlock),
    col.int8('updated_block', (p) => p.updatedBlock),
  ],
};

/** The mutable tables, by the name the undo log uses. */
export const mutableTables = { markets, underlyings, oracleSources, accounts, positions } as const;
export type MutableTable = keyof typeof mutableTables;

/** A mutable row as a block left it (the history of past state, issue 16). */
export interface Version<T> {
  block: number;
  record: T;
}

/**
 * The `<table>_version` table of a mutable table: the row's key, the block, and the
 * columns that can change (`fixed` columns never do: they stay in the current row only,
 * which the past views of the migration join back).
 */
function versions<T>(spec: TableSpec<T>, fixed: readonly string[]): TableSpec<Version<T>> {
  const changing = spec.columns.filter((c) => spec.key.includes(c.name) || !fixed.includes(c.name));
  return {
    table: `${spec.table}_version`,
    key: [...spec.key, 'version_block'],
    columns: [
      col.int8<Version<T>>('version_block', (v) => v.block),
      ...changing.map((c) => ({ name: c.name, type: c.type, value: (v: Version<T>) => c.value(v.record) })),
    ],
  };
}

/** The version tables, by the mutable table's name (prisma/schema.prisma, `*Version`). */
export const versionTables = {
  markets: versions(markets, ['underlying', 'kind', 'strike', 'expiry', 'funding_interval', 'max_funding_rate', 'venue', 'listed_block']),
  underlyings: versions(underlyings, []),
  oracleSources: versions(oracleSources, []),
  accounts: versions(accounts, ['owner', 'subaccount', 'created_block']),
  positions: versions(positions, ['account_id', 'market_id', 'seq', 'opened_block']),
} as const satisfies Record<MutableTable, TableSpec<never>>;

// Append-only history: every table has block_number, which is how a reorg removes rows.

export const fills: TableSpec<L.FillRecord> = {
  table: 'fill',
  key: ['block_number', 'log_index'],
  columns: [
    ...onChain<L.FillRecord>(),
    col.int4('transaction_index', (f) => f.transactionIndex),
    col.text('market_id', (f) => f.marketId),
    col.text('account_id', (f) => f.accountId),
    col.text('position_id', (f) => f.positionId),
    col.fixed('size', (f) => f.size),
    col.fixed('price', (f) => f.price),
    col.fixed('fee', (f) => f.fee),
    col.fixed('realized_pnl', (f) => f.realizedPnl),
    col.bool('liquidation', (f) => f.liquidation),
    col.text('liquidator', (f) => f.liquidator),
    col.fixed('penalty', (f) => f.penalty),
  ],
};

export const transfers: TableSpec<L.TransferRecord> = {
  table: 'collateral_transfer',
  key: ['block_number', 'log_index'],
  columns: [
    ...onChain<L.TransferRecord>(),
    col.text('account_id', (t) => t.accountId),
    col.enum('kind', 'transfer_kind', (t) => t.kind),
    col.fixed('amount', (t) => t.amount),
    col.fixed('collateral_after', (t) => t.collateralAfter),
  ],
};

export const priceReports: TableSpec<L.PriceReportRecord> = {
  table: 'price_report',
  key: ['block_number', 'log_index'],
  columns: [
    ...onChain<L.PriceReportRecord>(),
    col.text('underlying', (r) => r.underlying),
    col.text('source', (r) => r.source),
    col.fixed('price', (r) => r.price),
  ],
};

export const volatilityReports: TableSpec<L.VolatilityReportRecord> = {
  table: 'volatility_report',
  key: ['block_number', 'log_index'],
  columns: [
    ...onChain<L.VolatilityReportRecord>(),
    col.text('market_id', (r) => r.marketId),
    col.fixed('implied_volatility', (r) => r.impliedVolatility),
  ],
};

export const marginFractionUpdates: TableSpec<L.MarginFractionUpdateRecord> = {
  table: 'margin_fraction_update',
  key: ['block_number', 'log_index'],
  columns: [
    ...onChain<L.MarginFractionUpdateRecord>(),
    col.text('market_id', (r) => r.marketId),
    col.fixed('initial_margin_fraction', (r) => r.initialMarginFraction),
    col.fixed('maintenance_margin_fraction', (r) => r.maintenanceMarginFraction),
  ],
};

export const indexPrices: TableSpec<L.IndexPriceRecord> = {
  table: 'index_price',
  key: ['underlying', 'block_number'],
  columns: [
    col.text('underlying', (r) => r.underlying),
    col.int8('block_number', (r) => r.blockNumber),
    col.int8('timestamp', (r) => r.timestamp),
    col.fixed('price', (r) => r.price),
    col.bool('stale', (r) => r.stale),
  ],
};

export const fundingSamples: TableSpec<L.FundingSampleRecord> = {
  table: 'funding_sample',
  key: ['market_id', 'block_number'],
  columns: [
    col.text('market_id', (r) => r.marketId),
    col.int8('block_number', (r) => r.blockNumber),
    col.int8('timestamp', (r) => r.timestamp),
    col.fixed('premium', (r) => r.premium),
  ],
};

export const fundingSettlements: TableSpec<L.FundingSettlementRecord> = {
  table: 'funding_settlement',
  key: ['market_id', 'period'],
  columns: [
    col.text('market_id', (r) => r.marketId),
    col.int8('period', (r) => r.period),
    col.int8('periods', (r) => r.periods),
    col.fixed('rate', (r) => r.rate),
    col.fixed('index_price', (r) => r.indexPrice),
    col.fixed('cumulative_funding', (r) => r.cumulativeFunding),
    col.int8('block_number', (r) => r.blockNumber),
    col.int8('timestamp', (r) => r.timestamp),
  ],
};

export const optionSettlements: TableSpec<L.OptionSettlementRecord> = {
  table: 'option_settlement',
  key: ['position_id'],
  columns: [
    col.text('position_id', (r) => r.positionId),
    col.text('market_id', (r) => r.marketId),
    col.text('account_id', (r) => r.accountId),
    col.int8('block_number', (r) => r.blockNumber),
    col.int8('timestamp', (r) => r.timestamp),
    col.fixed('size', (r) => r.size),
    col.fixed('settlement_price', (r) => r.settlementPrice),
    col.fixed('payout', (r) => r.payout),
  ],
};

export const transitions: TableSpec<L.TransitionRecord> = {
  table: 'margin_transition',
  key: ['account_id', 'block_number'],
  columns: [
    col.text('account_id', (r) => r.accountId),
    col.int8('block_number', (r) => r.blockNumber),
    col.int8('timestamp', (r) => r.timestamp),
    col.enum('from', 'margin_state', (r) => r.from),
    col.enum('to', 'margin_state', (r) => r.to),
    col.fixed('equity', (r) => r.equity),
    col.fixed('initial_margin', (r) => r.initialMargin),
    col.fixed('maintenance_margin', (r) => r.maintenanceMargin),
  ],
};

export const anomalies: TableSpec<L.AnomalyRecord> = {
  table: 'anomaly',
  key: ['block_number', 'seq'],
  columns: [
    col.int8('block_number', (r) => r.blockNumber),
    col.int4('seq', (r) => r.seq),
    col.int4('log_index', (r) => r.logIndex),
    col.text('transaction_hash', (r) => r.transactionHash),
    col.text('venue', (r) => r.venue),
    col.text('kind', (r) => r.kind),
    col.text('message', (r) => r.message),
    col.json('data', (r) => r.data),
  ],
};

export const blocks: TableSpec<L.BlockChanges> = {
  table: 'block',
  key: ['number'],
  columns: [
    col.int8('number', (c) => c.block.number),
    col.text('hash', (c) => c.block.hash),
    col.text('parent_hash', (c) => c.block.parentHash),
    col.int8('timestamp', (c) => c.block.timestamp),
    col.int4('event_count', (c) => c.eventCount),
  ],
};

/** A block's undo entries (src/db/store/undo.ts), kept while the block may still reorg. */
export const undoLog: TableSpec<[number, UndoEntry[]]> = {
  table: 'undo_log',
  key: ['block_number'],
  columns: [col.int8('block_number', ([number]) => number), col.json('entries', ([, entries]) => entries)],
};

/** History tables with the BlockChanges field that feeds each, in write order. */
export const historyTables = [
  ['fills', fills],
  ['transfers', transfers],
  ['priceReports', priceReports],
  ['volatilityReports', volatilityReports],
  ['marginFractionUpdates', marginFractionUpdates],
  ['indexPrices', indexPrices],
  ['fundingSamples', fundingSamples],
  ['fundingSettlements', fundingSettlements],
  ['optionSettlements', optionSettlements],
  ['transitions', transitions],
  ['anomalies', anomalies],
] as const;
