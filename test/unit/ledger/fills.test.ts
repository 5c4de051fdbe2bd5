import { ALICE, BOB, LedgerChain, ev, x } from '../../support/ledger.js';

function market() {
  const chain = new LedgerChain();
  chain.block(1000, [ev.perp('ETH-PERP', 'ETH', { interval: 3600 }), ev.price('ETH', 100), ev.deposit(ALICE, 1000)]);
  return chain;
}

describe('perpetual fills (SPEC 3)', () => {
  it('moves realized PnL and fees into collateral and keeps the position', () => {
    const chain = market();
    chain.block(1001, [ev.fill('ETH-PERP', ALICE, 2, 100, '0.5')]);
    chain.block(1002, [ev.fill('ETH-PERP', ALICE, -1, 110, '0.25')]);
    expect(chain.account(ALICE)!.collateral).toBe(x('1009.25')); // 1000 - 0.5 + 10 - 0.25
    const position = chain.position(ALICE, 'ETH-PERP')!;
    expect(position).toMatchObject({ size: x(1), entryPrice: x(100), realizedPnl: x(10), feesPaid: x('0.75'), seq: 1 });
    const fill = chain.history[2]!.fills[0]!;
    expect(fill).toMatchObject({ size: x(-1), price: x(110), fee: x('0.25'), realizedPnl: x(10), liquidation: false, positionId: position.id });
  });

  it('closes a position as history and opens a new lifecycle on the next fill', () => {
    const chain = market();
    chain.block(1001, [ev.fill('ETH-PERP', ALICE, 1, 100)]);
    const closing = chain.block(1002, [ev.fill('ETH-PERP', ALICE, -1, 90)]);
    const closed = closing.positions[0]!;
    expect(closed).toMatchObject({ size: 0n, entryPrice: null, closedBlock: 3, realizedPnl: x(-10), seq: 1 });
    expect(chain.state.holders.get('ETH-PERP')?.has(`${ALICE}:0`)).toBe(false);
    chain.block(1003, [ev.fill('ETH-PERP', ALICE, -2, 95)]);
    const reopened = chain.position(ALICE, 'ETH-PERP')!;
    expect(reopened).toMatchObject({ seq: 2, size: x(-2), entryPrice: x(95), realizedPnl: 0n, closedBlock: null, openedBlock: 4 });
    expect(reopened.id).not.toBe(closed.id);
  });

  it('writes both lifecycles when one block closes a position and opens the next', () => {
    const chain = market();
    chain.block(1001, [ev.fill('ETH-PERP', ALICE, 1, 100)]);
    const block = chain.block(1002, [ev.fill('ETH-PERP', ALICE, -1, 100), ev.fill('ETH-PERP', ALICE, 2, 101)]);
    expect(block.positions.map((p) => [p.seq, p.size, p.closedBlock])).toEqual([[1, 0n, 3], [2, x(2), null]]);
    expect(chain.position(ALICE, 'ETH-PERP')!.seq).toBe(2);
    expect(chain.state.holders.get('ETH-PERP')?.has(`${ALICE}:0`)).toBe(true);
  });

  it('charges the liquidation penalty and marks the fill as a liquidation', () => {
    const chain = market();
    chain.block(1001, [ev.fill('ETH-PERP', ALICE, 5, 100)]);
    const block = chain.block(1002, [ev.liquidate('ETH-PERP', ALICE, -5, 80, 12)]);
    expect(chain.account(ALICE)!.collateral).toBe(x(1000 - 100 - 12));
    expect(block.fills[0]).toMatchObject({ liquidation: true, penalty: x(12), liquidator: BOB.toLowerCase(), fee: 0n });
    expect(chain.position(ALICE, 'ETH-PERP')!.closedBlock).toBe(3);
  });

  it('keeps subaccounts isolated', () => {
    const chain = market();
    chain.block(1001, [ev.deposit(ALICE, 5, 7), ev.fill('ETH-PERP', ALICE, 1, 100, 0, 7)]);
    expect(chain.account(ALICE, 7)!.collateral).toBe(x(5));
    expect(chain.account(ALICE, 0)!.collateral).toBe(x(1000));
    expect(chain.position(ALICE, 'ETH-PERP', 0)).toBeUndefined();
    expect(chain.position(ALICE, 'ETH-PERP', 7)!.size).toBe(x(1));
  });
});

describe('option fills (SPEC 3)', () => {
  it('moves collateral by the premium only and reports realized PnL', () => {
    const chain = new LedgerChain();
    chain.block(1000, [ev.option('ETH-C-100', 'ETH', 'CALL', 100, 100_000), ev.price('ETH', 100), ev.deposit(ALICE, 1000), ev.deposit(BOB, 1000)]);
    chain.block(1001, [ev.fill('ETH-C-100', ALICE, 2, 5, '0.1'), ev.fill('ETH-C-100', BOB, -2, 5, '0.1')]);
    expect(chain.account(ALICE)!.collateral).toBe(x('989.9')); // 1000 - 2*5 - 0.1
    expect(chain.account(BOB)!.collateral).toBe(x('1009.9')); // 1000 + 2*5 - 0.1
    chain.block(1002, [ev.fill('ETH-C-100', ALICE, -1, 8)]);
    expect(chain.account(ALICE)!.collateral).toBe(x('997.9')); // + 1*8 premium received
    expect(chain.position(ALICE, 'ETH-C-100')).toMatchObject({ size: x(1), entryPrice: x(5), realizedPnl: x(3) });
  });
});

describe('collateral (SPEC 3)', () => {
  it('adds deposits and subtracts withdrawals', () => {
    const chain = new LedgerChain();
    const block = chain.block(1000, [ev.deposit(ALICE, '10.5'), ev.withdraw(ALICE, 3)]);
    expect(chain.account(ALICE)!.collateral).toBe(x('7.5'));
    expect(block.transfers.map((t) => [t.kind, t.amount, t.collateralAfter])).toEqual([
      ['DEPOSIT', x('10.5'), x('10.5')],
      ['WITHDRAWAL', x(3), x('7.5')],
    ]);
  });
});
