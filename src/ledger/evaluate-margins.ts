import { narrow, type Fixed } from '../fixed/index.js';
import { accountRisk, marginState } from '../risk/account.js';
import { markOf, type Mark } from '../risk/mark.js';
import { positionRisk } from '../risk/position.js';
import type { Draft } from './draft.js';
import type { Market } from './state.js';

/**
 * Re-evaluates the margin state of every account whose inputs changed in this block
 * (SPEC section 4) and records each change of state as a transition of this block.
 * `affectedMarkets` are the markets whose marks or terms moved; their holders are
 * evaluated along with every account that had an event.
 */
export function evaluateMargins(draft: Draft, affectedMarkets: Iterable<string>, riskFreeRate: Fixed): void {
  const accounts = new Set(draft.touched);
  for (const marketId of affectedMarkets) {
    for (const holder of draft.base.holders.get(marketId) ?? []) accounts.add(holder);
  }
  const marks = new Map<string, Mark>();
  const markFor = (market: Market): Mark => {
    let mark = marks.get(market.id);
    if (!mark) {
      const index = draft.underlying(market.underlying)?.indexPrice ?? null;
      mark = markOf(market, index, draft.block.timestamp, riskFreeRate);
      marks.set(market.id, mark);
    }
    return mark;
  };

  for (const id of accounts) {
    const account = draft.account(id);
    if (!account) continue;
    const risks = draft.openPositions(id).map((position) => {
      const market = draft.market(position.marketId)!;
      return positionRisk(position, market, markFor(market));
    });
    const risk = accountRisk(account.collateral, risks);
    const state = marginState(risk);
    if (state === account.marginState) continue;
    draft.putAccount({ ...account, marginState: state, updatedBlock: draft.block.number });
    draft.records.transitions.push({
      accountId: id,
      blockNumber: draft.block.number,
      timestamp: draft.block.timestamp,
      from: account.marginState,
      to: state,
      equity: narrow(risk.equity),
      initialMargin: narrow(risk.initialMargin),
      maintenanceMargin: narrow(risk.maintenanceMargin),
    });
  }
}
