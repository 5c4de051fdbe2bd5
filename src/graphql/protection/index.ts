export { ApiKeys, RateLimiter, type AuthResult, type RateDecision } from './auth.js';
export { estimateCost, type CostOptions } from './cost.js';
export { INTERNAL_ERROR_MESSAGE, isUserFacing, maskError } from './errors.js';
export {
  checkDocument,
  costError,
  costPlugin,
  DEFAULT_LIMITS,
  limitRules,
  parseOptions,
  QUERY_LIMIT_EXCEEDED,
  type QueryLimits,
} from './limits.js';
