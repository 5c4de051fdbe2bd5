/**
 * Per-request memo of everything derived (SPEC section 4): the mark of each market at the
 * snapshot's block, each position's risk and Greeks, each account's risk, liquidation
 * prices and exposures. Resolvers of many fields read the same derived value (an account's
 * equity, margin ratio and free collateral share one `AccountRisk`); each is computed once
 * per request from rows of the request's snapshot, with `now` = that block's timestamp.
 */
import { narrow, wide, wideRatio, type Fixed, type Wide } from '../fixed/index.js';
import type { Account, LedgerParams, Market, Position } from '../ledger/index.js';
import { accountRisk, type AccountRisk } from '../risk/account.js';
import { liquidationPrice, type HeldPosition } from '../risk/liquidation-price.js';
import { marksOf, type Mark } from '../risk/mark.js';
import { positionGreeks, positionRisk, type PositionGreeks, type PositionRisk } from '../risk/position.js';
import type { Loaders } from './loaders.js';
import { marketView, type MarketView } from './modules/market/view.js';
import { Memo, MemoMap, then, type Now } from './memo.js';

/**
 * A position with its market and mark at the served block: the parent of `Position` fields.
 * It holds those fields under their GraphQL names, so that they need no resolver:
 * graphql-jit reads such a field as a plain property, where a resolver costs a call, three
 * closures, an arguments object and a path object per field and position (on the account
 * risk query, 180 of its ~300 resolver calls, most of its allocation).
 */
export class PositionView {
  readonly risk: PositionRisk;
  private greeksMemo: PositionGreeks | undefined;
  // The served values, rounded to 18 decimals when first read: an account's view builds
  // its positions' views for its risk, and a selection reads few of these (a tick builds
  // 100,000 views for 10,000 watched accounts).
  private notionalMemo: Fixed | undefined;
  private unrealizedPnlMemo: Fixed | undefined;
  private accruedFundingMemo: Fixed | undefined;
  private initialMarginMemo: Fixed | undefined;
  private maintenanceMarginMemo: Fixed | undefined;

  constructor(readonly position: Position, readonly market: Market, readonly mark: Mark) {
    this.risk = positionRisk(position, market, mark);
  }

  get notional(): Fixed {
    return (this.notionalMemo ??= narrow(this.risk.notional));
  }
  get unrealizedPnl(): Fixed {
    return (this.unrealizedPnlMemo ??= narrow(this.risk.unrealizedPnl));
  }
  get accruedFunding(): Fixed {
    return (this.accruedFundingMemo ??= narrow(this.risk.accruedFunding));
  }
  get initialMargin(): Fixed {
    return (this.initialMarginMemo ??= narrow(this.risk.initialMargin));
  }
  get maintenanceMargin(): Fixed {
    return (this.maintenanceMarginMemo ??= narrow(this.risk.maintenanceMargin));
  }

  get greeks(): PositionGreeks {
    return (this.greeksMemo ??= positionGreeks(this.position.size, this.market.kind, this.mark));
  }

  get id(): string {
    return this.position.id;
  }
  get size(): Fixed {
    return this.position.size;
  }
  get entryPrice(): Fixed | null {
    return this.position.entryPrice;
  }
  get markPrice(): Fixed | null {
    return this.mark.indexPrice;
  }
  get value(): Fixed | null {
    return this.mark.value;
  }
  get realizedPnl(): Fixed {
    return this.position.realizedPnl;
  }
  get settledFunding(): Fixed {
    return this.position.settledFunding;
  }
  get feesPaid(): Fixed {
    return this.position.feesPaid;
  }
  get delta(): Fixed {
    return this.greeks.delta;
  }
  get gamma(): Fixed {
    return this.greeks.gamma;
  }
  get theta(): Fixed {
    return this.greeks.theta;
  }
  get vega(): Fixed {
    return this.greeks.vega;
  }
  get open(): boolean {
    return this.position.closedBlock === null;
  }
  get openedBlock(): number {
    return this.position.openedBlock;
  }
  get closedBlock(): number | null {
    return this.position.closedBlock;
  }
  /**
   * SPEC section 8: unrealized PnL over the initial margin (perpetuals, short options) or
   * over the premium paid, |size| x entry (long options), from the exact (wide) values,
   * rounded once; null when the divisor is 0.
   */
  get returnOnEquity(): Fixed | null {
    const { size, entryPrice } = this.position;
    const longOption = this.market.kind !== 'PERPETUAL' && size > 0n;
    const divisor = longOption ? (entryPrice === null ? 0n : wide.product(size, entryPrice)) : this.risk.initialMargin;
    return divisor === 0n ? null : wideRatio(this.risk.unrealizedPnl, divisor);
  }
}

