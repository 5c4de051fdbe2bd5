// The margin pass this branch replaces (src/ledger/evaluate-margins.ts and margin-watch.ts at
// 45ed31d), kept only as bench/margin-pass.ts's same-run baseline. Changed: the watch is passed
// in and its changes returned (it no longer lives in LedgerState), `affectedMarkets` moved here
// from apply-block.ts.
import { abs, formatFixed, max, narrow, type Fixed } from '../../src/fixed/index.js';
import { clampStorage, fitsStorage } from '../../src/ledger/accounts.js';
import { marginStateOf } from '../../src/risk/margin-state.js';
import { markOf, type Mark } from '../../src/risk/mark.js';
import { addMargins, marginsOf, type MarginSums } from '../../src/risk/position.js';
import type { Draft } from '../../src/ledger/draft.js';
import { driftOf, limitOf, mayHaveMoved, watchedUnit, type MarginWatchChanges, type WatchedMarket } from './margin-watch.js';
import type { Market } from '../../src/ledger/state.js';
import type { MarginWatch } from './margin-watch.js';

/**
 * An empty Set, not `[]`, where a market has no holders: V8 keeps a for-of loop free of
 * per-step allocations only while it sees one kind of iterable, and these loops run over
 * every holder of every market moved in a block.
 */
const NO_HOLDERS: ReadonlySet<string> = new Set();

/**
 * Re-evaluates the margin state of every account whose inputs changed in this block
 * (SPEC section 4) and records each change of state as a transition of this block.
 * `affectedMarkets` are the markets whose marks or terms moved; their holders are
 * evaluated along with every account that had an event.
 *
 * The state is decided on the exact amounts. A transition whose equity or margins lie
 * beyond NUMERIC(78,18) (astronomical size x index) is still recorded, since the state
 * did change and subscribers must hear of it, with those amounts saturated at the largest
 * storable magnitude (sign kept; the exact state is the row's `to`) and a
 * VALUE_OUT_OF_RANGE anomaly carrying the exact values: the columns are NOT NULL, and a row
 * the database cannot store would stop ingestion (SPEC section 2).
 */
export function evaluateMargins(draft: Draft, affectedMarkets: Iterable<string>, riskFreeRate: Fixed, watch: MarginWatch): MarginWatchChanges {
  // Each market and its mark at this block, looked up once per position.
  const valued = new Map<string, { market: Market; mark: Mark; unit: WatchedMarket | null }>();
  const changes: MarginWatchChanges = { drift: watch.drift, markets: new Map(), limits: new Map() };
  const evaluate = new Set(draft.touched);
  let step = 0n;
  for (const id of new Set([...draft.base.markets.keys(), ...draft.markets.keys()])) {
    const market = draft.market(id)!;
    const index = draft.underlying(market.underlying)?.indexPrice ?? null;
    const mark = markOf(market, index, draft.block.timestamp, riskFreeRate);
    const before = watch.markets.get(id);
    const unit = watchedUnit(market, mark, before);
    valued.set(id, { market, mark, unit });
    if (unit && before) step = max(step, driftOf(before, unit));
    else for (const holder of draft.base.holders.get(id) ?? NO_HOLDERS) evaluate.add(holder);
    if (unit || before) changes.markets.set(id, unit);
  }
  changes.drift += step;
  for (const marketId of affectedMarkets) {
    for (const holder of draft.base.holders.get(marketId) ?? NO_HOLDERS) {
      if (mayHaveMoved(watch, holder, changes.drift)) evaluate.add(holder);
    }
  }

  const sums: MarginSums = { equityProducts: 0n, initialMargin: 0n, maintenanceMargin: 0n };
  for (const id of evaluate) {
    const account = draft.account(id);
    if (!account) continue;
    sums.equityProducts = 0n;
    sums.initialMargin = 0n;
    sums.maintenanceMargin = 0n;
    let exposure = 0n;
    let watched = true;
    for (const position of draft.openPositions(id)) {
      const { market, mark, unit } = valued.get(position.marketId)!;
      addMargins(sums, position, market, mark);
      if (unit) exposure += abs(position.size) * unit.scale;
      else watched = false;
    }
    const risk = marginsOf(account.collateral, sums);
    changes.limits.set(id, watched ? limitOf(changes.drift, risk, exposure) : -1n);
    const state = marginStateOf(risk.equity, risk.initialMargin, risk.maintenanceMargin);
    if (state === account.marginState) continue;
    draft.putAccount({ ...account, marginState: state, updatedBlock: draft.block.number });
    const equity = narrow(risk.equity);
    const initialMargin = narrow(risk.initialMargin);
    const maintenanceMargin = narrow(risk.maintenanceMargin);
    if (!fitsStorage(equity, initialMargin, maintenanceMargin)) {
      draft.anomaly(null, 'VALUE_OUT_OF_RANGE', `margin transition of ${id} to ${state} has amounts beyond NUMERIC(78,18): recorded saturated`, {
        account: id,
        from: account.marginState,
        to: state,
        equity: formatFixed(equity),
        initialMargin: formatFixed(initialMargin),
        maintenanceMargin: formatFixed(maintenanceMargin),
      });
    }
    draft.records.transitions.push({
      accountId: id,
      blockNumber: draft.block.number,
      timestamp: draft.block.timestamp,
      from: account.marginState,
      to: state,
      equity: clampStorage(equity),
      initialMargin: clampStorage(initialMargin),
      maintenanceMargin: clampStorage(maintenanceMargin),
    });
  }
  return changes;
}

/** From apply-block.ts at 45ed31d. */
export function affectedMarkets(draft: Draft, timeMoved: boolean): Set<string> {
  const affected = new Set<string>();
  const movedUnderlyings = new Set<string>();
  for (const underlying of draft.underlyings.values()) {
    if (underlying.indexPrice !== draft.base.underlyings.get(underlying.id)?.indexPrice) movedUnderlyings.add(underlying.id);
  }
  for (const [id, before] of draft.base.markets) {
    const market = draft.market(id)!;
    if (
      movedUnderlyings.has(market.underlying) ||
      (timeMoved && market.kind !== 'PERPETUAL') ||
      market.cumulativeFunding !== before.cumulativeFunding ||
      market.initialMarginFraction !== before.initialMarginFraction ||
      market.maintenanceMarginFraction !== before.maintenanceMarginFraction ||
      market.impliedVolatility !== before.impliedVolatility ||
      market.settledBlock !== before.settledBlock
    ) {
      affected.add(id);
    }
  }
  return affected;
}
