import { formatFixed, mul } from '../fixed/index.js';
import { accountFor, fitsStorage } from './accounts.js';
import { unknownMarket } from './apply-market-event.js';
import type { Draft } from './draft.js';
import { accountId, type EventOf } from './events.js';
import { trade } from './position-math.js';
import { isOpen, positionId, type Position } from './state.js';

/**
 * What an anomaly of a trade records. Made only for an anomaly: formatting amounts for
 * every fill cost a few % of a backfill, and so did a closure per fill that made them.
 */
function anomalyData(event: EventOf<'Filled' | 'Liquidated'>) {
  return {
    market: event.marketId,
    account: accountId(event.owner, event.subaccount),
    sizeDelta: formatFixed(event.sizeDelta),
    price: formatFixed(event.price),
  };
}

/**
 * A fill or liquidation (SPEC section 3, ledger rules). Perpetuals settle accrued funding
 * into collateral before the size changes, then realize PnL into it; options move
 * collateral by the premium only (-sizeDelta * price) and report realized PnL.
 * Fees and liquidation penalties come out of collateral.
 */
export function applyTrade(draft: Draft, event: EventOf<'Filled' | 'Liquidated'>): void {
  const market = draft.market(event.marketId);
  if (!market) return unknownMarket(draft, event);
  if (event.price === 0n) {
    draft.anomaly(event, 'ZERO_PRICE', `${event.type} at price 0 on ${event.marketId}`, anomalyData(event));
    return;
  }
  if (event.sizeDelta === 0n) {
    draft.anomaly(event, 'ZERO_SIZE_FILL', `${event.type} of size 0 on ${event.marketId}`, anomalyData(event));
    return;
  }
  const perpetual = market.kind === 'PERPETUAL';
  if (!perpetual && (market.settledBlock !== null || market.expiry <= draft.block.timestamp)) {
    draft.anomaly(event, 'EXPIRED_OPTION_FILL', `${event.type} on ${event.marketId} after its expiry ${market.expiry}`, anomalyData(event));
    return;
  }

  const account = accountFor(draft, event.owner, event.subaccount);
  const block = draft.block.number;
  const previous = draft.position(account.id, market.id);
  const position: Position = previous && isOpen(previous) ? previous : {
    id: positionId(account.id, market.id, (previous?.seq ?? 0) + 1),
    accountId: account.id,
    marketId: market.id,
    seq: (previous?.seq ?? 0) + 1,
    size: 0n,
    entryPrice: null,
    realizedPnl: 0n,
    fundingSnapshot: market.cumulativeFunding,
    settledFunding: 0n,
    feesPaid: 0n,
    openedBlock: block,
    closedBlock: null,
    updatedBlock: block,
  };

  const funding = perpetual ? mul(-position.size, market.cumulativeFunding - position.fundingSnapshot) : 0n;
  const result = trade(position.size, position.entryPrice, event.sizeDelta, event.price);
  const penalty = event.type === 'Liquidated' ? event.penalty : 0n;
  const fee = event.type === 'Filled' ? event.fee : 0n;
  const cash = perpetual ? result.realized : -mul(event.sizeDelta, event.price);
  const collateral = account.collateral + funding + cash - fee - penalty;
  const next: Position = {
    ...position,
    size: result.size,
    entryPrice: result.entryPrice,
    realizedPnl: position.realizedPnl + result.realized,
    fundingSnapshot: market.cumulativeFunding,
    settledFunding: position.settledFunding + funding,
    feesPaid: position.feesPaid + fee,
    closedBlock: result.size === 0n ? block : null,
    updatedBlock: block,
  };
  if (!fitsStorage(collateral, next.size, next.realizedPnl, result.realized, next.settledFunding, next.feesPaid, event.sizeDelta, event.price, fee, penalty)) {
    draft.anomaly(event, 'VALUE_OUT_OF_RANGE', `${event.type} on ${event.marketId} overflows NUMERIC(78,18)`, anomalyData(event));
    return;
  }

  draft.putPosition(next);
  draft.putAccount({ ...account, collateral, updatedBlock: block });
  draft.putMarket({ ...market, lastFillPrice: event.price, updatedBlock: block });
  draft.touched.add(account.id);
  draft.records.fills.push({
    blockNumber: event.blockNumber,
    logIndex: event.logIndex,
    transactionHash: event.transactionHash,
    transactionIndex: event.transactionIndex,
    timestamp: draft.block.timestamp,
    marketId: market.id,
    accountId: account.id,
    positionId: next.id,
    size: event.sizeDelta,
    price: event.price,
    fee,
    realizedPnl: result.realized,
    liquidation: event.type === 'Liquidated',
    liquidator: event.type === 'Liquidated' ? event.liquidator.toLowerCase() : null,
    penalty: event.type === 'Liquidated' ? event.penalty : null,
  });
}
