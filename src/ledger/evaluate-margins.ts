import { formatFixed, mul, narrow, type Fixed } from '../fixed/index.js';
import { clampStorage, fitsStorage } from './accounts.js';
import { MarginBounds, type MarketBounds } from '../risk/margin-bounds.js';
import { marginStateOf, type MarginState } from '../risk/margin-state.js';
import { markOf, type Mark } from '../risk/mark.js';
import { addMargins, marginsOf, type MarginSums, type PositionTerms } from '../risk/position.js';
import type { Draft } from './draft.js';
import { RangeRecorder, collectDue, type FactorValue, type MarginIndex } from './margin-index/index.js';
import type { Market } from './state.js';

/**
 * An empty Set, not `[]`, where a market has no holders: V8 keeps a for-of loop free of
 * per-step allocations only while it sees one kind of iterable.
 */
const NO_HOLDERS: ReadonlySet<string> = new Set();

/** Which factors move a market's positions (bits), from its terms, its index and the time. */
const PRICE = 1;
const VOLATILITY = 2;
const FUNDING = 4;

function shapeOf(market: Market, indexPrice: Fixed | null, now: number): number {
  if (indexPrice === null || indexPrice <= 0n || market.settledBlock !== null) return 0;
  if (market.kind === 'PERPETUAL') return PRICE | (market.fundingInterval > 0 ? FUNDING : 0);
  return PRICE | (market.expiry > now ? VOLATILITY : 0);
}

/**
 * Re-evaluates the margin state of every account whose state may have changed in this
 * block (SPEC section 4) and records each change of state as a transition of this block.
 * Evaluated: every account with an event of its own; every holder of a market whose terms
 * changed or whose value stopped or started being a function of the factors (new margin
 * fractions, settlement, an index appearing, a new risk-free rate or time going back for
 * options); and, through the margin index, every account whose validity range a factor
 * (index, volatility, cumulative funding, time) has left. Any other account provably keeps
 * its state (src/risk/margin-bounds.ts). After a load the index is empty and every holder is
 * evaluated once.
 *
 * The state is decided on the exact amounts. A transition whose equity or margins lie
 * beyond NUMERIC(78,18) (astronomical size x index) is still recorded, since the state
 * did change and subscribers must hear of it, with those amounts saturated at the largest
 * storable magnitude (sign kept; the exact state is the row's `to`) and a
 * VALUE_OUT_OF_RANGE anomaly carrying the exact values: the columns are NOT NULL, and a row
 * the database cannot store would stop ingestion (SPEC section 2).
 */
