// An account event pinned to its block (subscriptions/account-changes.ts) knows the block's
// timestamp and shared values beforehand: its account's risk is derived synchronously from
// the rows the feed read, with the same values the promise path (reading through the
// loaders) derives, and without a statement. What the shared values lack still goes
// through the loaders.
import { DEFAULT_LEDGER_PARAMS, type Account, type Market, type Position } from '../../../src/ledger/index.js';
import { BlockShared } from '../../../src/graphql/block-cache.js';
import { Loaders } from '../../../src/graphql/loaders.js';
import type { AccountView } from '../../../src/graphql/risk.js';
import { x } from '../../support/ledger.js';

const NOW = 1_700_000_000;
const funding = { premium: null, period: 0, weightedPremium: 0n, coveredSeconds: 0, accountedUntil: 0 };
const market = (id: string, kind: Market['kind'], strike = 0n, expiry = 0): Market => ({
  id, underlying: 'ETH', kind, strike, expiry, initialMarginFraction: x('0.1'), maintenanceMarginFraction: x('0.05'),
  fundingInterval: kind === 'PERPETUAL' ? 3600 : 0, maxFundingRate: x('0.01'), impliedVolatility: kind === 'PERPETUAL' ? null : x('0.8'),
  lastFillPrice: null, cumulativeFunding: kind === 'PERPETUAL' ? x('1.5') : 0n, lastFundingRate: null, funding, settlementPrice: null,
  settledBlock: null, venue: '0xfe', listedBlock: 1, updatedBlock: 1,
});
const MARKETS = [market('ETH-PERP', 'PERPETUAL'), market('ETH-C-2000', 'CALL', x(2000), NOW + 30 * 86_400)];
const ACCOUNT: Account = { id: '0xa:0', owner: '0xa', subaccount: 0, collateral: x(1000), marginState: 'HEALTHY', createdBlock: 1, updatedBlock: 1 };
const position = (marketId: string, size: string, entry: string): Position => ({
  id: `${ACCOUNT.id}:${marketId}:1`, accountId: ACCOUNT.id, marketId, seq: 1, size: x(size), entryPrice: x(entry), realizedPnl: 0n,
  fundingSnapshot: x('0.5'), settledFunding: 0n, feesPaid: 0n, openedBlock: 1, closedBlock: null, updatedBlock: 1,
});
const POSITIONS = [position('ETH-PERP', '-3', '2100'), position('ETH-C-2000', '-2', '150')];

/** The block's shared values as the feed leaves them: markets, oracles, the watched accounts' rows. */
function sharedValues(): BlockShared {
  const shared = new BlockShared(100);
  shared.markets = new Map(MARKETS.map((m) => [m.id, m]));
  shared.underlyings = new Map([['ETH', { id: 'ETH', indexPrice: x(2050), indexStale: false, sources: [] }]]);
  shared.accounts.set(ACCOUNT.id, ACCOUNT);
  shared.openPositions.set(ACCOUNT.id, POSITIONS);
  shared.accounts.set('0xb:0', null);
  return shared;
}

const noStatements = async (): Promise<never[]> => {
  throw new Error('no statement expected');
};

function served(view: AccountView | null) {
  if (!view) return null;
  return {
    equity: view.risk.equity, initialMargin: view.risk.initialMargin, maintenanceMargin: view.risk.maintenanceMargin, unrealizedPnl: view.unrealizedPnl,
    positions: view.positions.map((p) => ({ id: p.id, markPrice: p.markPrice, value: p.value, unrealizedPnl: p.unrealizedPnl, maintenanceMargin: p.maintenanceMargin })),
  };
}

describe('account risk of an event pinned to its block', () => {
  it('is derived synchronously from the shared rows, equal to the promise path', async () => {
    const pinned = new Loaders(noStatements, async () => NOW, DEFAULT_LEDGER_PARAMS, undefined, undefined, { shared: sharedValues(), timestamp: NOW });
    const now = pinned.risk.account(ACCOUNT.id);
    expect(now).not.toBeInstanceOf(Promise);
    expect(pinned.risk.account('0xb:0')).toBeNull(); // an unknown account, as the feed read it

    const shared = sharedValues();
    const read = new Loaders(noStatements, async () => NOW, DEFAULT_LEDGER_PARAMS, async () => shared);
    const later = read.risk.account(ACCOUNT.id);
    expect(later).toBeInstanceOf(Promise);
    const expected = served(await later);
    expect(expected?.positions).toHaveLength(2);
    expect(served(now as AccountView | null)).toEqual(expected);
  });

  it('goes through the loaders for an account the shared values do not hold', async () => {
    const asked: string[] = [];
    const query = async <R>(sql: string): Promise<R[]> => {
      asked.push(sql);
      return [];
    };
    const pinned = new Loaders(query, async () => NOW, DEFAULT_LEDGER_PARAMS, undefined, undefined, { shared: sharedValues(), timestamp: NOW });
    const view = pinned.risk.account('0xc:0');
    expect(view).toBeInstanceOf(Promise);
    expect(await view).toBeNull();
    expect(asked.length).toBeGreaterThan(0);
  });
});
