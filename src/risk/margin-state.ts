import type { Wide } from '../fixed/index.js';

export type MarginState = 'HEALTHY' | 'MARGIN_CALL' | 'LIQUIDATABLE' | 'BANKRUPT';
export const MARGIN_STATES: readonly MarginState[] = ['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT'];

/**
 * SPEC section 4: HEALTHY equity >= IM; MARGIN_CALL MM <= equity < IM;
 * LIQUIDATABLE 0 <= equity < MM; BANKRUPT equity < 0. Compared exactly.
 */
export function marginStateOf(equity: Wide, initialMargin: Wide, maintenanceMargin: Wide): MarginState {
  if (equity < 0n) return 'BANKRUPT';
  if (equity < maintenanceMargin) return 'LIQUIDATABLE';
  if (equity < initialMargin) return 'MARGIN_CALL';
  return 'HEALTHY';
}
