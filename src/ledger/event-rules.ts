/**
 * The rule of each venue event kind (SPEC section 3), one entry per kind of `VenueEvent`:
 * a kind added to events.ts without its rule here does not compile.
 */
import { applyCollateralEvent } from './apply-collateral-event.js';
import { applyMarginFractionsUpdated, applyMarketListed, applyVolatilityReported } from './apply-market-event.js';
import { applyPriceReport } from './apply-price-report.js';
import { applyTrade } from './apply-trade.js';
import type { Draft } from './draft.js';
import type { EventOf, VenueEvent, VenueEventType } from './events.js';

type Rules = { readonly [T in VenueEventType]: (draft: Draft, event: EventOf<T>) => void };

const RULES: Rules = {
  MarketListed: applyMarketListed,
  MarginFractionsUpdated: applyMarginFractionsUpdated,
  VolatilityReported: applyVolatilityReported,
  Deposited: applyCollateralEvent,
  Withdrawn: applyCollateralEvent,
  Filled: applyTrade,
  Liquidated: applyTrade,
  PriceReported: applyPriceReport,
  Malformed: (draft, event) => draft.anomaly(event, 'MALFORMED_LOG', `undecodable venue log: ${event.reason}`, { topics: event.topics, data: event.data }),
};

/** Applies one event to the block being built, by its kind's rule. */
export function applyEvent(draft: Draft, event: VenueEvent): void {
  (RULES[event.type] as (draft: Draft, event: VenueEvent) => void)(draft, event);
}
