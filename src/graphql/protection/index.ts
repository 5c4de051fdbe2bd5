export { ApiKeys, RateLimiter, type AuthResult, type RateDecision } from './auth.js';
export { estimateCost, type CostOptions } from './cost.js';
export { INTERNAL_ERROR_MESSAGE, isUserFacing, maskError } from './errors.js';
export { Admission, BAD_REQUEST, CLOSE_TOO_MANY_CONNECTIONS, defaultAdmission, RESPONSE_TOO_LARGE, type Admitted, type Principal, type Transport } from './admission.js';
export { cancelledError, ExecutionBudget, timeoutError } from './budget.js';
export {
  costOf,
  costRefusal,
  DEFAULT_LIMITS,
  limitRules,
  parseOptions,
  QUERY_LIMIT_EXCEEDED,
  type QueryLimits,
} from './limits.js';
