import { narrow } from '../../../fixed/index.js';
import { accountId, type Account, type MarginState } from '../../../ledger/index.js';
import { freeCollateral, leverage, marginRatio } from '../../../risk/account.js';
import { ownerArgument, subaccountArgument } from '../../account-args.js';
import type { RequestContext } from '../../context.js';
import { then } from '../../memo.js';
import type { PageArgs } from '../../pagination.js';
import type { ModuleResolvers } from '../../resolvers.js';
import type { AccountView, UnderlyingExposure } from '../../risk.js';
import { accountsPage, type AccountOrder } from './order.js';

/** `f` of the account's derived risk, computed once per request whichever fields ask. */
function risk<R>(account: Account, ctx: RequestContext, f: (view: AccountView) => R) {
  return then(ctx.loaders.risk.account(account.id), (view) => {
    if (!view) throw new Error(`account ${account.id} vanished from the snapshot`);
    return f(view);
  });
}

type AccountsArgs = PageArgs & { owner?: string | null; marginState?: MarginState[] | null; market?: string | null; orderBy?: AccountOrder | null };

export const accountResolvers: ModuleResolvers = {
  Query: {
    account: (_: unknown, { owner, subaccount }: { owner: string; subaccount?: number | null }, ctx) =>
      ctx.loaders.accountOf(accountId(ownerArgument(owner), subaccountArgument(subaccount ?? 0))),
    accounts: (_: unknown, { owner, marginState, market, orderBy, ...page }: AccountsArgs, ctx) =>
      accountsPage(ctx, { owner, marginState, market }, orderBy ?? 'ID_ASC', page),
  },
  Account: {
    equity: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => narrow(v.risk.equity)),
    initialMargin: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => narrow(v.risk.initialMargin)),
    maintenanceMargin: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => narrow(v.risk.maintenanceMargin)),
    freeCollateral: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => freeCollateral(v.risk)),
    marginRatio: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => marginRatio(v.risk)),
    leverage: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => leverage(v.risk)),
    notional: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => narrow(v.risk.notional)),
    unrealizedPnl: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => narrow(v.unrealizedPnl)),
    accruedFunding: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => narrow(v.accruedFunding)),
    greeks: (a: Account, _: unknown, ctx) => risk(a, ctx, (v) => v.exposures()),
  },
  UnderlyingExposure: {
    // The root search runs only when selected (graphql-jit's default resolver would not call the thunk).
    liquidationPrice: (e: UnderlyingExposure) => e.liquidationPrice(),
  },
};
