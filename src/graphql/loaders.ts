/**
 * The per-request DataLoaders: every read of a resolver goes through them, so that a list
 * of N parents costs one statement per kind of row, not N (also when a long execution
 * resumes in turns: `scheduleBatch`, the operation budget's). They cache for the request only
 * (the snapshot is per request, so nothing can go stale within one).
 */
import DataLoader from 'dataloader';
import type { Account, LedgerParams, Market, Position } from '../ledger/index.js';
import type { BlockShared } from './block-cache.js';
import { loadAccounts } from './modules/account/sql.js';
import { loadMarkets, loadMarketStats, NO_STATS, type MarketStats } from './modules/market/sql.js';
import { loadPositions, loadPositionsOf } from './modules/position/sql.js';
import { loadUnderlyings, type UnderlyingRow } from './modules/underlying/sql.js';
import { Memo, MemoMap, then, type Now } from './memo.js';
import type { ExecutionBudget } from './protection/budget.js';
import { RiskMemo } from './risk.js';
import type { Prefetched, RunQuery } from './snapshot.js';

/** What a subscription event knows of its block beforehand (context.ts `refresh(pin)`): its shared values and its timestamp. */
export interface KnownBlock {
  shared: BlockShared;
  timestamp: number;
}

export class Loaders {
  /** Derived values (marks, position and account risk), memoized for the request. */
  readonly risk: RiskMemo;
  /** The block's timestamp when known beforehand (an event pinned to its block): risk is then derived without a promise. */
  readonly timestamp: number | undefined;

  // The DataLoaders are made on first use: an account event pinned to its block reads
  // everything from the block's shared values and never needs one (10,000 events a tick).
  private accountLoader: DataLoader<string, Account | null> | undefined;
  private openPositionsLoader: DataLoader<string, readonly Position[]> | undefined;
  private allPositionsLoader: DataLoader<string, readonly Position[]> | undefined;
  private positionLoader: DataLoader<string, Position | null> | undefined;
  private marketStatsLoader: DataLoader<string, MarketStats> | undefined;

  private readonly sharedMemo: Memo<BlockShared | null>;
  private readonly marketsMemo: Memo<ReadonlyMap<string, Market>>;
  private readonly underlyingsMemo: Memo<ReadonlyMap<string, UnderlyingRow>>;
  private readonly stats = new MemoMap<string, MarketStats>();
  private readonly accounts = new MemoMap<string, Account | null>();
  private batches: Map<string, DataLoader<string, unknown>> | undefined;
  /** Only `batchScheduleFn`: the same options suit loaders of any value type. */
  private readonly batching: { batchScheduleFn?: (dispatch: () => void) => void };

