// `Subscription.blockCommitted`, `marginStateChanged` (both replaying stored history after
// `afterBlock` first, replay.ts) and `accountUpdated`, served from the hub.
import { GraphQLError } from 'graphql';
import { accountId, type Account, type MarginState, type TransitionRecord } from '../../ledger/index.js';
import { ownerArgument, subaccountArgument } from '../account-args.js';
import type { PinnedBlock } from '../context.js';
import type { SubscriptionResolvers } from '../generated/resolvers.js';
import type { Loaders } from '../loaders.js';
import { then } from '../memo.js';
import type { Delivery } from './shared-execution.js';
import { replayThenLive, type ReplayDeps } from './replay.js';
import {
  accountRoute, BLOCKS_ROUTE, ownerRoute,
  type AccountEvent, type BlockEvent, type Hub, type HubEvent, type Sink, type SubscribeOptions, type Subscription, type TransitionEvent,
} from './hub.js';

/** What a subscription needs of its context: a fresh read view per event, and how it is delivered. */
export interface SubscriptionContext {
  /**
   * Void when there was nothing to refresh (most events read nothing), so callers need not
   * wait. With `pin`, the event's fields read at that block (an account event's).
   */
  refresh(pin?: PinnedBlock): Promise<void> | void;
  /** The event's reads (Subscription.accountUpdated resolves its account through them). */
  readonly loaders: Loaders;
  /** Set by the WebSocket server (pipeline.ts): an overflow closes the subscriber's connection. */
  readonly delivery?: Delivery;
}

const MARGIN_STATES: ReadonlySet<string> = new Set(['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT']);

interface MarginStateChangedArgs {
  owner?: string | null;
  subaccount?: number | null;
  to?: readonly MarginState[] | null;
  afterBlock?: number | null;
}

/**
 * The Subscription resolvers for `buildSchema({ Subscription })`. Each event is resolved
 * after `context.refresh()`: fields below it (`MarginTransition.account`, ...) read a
 * snapshot taken after the event's block was committed. Between events the context holds
 * no snapshot (and no pooled connection).
 */
export function subscriptionResolvers(replay: Omit<ReplayDeps, 'hub'> & { hub: Hub }, watch?: (accountId: string) => void) {
  const { hub } = replay;
  /** Live events only, or (with `afterBlock`) the stored ones after it first. */
  const source = <T extends object>(kind: string, select: (event: HubEvent) => T | undefined, context: SubscriptionContext, route: string | undefined, afterBlock: number | null | undefined, transitions: boolean) => {
    const options = subscribeOptions(context, route);
    if (afterBlock == null) return stream(hub.subscribe(kind, select, options), context);
    return replayThenLive(replay, { kind, select, options, afterBlock, transitions }).then((subscription) => stream(subscription, context));
  };
  return {
    blockCommitted: {
      subscribe: (_root: unknown, args: { afterBlock?: number | null }, context: SubscriptionContext) =>
        source('blockCommitted', (event) => (event.kind === 'block' ? event : undefined), context, BLOCKS_ROUTE, args.afterBlock, false),
      resolve: (event: BlockEvent) => event,
    },
    marginStateChanged: {
      subscribe: (_root: unknown, args: MarginStateChangedArgs, context: SubscriptionContext) => {
        const { match, owner } = transitionFilter(args);
        const route = owner === null ? undefined : ownerRoute(owner);
        return source('marginStateChanged', (event) => (event.kind === 'transition' && match(event) ? event : undefined), context, route, args.afterBlock, true);
      },
      /** The parent of `MarginTransition` is the ledger's TransitionRecord (as in Query.transitions). */
      resolve: (event: TransitionEvent): TransitionRecord => event.transition,
    },
    accountUpdated: {
      subscribe: (_root: unknown, args: { owner: string; subaccount?: number | null }, context: SubscriptionContext) => {
        const id = accountId(ownerArgument(args.owner), subaccountArgument(args.subaccount ?? 0));
        watch?.(id);
        // Once per block: an event as of a block this subscriber was already served at (the
        // feed had read a later block for an earlier notification) is dropped.
        let epoch = -1;
        let served = -1;
        const select = (event: HubEvent): AccountEvent | undefined => {
          if (event.kind !== 'account' || event.accountId !== id) return undefined;
          if (event.epoch === epoch && event.block.number <= served) return undefined;
          epoch = event.epoch;
          served = event.block.number;
          return event;
        };
        return stream(hub.subscribe('accountUpdated', select, subscribeOptions(context, accountRoute(id))), context, (event) => ({ block: event.block, shared: event.shared }));
      },
      /** The account at the event's block (its rows are in the block's shared values already). */
      resolve: (event: AccountEvent, _args: unknown, context: SubscriptionContext): Account | Promise<Account> =>
        then(context.loaders.accountOf(event.accountId), (account) => {
          if (!account) throw new Error(`account ${event.accountId} vanished from the snapshot`);
          return account;
        }),
    },
  } satisfies SubscriptionResolvers<SubscriptionContext & object>;
}

function subscribeOptions(context: SubscriptionContext, route: string | undefined): SubscribeOptions {
  const onOverflow = context.delivery?.onOverflow;
  return { ...(onOverflow ? { onOverflow } : {}), ...(route !== undefined ? { route } : {}) };
}

function transitionFilter(args: MarginStateChangedArgs): { match: (event: TransitionEvent) => boolean; owner: string | null } {
  const owner = args.owner == null ? null : ownerArgument(args.owner);
  const subaccount = args.subaccount == null ? null : subaccountArgument(args.subaccount);
  const to = args.to == null ? null : new Set<string>(args.to);
  for (const state of to ?? []) if (!MARGIN_STATES.has(state)) throw new GraphQLError(`unknown margin state ${state}`);
  return {
    owner,
    match: (event) =>
      (owner === null || event.owner === owner) &&
      (subaccount === null || event.subaccount === subaccount) &&
      (to === null || to.has(event.transition.to)),
  };
}

/**
 * A hub stream for one subscription, refreshing the context around each event: after it,
 * reads see the event's block (committed) or, with `pin`, exactly the block it names.
 */
function stream<T extends object>(subscription: Subscription<T>, context: SubscriptionContext, pin?: (event: T) => PinnedBlock): Subscription<T> {
  const before = pin ? (event: T) => context.refresh(pin(event)) : () => context.refresh();
  const iterator: Subscription<T> = {
    async next() {
      // Give back the previous event's snapshot before waiting for the next event.
      const released = context.refresh();
      if (released) await released;
      const result = await subscription.next();
      // A read view taken from here on includes the event's block (it is committed).
      const refreshed = result.done ? undefined : before(result.value);
      if (refreshed) await refreshed;
      return result;
    },
    // Not an async generator: return() must end the subscription at once, even while a
    // next() is waiting for an event.
    return: () => subscription.return(),
    throw: async (error?: unknown) => {
      await subscription.return();
      throw error;
    },
    // The same refreshes as next(), around the sink's handling of each event.
    consume: (sink: Sink<T>) =>
      subscription.consume((event) => then(then(before(event), () => sink(event)), () => context.refresh())),
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
