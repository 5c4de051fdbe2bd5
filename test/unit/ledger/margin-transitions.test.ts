import { ALICE, BOB, LedgerChain, ev, x } from '../../support/ledger.js';

describe('margin states and transitions (SPEC 4)', () => {
  it('walks HEALTHY -> MARGIN_CALL -> LIQUIDATABLE -> BANKRUPT -> HEALTHY with the block that caused each', () => {
    const chain = new LedgerChain();
    // 10 long at 100 with 100 collateral: equity 100 = IM (10%) -> HEALTHY; MM 5%.
    chain.block(1000, [ev.perp('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05' }), ev.price('ETH', 100), ev.deposit(ALICE, 100), ev.fill('ETH-PERP', ALICE, 10, 100)]);
    expect(chain.history[0]!.transitions).toEqual([]);
    const call = chain.block(1001, [ev.price('ETH', 99)]);
    expect(call.transitions).toEqual([
      { accountId: `${ALICE}:0`, blockNumber: 2, timestamp: 1001, from: 'HEALTHY', to: 'MARGIN_CALL', equity: x(90), initialMargin: x(99), maintenanceMargin: x('49.5') },
    ]);
    expect(chain.block(1002, [ev.price('ETH', 95)]).transitions).toEqual([]); // 50 >= MM 47.5
    expect(chain.block(1003, [ev.price('ETH', 94)]).transitions[0]).toMatchObject({ from: 'MARGIN_CALL', to: 'LIQUIDATABLE', equity: x(40) });
    expect(chain.block(1004, [ev.price('ETH', 89)]).transitions[0]).toMatchObject({ from: 'LIQUIDATABLE', to: 'BANKRUPT', equity: x(-10) });
    expect(chain.block(1005, [ev.deposit(ALICE, 1000)]).transitions[0]).toMatchObject({ from: 'BANKRUPT', to: 'HEALTHY', equity: x(990) });
    expect(chain.account(ALICE)!.marginState).toBe('HEALTHY');
  });

  it('evaluates holders when funding moves their equity, and leaves others alone', () => {
    const chain = new LedgerChain({ oracleStalenessSeconds: 1e9, riskFreeRate: 0n });
    chain.block(1000, [
      ev.perp('ETH-PERP', 'ETH', { interval: 100, maxRate: '1', imf: '0.1', mmf: '0.05' }),
      ev.price('ETH', 100),
      ev.deposit(ALICE, 100),
      ev.deposit(BOB, 10_000),
      ev.fill('ETH-PERP', ALICE, 10, 100),
      ev.fill('ETH-PERP', BOB, -10, 100),
    ]);
    chain.block(1000, [ev.fill('ETH-PERP', BOB, 1, 101), ev.fill('ETH-PERP', ALICE, -1, 101)]); // premium 0.01 from t=1000
    expect(chain.account(ALICE)!.marginState).toBe('HEALTHY'); // 9 long, C 101 vs IM 90
    // Funding at 0.01 * 100 per period: Alice (9 long) pays 9 per period; three periods by 1300.
    const boundary = chain.block(1300);
    expect(boundary.transitions.map((t) => [t.accountId, t.from, t.to, t.equity])).toEqual([[`${ALICE}:0`, 'HEALTHY', 'MARGIN_CALL', x(101 - 27)]]);
  });

  it('starts new accounts HEALTHY and records the state a first fill leaves them in', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.perp('ETH-PERP', 'ETH'), ev.price('ETH', 100)]);
    const first = chain.block(1001, [ev.fill('ETH-PERP', ALICE, 1, 100)]);
    expect(first.transitions[0]).toMatchObject({ from: 'HEALTHY', to: 'LIQUIDATABLE', equity: 0n });
  });
});
