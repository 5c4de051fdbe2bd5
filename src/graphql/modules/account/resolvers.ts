import { narrow } from '../../../fixed/index.js';
import { accountId, type Account, type MarginState } from '../../../ledger/index.js';
import { freeCollateral, leverage, marginRatio } from '../../../risk/account.js';
import type { RequestContext } from '../../context.js';
import type { PageArgs } from '../../pagination.js';
import type { ModuleResolvers } from '../../resolvers.js';
import type { AccountView } from '../../risk.js';
import { accountsPage, type AccountOrder } from './order.js';

/** The account's derived risk, computed once per request whichever fields ask. */
async function view(account: Account, ctx: RequestContext): Promise<AccountView> {
  const found = await ctx.loaders.risk.account(account.id);
  if (!found) throw new Error(`account ${account.id} vanished from the snapshot`);
  return found;
}

type AccountsArgs = PageArgs & { owner?: string | null; marginState?: MarginState[] | null; market?: string | null; orderBy?: AccountOrder | null };

export const accountResolvers: ModuleResolvers = {
  Query: {
    account: (_: unknown, { owner, subaccount }: { owner: string; subaccount?: number | null }, ctx) =>
      ctx.loaders.account.load(accountId(owner, subaccount ?? 0)),
    accounts: (_: unknown, { owner, marginState, market, orderBy, ...page }: AccountsArgs, ctx) =>
      accountsPage(ctx, { owner, marginState, market }, orderBy ?? 'ID_ASC', page),
  },
  Account: {
    equity: async (a: Account, _: unknown, ctx) => narrow((await view(a, ctx)).risk.equity),
    initialMargin: async (a: Account, _: unknown, ctx) => narrow((await view(a, ctx)).risk.initialMargin),
    maintenanceMargin: async (a: Account, _: unknown, ctx) => narrow((await view(a, ctx)).risk.maintenanceMargin),
    freeCollateral: async (a: Account, _: unknown, ctx) => freeCollateral((await view(a, ctx)).risk),
    marginRatio: async (a: Account, _: unknown, ctx) => marginRatio((await view(a, ctx)).risk),
    leverage: async (a: Account, _: unknown, ctx) => leverage((await view(a, ctx)).risk),
    notional: async (a: Account, _: unknown, ctx) => narrow((await view(a, ctx)).risk.notional),
    unrealizedPnl: async (a: Account, _: unknown, ctx) => narrow((await view(a, ctx)).unrealizedPnl),
    accruedFunding: async (a: Account, _: unknown, ctx) => narrow((await view(a, ctx)).accruedFunding),
    greeks: async (a: Account, _: unknown, ctx) => (await view(a, ctx)).exposures(),
  },
};
