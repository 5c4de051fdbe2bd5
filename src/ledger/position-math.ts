import { abs, divRound, min, mul, sign, type Fixed } from '../fixed/index.js';

export interface Trade {
  size: Fixed;
  entryPrice: Fixed | null;
  /** PnL realized by this trade: closed * (p - E) * sign(s). */
  realized: Fixed;
}

/**
 * A fill or liquidation of `delta` at `price` on a position of `size` entered at
 * `entryPrice` (SPEC section 3, ledger rules). Adding to a position averages the entry;
 * reducing realizes PnL on the closed part; a flip opens the remainder at `price`; a
 * position back at zero has no entry price.
 */
export function trade(size: Fixed, entryPrice: Fixed | null, delta: Fixed, price: Fixed): Trade {
  if (size === 0n || sign(size) === sign(delta)) {
    const entry = size === 0n || entryPrice === null
      ? price
      : divRound(abs(size) * entryPrice + abs(delta) * price, abs(size) + abs(delta));
    return { size: size + delta, entryPrice: entry, realized: 0n };
  }
  const closed = min(abs(delta), abs(size));
  const realized = mul(closed, price - entryPrice!) * sign(size);
  const next = size + delta;
  if (next === 0n) return { size: 0n, entryPrice: null, realized };
  const flipped = sign(next) !== sign(size);
  return { size: next, entryPrice: flipped ? price : entryPrice, realized };
}
