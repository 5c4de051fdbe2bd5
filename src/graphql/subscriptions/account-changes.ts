/**
 * Which watched accounts (those with an `accountUpdated` subscriber in this process) a
 * chunk of committed blocks changed, worked out inside the feed's snapshot (feed.ts), and
 * their rows read there, once for all of them, into the block's shared cache.
 *
 * An account's served values (SPEC sections 4 and 8) change with:
 * - its own events: fills and liquidations, deposits and withdrawals, option settlements,
 *   margin transitions (every write of its `account` or `position` rows comes with one of
 *   these history rows, each stored with its block);
 * - the marks of the markets it holds open positions in: an index price or its staleness
 *   (`index_price`), an implied volatility, margin fractions, a funding settlement at a
 *   rate other than 0 (at 0 the funding index does not move);
 * - time, for an account holding an open option (its value and Greeks decay every block).
 * One statement reads all of these for the chunk; the open positions that say what an
 * account holds are the block cache's (carried over from the block before for accounts the
 * commit did not change), and only the missing ones are read, in two statements for all.
 *
 * The events are executed at the block the rows were read at (the snapshot's, the newest
 * committed then): the selection reads those rows from the cache, with no statement of its
 * own. Only watched accounts cost anything, so a price tick costs per affected subscriber.
 */
import type { LedgerParams, Market } from '../../ledger/index.js';
import { BlockShared, type BlockCache } from '../block-cache.js';
import type { RequestContext } from '../context.js';
import { Loaders } from '../loaders.js';
import type { SnapshotBlock } from '../snapshot.js';
import type { AccountChangeReader, ReadRows } from './feed.js';
import type { AccountEvent, Hub } from './hub.js';

export class AccountChanges implements AccountChangeReader {
  private warming = new Set<string>();
  private warmTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly hub: Hub,
    /** What option pricing and oracle staleness need (the API's). */
    private readonly params: LedgerParams,
    /** The process's block cache (HTTP requests at the same block share the rows); absent: a private one per chunk. */
    private readonly blockCache?: BlockCache,
    /** A read context at the newest block (the API's), to warm the cache for new watchers; absent: no warming. */
    private readonly context?: () => RequestContext,
  ) {}

  /**
   * A new watcher of `accountId`: its rows are read into the block cache soon, in batches
   * (every 50 ms), off the feed's path. Otherwise the first block after a reconnect storm
   * read 10,000 accounts' rows inside the feed, holding every subscriber's events for
   * seconds. The cache keeps them into the next block (the commit names what it changed).
   */
  watch(accountId: string): void {
    if (!this.context) return;
    this.warming.add(accountId);
    this.warmTimer ??= setTimeout(() => void this.warm(), 50);
  }

  private async warm(): Promise<void> {
    const ids = [...this.warming];
    this.warming = new Set();
    this.warmTimer = null;
    const context = this.context!();
    try {
      const loaders = context.loaders;
      await Promise.all([loaders.markets(), loaders.underlyings(), loaders.account.loadMany(ids), loaders.openPositions.loadMany(ids)]);
    } catch {
      // Only a head start: the feed reads whatever is missing when it needs it.
    } finally {
      await context.release();
    }
  }

  wanted(): boolean {
    return this.hub.hasAccountSubscribers;
  }

  async read(run: ReadRows, range: { after: number; last: number }, block: SnapshotBlock, everything: boolean, epoch: number): Promise<AccountEvent[]> {
    const watched = [...this.hub.subscribedAccounts()];
    if (watched.length === 0) return [];
    const shared = this.blockCache?.at(block) ?? new BlockShared(watched.length);
    const { after, last } = range;
    const within = `block_number > ${int(after)} AND block_number <= ${int(last)}`;
    const moves = await run<{ k: string; id: string }>(
      `SELECT 'u' AS k, underlying AS id FROM index_price WHERE ${within}
       UNION SELECT 'm', market_id FROM volatility_report WHERE ${within}
       UNION SELECT 'm', market_id FROM margin_fraction_update WHERE ${within}
       UNION SELECT 'm', market_id FROM funding_settlement WHERE ${within} AND rate <> 0
       UNION SELECT 'a', account_id FROM fill WHERE ${within}
       UNION SELECT 'a', account_id FROM collateral_transfer WHERE ${within}
       UNION SELECT 'a', account_id FROM option_settlement WHERE ${within}
       UNION SELECT 'a', account_id FROM margin_transition WHERE ${within}`,
    );
    const underlyings = new Set<string>();
    const markets = new Set<string>();
    const own = new Set<string>();
    for (const { k, id } of moves) (k === 'u' ? underlyings : k === 'm' ? markets : own).add(id);

    // What the watched accounts hold, their rows and the block's markets and oracles, into the
    // block's shared values, through the loaders every request uses: the executions then find
    // everything there (10,000 of them starting at once each read the oracles themselves).
    // Only the rows the block's values lack go through the loaders (on a live chain, those of
    // the accounts the commit changed): 10,000 loads of cached rows cost a promise each.
    const missing = watched.filter((id) => !shared.accounts.has(id) || !shared.openPositions.has(id));
    const loaders = new Loaders(serialized(run), async () => block.timestamp, this.params, async () => shared);
    const [byId, , accountList, positionLists] = await Promise.all([
      loaders.markets(),
      loaders.underlyings(),
      missing.length > 0 ? loaders.account.loadMany(missing) : [],
      missing.length > 0 ? loaders.openPositions.loadMany(missing) : [],
    ]);
    // Also by value: a full cache (20,000 accounts) ignores new keys, and their executions read them again.
    const accounts = new Map(missing.map((id, i) => [id, accountList[i]]));
    const positions = new Map(missing.map((id, i) => [id, positionLists[i]]));

    const events: AccountEvent[] = [];
    for (const id of watched) {
      const account = accounts.has(id) ? accounts.get(id) : shared.accounts.get(id);
      if (!account || account instanceof Error) continue; // not (or no longer) an account: nothing to serve
      const held = positions.has(id) ? positions.get(id) : shared.openPositions.get(id);
      if (!held || held instanceof Error) continue;
      if (!(everything || own.has(id) || holdsMoved(held, byId, markets, underlyings))) continue;
      events.push({ kind: 'account', accountId: id, block, shared, epoch });
    }
    return events;
  }
}

/** Whether any of `positions` is in a market whose mark moved, or is an option (time moved). */
function holdsMoved(positions: readonly { marketId: string }[], markets: ReadonlyMap<string, Market>, movedMarkets: ReadonlySet<string>, movedUnderlyings: ReadonlySet<string>): boolean {
  for (const { marketId } of positions) {
    if (movedMarkets.has(marketId)) return true;
    const market = markets.get(marketId);
    if (!market || market.kind !== 'PERPETUAL' || movedUnderlyings.has(market.underlying)) return true;
  }
  return false;
}

/** `run` one statement at a time (pg deprecates queueing several on a connection). */
function serialized(run: ReadRows): ReadRows {
  let previous: Promise<unknown> = Promise.resolve();
  return <R>(sql: string, params?: unknown[]) => {
    const next = previous.then(() => run<R>(sql, params));
    previous = next.catch(() => undefined);
    return next;
  };
}

/** A number written into SQL text: only a safe integer passes. */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer: ${n}`);
  return String(n);
}
