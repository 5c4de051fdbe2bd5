import { formatFixed } from '../fixed/index.js';
import { fitsStorage } from './accounts.js';
import type { Draft } from './draft.js';
import { MARKET_KINDS, type EventOf } from './events.js';
import { startClock } from './funding.js';

/** A new market (SPEC section 2, MarketListed). */
export function applyMarketListed(draft: Draft, event: EventOf<'MarketListed'>): void {
  const data = {
    market: event.marketId,
    kind: event.kind,
    strike: formatFixed(event.strike),
    expiry: event.expiry,
    fundingInterval: event.fundingInterval,
  };
  if (draft.market(event.marketId)) {
    draft.anomaly(event, 'DUPLICATE_MARKET', `market ${event.marketId} is already listed`, data);
    return;
  }
  const kind = MARKET_KINDS[event.kind];
  if (kind === undefined) {
    draft.anomaly(event, 'INVALID_MARKET', `market ${event.marketId} has unknown kind ${event.kind}`, data);
    return;
  }
  if (kind !== 'PERPETUAL' && (event.strike <= 0n || event.expiry <= 0)) {
    draft.anomaly(event, 'INVALID_MARKET', `option ${event.marketId} needs a strike and an expiry`, data);
    return;
  }
  if (!fitsStorage(event.strike, event.initialMarginFraction, event.maintenanceMarginFraction, event.maxFundingRate)) {
    draft.anomaly(event, 'VALUE_OUT_OF_RANGE', `market ${event.marketId} has terms beyond NUMERIC(78,18)`, data);
    return;
  }
  const fundingInterval = kind === 'PERPETUAL' ? event.fundingInterval : 0;
  if (kind === 'PERPETUAL' && fundingInterval <= 0) {
    draft.anomaly(event, 'FUNDING_DISABLED', `perpetual ${event.marketId} has funding interval 0: no funding accrues`, data);
  }
  draft.putMarket({
    id: event.marketId,
    underlying: event.underlying,
    kind,
    strike: event.strike,
    expiry: event.expiry,
    initialMarginFraction: event.initialMarginFraction,
    maintenanceMarginFraction: event.maintenanceMarginFraction,
    fundingInterval,
    maxFundingRate: event.maxFundingRate,
    impliedVolatility: null,
    lastFillPrice: null,
    cumulativeFunding: 0n,
    lastFundingRate: null,
    funding: startClock(fundingInterval, draft.block.timestamp),
    settlementPrice: null,
    settledBlock: null,
    venue: event.venue,
    listedBlock: draft.block.number,
    updatedBlock: draft.block.number,
  });
}

export function applyMarginFractionsUpdated(draft: Draft, event: EventOf<'MarginFractionsUpdated'>): void {
  const market = draft.market(event.marketId);
  if (!market) return unknownMarket(draft, event);
  if (!fitsStorage(event.initialMarginFraction, event.maintenanceMarginFraction)) {
    draft.anomaly(event, 'VALUE_OUT_OF_RANGE', `margin fractions of ${event.marketId} beyond NUMERIC(78,18)`, {
      market: event.marketId,
    });
    return;
  }
  draft.putMarket({
    ...market,
    initialMarginFraction: event.initialMarginFraction,
    maintenanceMarginFraction: event.maintenanceMarginFraction,
    updatedBlock: draft.block.number,
  });
  draft.records.marginFractionUpdates.push({
    blockNumber: event.blockNumber,
    logIndex: event.logIndex,
    transactionHash: event.transactionHash,
    timestamp: draft.block.timestamp,
    marketId: event.marketId,
    initialMarginFraction: event.initialMarginFraction,
    maintenanceMarginFraction: event.maintenanceMarginFraction,
  });
}

export function applyVolatilityReported(draft: Draft, event: EventOf<'VolatilityReported'>): void {
  const market = draft.market(event.marketId);
  if (!market) return unknownMarket(draft, event);
  if (!fitsStorage(event.impliedVolatility)) {
    draft.anomaly(event, 'VALUE_OUT_OF_RANGE', `volatility of ${event.marketId} beyond NUMERIC(78,18)`, {
      market: event.marketId,
    });
    return;
  }
  draft.putMarket({ ...market, impliedVolatility: event.impliedVolatility, updatedBlock: draft.block.number });
  draft.records.volatilityReports.push({
    blockNumber: event.blockNumber,
    logIndex: event.logIndex,
    transactionHash: event.transactionHash,
    timestamp: draft.block.timestamp,
    marketId: event.marketId,
    impliedVolatility: event.impliedVolatility,
  });
}

export function unknownMarket(draft: Draft, event: EventOf<'MarginFractionsUpdated' | 'VolatilityReported' | 'Filled' | 'Liquidated'>): void {
  draft.anomaly(event, 'UNKNOWN_MARKET', `${event.type} for unknown market ${event.marketId}`, { market: event.marketId });
}