export interface UnderlyingExposure {
  underlying: string;
  indexPrice: Fixed | null;
  delta: Fixed;
  gamma: Fixed;
  theta: Fixed;
  vega: Fixed;
  notional: Fixed;
  /** A thunk (its resolver calls it): the root search is the costliest thing here, so it runs only when selected. */
  liquidationPrice: () => Fixed | null;
}

export class AccountView {
  readonly risk: AccountRisk;
  readonly unrealizedPnl: Wide;
  readonly accruedFunding: Wide;
  private readonly liquidationPrices = new Map<string, Fixed | null>();
  private exposuresMemo: UnderlyingExposure[] | undefined;

  constructor(
    readonly account: Account,
    /** Open positions, by market id. */
    readonly positions: readonly PositionView[],
    private readonly now: number,
    private readonly riskFreeRate: Fixed,
  ) {
    this.risk = accountRisk(account.collateral, positions.map((p) => p.risk));
    let unrealizedPnl = 0n;
    let accruedFunding = 0n;
    for (const { risk } of positions) {
      unrealizedPnl += risk.unrealizedPnl;
      accruedFunding += risk.accruedFunding;
    }
    this.unrealizedPnl = unrealizedPnl;
    this.accruedFunding = accruedFunding;
  }

  /** The index price of `underlying` at which equity meets maintenance margin; memoized per underlying. */
  liquidationPrice(underlying: string): Fixed | null {
    if (!this.liquidationPrices.has(underlying)) {
      const held: HeldPosition[] = this.positions.map((p) => ({ position: p.position, market: p.market, mark: p.mark }));
      this.liquidationPrices.set(underlying, liquidationPrice(this.account.collateral, held, underlying, this.now, this.riskFreeRate));
    }
    return this.liquidationPrices.get(underlying)!;
  }

  /** Greeks and notional summed per underlying (ordered by underlying), with its liquidation price. */
  exposures(): UnderlyingExposure[] {
    if (this.exposuresMemo) return this.exposuresMemo;
    const sums = new Map<string, { indexPrice: Fixed | null; delta: Fixed; gamma: Fixed; theta: Fixed; vega: Fixed; notional: Wide }>();
    for (const view of this.positions) {
      const id = view.market.underlying;
      let sum = sums.get(id);
      if (!sum) sums.set(id, (sum = { indexPrice: view.mark.indexPrice, delta: 0n, gamma: 0n, theta: 0n, vega: 0n, notional: 0n }));
      const g = view.greeks;
      sum.delta += g.delta;
      sum.gamma += g.gamma;
      sum.theta += g.theta;
      sum.vega += g.vega;
      sum.notional += view.risk.notional;
    }
    this.exposuresMemo = [...sums.keys()].sort().map((underlying) => {
      const { notional, ...sum } = sums.get(underlying)!;
      return { underlying, ...sum, notional: narrow(notional), liquidationPrice: () => this.liquidationPrice(underlying) };
    });
    return this.exposuresMemo;
  }
}

export class RiskMemo {
  private readonly marksMemo: Memo<ReadonlyMap<string, Mark>>;
  private readonly marketsMemo: Memo<ReadonlyMap<string, MarketView>>;
  private readonly positionViews = new MemoMap<string, PositionView>();
  private readonly accountViews = new MemoMap<string, AccountView | null>();

  constructor(
    private readonly loaders: Loaders,
    private readonly now: () => Promise<number>,
    private readonly params: LedgerParams,
  ) {
    // The mark of every market at once: markets are few, an option costs microseconds.
    this.marksMemo = new Memo(async () => {
      const shared = await this.loaders.shared();
      if (shared?.marks) return shared.marks;
      const [markets, underlyings, now] = await Promise.all([this.loaders.markets(), this.loaders.underlyings(), this.now()]);
      const marks = marksOf(markets.values(), (underlying) => underlyings.get(underlying)?.indexPrice ?? null, now, this.params.riskFreeRate);
      if (shared) shared.marks = marks;
      return marks;
    }, () => this.loaders.sharedNow()?.marks ?? this.marksNow());
    this.marketsMemo = new Memo(async () => {
      const shared = await this.loaders.shared();
      if (shared?.marketViews) return shared.marketViews;
      const [markets, underlyings] = await Promise.all([this.loaders.markets(), this.loaders.underlyings()]);
      // No market, no marks: those need the block's timestamp, and an empty database has no block.
      const marks = markets.size > 0 ? await this.marksMemo.get() : new Map<string, Mark>();
      const views = new Map<string, MarketView>();
      for (const market of markets.values()) views.set(market.id, marketView(market, underlyings.get(market.underlying), marks.get(market.id)));
      if (shared) shared.marketViews = views;
      return views;
    }, () => this.loaders.sharedNow()?.marketViews);
  }

