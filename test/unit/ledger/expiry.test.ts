import { ALICE, BOB, LedgerChain, ev, x } from '../../support/ledger.js';

function optionsMarket() {
  const chain = new LedgerChain({ oracleStalenessSeconds: 1_000_000, riskFreeRate: 0n });
  chain.block(1000, [
    ev.option('ETH-C-100', 'ETH', 'CALL', 100, 2000),
    ev.option('ETH-P-120', 'ETH', 'PUT', 120, 2000),
    ev.price('ETH', 100),
    ev.deposit(ALICE, 1000),
    ev.deposit(BOB, 1000),
  ]);
  chain.block(1100, [
    ev.fill('ETH-C-100', ALICE, 2, 5), ev.fill('ETH-C-100', BOB, -2, 5),
    ev.fill('ETH-P-120', ALICE, 3, 21), ev.fill('ETH-P-120', BOB, -3, 21),
  ]);
  return chain;
}

describe('option expiry (SPEC 3)', () => {
  it('settles every open position at intrinsic value on the index, before the block\'s events', () => {
    const chain = optionsMarket();
    chain.block(1500, [ev.price('ETH', 130)]);
    const expiry = chain.block(2000, [ev.price('ETH', 50)]); // settles at 130, the index before this block's events
    // Alice paid 10 + 63 in premiums; receives 2 * 30 from the call and 0 from the put.
    expect(chain.account(ALICE)!.collateral).toBe(x(1000 - 10 - 63 + 60));
    expect(chain.account(BOB)!.collateral).toBe(x(1000 + 10 + 63 - 60));
    expect(chain.position(ALICE, 'ETH-C-100')).toMatchObject({ size: 0n, entryPrice: null, closedBlock: 4, realizedPnl: x(50) });
    expect(chain.position(ALICE, 'ETH-P-120')).toMatchObject({ size: 0n, realizedPnl: x(-63) });
    expect(chain.position(BOB, 'ETH-P-120')).toMatchObject({ size: 0n, realizedPnl: x(63) });
    expect(expiry.optionSettlements.map((s) => [s.accountId.split(':')[0], s.marketId, s.payout])).toEqual(
      expect.arrayContaining([
        [ALICE, 'ETH-C-100', x(60)], [BOB, 'ETH-C-100', x(-60)], [ALICE, 'ETH-P-120', 0n], [BOB, 'ETH-P-120', -0n],
      ]),
    );
    expect(chain.market('ETH-C-100')).toMatchObject({ settlementPrice: x(130), settledBlock: 4 });
  });

  it('pays puts K - S', () => {
    const chain = optionsMarket();
    chain.block(2100, [ev.price('ETH', 90)]); // settles on the index of block 2 (100) at 2100
    expect(chain.market('ETH-P-120').settlementPrice).toBe(x(100));
    expect(chain.account(ALICE)!.collateral).toBe(x(1000 - 10 - 63 + 0 + 60));
  });

  it('waits for an index when the underlying never had one', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.option('BTC-C', 'BTC', 'CALL', 100, 1500), ev.deposit(ALICE, 100), ev.fill('BTC-C', ALICE, 1, 3)]);
    const expired = chain.block(1500);
    expect(expired.anomalies.map((a) => a.kind)).toEqual(['SETTLEMENT_DEFERRED']);
    expect(chain.block(1600).anomalies).toEqual([]);
    chain.block(1700, [ev.price('BTC', 150)]);
    expect(chain.market('BTC-C').settledBlock).toBeNull();
    chain.block(1701);
    expect(chain.market('BTC-C').settlementPrice).toBe(x(150));
    expect(chain.account(ALICE)!.collateral).toBe(x(100 - 3 + 50));
  });

  it('does not pay a settlement that would take collateral beyond NUMERIC(78,18), and still closes the position', () => {
    const chain = new LedgerChain({ oracleStalenessSeconds: 1e9, riskFreeRate: 0n });
    const huge = '1' + '0'.repeat(40);
    chain.block(1000, [ev.option('C', 'ETH', 'CALL', 1, 2000), ev.price('ETH', 1), ev.deposit(ALICE, 100), ev.deposit(BOB, 100)]);
    chain.block(1001, [ev.fill('C', ALICE, huge, '0.000000000000000001'), ev.fill('C', BOB, 1, 2)]); // Alice pays 1e40 * 1e-18 = 1e22
    chain.block(1002, [ev.price('ETH', huge)]);
    const expiry = chain.block(2000);
    expect(expiry.anomalies).toEqual([expect.objectContaining({ kind: 'VALUE_OUT_OF_RANGE', logIndex: null, data: expect.objectContaining({ account: `${ALICE}:0`, market: 'C' }) })]);
    expect(chain.position(ALICE, 'C')).toMatchObject({ size: 0n, closedBlock: 4 });
    expect(chain.account(ALICE)!.collateral).toBe(x(100) - x('1' + '0'.repeat(22))); // premium only: the 1e80 payout is not paid
    // Bob's settlement fits and is paid.
    expect(chain.account(BOB)!.collateral).toBe(x(100 - 2) + x(huge) - x(1));
    expect(chain.market('C').settledBlock).toBe(4);
  });
});
