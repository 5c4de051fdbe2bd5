import { applyBlock, emptyState } from '../../../src/ledger/index.js';
import { ALICE, LedgerChain, ev, x } from '../../support/ledger.js';

function listed() {
  const chain = new LedgerChain();
  chain.block(1000, [ev.perp('ETH-PERP', 'ETH'), ev.option('ETH-C', 'ETH', 'CALL', 100, 1500), ev.price('ETH', 100), ev.deposit(ALICE, 100)]);
  return chain;
}

describe('bad input becomes anomalies, never an exception (SPEC 2)', () => {
  it('skips an event for an unknown market', () => {
    const chain = listed();
    const block = chain.block(1001, [ev.fill('NOPE', ALICE, 1, 100), ev.vol('NOPE', '0.5'), ev.fractions('NOPE', '0.1', '0.05')]);
    expect(block.anomalies.map((a) => [a.kind, a.logIndex])).toEqual([['UNKNOWN_MARKET', 0], ['UNKNOWN_MARKET', 1], ['UNKNOWN_MARKET', 2]]);
    expect(block.fills).toEqual([]);
    expect(chain.account(ALICE)!.collateral).toBe(x(100));
  });

  it('skips zero prices, zero sizes and fills on expired options', () => {
    const chain = listed();
    const block = chain.block(1500, [ev.fill('ETH-PERP', ALICE, 1, 0), ev.price('ETH', 0), ev.fill('ETH-PERP', ALICE, 0, 100), ev.fill('ETH-C', ALICE, 1, 2)]);
    expect(block.anomalies.map((a) => a.kind)).toEqual(['ZERO_PRICE', 'ZERO_PRICE', 'ZERO_SIZE_FILL', 'EXPIRED_OPTION_FILL']);
    expect(block.fills).toEqual([]);
    expect(chain.state.underlyings.get('ETH')!.indexPrice).toBe(x(100));
  });

  it('applies an over-withdrawal and records it', () => {
    const chain = listed();
    const block = chain.block(1001, [ev.withdraw(ALICE, 150)]);
    expect(chain.account(ALICE)!.collateral).toBe(x(-50));
    expect(block.anomalies[0]).toMatchObject({ kind: 'NEGATIVE_COLLATERAL', data: { collateralAfter: '-50' } });
    expect(block.transitions[0]).toMatchObject({ from: 'HEALTHY', to: 'BANKRUPT', equity: x(-50) });
  });

  it('records malformed logs, duplicate and invalid listings', () => {
    const chain = listed();
    const block = chain.block(1001, [
      ev.malformed(),
      ev.perp('ETH-PERP', 'ETH'),
      { ...ev.perp('X', 'ETH'), kind: 7 } as ReturnType<typeof ev.perp>,
      ev.option('Y', 'ETH', 'PUT', 0, 5000),
      ev.perp('Z', 'ETH', { interval: 0 }),
    ]);
    expect(block.anomalies.map((a) => a.kind)).toEqual(['MALFORMED_LOG', 'DUPLICATE_MARKET', 'INVALID_MARKET', 'INVALID_MARKET', 'FUNDING_DISABLED']);
    expect(block.anomalies.map((a) => a.seq)).toEqual([0, 1, 2, 3, 4]);
    expect([...chain.state.markets.keys()].sort()).toEqual(['ETH-C', 'ETH-PERP', 'Z']);
  });

  it('skips values that would not fit NUMERIC(78,18)', () => {
    const chain = listed();
    const deposit = { ...ev.deposit(ALICE, 1), amount: 6n * 10n ** 77n } as ReturnType<typeof ev.deposit>;
    const overflow = chain.block(1001, [deposit, deposit]);
    expect(overflow.anomalies.map((a) => a.kind)).toEqual(['VALUE_OUT_OF_RANGE']);
    expect(chain.account(ALICE)!.collateral).toBe(x(100) + 6n * 10n ** 77n);
    chain.block(1002, [ev.fill('ETH-PERP', ALICE, 100, 1)]);
    const close = { ...ev.fill('ETH-PERP', ALICE, -100, 1), price: 10n ** 77n } as ReturnType<typeof ev.fill>;
    const pnl = chain.block(1003, [close]);
    expect(pnl.anomalies.map((a) => a.kind)).toEqual(['VALUE_OUT_OF_RANGE']);
    expect(chain.position(ALICE, 'ETH-PERP')!.size).toBe(x(100));
  });

  it('applies events in (transactionIndex, logIndex) order whatever order they arrive in', () => {
    const base = { blockNumber: 1, transactionHash: '0x1', venue: '0xv' };
    const events = [
      { ...ev.withdraw(ALICE, 5), ...base, transactionIndex: 1, logIndex: 3 },
      { ...ev.deposit(ALICE, 5), ...base, transactionIndex: 0, logIndex: 9 },
    ] as Parameters<typeof applyBlock>[2];
    const changes = applyBlock(emptyState(), { number: 1, hash: '0x1', parentHash: '0x0', timestamp: 1 }, events);
    expect(changes.anomalies).toEqual([]);
    expect(changes.transfers.map((t) => t.kind)).toEqual(['DEPOSIT', 'WITHDRAWAL']);
  });
});
