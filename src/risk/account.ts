import { narrow, wide, wideRatio, type Fixed, type Wide } from '../fixed/index.js';
import { marginStateOf, type MarginState } from './margin-state.js';
import type { PositionRisk } from './position.js';

/** SPEC section 4, per account, exact. */
export interface AccountRisk {
  equity: Wide;
  initialMargin: Wide;
  maintenanceMargin: Wide;
  notional: Wide;
}

export function accountRisk(collateral: Fixed, positions: Iterable<PositionRisk>): AccountRisk {
  let equity = wide.of(collateral);
  let initialMargin = 0n;
  let maintenanceMargin = 0n;
  let notional = 0n;
  for (const risk of positions) {
    equity += risk.equity;
    initialMargin += risk.initialMargin;
    maintenanceMargin += risk.maintenanceMargin;
    notional += risk.notional;
  }
  return { equity, initialMargin, maintenanceMargin, notional };
}

export function marginState(risk: AccountRisk): MarginState {
  return marginStateOf(risk.equity, risk.initialMargin, risk.maintenanceMargin);
}

export function freeCollateral(risk: AccountRisk): Fixed {
  return narrow(risk.equity - risk.initialMargin);
}

/** maintenanceMargin / equity; null when equity <= 0. */
export function marginRatio(risk: AccountRisk): Fixed | null {
  return risk.equity > 0n ? wideRatio(risk.maintenanceMargin, risk.equity) : null;
}

/** sum(notional) / equity; null when equity <= 0. */
export function leverage(risk: AccountRisk): Fixed | null {
  return risk.equity > 0n ? wideRatio(risk.notional, risk.equity) : null;
}
