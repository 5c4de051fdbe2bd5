import type { IndexPriceRecord, OracleSource, PriceReportRecord } from '../../../ledger/index.js';
import { fetchConnection, type BlockRange } from '../../keyset.js';
import { then } from '../../memo.js';
import type { PageArgs } from '../../pagination.js';
import { batchKey, type ModuleResolvers } from '../../resolvers.js';
import { indexPriceFromRow, indexPriceList, priceReportFromRow, priceReportList, type UnderlyingRow } from './sql.js';

type IndexPriceArgs = PageArgs & BlockRange & { newestFirst?: boolean | null };

export const underlyingResolvers: ModuleResolvers = {
  Query: {
    underlying: (_: unknown, { id }: { id: string }, ctx) => ctx.loaders.underlying(id),
    underlyings: async (_: unknown, __: unknown, ctx) => [...(await ctx.loaders.underlyings()).values()],
    indexPrices: (_: unknown, { underlying, ...args }: IndexPriceArgs & { underlying: string }, ctx) =>
      fetchConnection(ctx, indexPriceList({ ...args, underlying }), args, indexPriceFromRow),
    priceReports: (_: unknown, { underlying, source, ...args }: PageArgs & BlockRange & { underlying: string; source?: string | null }, ctx) =>
      fetchConnection(ctx, priceReportList({ ...args, underlying, source }), args, priceReportFromRow),
  },
  Underlying: {
    indexPriceStale: (u: UnderlyingRow) => u.indexStale,
    markets: (u: UnderlyingRow, _: unknown, ctx) => then(ctx.loaders.risk.markets(), (markets) => [...markets.values()].filter((m) => m.underlying === u.id)),
    indexPrices: (u: UnderlyingRow, args: IndexPriceArgs, ctx, info) =>
      fetchConnection(ctx, indexPriceList(args), args, indexPriceFromRow, { column: 'underlying', id: u.id, batch: batchKey(info, args) }),
  },
  OracleSource: {
    blockTimestamp: (s: OracleSource) => s.timestamp,
    // Stale at the served block: older than the window the index uses (SPEC section 3).
    stale: async (s: OracleSource, _: unknown, ctx) => (await ctx.block()).timestamp - s.timestamp > ctx.params.oracleStalenessSeconds,
  },
  IndexPrice: {
    blockTimestamp: (r: IndexPriceRecord) => r.timestamp,
  },
  PriceReport: {
    blockTimestamp: (r: PriceReportRecord) => r.timestamp,
  },
};
