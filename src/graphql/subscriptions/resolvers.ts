// `Subscription.blockCommitted` and `Subscription.marginStateChanged`, served from the hub.
import { GraphQLError } from 'graphql';
import type { MarginState, TransitionRecord } from '../../ledger/index.js';
import { ownerArgument, subaccountArgument } from '../account-args.js';
import type { SubscriptionResolvers } from '../generated/resolvers.js';
import { then } from '../memo.js';
import type { Delivery } from './shared-execution.js';
import { BLOCKS_ROUTE, ownerRoute, type BlockEvent, type Hub, type HubEvent, type Sink, type Subscription, type TransitionEvent } from './hub.js';

/** What a subscription needs of its context: a fresh read view per event, and how it is delivered. */
export interface SubscriptionContext {
  /** Void when there was nothing to refresh (most events read nothing), so callers need not wait. */
  refresh(): Promise<void> | void;
  /** Set by the WebSocket server (pipeline.ts): an overflow closes the subscriber's connection. */
  readonly delivery?: Delivery;
}

const MARGIN_STATES: ReadonlySet<string> = new Set(['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT']);

interface MarginStateChangedArgs {
  owner?: string | null;
  subaccount?: number | null;
  to?: readonly MarginState[] | null;
}

/**
 * The Subscription resolvers for `buildSchema({ Subscription })`. Each event is resolved
 * after `context.refresh()`: fields below it (`MarginTransition.account`, ...) read a
 * snapshot taken after the event's block was committed. Between events the context holds
 * no snapshot (and no pooled connection).
 */
export function subscriptionResolvers(hub: Hub) {
  return {
    blockCommitted: {
      subscribe: (_root: unknown, _args: unknown, context: SubscriptionContext) =>
        stream(hub, 'blockCommitted', (event) => (event.kind === 'block' ? event : undefined), context, BLOCKS_ROUTE),
      resolve: (event: BlockEvent) => event,
    },
    marginStateChanged: {
      subscribe: (_root: unknown, args: MarginStateChangedArgs, context: SubscriptionContext) => {
        const { match, owner } = transitionFilter(args);
        const route = owner === null ? undefined : ownerRoute(owner);
        return stream(hub, 'marginStateChanged', (event) => (event.kind === 'transition' && match(event) ? event : undefined), context, route);
      },
      /** The parent of `MarginTransition` is the ledger's TransitionRecord (as in Query.transitions). */
      resolve: (event: TransitionEvent): TransitionRecord => event.transition,
    },
  } satisfies SubscriptionResolvers<SubscriptionContext & object>;
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

/** The hub's stream for one subscription, refreshing the context around each event. */
function stream<T extends object>(
  hub: Hub,
  kind: string,
  select: (event: HubEvent) => T | undefined,
  context: SubscriptionContext,
  route?: string,
): Subscription<T> {
  const onOverflow = context.delivery?.onOverflow;
  const subscription: Subscription<T> = hub.subscribe(kind, select, { ...(onOverflow ? { onOverflow } : {}), ...(route !== undefined ? { route } : {}) });
  const iterator: Subscription<T> = {
    async next() {
      // Give back the previous event's snapshot before waiting for the next event.
      const released = context.refresh();
      if (released) await released;
      const result = await subscription.next();
      // A read view taken from here on includes the event's block (it is committed).
      const refreshed = result.done ? undefined : context.refresh();
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
      subscription.consume((event) => then(then(context.refresh(), () => sink(event)), () => context.refresh())),
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
