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
 * fail with it). Only the newest block is kept: a request still reading an older one gets
 * a private, empty cache. The account-keyed maps stop growing at `maxAccounts` entries;
 * requests beyond that compute for themselves.
 *
 * A new block starts with the stored rows of every account its commit did not change
 * (`committed`, from the commit notification), so that on a live chain, where each block
 * changes a few accounts and moves prices, a request for another account reads no rows
 * at all. Derived values (marks, risk) depend on the block's prices and start empty.
 */
import type { BlocksCommitted } from '../db/store/ledger-store.js';
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

  /** Takes the rows of `before` (a block this one descends from) of accounts not in `changed`. */
  carryOver(before: BlockShared, changed: ReadonlySet<string>): void {
    for (const [id, account] of before.accounts.entries()) if (!changed.has(id) && !this.accounts.has(id)) this.accounts.set(id, account);
    for (const [id, positions] of before.openPositions.entries()) if (!changed.has(id) && !this.openPositions.has(id)) this.openPositions.set(id, positions);
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

  entries(): MapIterator<[string, V]> {
    return this.map.entries();
  }
}

interface Entry {
  chainId: number;
  number: number;
  hash: string;
  shared: BlockShared;
}

export class BlockCache {
  private current: Entry | null = null;
  /** The block before `current`, kept until its commit notification has been applied. */
  private previous: Entry | null = null;

  /** 20,000 accounts with ten positions each hold roughly 100-200 MB of rows and views. */
  constructor(private readonly maxAccounts = 20_000) {}

  /** The shared values of `block`; a private empty set for a block older than the newest seen. */
  at(block: SnapshotBlock): BlockShared {
    const current = this.current;
    if (current && current.number === block.number && current.hash === block.hash && current.chainId === block.chainId) return current.shared;
    if (current && block.number < current.number) return new BlockShared(this.maxAccounts);
    this.previous = current;
    this.current = { chainId: block.chainId, number: block.number, hash: block.hash, shared: new BlockShared(this.maxAccounts) };
    return this.current.shared;
  }

  /**
   * A commit notification (undefined: one was lost or unreadable). When it names the
   * accounts the batch changed and the block the batch was committed on is the cached one
   * (or the one before it, if a request reached the new block first), the new block gets
   * the other accounts' rows. A reorg's batch or any doubt carries nothing over.
   */
  committed(commit: BlocksCommitted | undefined): void {
    if (commit?.reorg) {
      // After a rollback the new branch may be lower than the cached block: start over.
      this.current = this.previous = null;
      return;
    }
    if (!commit || commit.accounts === undefined || commit.parentHash === undefined) return;
    const parent = [this.current, this.previous].find((e) => e && e.number === commit.first - 1 && e.hash === commit.parentHash);
    if (!parent) return;
    let next = this.current;
    if (!next || next.number !== commit.last || next.hash !== commit.hash) {
      if (next && next.number >= commit.last) return; // the cache has moved on past this batch
      next = { chainId: parent.chainId, number: commit.last, hash: commit.hash, shared: new BlockShared(this.maxAccounts) };
      this.current = next;
    }
    this.previous = null;
    next.shared.carryOver(parent.shared, new Set(commit.accounts));
  }
}