  /** Every market as served at the snapshot's block, by id (in id order). */
  markets(): Now<ReadonlyMap<string, MarketView>> {
    return this.marketsMemo.now();
  }

  market(id: string): Now<MarketView | null> {
    return then(this.marketsMemo.now(), (markets) => markets.get(id) ?? null);
  }

  /** The mark of every market at the snapshot's block, by market id. */
  marks(): Now<ReadonlyMap<string, Mark>> {
    return this.marksMemo.now();
  }

  /** A position's view; a closed one too (its risk is zero). */
  position(position: Position): Now<PositionView> {
    return this.positionViews.now(position.id, async () => {
      const shared = await this.loaders.shared();
      const cached = shared?.positionViews.get(position.id);
      if (cached) return cached;
      const [markets, marks] = await Promise.all([this.loaders.markets(), this.marksMemo.get()]);
      const market = markets.get(position.marketId);
      const mark = marks.get(position.marketId);
      if (!market || !mark) throw new Error(`position ${position.id} names unknown market ${position.marketId}`);
      const view = new PositionView(position, market, mark);
      shared?.positionViews.set(position.id, view);
      return view;
    }, () => this.loaders.sharedNow()?.positionViews.get(position.id) ?? this.positionNow(position));
  }

  /** An account's risk over its open positions; null for an unknown account. */
  account(id: string): Now<AccountView | null> {
    return this.accountViews.now(id, async () => {
      const shared = await this.loaders.shared();
      if (shared?.accountViews.has(id)) return shared.accountViews.get(id)!;
      const [account, positions, now] = await Promise.all([this.loaders.account.load(id), this.loaders.openPositions.load(id), this.now()]);
      await this.loaders.resume();
      const view = account ? new AccountView(account, await Promise.all(positions.map((p) => this.position(p))), now, this.params.riskFreeRate) : null;
      // The view memoizes its liquidation prices and exposures: later requests at this block reuse them.
      shared?.accountViews.set(id, view);
      return view;
    }, () => this.loaders.sharedNow()?.accountViews.get(id) ?? this.accountNow(id));
  }

  // Derived synchronously when the block's timestamp is known beforehand and its shared
  // values hold the rows (a subscription event pinned to its block, whose rows the feed
  // read): the same values the promise paths derive, without a promise per account and
  // position. `undefined` when anything is missing: the promise path then reads it.

  private marksNow(): ReadonlyMap<string, Mark> | undefined {
    const shared = this.loaders.sharedNow();
    const now = this.loaders.timestamp;
    if (!shared?.markets || !shared.underlyings || now === undefined || shared.markets.size === 0) return undefined;
    const underlyings = shared.underlyings;
    return (shared.marks = marksOf(shared.markets.values(), (underlying) => underlyings.get(underlying)?.indexPrice ?? null, now, this.params.riskFreeRate));
  }

  private positionNow(position: Position): PositionView | undefined {
    const shared = this.loaders.sharedNow();
    const market = shared?.markets?.get(position.marketId);
    const marks = shared && market ? (shared.marks ?? this.marksNow()) : undefined;
    const mark = marks?.get(position.marketId);
    if (!market || !mark) return undefined;
    const view = new PositionView(position, market, mark);
    shared!.positionViews.set(position.id, view);
    return view;
  }

  private accountNow(id: string): AccountView | null | undefined {
    const shared = this.loaders.sharedNow();
    const now = this.loaders.timestamp;
    if (!shared || now === undefined || !shared.accounts.has(id)) return undefined;
    const account = shared.accounts.get(id)!;
    let view: AccountView | null = null;
    if (account) {
      if (!shared.openPositions.has(id)) return undefined;
      const positions: PositionView[] = [];
      for (const position of shared.openPositions.get(id)!) {
        // Not looked up in (nor added to) the block's position views: an account's positions
        // are served through its view, and 10 lookups in a map of 100,000 per account cost
        // more than building them (requests for single positions build their own).
        const market = shared.markets?.get(position.marketId);
        const mark = market ? (shared.marks ?? this.marksNow())?.get(position.marketId) : undefined;
        if (!market || !mark) return undefined;
        positions.push(this.positionViews.settledValue(position.id) ?? new PositionView(position, market, mark));
      }
      view = new AccountView(account, positions, now, this.params.riskFreeRate);
    }
    shared.accountViews.set(id, view);
    return view;
  }

  /** Views of several positions: one promise for the list, none when all are settled. */
  positions(positions: readonly Position[]): Now<PositionView[]> {
    const views = positions.map((p) => this.position(p));
    return views.some((v) => v instanceof Promise) ? Promise.all(views) : (views as PositionView[]);
  }
}

