import type { FundingSettlementRecord } from '../../../ledger/index.js';
import { fetchConnection } from '../../keyset.js';
import type { PageArgs } from '../../pagination.js';
import { batchKey, type ModuleResolvers } from '../../resolvers.js';
import type { MarketView } from '../market/view.js';
import { fundingFromRow, fundingList } from './sql.js';

type FundingArgs = PageArgs & { newestFirst?: boolean | null };

export const fundingResolvers: ModuleResolvers = {
  Query: {
    fundingHistory: (_: unknown, { market, ...args }: FundingArgs & { market: string }, ctx) =>
      fetchConnection(ctx, fundingList({ market, newestFirst: args.newestFirst }), args, fundingFromRow),
  },
  Market: {
    fundingHistory: (m: MarketView, args: FundingArgs, ctx, info) =>
      fetchConnection(ctx, fundingList({ newestFirst: args.newestFirst }), args, fundingFromRow, {
        column: 'market_id',
        id: m.id,
        batch: batchKey(info, args),
      }),
  },
  FundingSettlement: {
    market: (f: FundingSettlementRecord, _: unknown, ctx) => ctx.loaders.risk.market(f.marketId),
    blockTimestamp: (f: FundingSettlementRecord) => f.timestamp,
  },
};
