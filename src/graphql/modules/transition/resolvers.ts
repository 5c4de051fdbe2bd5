import type { GraphQLResolveInfo } from 'graphql';
import { accountIdParts, type Account, type TransitionRecord } from '../../../ledger/index.js';
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
    account: (t: TransitionRecord, _: unknown, ctx, info) => (selectsKeyOnly(info) ? { id: t.accountId, ...accountIdParts(t.accountId) } : ctx.loaders.accountOf(t.accountId)),
    blockTimestamp: (t: TransitionRecord) => t.timestamp,
  },
};

const KEY_FIELDS: ReadonlySet<string> = new Set(['id', 'owner', 'subaccount', '__typename']);

/**
 * Whether a field of type Account selects only what its id says (id, owner, subaccount):
 * then no row needs reading. A subscriber's `marginStateChanged { account { id owner
 * subaccount } }` then costs no SQL at all, which matters when a price move sends
 * transitions to thousands of subscribers at once.
 */
function selectsKeyOnly(info: GraphQLResolveInfo): boolean {
  return info.fieldNodes.every((node) => node.selectionSet?.selections.every((s) => s.kind === 'Field' && KEY_FIELDS.has(s.name.value) && !s.directives?.length) ?? false);
}