  constructor(
    private readonly query: RunQuery,
    now: () => Promise<number>,
    params: LedgerParams,
    /** Values shared with other requests at the same block (block-cache.ts); null: none. */
    shared: () => Promise<BlockShared | null> = async () => null,
    /** The current operation's budget (protection/budget.ts): it times batches and paces derived work; default none. */
    private readonly budget?: () => ExecutionBudget,
    /** The block's shared values and timestamp when known beforehand: read synchronously from the start. */
    known?: KnownBlock,
    /** Rows the snapshot read as it opened (snapshot.ts), used instead of reading them again. */
    prefetched: () => Promise<Prefetched | undefined> = async () => undefined,
  ) {
    this.batching = budget ? { batchScheduleFn: (dispatch) => budget().scheduleBatch(dispatch) } : {};
    this.sharedMemo = new Memo(shared);
    this.timestamp = known?.timestamp;
    if (known) this.sharedMemo.settle(known.shared);
    this.risk = new RiskMemo(this, now, params);
    this.marketsMemo = new Memo(async () => {
      const cache = await this.shared();
      if (cache?.markets) return cache.markets;
      const markets = await loadMarkets(query, (await prefetched())?.markets);
      if (cache) cache.markets = markets;
      return markets;
    }, () => this.sharedNow()?.markets);
    // An underlying that markets name but no oracle has reported yet is listed too, without an index.
    this.underlyingsMemo = new Memo(async () => {
      const cache = await this.shared();
      if (cache?.underlyings) return cache.underlyings;
      const [rows, markets] = await Promise.all([prefetched().then((early) => loadUnderlyings(query, early?.underlyings)), this.markets()]);
      const all = new Map(rows);
      for (const market of markets.values()) {
        if (!all.has(market.underlying)) all.set(market.underlying, { id: market.underlying, indexPrice: null, indexStale: true, sources: [] });
      }
      const underlyings = new Map([...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      if (cache) cache.underlyings = underlyings;
      return underlyings;
    }, () => this.sharedNow()?.underlyings);
  }

  get account(): DataLoader<string, Account | null> {
    return (this.accountLoader ??= new DataLoader(
      async (ids) => throughShared(ids, (await this.shared())?.accounts, (missing) => loadAccounts(this.query, missing), null),
      this.batching,
    ));
  }

  /** Open positions of an account, by market id. */
  get openPositions(): DataLoader<string, readonly Position[]> {
    return (this.openPositionsLoader ??= new DataLoader(
      async (ids) => throughShared(ids, (await this.shared())?.openPositions, async (missing) => this.primed(await loadPositionsOf(this.query, missing, false)), []),
      this.batching,
    ));
  }

  /** Every position of an account, closed ones included, by market id then lifecycle. */
  get allPositions(): DataLoader<string, readonly Position[]> {
    return (this.allPositionsLoader ??= new DataLoader(async (ids) => inOrder(ids, this.primed(await loadPositionsOf(this.query, ids, true)), []), this.batching));
  }

  get position(): DataLoader<string, Position | null> {
    return (this.positionLoader ??= new DataLoader(async (ids) => inOrder(ids, await loadPositions(this.query, ids), null), this.batching));
  }

  /** Open interest and holder counts per market, from one grouped statement. */
  get marketStats(): DataLoader<string, MarketStats> {
    return (this.marketStatsLoader ??= new DataLoader(
      async (ids) => throughShared(ids, (await this.shared())?.marketStats, (missing) => loadMarketStats(this.query, missing), NO_STATS),
      this.batching,
    ));
  }

  /**
   * Before deriving values from rows that just arrived: many of an operation's views
   * resume at once when their batch answers, and each computes its risk then (paced work).
   */
  resume(): void | Promise<void> {
    return this.budget?.().resume();
  }

  /** Values shared with other requests at the same block; null: none. */
  shared(): Promise<BlockShared | null> {
    return this.sharedMemo.get();
  }

  /**
   * The shared values once the request knows its block, else `undefined`: memos peek here
   * so that what an earlier request at this block computed answers synchronously (no
   * promise, so graphql-js completes the field at once).
   */
  sharedNow(): BlockShared | null | undefined {
    return this.sharedMemo.settled();
  }

  /** Every market, by id (one statement, shared by every market read of the request). */
  markets(): Promise<ReadonlyMap<string, Market>> {
    return this.marketsMemo.get();
  }

  /** Every underlying with its oracle sources, by id. */
  underlyings(): Promise<ReadonlyMap<string, UnderlyingRow>> {
    return this.underlyingsMemo.get();
  }

  underlying(id: string): Now<UnderlyingRow | null> {
    return then(this.underlyingsMemo.now(), (underlyings) => underlyings.get(id) ?? null);
  }

  /** Open interest and holder counts of a market (batched through `marketStats`). */
  marketStatsOf(id: string): Now<MarketStats> {
    return this.stats.now(id, () => this.marketStats.load(id), () => this.sharedNow()?.marketStats.get(id));
  }

  /** An account by id, batched through `account`; synchronous once read. */
  accountOf(id: string): Now<Account | null> {
    return this.accounts.now(id, () => this.account.load(id), () => this.sharedNow()?.accounts.get(id));
  }

  /** Accounts a list statement already read: later loads of them cost nothing. */
  primeAccounts(accounts: Iterable<Account>): void {
    for (const account of accounts) {
      this.account.prime(account.id, account);
      this.accounts.settle(account.id, account);
    }
  }

  /**
   * A loader for one batched read keyed by parent id, shared by every resolver call with
   * the same `name` (a field and its arguments): one statement for all parents.
   */
  batch<V>(name: string, load: (ids: readonly string[]) => Promise<ReadonlyMap<string, V>>): DataLoader<string, V> {
    this.batches ??= new Map();
    let loader = this.batches.get(name) as DataLoader<string, V> | undefined;
    if (!loader) {
      loader = new DataLoader<string, V>(async (ids) => {
        const found = await load(ids);
        return ids.map((id) => (found.has(id) ? found.get(id)! : new Error(`batch ${name} returned nothing for ${id}`)));
      }, this.batching);
      this.batches.set(name, loader as DataLoader<string, unknown>);
    }
    return loader;
  }

  private primed(byAccount: Map<string, Position[]>): Map<string, Position[]> {
    for (const positions of byAccount.values()) for (const p of positions) this.position.prime(p.id, p);
    return byAccount;
  }
}

/**
 * Values of `keys`: those the block's shared cache holds, the rest read with `load` (one
 * statement) and added to it; `missing` for keys `load` does not return.
 */
async function throughShared<V>(
  keys: readonly string[],
  cache: { has(key: string): boolean; get(key: string): V | undefined; set(key: string, value: V): unknown } | undefined,
  load: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>,
  missing: V,
): Promise<V[]> {
  if (!cache) return inOrder(keys, await load(keys), missing);
  const wanted = keys.filter((key) => !cache.has(key));
  const found: ReadonlyMap<string, V> = wanted.length > 0 ? await load(wanted) : new Map();
  for (const key of wanted) cache.set(key, found.has(key) ? found.get(key)! : missing);
  return keys.map((key) => (found.has(key) ? found.get(key)! : cache.has(key) ? cache.get(key)! : missing));
}

function inOrder<V>(keys: readonly string[], found: ReadonlyMap<string, V>, missing: V): V[] {
  return keys.map((key) => (found.has(key) ? found.get(key)! : missing));
}
