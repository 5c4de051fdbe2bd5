/**
 * Values shared by every request that reads the same committed block. Everything a
 * request derives (marks, account risk, liquidation prices) and every row it reads is a
 * function of the block its snapshot sees (SPEC: one request, one block): two requests at
 * the block with the same chain id, number and hash read the same rows and compute the
 * same values. So the first one to need a row or a derived value at a block computes it
 * and later ones at that block take it from here, instead of each issuing the same SQL
 * and rerunning option pricing and liquidation-price searches.
 *
 * Only settled values are shared (never promises, which carry one request's snapshot and
 * fail with it). Only the newest block is kept: a new block replaces it whole, a request
 * still reading an older one gets a private, empty cache. The account-keyed maps stop
 * growing at `maxAccounts` entries; requests beyond that compute for themselves.
 */
import type { Account, Market, Position } from '../ledger/index.js';
import type { Mark } from '../risk/mark.js';
import type { MarketStats } from './modules/market/sql.js';
import type { MarketView } from './modules/market/view.js';
import type { UnderlyingRow } from './modules/underlying/sql.js';
import type { AccountView, PositionView } from './risk.js';
import type { SnapshotBlock } from './snapshot.js';

export class BlockShared {
  markets: ReadonlyMap<string, Market> | undefined;
  underlyings: ReadonlyMap<string, UnderlyingRow> | undefined;
  marks: ReadonlyMap<string, Mark> | undefined;
  marketViews: ReadonlyMap<string, MarketView> | undefined;
  readonly marketStats = new Map<string, MarketStats>();
  readonly accounts: BoundedMap<Account | null>;
  readonly openPositions: BoundedMap<readonly Position[]>;
  readonly accountViews: BoundedMap<AccountView | null>;
  readonly positionViews: BoundedMap<PositionView>;

  constructor(maxAccounts: number) {
    this.accounts = new BoundedMap(maxAccounts);
    this.openPositions = new BoundedMap(maxAccounts);
    this.accountViews = new BoundedMap(maxAccounts);
    this.positionViews = new BoundedMap(maxAccounts * 10);
  }
}

/** A map that ignores new keys once it holds `max` of them. */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly max: number) {}

  has(key: string): boolean {
    return this.map.has(key);
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    if (this.map.size < this.max || this.map.has(key)) this.map.set(key, value);
  }

  get size(): number {
    return this.map.size;
  }
}

export class BlockCache {
  private current: { key: string; number: number; shared: BlockShared } | null = null;

  /** 20,000 accounts with ten positions each hold roughly 100-200 MB of rows and views. */
  constructor(private readonly maxAccounts = 20_000) {}

  /** The shared values of `block`; a private empty set for a block older than the newest seen. */
  at(block: SnapshotBlock): BlockShared {
    const key = `${block.chainId}:${block.number}:${block.hash}`;
    if (this.current?.key === key) return this.current.shared;
    if (this.current && block.number < this.current.number) return new BlockShared(this.maxAccounts);
    this.current = { key, number: block.number, shared: new BlockShared(this.maxAccounts) };
    return this.current.shared;
  }
}
