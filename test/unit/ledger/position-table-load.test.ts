// A restart reads the position table in its physical order, not sorted (PositionTable.load):
// whatever the order, each (account, market) must end with its last lifecycle, as when the
// versions are put one by one in chain order.
import fc from 'fast-check';
import { AccountTable } from '../../../src/ledger/tables/account-table.js';
import { PositionTable } from '../../../src/ledger/tables/position-table.js';
import type { Position } from '../../../src/ledger/index.js';

const version = fc.record({
  account: fc.integer({ min: 0, max: 5 }),
  market: fc.constantFrom('ETH-PERP', 'BTC-PERP', 'ETH-C'),
  seq: fc.integer({ min: 0, max: 3 }),
  size: fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
  closed: fc.boolean(),
});

function position(v: { account: number; market: string; seq: number; size: bigint; closed: boolean }): Position {
  const accountId = `0x${String(v.account).padStart(40, '0')}:0`;
  return {
    id: `${accountId}|${v.market}|${v.seq}`, accountId, marketId: v.market, seq: v.seq, size: v.size, entryPrice: v.size === 0n ? null : 3000n * 10n ** 18n,
    realizedPnl: -v.size, fundingSnapshot: 7n, settledFunding: v.size / 3n, feesPaid: 1n, openedBlock: 10 + v.seq, closedBlock: v.closed ? 20 + v.seq : null, updatedBlock: 30 + v.seq,
  };
}

/** A position loaded as a restart does: its account named by its row in the account table. */
const load = (accounts: AccountTable, table: PositionTable, p: Position) =>
  table.load(accounts.rowFor(p.accountId), p.marketId, p.seq, p.size, p.entryPrice, p.realizedPnl, p.fundingSnapshot, p.settledFunding, p.feesPaid, p.openedBlock, p.closedBlock, p.updatedBlock);

describe('PositionTable.load', () => {
  it('keeps the highest lifecycle of each pair, rows in any order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(version, { selector: (v) => `${v.account}|${v.market}|${v.seq}`, maxLength: 40 }), fc.infiniteStream(fc.nat()), (versions, noise) => {
        const positions = versions.map(position);
        const inOrder = new PositionTable(new AccountTable());
        for (const p of [...positions].sort((a, b) => a.seq - b.seq)) inOrder.put(p);
        const shuffled = positions.map((p) => [noise.next().value, p] as const).sort((a, b) => a[0] - b[0]).map(([, p]) => p);
        const accounts = new AccountTable();
        const loaded = new PositionTable(accounts);
        for (const p of shuffled) load(accounts, loaded, p);
        expect(loaded.count).toBe(inOrder.count);
        for (const p of positions) expect(loaded.latest(p.accountId, p.marketId)).toEqual(inOrder.latest(p.accountId, p.marketId));
      }),
    );
  });
});
