export { BlockFeed, type BlockFeedOptions } from './feed.js';
export {
  Hub,
  overflowMessage,
  SUBSCRIBER_TOO_SLOW,
  type BlockEvent,
  type HubEvent,
  type HubMetrics,
  type SubscribeOptions,
  type Subscription,
  type TransitionEvent,
} from './hub.js';
export { onSubscriberOverflow, subscriptionResolvers, type OverflowHandler, type SubscriptionContext } from './resolvers.js';
export { SharedSubscriptions } from './shared-execution.js';
