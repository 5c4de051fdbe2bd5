// SPEC sections 1-3: market terms, volatility, accounts and liquidations, rule by rule.
import { accountId } from '../../../src/ledger/index.js';
import { ALICE, BOB, LedgerChain, ev, x } from '../../support/ledger.js';

describe('accounts (SPEC 1)', () => {
  it('are "<lower-case owner>:<subaccount>", whatever case the owner is written in', () => {
    const mixed = '0x00000000000000000000000000000000000ABCDE';
    expect(accountId(mixed, 3)).toBe('0x00000000000000000000000000000000000abcde:3');
    const chain = new LedgerChain();
    chain.block(1000, [ev.deposit(mixed, 10, 3), ev.withdraw(mixed.toLowerCase(), 4, 3)]);
    expect([...chain.state.accounts.keys()]).toEqual(['0x00000000000000000000000000000000000abcde:3']);
    expect(chain.state.accounts.get('0x00000000000000000000000000000000000abcde:3')).toMatchObject({
      owner: '0x00000000000000000000000000000000000abcde', subaccount: 3, collateral: x(6),
    });
  });
});

describe('market terms (SPEC 2: MarketListed, MarginFractionsUpdated, VolatilityReported)', () => {
  it('lists perpetuals and options with their terms; options carry no funding', () => {
    const chain = new LedgerChain();
    chain.block(1000, [
      ev.perp('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', interval: 3600, maxRate: '0.01' }),
      { ...ev.option('ETH-C', 'ETH', 'CALL', 3000, 5000), fundingInterval: 60 },
      ev.option('ETH-P', 'ETH', 'PUT', '2500.5', 6000, { imf: '0.2', mmf: '0.15' }),
    ]);
    expect(chain.market('ETH-PERP')).toMatchObject({
      kind: 'PERPETUAL', underlying: 'ETH', initialMarginFraction: x('0.1'), maintenanceMarginFraction: x('0.05'),
      fundingInterval: 3600, maxFundingRate: x('0.01'), cumulativeFunding: 0n, impliedVolatility: null, listedBlock: 1,
    });
    expect(chain.market('ETH-C')).toMatchObject({ kind: 'CALL', strike: x(3000), expiry: 5000, fundingInterval: 0 });
    expect(chain.market('ETH-P')).toMatchObject({ kind: 'PUT', strike: x('2500.5'), expiry: 6000, initialMarginFraction: x('0.2'), maintenanceMarginFraction: x('0.15') });
  });

  it('MarginFractionsUpdated replaces the fractions and is recorded', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.perp('ETH-PERP', 'ETH')]);
    const block = chain.block(1001, [ev.fractions('ETH-PERP', '0.2', '0.1')]);
    expect(chain.market('ETH-PERP')).toMatchObject({ initialMarginFraction: x('0.2'), maintenanceMarginFraction: x('0.1'), updatedBlock: 2 });
    expect(block.marginFractionUpdates).toEqual([expect.objectContaining({ marketId: 'ETH-PERP', initialMarginFraction: x('0.2'), maintenanceMarginFraction: x('0.1') })]);
  });

  it('VolatilityReported sets the latest implied volatility, the last one of a block winning', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.option('ETH-C', 'ETH', 'CALL', 100, 5000)]);
    const block = chain.block(1001, [ev.vol('ETH-C', '0.8'), ev.vol('ETH-C', '0.65')]);
    expect(chain.market('ETH-C').impliedVolatility).toBe(x('0.65'));
    expect(block.volatilityReports.map((r) => r.impliedVolatility)).toEqual([x('0.8'), x('0.65')]);
  });
});

describe('liquidations follow the fill rules (SPEC 3)', () => {
  it('a liquidation that flips a perpetual realizes the closed part and opens the rest at its price', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.perp('ETH-PERP', 'ETH'), ev.price('ETH', 100), ev.deposit(ALICE, 1000)]);
    chain.block(1001, [ev.fill('ETH-PERP', ALICE, 2, 100)]);
    chain.block(1002, [ev.liquidate('ETH-PERP', ALICE, -5, 90, 3)]);
    expect(chain.position(ALICE, 'ETH-PERP')).toMatchObject({ size: x(-3), entryPrice: x(90), realizedPnl: x(-20), seq: 1 });
    expect(chain.account(ALICE)!.collateral).toBe(x(1000 - 20 - 3));
  });

  it('a liquidation of an option moves collateral by the premium and the penalty', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.option('ETH-C', 'ETH', 'CALL', 100, 100_000), ev.price('ETH', 100), ev.deposit(ALICE, 100)]);
    chain.block(1001, [ev.fill('ETH-C', ALICE, -4, 10)]); // sold 4 at 10: +40
    const block = chain.block(1002, [ev.liquidate('ETH-C', ALICE, 4, 12, 2)]); // bought back at 12: -48, penalty 2
    expect(chain.account(ALICE)!.collateral).toBe(x(100 + 40 - 48 - 2));
    expect(chain.position(ALICE, 'ETH-C')).toMatchObject({ size: 0n, entryPrice: null, realizedPnl: x(-8), closedBlock: 3 });
    expect(block.fills[0]).toMatchObject({ liquidation: true, realizedPnl: x(-8), penalty: x(2) });
  });

  it('a liquidation at price 0 or on an unknown market is skipped', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.perp('ETH-PERP', 'ETH'), ev.deposit(BOB, 10)]);
    const block = chain.block(1001, [ev.liquidate('ETH-PERP', BOB, 1, 0, 1), ev.liquidate('NOPE', BOB, 1, 5, 1)]);
    expect(block.anomalies.map((a) => a.kind)).toEqual(['ZERO_PRICE', 'UNKNOWN_MARKET']);
    expect(chain.account(BOB)!.collateral).toBe(x(10));
    expect(block.fills).toEqual([]);
  });
});

describe('option premiums (SPEC 3)', () => {
  it('every option fill moves collateral by -sizeDelta * price, exactly, fees on top', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.option('ETH-P', 'ETH', 'PUT', 100, 100_000), ev.deposit(ALICE, 100), ev.deposit(BOB, 100)]);
    chain.block(1001, [ev.fill('ETH-P', ALICE, '0.333', '7.77', '0.01'), ev.fill('ETH-P', BOB, '-0.333', '7.77', '0.01')]);
    expect(chain.account(ALICE)!.collateral).toBe(x('100') - x('2.58741') - x('0.01'));
    expect(chain.account(BOB)!.collateral).toBe(x('100') + x('2.58741') - x('0.01'));
  });
});
