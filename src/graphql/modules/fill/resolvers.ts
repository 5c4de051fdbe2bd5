import type { Account, FillRecord } from '../../../ledger/index.js';
import { fetchConnection, type BlockRange } from '../../keyset.js';
import type { PageArgs } from '../../pagination.js';
import { batchKey, type ModuleResolvers } from '../../resolvers.js';
import type { PositionView } from '../../risk.js';
import type { MarketView } from '../market/view.js';
import { positionView } from '../position/resolvers.js';
import { fillFromRow, fillList, type FillFilter } from './sql.js';

type ChainOrder = BlockRange & { newestFirst?: boolean | null };

/** Every field that lists fills: the top-level list and the ones under an account, market or position. */
export const fillResolvers: ModuleResolvers = {
  Query: {
    fills: (_: unknown, { first, after, ...filter }: PageArgs & FillFilter, ctx) =>
      fetchConnection(ctx, fillList(filter), { first, after }, fillFromRow),
  },
  Account: {
    fills: (a: Account, { first, after, ...filter }: PageArgs & ChainOrder & { market?: string | null }, ctx, info) =>
      fetchConnection(ctx, fillList(filter), { first, after }, fillFromRow, { column: 'account_id', id: a.id, batch: batchKey(info, { first, after, ...filter }) }),
  },
  Market: {
    fills: (m: MarketView, { first, after, ...filter }: PageArgs & ChainOrder, ctx, info) =>
      fetchConnection(ctx, fillList(filter), { first, after }, fillFromRow, { column: 'market_id', id: m.id, batch: batchKey(info, { first, after, ...filter }) }),
  },
  Position: {
    fills: (p: PositionView, args: PageArgs, ctx, info) =>
      fetchConnection(ctx, fillList({}), args, fillFromRow, { column: 'position_id', id: p.position.id, batch: batchKey(info, args) }),
  },
  Fill: {
    id: (f: FillRecord) => `${f.blockNumber}:${f.logIndex}`,
    market: (f: FillRecord, _: unknown, ctx) => ctx.loaders.risk.market(f.marketId),
    account: (f: FillRecord, _: unknown, ctx) => ctx.loaders.accountOf(f.accountId),
    position: async (f: FillRecord, _: unknown, ctx) => positionView(await ctx.loaders.position.load(f.positionId), ctx),
    blockTimestamp: (f: FillRecord) => f.timestamp,
  },
};
