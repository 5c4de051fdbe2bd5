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
export { SubscriptionPipeline, type PipelineOptions, type SubscriptionOperation } from './pipeline.js';
export { subscriptionResolvers, type SubscriptionContext } from './resolvers.js';
export { deliveryOf, SharedSubscriptions, sharingKey, type Delivery, type ResultSink } from './shared-execution.js';
