// Table specs: how each ledger row and history record is stored (prisma/schema.prisma).
import type * as L from '../../ledger/index.js';
import { col, type Column, type TableSpec } from './columns.js';
import type { UndoEntry } from './undo.js';

/** Where an event came from: the columns every on-chain history record starts with. */
const onChain: readonly Column<{ blockNumber: number; logIndex: number; transactionHash: string; timestamp: number }>[] = [
  col.int8('block_number', 'blockNumber'),
  col.int4('log_index', 'logIndex'),
  col.text('transaction_hash', 'transactionHash'),
  col.int8('timestamp', 'timestamp'),
];
// Mutable rows: versioned through the undo log.

export const markets: TableSpec<L.Market> = {
  table: 'market',
  key: ['id'],
  columns: [
    col.text('id', 'id'),
    col.text('underlying', 'underlying'),
    col.enum('kind', 'market_kind', 'kind'),
    col.fixed('strike', 'strike'),
    col.int8('expiry', 'expiry'),
    col.fixed('initial_margin_fraction', 'initialMarginFraction'),
    col.fixed('maintenance_margin_fraction', 'maintenanceMarginFraction'),
    col.int8('funding_interval', 'fundingInterval'),
    col.fixed('max_funding_rate', 'maxFundingRate'),
    col.fixed('implied_volatility', 'impliedVolatility'),
    col.fixed('last_fill_price', 'lastFillPrice'),
    col.fixed('cumulative_funding', 'cumulativeFunding'),
    col.fixed('last_funding_rate', 'lastFundingRate'),
    col.fixed('funding_premium', ['funding', 'premium'] as const),
    col.int8('funding_period', ['funding', 'period'] as const),
    col.fixed('funding_weighted_premium', ['funding', 'weightedPremium'] as const),
    col.int8('funding_covered_seconds', ['funding', 'coveredSeconds'] as const),
    col.int8('funding_accounted_until', ['funding', 'accountedUntil'] as const),
    col.fixed('settlement_price', 'settlementPrice'),
    col.int8('settled_block', 'settledBlock'),
    col.text('venue', 'venue'),
    col.int8('listed_block', 'listedBlock'),
    col.int8('updated_block', 'updatedBlock'),
  ],
};

export const underlyings: TableSpec<L.Underlying> = {
  table: 'underlying',
  key: ['id'],
  columns: [
    col.text('id', 'id'),
    col.fixed('index_price', 'indexPrice'),
    col.bool('index_stale', 'indexStale'),
    col.int8('updated_block', 'updatedBlock'),
  ],
};

export const oracleSources: TableSpec<L.OracleSource> = {
  table: 'oracle_source',
  key: ['underlying', 'source'],
  columns: [
    col.text('underlying', 'underlying'),
    col.text('source', 'source'),
    col.fixed('price', 'price'),
    col.int8('timestamp', 'timestamp'),
    col.int8('block_number', 'blockNumber'),
  ],
};

export const accounts: TableSpec<L.Account> = {
  table: 'account',
  key: ['id'],
  columns: [
    col.text('id', 'id'),
    col.text('owner', 'owner'),
    col.int8('subaccount', 'subaccount'),
    col.fixed('collateral', 'collateral'),
    col.enum('margin_state', 'margin_state', 'marginState'),
    col.int8('created_block', 'createdBlock'),
    col.int8('updated_block', 'updatedBlock'),
  ],
};

export const positions: TableSpec<L.Position> = {
  table: 'position',
  key: ['id'],
  columns: [
    col.text('id', 'id'),
    col.text('account_id', 'accountId'),
    col.text('market_id', 'marketId'),
    col.int4('seq', 'seq'),
    col.fixed('size', 'size'),
    col.fixed('entry_price', 'entryPrice'),
    col.fixed('realized_pnl', 'realizedPnl'),
    col.fixed('funding_snapshot', 'fundingSnapshot'),
    col.fixed('settled_funding', 'settledFunding'),
    col.fixed('fees_paid', 'feesPaid'),
    col.int8('opened_block', 'openedBlock'),
    col.int8('closed_block', 'closedBlock'),
    col.int8('updated_block', 'updatedBlock'),
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
      col.int8<Version<T>>('version_block', 'block'),
      // Written from the version's record; read back (recordOf) as the record's own fields.
      ...changing.map((c): Column<Version<T>> => ({ ...c, value: (v: Version<T>) => c.value(v.record) })),
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
    ...onChain,
    col.int4('transaction_index', 'transactionIndex'),
    col.text('market_id', 'marketId'),
    col.text('account_id', 'accountId'),
    col.text('position_id', 'positionId'),
    col.fixed('size', 'size'),
    col.fixed('price', 'price'),
    col.fixed('fee', 'fee'),
    col.fixed('realized_pnl', 'realizedPnl'),
    col.bool('liquidation', 'liquidation'),
    col.text('liquidator', 'liquidator'),
    col.fixed('penalty', 'penalty'),
  ],
};

