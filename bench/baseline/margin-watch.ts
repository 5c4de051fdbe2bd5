// The margin watch this branch replaces (src/ledger/margin-watch.ts at 45ed31d), kept only as
// bench/margin-pass.ts's same-run baseline.
import { abs, max, min, ONE, type Fixed } from '../../src/fixed/index.js';
import type { Mark } from '../../src/risk/mark.js';
import type { Margins } from '../../src/risk/position.js';
import type { Market } from '../../src/ledger/state.js';

/**
 * Which holders' margin state cannot have changed, so the block's margin pass may skip
 * them: a bound, exact in integers, on how far an account's equity and margins can have
 * moved since they were last computed.
 *
 * Between two of an account's own events its positions and collateral stand still; its
 * equity and margins move only with what one unit of each of its markets is worth and
 * requires. Per unit of market m, one block moves equity by du (perpetual: index minus
 * cumulative funding; option: its value) and a margin by dIM or dMM (index x fraction),
 * so the account's distance to any threshold of its state (equity against 0, MM and IM,
 * SPEC section 4) moves by at most sum |s_i| * D_i, with D = |du| + max(|dIM|, |dMM|).
 * With a fixed positive scale P per market, that is at most W * max_m(D_m / P_m), where
 * W = sum |s_i| * P_i is the account's gross exposure at those scales. `drift` adds up
 * max_m(D_m / P_m) (rounded up) over blocks; an account whose distance to its nearest
 * threshold was `slack` when computed keeps its state while W * (drift - drift then) < slack.
 * Each evaluated account gets the last drift at which that still holds (`limit`).
 *
 * A market is watched only while one unit has the same value for every holder: its
 * index is known and positive and it is not settled (before its first index a position
 * is marked at its own entry price). Holders of a market not watched, or watched from this
 * block on, are evaluated every block, as are accounts with events of their own.
 */
export interface MarginWatch {
  /** Sum over blocks of max_m(D_m / P_m), 36 decimals, each term rounded up. */
  drift: bigint;
  markets: Map<string, WatchedMarket>;
  /** Per account: the drift up to which its state cannot change; null: not until its own events (no positions). */
  limits: Map<string, bigint | null>;
}

/** One unit of a market at the last block, in the units of the margin sums. */
export interface WatchedMarket {
  /** Scale P (18 decimals, positive): the index when the market was first watched. */
  scale: Fixed;
  /** What one unit adds to equity, less its entry (18 decimals): M - F (perpetual) or the value (option). */
  equity: Fixed;
  /** Margins of one unit, 36 decimals: M x IMF and M x MMF. */
  initialMargin: bigint;
  maintenanceMargin: bigint;
}

/** What a block changes in the watch (`BlockChanges.marginWatch`); `commitWatch` applies it. */
export interface MarginWatchChanges {
  drift: bigint;
  /** New per-unit amounts; null: no longer watched. */
  markets: Map<string, WatchedMarket | null>;
  limits: Map<string, bigint | null>;
}

export function emptyWatch(): MarginWatch {
  return { drift: 0n, markets: new Map(), limits: new Map() };
}

/** A market's unit at this block's mark, or null if one unit is not worth the same to every holder. */
export function watchedUnit(market: Market, mark: Mark, before: WatchedMarket | undefined): WatchedMarket | null {
  const index = mark.indexPrice;
  if (index === null || index <= 0n || mark.value === null || market.settledBlock !== null) return null;
  return {
    scale: before?.scale ?? index,
    equity: market.kind === 'PERPETUAL' ? index - market.cumulativeFunding : mark.value,
    initialMargin: index * market.initialMarginFraction,
    maintenanceMargin: index * market.maintenanceMarginFraction,
  };
}

/** D / P of one block, 36 decimals, rounded up. */
export function driftOf(before: WatchedMarket, now: WatchedMarket): bigint {
  const margin = max(abs(now.initialMargin - before.initialMargin), abs(now.maintenanceMargin - before.maintenanceMargin));
  const perUnit = abs(now.equity - before.equity) * ONE + margin; // 36 decimals
  return ceilDiv(perUnit * ONE, now.scale);
}

/**
 * The last drift at which an account evaluated at `drift`, with `margins` and gross exposure
 * `exposure` (sum |s| x P, 36 decimals), still has the state it has now.
 */
export function limitOf(drift: bigint, margins: Margins, exposure: bigint): bigint | null {
  const { equity, initialMargin, maintenanceMargin } = margins;
  if (exposure === 0n) return null;
  const slack = min(abs(equity), min(abs(equity - maintenanceMargin), abs(equity - initialMargin))); // 54 decimals
  if (slack === 0n) return -1n; // on a threshold: any move may cross it
  // exposure (36) x (drift - then) (36) < slack (54) x 1e18, in integers:
  return drift + (slack * ONE - 1n) / exposure;
}

/** Whether an account's state may have changed by the time the drift reaches `drift`. */
export function mayHaveMoved(watch: MarginWatch, accountId: string, drift: bigint): boolean {
  const limit = watch.limits.get(accountId);
  return limit !== null && (limit === undefined || limit < drift);
}

export function commitWatch(watch: MarginWatch, changes: MarginWatchChanges): void {
  watch.drift = changes.drift;
  for (const [id, market] of changes.markets) {
    if (market) watch.markets.set(id, market);
    else watch.markets.delete(id);
  }
  for (const [id, limit] of changes.limits) watch.limits.set(id, limit);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b; // a >= 0, b > 0
}
