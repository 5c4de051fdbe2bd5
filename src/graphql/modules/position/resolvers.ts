import { positionFromRow } from '../../../db/store/ledger-store.js';
import type { Account, Position } from '../../../ledger/index.js';
import type { RequestContext } from '../../context.js';
import { fetchConnection } from '../../keyset.js';
import { then, type Now } from '../../memo.js';
import type { PageArgs } from '../../pagination.js';
import type { ModuleResolvers } from '../../resolvers.js';
import type { PositionView } from '../../risk.js';
import { fundingKey, loadSettledFunding, positionList } from './sql.js';

/** A stored position as the parent of `Position` fields: with its market, mark and risk. */
export function positionView(position: Position | null, ctx: RequestContext): Now<PositionView | null> {
  return position ? ctx.loaders.risk.position(position) : null;
}

type PositionsArgs = PageArgs & { market?: string | null; underlying?: string | null; includeClosed?: boolean | null };

// `Position` fields are PositionView's own (risk.ts) but for `account`, `market` (a
// MarketView), `fills` and `liquidationPrice`, which the first time per account runs the root search.
export const positionResolvers: ModuleResolvers = {
  Query: {
    position: async (_: unknown, { id }: { id: string }, ctx) => positionView(await ctx.loaders.position.load(id), ctx),
    positions: (_: unknown, { market, underlying, includeClosed, ...page }: PositionsArgs, ctx) =>
      fetchConnection(ctx, positionList({ market, underlying, includeClosed }), page, (row) => {
        const position = positionFromRow(row);
        ctx.loaders.position.prime(position.id, position);
        return positionView(position, ctx);
      }),
  },
  Account: {
    positions: (a: Account, { includeClosed }: { includeClosed?: boolean | null }, ctx) =>
      includeClosed
        ? ctx.loaders.allPositions.load(a.id).then((positions) => ctx.loaders.risk.positions(positions))
        : then(ctx.loaders.risk.account(a.id), (view) => view?.positions ?? []),
  },
  Position: {
    account: (v: PositionView, _: unknown, ctx) => ctx.loaders.accountOf(v.position.accountId),
    market: (v: PositionView, _: unknown, ctx) => ctx.loaders.risk.market(v.position.marketId),
    /**
     * The account's liquidation price on this position's underlying (SPEC section 4); a
     * closed position has none.
     */
    /** SPEC section 8; `allTime` adds the funding the account's earlier lifecycles in the market settled (one statement for every position asked). */
    funding: (v: PositionView, _: unknown, ctx) =>
      then(ctx.loaders.batch('settledFunding', (keys) => loadSettledFunding((sql, params) => ctx.query(sql, params), keys)).load(fundingKey(v.position.accountId, v.position.marketId)), (settled) => ({
        sinceChange: v.accruedFunding,
        sinceOpen: v.position.settledFunding + v.accruedFunding,
        allTime: settled + v.accruedFunding,
      })),
    liquidationPrice: (v: PositionView, _: unknown, ctx) =>
      v.open ? then(ctx.loaders.risk.account(v.position.accountId), (account) => account?.liquidationPrice(v.market.underlying) ?? null) : null,
  },
};
