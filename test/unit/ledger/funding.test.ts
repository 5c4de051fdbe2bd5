import { ALICE, BOB, LedgerChain, ev, x } from '../../support/ledger.js';

/** ETH-PERP with 100 s funding periods, index 100 from a source that never goes stale. */
function fundedMarket(maxRate = '0.05') {
  const chain = new LedgerChain({ oracleStalenessSeconds: 1_000_000, riskFreeRate: 0n });
  chain.block(1000, [ev.perp('ETH-PERP', 'ETH', { interval: 100, maxRate }), ev.price('ETH', 100), ev.deposit(ALICE, 1000), ev.deposit(BOB, 1000)]);
  return chain;
}

describe('funding (SPEC 3)', () => {
  it('samples the premium after each block and settles the time-weighted mean of the covered part', () => {
    const chain = fundedMarket();
    // premium 0.01 from 1010, 0.02 from 1050; nothing covers 1000..1010.
    chain.block(1010, [ev.fill('ETH-PERP', ALICE, 1, 101), ev.fill('ETH-PERP', BOB, -1, 101)]);
    expect(chain.market('ETH-PERP').funding.premium).toBe(x('0.01'));
    chain.block(1050, [ev.fill('ETH-PERP', ALICE, 1, 102), ev.fill('ETH-PERP', BOB, -1, 102)]);
    expect(chain.history[2]!.fundingSamples).toEqual([{ marketId: 'ETH-PERP', blockNumber: 3, timestamp: 1050, premium: x('0.02') }]);
    const boundary = chain.block(1100);
    // (0.01 * 40 + 0.02 * 50) / 90 = 0.015555...; F grows by rate * index 100.
    const rate = x('0.015555555555555556');
    expect(boundary.fundingSettlements).toEqual([
      { marketId: 'ETH-PERP', period: 10, periods: 1, rate, indexPrice: x(100), cumulativeFunding: x('1.5555555555555556'), blockNumber: 4, timestamp: 1100 },
    ]);
    expect(chain.market('ETH-PERP')).toMatchObject({ cumulativeFunding: x('1.5555555555555556'), lastFundingRate: rate });
  });

  it('settles every period of a gap in order, the last sample holding across them', () => {
    const chain = fundedMarket();
    chain.block(1050, [ev.fill('ETH-PERP', ALICE, 1, 102), ev.fill('ETH-PERP', BOB, -1, 102)]);
    const gap = chain.block(1350);
    expect(gap.fundingSettlements.map((s) => [s.period, s.periods, s.rate, s.cumulativeFunding])).toEqual([
      [10, 1, x('0.02'), x(2)],
      [11, 2, x('0.02'), x(6)],
    ]);
    expect(chain.market('ETH-PERP').funding).toMatchObject({ period: 13, coveredSeconds: 50, weightedPremium: x(1), accountedUntil: 1350 });
  });

  it('clamps the rate to the maximum per period', () => {
    const chain = fundedMarket('0.001');
    chain.block(1000, [ev.fill('ETH-PERP', ALICE, 1, 150), ev.fill('ETH-PERP', BOB, -1, 150)]);
    // Settles period 10 at +0.5 clamped, then samples -0.5 for period 11.
    chain.block(1100, [ev.fill('ETH-PERP', ALICE, 1, 50), ev.fill('ETH-PERP', BOB, -1, 50)]);
    expect(chain.market('ETH-PERP')).toMatchObject({ lastFundingRate: x('0.001'), cumulativeFunding: x('0.1') });
    chain.block(1200);
    expect(chain.market('ETH-PERP')).toMatchObject({ lastFundingRate: x('-0.001'), cumulativeFunding: 0n });
  });

  it('uses the index from before the boundary block\'s events and rate 0 when nothing was sampled', () => {
    const chain = fundedMarket();
    const quiet = chain.block(1100, [ev.price('ETH', 200)]);
    expect(quiet.fundingSettlements[0]).toMatchObject({ rate: 0n, indexPrice: x(100), cumulativeFunding: 0n });
    chain.block(1150, [ev.fill('ETH-PERP', ALICE, 1, 220), ev.fill('ETH-PERP', BOB, -1, 220)]); // premium 0.1 from 1150
    const boundary = chain.block(1200, [ev.price('ETH', 300)]);
    expect(boundary.fundingSettlements[0]).toMatchObject({ rate: x('0.05'), indexPrice: x(200), cumulativeFunding: x(10) });
  });

  it('settles accrued funding into collateral before a size change: longs pay a positive rate', () => {
    const chain = fundedMarket();
    chain.block(1050, [ev.fill('ETH-PERP', ALICE, 2, 102), ev.fill('ETH-PERP', BOB, -2, 102)]);
    chain.block(1100); // rate 0.02 over the covered 50 s: F = 2
    chain.block(1200); // F = 4
    chain.block(1250, [ev.fill('ETH-PERP', ALICE, -1, 102)]);
    const alice = chain.position(ALICE, 'ETH-PERP')!;
    expect(alice).toMatchObject({ size: x(1), settledFunding: x(-8), fundingSnapshot: x(4) });
    expect(chain.account(ALICE)!.collateral).toBe(x(1000 - 8));
    // Bob has not traded since: his funding is accrued, not settled.
    expect(chain.position(BOB, 'ETH-PERP')).toMatchObject({ settledFunding: 0n, fundingSnapshot: 0n });
    expect(chain.account(BOB)!.collateral).toBe(x(1000));
  });
});
