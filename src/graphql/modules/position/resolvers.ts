import { narrow } from '../../../fixed/index.js';
import type { Account, Position } from '../../../ledger/index.js';
import type { RequestContext } from '../../context.js';
import { fetchConnection } from '../../keyset.js';
import type { PageArgs } from '../../pagination.js';
import type { ModuleResolvers } from '../../resolvers.js';
import type { PositionView } from '../../risk.js';
import { positionList } from './sql.js';
import { positionFromRow } from '../../../db/store/ledger-store.js';

const view = (p: Position, ctx: RequestContext): Promise<PositionView> => ctx.loaders.risk.position(p);

export const positionResolvers: ModuleResolvers = {
  Query: {
    position: (_: unknown, { id }: { id: string }, ctx) => ctx.loaders.position.load(id),
    positions: (_: unknown, { market, underlying, includeClosed, ...page }: PageArgs & { market?: string | null; underlying?: string | null; includeClosed?: boolean | null }, ctx) =>
      fetchConnection(ctx, positionList({ market, underlying, includeClosed }), page, (row) => {
        const position = positionFromRow(row);
        ctx.loaders.position.prime(position.id, position);
        return position;
      }),
  },
  Account: {
    positions: (a: Account, { includeClosed }: { includeClosed?: boolean | null }, ctx) =>
      (includeClosed ? ctx.loaders.allPositions : ctx.loaders.openPositions).load(a.id),
  },
  Position: {
    account: async (p: Position, _: unknown, ctx) => ctx.loaders.account.load(p.accountId),
    market: async (p: Position, _: unknown, ctx) => (await view(p, ctx)).market,
    markPrice: async (p: Position, _: unknown, ctx) => (await view(p, ctx)).mark.indexPrice,
    value: async (p: Position, _: unknown, ctx) => (await view(p, ctx)).mark.value,
    notional: async (p: Position, _: unknown, ctx) => narrow((await view(p, ctx)).risk.notional),
    unrealizedPnl: async (p: Position, _: unknown, ctx) => narrow((await view(p, ctx)).risk.unrealizedPnl),
    accruedFunding: async (p: Position, _: unknown, ctx) => narrow((await view(p, ctx)).risk.accruedFunding),
    initialMargin: async (p: Position, _: unknown, ctx) => narrow((await view(p, ctx)).risk.initialMargin),
    maintenanceMargin: async (p: Position, _: unknown, ctx) => narrow((await view(p, ctx)).risk.maintenanceMargin),
    delta: async (p: Position, _: unknown, ctx) => (await view(p, ctx)).greeks.delta,
    gamma: async (p: Position, _: unknown, ctx) => (await view(p, ctx)).greeks.gamma,
    theta: async (p: Position, _: unknown, ctx) => (await view(p, ctx)).greeks.theta,
    vega: async (p: Position, _: unknown, ctx) => (await view(p, ctx)).greeks.vega,
    open: (p: Position) => p.closedBlock === null,
    /**
     * The account's liquidation price on this position's underlying (SPEC section 4); a
     * closed position has none.
     */
    liquidationPrice: async (p: Position, _: unknown, ctx) => {
      if (p.closedBlock !== null) return null;
      const [position, account] = await Promise.all([view(p, ctx), ctx.loaders.risk.account(p.accountId)]);
      return account?.liquidationPrice(position.market.underlying) ?? null;
    },
  },
};
