import type { Account, TransitionRecord } from '../../../ledger/index.js';
import { fetchConnection } from '../../keyset.js';
import type { PageArgs } from '../../pagination.js';
import { batchKey, type ModuleResolvers } from '../../resolvers.js';
import { transitionFromRow, transitionList, type TransitionFilter } from './sql.js';

export const transitionResolvers: ModuleResolvers = {
  Query: {
    transitions: (_: unknown, { first, after, ...filter }: PageArgs & TransitionFilter, ctx) =>
      fetchConnection(ctx, transitionList(filter), { first, after }, transitionFromRow),
  },
  Account: {
    transitions: (a: Account, args: PageArgs & { newestFirst?: boolean | null }, ctx, info) =>
      fetchConnection(ctx, transitionList({ newestFirst: args.newestFirst }), args, transitionFromRow, {
        column: 'account_id',
        id: a.id,
        batch: batchKey(info, args),
      }),
  },
  MarginTransition: {
    account: (t: TransitionRecord, _: unknown, ctx) => ctx.loaders.accountOf(t.accountId),
    blockTimestamp: (t: TransitionRecord) => t.timestamp,
  },
};
