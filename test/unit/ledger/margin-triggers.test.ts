// SPEC section 4: the margin state is re-evaluated after every block for every account whose
// inputs changed: its events, index or volatility moves on underlyings it holds, funding,
// expiry, option time decay (and new margin fractions); a transition belongs to the block
// that caused it, even when that block has no event of the account.
import { marginStateOf } from '../../../src/risk/margin-state.js';
import { ALICE, BOB, LedgerChain, ev, x } from '../../support/ledger.js';

const DAY = 86_400;
const YEAR = 365 * DAY;
const EXPIRY = 1000 + YEAR;

/**
 * Alice sells one ETH call (K 100, IMF 0.1, MMF 0.05) at 12 with no other collateral:
 * C = 12, IM = 10, MM = 5 at index 100; without a volatility the call is worth max(0, S - K) = 0.
 */
function shortCall() {
  const chain = new LedgerChain({ oracleStalenessSeconds: 10 * YEAR, riskFreeRate: 0n });
  chain.block(1000, [ev.option('ETH-C', 'ETH', 'CALL', 100, EXPIRY, { imf: '0.1', mmf: '0.05' }), ev.price('ETH', 100)]);
  chain.block(1000, [ev.fill('ETH-C', ALICE, -1, 12)]);
  expect(chain.account(ALICE)).toMatchObject({ collateral: x(12), marginState: 'HEALTHY' });
  return chain;
}

describe('what moves a margin state (SPEC 4)', () => {
  it('a volatility report on a held option', () => {
    const chain = shortCall();
    // sigma 0.1, one year at the money: the call is worth about 3.99, equity about 8.01 (MM 5 <= 8 < IM 10).
    const block = chain.block(1000, [ev.vol('ETH-C', '0.1')]);
    expect(block.transitions).toEqual([expect.objectContaining({ accountId: `${ALICE}:0`, blockNumber: 3, from: 'HEALTHY', to: 'MARGIN_CALL' })]);
    const equity = Number(block.transitions[0]!.equity) / 1e18;
    expect(equity).toBeCloseTo(12 - 3.9878, 3);
  });

  it('option time decay, in a block with no event at all', () => {
    const chain = shortCall();
    chain.block(1000, [ev.vol('ETH-C', '0.1')]);
    // One day before expiry the call is worth about 0.21: equity back above IM.
    const block = chain.block(EXPIRY - DAY);
    expect(block.transitions).toEqual([expect.objectContaining({ accountId: `${ALICE}:0`, from: 'MARGIN_CALL', to: 'HEALTHY', timestamp: EXPIRY - DAY })]);
  });

  it('expiry settlement, in the first block at or after expiry', () => {
    const chain = shortCall();
    chain.block(1000, [ev.vol('ETH-C', '0.1')]);
    // Index 104 a day before expiry: the call is worth a little over 4, equity under 8 < IM 10.4.
    const moved = chain.block(EXPIRY - DAY, [ev.price('ETH', 104)]);
    expect(moved.transitions).toEqual([]); // still MARGIN_CALL
    expect(chain.account(ALICE)!.marginState).toBe('MARGIN_CALL');
    // Settled at intrinsic 4: C = 12 - 4 = 8 and no position left, so no margin.
    const expiry = chain.block(EXPIRY);
    expect(expiry.optionSettlements).toEqual([expect.objectContaining({ accountId: `${ALICE}:0`, payout: x(-4), settlementPrice: x(104) })]);
    expect(expiry.transitions).toEqual([expect.objectContaining({ from: 'MARGIN_CALL', to: 'HEALTHY', equity: x(8), initialMargin: 0n, maintenanceMargin: 0n })]);
  });

  it('new margin fractions of a held market', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.perp('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05' }), ev.price('ETH', 100), ev.deposit(ALICE, 100), ev.fill('ETH-PERP', ALICE, 10, 100)]);
    expect(chain.account(ALICE)!.marginState).toBe('HEALTHY'); // equity 100 = IM 100
    const block = chain.block(1001, [ev.fractions('ETH-PERP', '0.2', '0.1')]);
    expect(block.transitions).toEqual([expect.objectContaining({ from: 'HEALTHY', to: 'MARGIN_CALL', equity: x(100), initialMargin: x(200), maintenanceMargin: x(100) })]);
  });

  it('an index move on an underlying the account does not hold changes nothing for it', () => {
    const chain = new LedgerChain();
    chain.block(1000, [
      ev.perp('ETH-PERP', 'ETH'), ev.perp('BTC-PERP', 'BTC'), ev.price('ETH', 100), ev.price('BTC', 100),
      ev.deposit(ALICE, 100), ev.fill('ETH-PERP', ALICE, 10, 100), ev.deposit(BOB, 100), ev.fill('BTC-PERP', BOB, 10, 100),
    ]);
    const block = chain.block(1001, [ev.price('BTC', 50)]);
    expect(block.transitions.map((t) => [t.accountId, t.to])).toEqual([[`${BOB}:0`, 'BANKRUPT']]);
    expect(block.accounts.map((a) => a.id)).toEqual([`${BOB}:0`]);
  });
});

describe('margin state boundaries (SPEC 4)', () => {
  it('equity = IM is HEALTHY, equity = MM is MARGIN_CALL, equity = 0 < MM is LIQUIDATABLE', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.perp('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05' }), ev.price('ETH', 100), ev.deposit(ALICE, 100), ev.fill('ETH-PERP', ALICE, 10, 100)]);
    expect(chain.account(ALICE)!.marginState).toBe('HEALTHY'); // 100 = IM
    chain.block(1001, [ev.price('ETH', 95)]); // equity 50, MM 47.5, IM 95
    expect(chain.account(ALICE)!.marginState).toBe('MARGIN_CALL');
    chain.block(1002, [ev.withdraw(ALICE, '2.5')]); // equity 47.5 = MM 47.5
    expect(chain.account(ALICE)!.marginState).toBe('MARGIN_CALL');
    chain.block(1003, [ev.withdraw(ALICE, '47.5')]); // equity 0 < MM
    expect(chain.account(ALICE)!.marginState).toBe('LIQUIDATABLE');
    chain.block(1004, [ev.withdraw(ALICE, '0.000000000000000001')]);
    expect(chain.account(ALICE)!.marginState).toBe('BANKRUPT');
  });

  it('where a market has MMF > IMF the stricter reading wins: IM <= equity < MM is LIQUIDATABLE', () => {
    // SPEC's HEALTHY (equity >= IM) and LIQUIDATABLE (0 <= equity < MM) overlap there.
    expect(marginStateOf(x(7), x(5), x(10))).toBe('LIQUIDATABLE');
    expect(marginStateOf(x(10), x(5), x(10))).toBe('HEALTHY');
    expect(marginStateOf(0n, 0n, 0n)).toBe('HEALTHY'); // no positions, no collateral
    expect(marginStateOf(-1n, 0n, 0n)).toBe('BANKRUPT');
  });
});
