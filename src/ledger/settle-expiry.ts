import { formatFixed, max, mul, type Fixed } from '../fixed/index.js';
import { fitsStorage } from './accounts.js';
import type { Draft } from './draft.js';
import type { Market } from './state.js';

/**
 * The first block at or after an option's expiry settles every open position in it,
 * before that block's events, at intrinsic value on the index price then (SPEC section 3):
 * C += s * max(0, S - K) for calls, s * max(0, K - S) for puts. Realized PnL is the
 * payout against the entry premium, s * (intrinsic - E). Without any index for the
 * underlying the settlement waits for the first one, and says so once. A payout that would
 * take collateral beyond NUMERIC(78,18) is not paid (VALUE_OUT_OF_RANGE, the position still
 * closes): a database write that cannot succeed would stop ingestion (SPEC section 2).
 */
export function settleExpired(draft: Draft, market: Market, indexPrice: Fixed | null): void {
  const { block } = draft;
  if (indexPrice === null) {
    const previous = draft.base.lastBlock?.timestamp;
    if (previous === undefined || previous < market.expiry) {
      draft.anomaly(null, 'SETTLEMENT_DEFERRED', `option ${market.id} expired but ${market.underlying} has no index yet`, {
        market: market.id,
        underlying: market.underlying,
      });
    }
    return;
  }
  const intrinsic = market.kind === 'CALL'
    ? max(0n, indexPrice - market.strike)
    : max(0n, market.strike - indexPrice);

  for (const holder of draft.base.holders.get(market.id) ?? []) {
    const position = draft.position(holder, market.id)!;
    const account = draft.account(holder)!;
    let payout = mul(position.size, intrinsic);
    let realized = mul(position.size, intrinsic - position.entryPrice!);
    if (!fitsStorage(payout, account.collateral + payout, position.realizedPnl + realized)) {
      draft.anomaly(null, 'VALUE_OUT_OF_RANGE', `settling ${position.id} pays ${formatFixed(payout)}, beyond NUMERIC(78,18): not paid`, {
        market: market.id,
        account: holder,
        size: formatFixed(position.size),
        settlementPrice: formatFixed(indexPrice),
        payout: formatFixed(payout),
      });
      payout = 0n;
      realized = 0n;
    }
    draft.putPosition({
      ...position,
      size: 0n,
      entryPrice: null,
      realizedPnl: position.realizedPnl + realized,
      closedBlock: block.number,
      updatedBlock: block.number,
    });
    draft.putAccount({ ...account, collateral: account.collateral + payout, updatedBlock: block.number });
    draft.records.optionSettlements.push({
      positionId: position.id,
      marketId: market.id,
      accountId: holder,
      blockNumber: block.number,
      timestamp: block.timestamp,
      size: position.size,
      settlementPrice: indexPrice,
      payout,
    });
  }
  draft.putMarket({ ...market, settlementPrice: indexPrice, settledBlock: block.number, updatedBlock: block.number });
}