export function evaluateMargins(draft: Draft, riskFreeRate: Fixed): void {
  const index = draft.base.marginIndex;
  const now = draft.block.timestamp;
  const baseTime = draft.base.lastBlock?.timestamp ?? now;
  const bounds = new MarginBounds(now, riskFreeRate);
  const factors = new Map<string, FactorValue>();
  const factorKeys: string[] = [];
  const factorIds = new Map<string, number>();
  const factor = (key: string, kind: 'PRICE' | 'VOLATILITY' | 'FUNDING', value: Fixed, scale?: Fixed): number => {
    let id = factorIds.get(key);
    if (id === undefined) {
      id = bounds.factor(kind, value, scale);
      factorIds.set(key, id);
      factorKeys.push(key);
      factors.set(key, { value, coordinate: bounds.origin(id) });
    }
    return id;
  };

  // Each market, its mark and its bounds at this block, looked up once per position; and the
  // markets whose holders must all be evaluated.
  const valued = new Map<string, { market: Market; mark: Mark; bounds: MarketBounds }>();
  const optionsChanged = index.ready && (riskFreeRate !== index.rate || now < index.time);
  const changedTerms: string[] = [];
  for (const id of new Set([...draft.base.markets.keys(), ...draft.markets.keys()])) {
    const market = draft.market(id)!;
    const indexPrice = draft.underlying(market.underlying)?.indexPrice ?? null;
    const shape = shapeOf(market, indexPrice, now);
    const ids = {
      price: shape & PRICE ? factor(`price:${market.underlying}`, 'PRICE', indexPrice!) : -1,
      volatility: shape & VOLATILITY ? factor(`volatility:${id}`, 'VOLATILITY', market.impliedVolatility ?? 0n) : -1,
      funding: shape & FUNDING ? factor(`funding:${id}`, 'FUNDING', market.cumulativeFunding, mul(indexPrice!, market.maxFundingRate)) : -1,
    };
    valued.set(id, { market, mark: markOf(market, indexPrice, now, riskFreeRate), bounds: bounds.market(market, ids) });
    const before = draft.base.markets.get(id);
    if (before && (
      before.initialMarginFraction !== market.initialMarginFraction ||
      before.maintenanceMarginFraction !== market.maintenanceMarginFraction ||
      before.settledBlock !== market.settledBlock ||
      shapeOf(before, draft.base.underlyings.get(market.underlying)?.indexPrice ?? null, baseTime) !== shape ||
      (optionsChanged && market.kind !== 'PERPETUAL')
    )) changedTerms.push(id);
  }

  const recorder = new RangeRecorder();
  const sums: MarginSums = { equityProducts: 0n, initialMargin: 0n, maintenanceMargin: 0n };
  const addPosition = (marketId: string, position: PositionTerms) => {
    const { market, mark, bounds: unit } = valued.get(marketId)!;
    addMargins(sums, position, market, mark);
    bounds.add(position.size, unit);
  };
  const inputs: { collateral: Fixed; marginState: MarginState } = { collateral: 0n, marginState: 'HEALTHY' };
  for (const id of accountsToEvaluate(draft, index, changedTerms, factors)) {
    const row = draft.base.accounts.row(id);
    if (!draft.accountMargin(id, row, inputs)) continue;
    sums.equityProducts = 0n;
    sums.initialMargin = 0n;
    sums.maintenanceMargin = 0n;
    bounds.begin();
    draft.forEachOpenTerms(id, addPosition, row);
    const risk = marginsOf(inputs.collateral, sums);
    const state = marginStateOf(risk.equity, risk.initialMargin, risk.maintenanceMargin);
    recorder.account(id);
    bounds.finish(risk.equity, risk.initialMargin, risk.maintenanceMargin, state, recorder);
    if (state === inputs.marginState) continue;
    const account = draft.account(id)!;
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
  draft.marginIndex = { time: now, rate: riskFreeRate, factors, factorKeys, ranges: recorder.done() };
}

/**
 * The accounts to evaluate, each once: those with events (in event order), then the holders
 * of markets whose terms changed and the accounts the index finds due, in the order they
 * were first seen by the index. Before the index is filled: every holder.
 */
function accountsToEvaluate(draft: Draft, index: MarginIndex, changedTerms: readonly string[], factors: ReadonlyMap<string, FactorValue>): Iterable<string> {
  if (!index.ready) {
    const all = new Set(draft.touched);
    for (const id of draft.base.markets.keys()) for (const holder of draft.base.holders.get(id) ?? NO_HOLDERS) all.add(holder);
    return all;
  }
  // index.marks: which slots are already in, cleared again below (the one write to the index
  // before commit; a fresh bitmap per block would cost V8 full collections, see RangeSet).
  const seen = index.marks;
  const order = [...draft.touched];
  const touched: number[] = [];
  for (const id of order) {
    const slot = index.slots.get(id);
    if (slot !== undefined && !seen[slot]) {
      seen[slot] = 1;
      touched.push(slot);
    }
  }
  const due: number[] = [];
  const found = (slot: number) => {
    if (seen[slot]) return;
    seen[slot] = 1;
    due.push(slot);
  };
  // Every holder was evaluated when it opened its position, so it has a slot; if one had
  // none, it is evaluated all the same.
  const unknown = new Set<string>();
  for (const marketId of changedTerms) {
    for (const holder of draft.base.holders.get(marketId) ?? NO_HOLDERS) {
      const slot = index.slots.get(holder);
      if (slot === undefined) {
        if (!draft.touched.has(holder)) unknown.add(holder);
      } else found(slot);
    }
  }
  collectDue(index, factors, draft.block.timestamp, found);
  for (const slot of touched) seen[slot] = 0;
  for (const slot of due) seen[slot] = 0;
  due.sort((a, b) => a - b);
  for (const slot of due) order.push(index.ids[slot]!);
  order.push(...unknown);
  return order;
}