export const transfers: TableSpec<L.TransferRecord> = {
  table: 'collateral_transfer',
  key: ['block_number', 'log_index'],
  columns: [
    ...onChain,
    col.text('account_id', 'accountId'),
    col.enum('kind', 'transfer_kind', 'kind'),
    col.fixed('amount', 'amount'),
    col.fixed('collateral_after', 'collateralAfter'),
  ],
};

export const priceReports: TableSpec<L.PriceReportRecord> = {
  table: 'price_report',
  key: ['block_number', 'log_index'],
  columns: [
    ...onChain,
    col.text('underlying', 'underlying'),
    col.text('source', 'source'),
    col.fixed('price', 'price'),
  ],
};

export const volatilityReports: TableSpec<L.VolatilityReportRecord> = {
  table: 'volatility_report',
  key: ['block_number', 'log_index'],
  columns: [
    ...onChain,
    col.text('market_id', 'marketId'),
    col.fixed('implied_volatility', 'impliedVolatility'),
  ],
};

export const marginFractionUpdates: TableSpec<L.MarginFractionUpdateRecord> = {
  table: 'margin_fraction_update',
  key: ['block_number', 'log_index'],
  columns: [
    ...onChain,
    col.text('market_id', 'marketId'),
    col.fixed('initial_margin_fraction', 'initialMarginFraction'),
    col.fixed('maintenance_margin_fraction', 'maintenanceMarginFraction'),
  ],
};

export const indexPrices: TableSpec<L.IndexPriceRecord> = {
  table: 'index_price',
  key: ['underlying', 'block_number'],
  columns: [
    col.text('underlying', 'underlying'),
    col.int8('block_number', 'blockNumber'),
    col.int8('timestamp', 'timestamp'),
    col.fixed('price', 'price'),
    col.bool('stale', 'stale'),
  ],
};

export const fundingSamples: TableSpec<L.FundingSampleRecord> = {
  table: 'funding_sample',
  key: ['market_id', 'block_number'],
  columns: [
    col.text('market_id', 'marketId'),
    col.int8('block_number', 'blockNumber'),
    col.int8('timestamp', 'timestamp'),
    col.fixed('premium', 'premium'),
  ],
};

export const fundingSettlements: TableSpec<L.FundingSettlementRecord> = {
  table: 'funding_settlement',
  key: ['market_id', 'period'],
  columns: [
    col.text('market_id', 'marketId'),
    col.int8('period', 'period'),
    col.int8('periods', 'periods'),
    col.fixed('rate', 'rate'),
    col.fixed('index_price', 'indexPrice'),
    col.fixed('cumulative_funding', 'cumulativeFunding'),
    col.int8('block_number', 'blockNumber'),
    col.int8('timestamp', 'timestamp'),
  ],
};

export const optionSettlements: TableSpec<L.OptionSettlementRecord> = {
  table: 'option_settlement',
  key: ['position_id'],
  columns: [
    col.text('position_id', 'positionId'),
    col.text('market_id', 'marketId'),
    col.text('account_id', 'accountId'),
    col.int8('block_number', 'blockNumber'),
    col.int8('timestamp', 'timestamp'),
    col.fixed('size', 'size'),
    col.fixed('settlement_price', 'settlementPrice'),
    col.fixed('payout', 'payout'),
  ],
};

export const transitions: TableSpec<L.TransitionRecord> = {
  table: 'margin_transition',
  key: ['account_id', 'block_number'],
  columns: [
    col.text('account_id', 'accountId'),
    col.int8('block_number', 'blockNumber'),
    col.int8('timestamp', 'timestamp'),
    col.enum('from', 'margin_state', 'from'),
    col.enum('to', 'margin_state', 'to'),
    col.fixed('equity', 'equity'),
    col.fixed('initial_margin', 'initialMargin'),
    col.fixed('maintenance_margin', 'maintenanceMargin'),
  ],
};

export const anomalies: TableSpec<L.AnomalyRecord> = {
  table: 'anomaly',
  key: ['block_number', 'seq'],
  columns: [
    col.int8('block_number', 'blockNumber'),
    col.int4('seq', 'seq'),
    col.int4('log_index', 'logIndex'),
    col.text('transaction_hash', 'transactionHash'),
    col.text('venue', 'venue'),
    col.text('kind', 'kind'),
    col.text('message', 'message'),
    col.json('data', 'data'),
  ],
};

export const blocks: TableSpec<L.BlockChanges> = {
  table: 'block',
  key: ['number'],
  columns: [
    col.int8('number', ['block', 'number'] as const),
    col.text('hash', ['block', 'hash'] as const),
    col.text('parent_hash', ['block', 'parentHash'] as const),
    col.int8('timestamp', ['block', 'timestamp'] as const),
    col.int4('event_count', 'eventCount'),
  ],
};

/** A block's undo entries (src/db/store/undo.ts), kept while the block may still reorg. */
export const undoLog: TableSpec<{ blockNumber: number; entries: UndoEntry[] }> = {
  table: 'undo_log',
  key: ['block_number'],
  columns: [col.int8('block_number', 'blockNumber'), col.json('entries', 'entries')],
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
