import { formatFixed, mul, type Fixed } from '../fixed/index.js';
import { fitsStorage } from './accounts.js';
import type { BlockChanges } from './changes.js';
import { Draft } from './draft.js';
import { compareLogs, type BlockHeader, type VenueEvent } from './events.js';
import { evaluateMargins } from './evaluate-margins.js';
import { applyEvent } from './event-rules.js';
import { advanceFunding, premiumFits, premiumOf } from './funding.js';
import { commitMarginIndex } from './margin-index/index.js';
import { indexAt } from './oracle.js';
import { settleExpired } from './settle-expiry.js';
import { putPosition, type LedgerState, type Market } from './state.js';

export interface LedgerParams {
  /** How old a source's report may be and still count in the index. Default 3600 (PTS_ORACLE_STALENESS_SECONDS). */
  oracleStalenessSeconds: number;
  /** Annual risk-free rate for option pricing. Default 0 (PTS_RISK_FREE_RATE). */
  riskFreeRate: Fixed;
}

export const DEFAULT_LEDGER_PARAMS: LedgerParams = { oracleStalenessSeconds: 3600, riskFreeRate: 0n };

/**
 * Applies one block to the ledger: the ledger's whole transition function. Pure: `state`
 * is read, never written; the result lists the new version of every row the block
 * changed and every history row it appended. Never throws on chain data: events that
 * break a rule become anomalies (SPEC section 2).
 *
 * Order within the block (SPEC section 3): time moves first (index staleness at the new
 * block time, funding periods that ended, expiry settlement, all on the index before the
 * block's events), then the events in log order, then the new index, the premium samples
 * and the margin states of every account whose inputs changed.
 */
export function applyBlock(
  state: LedgerState,
  block: BlockHeader,
  events: readonly VenueEvent[],
  params: LedgerParams = DEFAULT_LEDGER_PARAMS,
): BlockChanges {
  const draft = new Draft(state, block);
  const now = block.timestamp;

  refreshIndexes(draft, state.underlyings.keys(), params);
  for (const market of state.markets.values()) {
    if (market.kind === 'PERPETUAL') {
      const index = draft.underlying(market.underlying)?.indexPrice ?? null;
      const advanced = advanceFunding(market, now, index, block, (next) => accruedFundingFits(state, market, next));
      if (advanced.market !== market) draft.putMarket(advanced.market);
      draft.records.fundingSettlements.push(...advanced.settlements);
      for (const overflow of advanced.overflows) draft.anomaly(null, 'VALUE_OUT_OF_RANGE', overflow.message, overflow.data);
    } else if (market.settledBlock === null && market.expiry <= now) {
      settleExpired(draft, market, draft.underlying(market.underlying)?.indexPrice ?? null);
    }
  }

  for (const event of [...events].sort(compareLogs)) applyEvent(draft, event);

  refreshIndexes(draft, [...draft.underlyings.keys()], params);
  recordIndexChanges(draft);
  samplePremiums(draft);
  evaluateMargins(draft, params.riskFreeRate);
  return draft.changes(events.length);
}

function refreshIndexes(draft: Draft, ids: Iterable<string>, params: LedgerParams): void {
  for (const id of ids) {
    const underlying = draft.underlying(id)!;
    const { indexPrice, indexStale } = indexAt(underlying, draft.block.timestamp, params.oracleStalenessSeconds);
    if (indexPrice !== underlying.indexPrice || indexStale !== underlying.indexStale) {
      draft.putUnderlying({ ...underlying, indexPrice, indexStale, updatedBlock: draft.block.number });
    }
  }
}

/** One mark row per underlying whose index or staleness differs from the last block's. */
function recordIndexChanges(draft: Draft): void {
  for (const underlying of draft.underlyings.values()) {
    const before = draft.base.underlyings.get(underlying.id);
    if (underlying.indexPrice === null) continue;
    if (before && before.indexPrice === underlying.indexPrice && before.indexStale === underlying.indexStale) continue;
    draft.records.indexPrices.push({
      underlying: underlying.id,
      blockNumber: draft.block.number,
      timestamp: draft.block.timestamp,
      price: underlying.indexPrice,
      stale: underlying.indexStale,
    });
  }
}

/**
 * Whether every open position in `market` (as the block found them: funding settles before
 * the events) would still have storable accrued funding, and settled funding once that is
 * settled, at cumulative index `next`. A funding step that fails this is not applied, so
 * no later fill is refused for the funding it settles.
 */
function accruedFundingFits(state: LedgerState, market: Market, next: Fixed): boolean {
  if (next === market.cumulativeFunding) return true;
  for (const holder of state.holders.get(market.id) ?? []) {
    const position = state.openPositions.get(holder)!.get(market.id)!;
    const accrued = mul(-position.size, next - position.fundingSnapshot);
    if (!fitsStorage(accrued, position.settledFunding + accrued)) return false;
  }
  return true;
}

/**
 * After the events, each perpetual's premium is sampled; it holds until the next block.
 * A premium that would not fit NUMERIC(78,18), or whose weight over one funding period
 * (premium x interval seconds) would not, is held as null (no sample) and recorded as
 * VALUE_OUT_OF_RANGE when its inputs (last fill price, index) are new in this block.
 */
function samplePremiums(draft: Draft): void {
  for (const id of new Set([...draft.base.markets.keys(), ...draft.markets.keys()])) {
    const market = draft.market(id)!;
    if (market.kind !== 'PERPETUAL' || market.fundingInterval <= 0) continue;
    const index = draft.underlying(market.underlying)?.indexPrice ?? null;
    let premium = premiumOf(market.lastFillPrice, index);
    if (premium !== null && !premiumFits(premium, market.fundingInterval)) {
      const before = draft.base.markets.get(id);
      const inputsMoved = before?.lastFillPrice !== market.lastFillPrice ||
        draft.base.underlyings.get(market.underlying)?.indexPrice !== index;
      if (inputsMoved || market.funding.premium !== null) {
        draft.anomaly(null, 'VALUE_OUT_OF_RANGE', `premium of ${id} (last fill ${formatFixed(market.lastFillPrice!)} on index ${formatFixed(index!)}) is beyond NUMERIC(78,18) over a funding period: sampled as none`, {
          market: id,
          lastFillPrice: formatFixed(market.lastFillPrice!),
          indexPrice: formatFixed(index!),
          premium: formatFixed(premium),
          fundingInterval: market.fundingInterval,
        });
      }
      premium = null;
    }
    if (premium === market.funding.premium) continue;
    draft.putMarket({ ...market, funding: { ...market.funding, premium }, updatedBlock: draft.block.number });
    draft.records.fundingSamples.push({
      marketId: id,
      blockNumber: draft.block.number,
      timestamp: draft.block.timestamp,
      premium,
    });
  }
}

/**
 * Advances the shell's state past a block whose changes are committed. This is the one
 * place the ledger state is mutated.
 */
export function commitBlock(state: LedgerState, changes: BlockChanges): void {
  for (const market of changes.markets) state.markets.set(market.id, market);
  for (const underlying of changes.underlyings) state.underlyings.set(underlying.id, underlying);
  for (const account of changes.accounts) state.accounts.set(account.id, account);
  for (const position of changes.positions) putPosition(state, position);
  if (changes.marginIndex) commitMarginIndex(state.marginIndex, changes.marginIndex);
  state.lastBlock = changes.block;
}
