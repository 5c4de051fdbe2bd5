// The commit notification names the batch's parent and the accounts whose rows it wrote,
// as long as they fit in a NOTIFY payload; otherwise it leaves the list out (unknown).
import { blocksCommitted, NOTIFY_PAYLOAD_BYTES } from '../../../src/db/store/ledger-store.js';
import type { BlockChanges } from '../../../src/ledger/index.js';

const id = (n: number) => `0x${n.toString(16).padStart(40, '0')}:${n % 3}`;

/** A block whose changes hold accounts `accounts` and positions of accounts `positions` (only ids matter here). */
function block(number: number, accounts: number[], positions: number[]): BlockChanges {
  return {
    block: { number, hash: `0x${number}`, parentHash: `0x${number - 1}`, timestamp: number },
    accounts: accounts.map((n) => ({ id: id(n) })),
    positions: positions.map((n) => ({ accountId: id(n) })),
  } as unknown as BlockChanges;
}

describe('blocksCommitted', () => {
  it('names the parent and each changed account once, across the batch', () => {
    const payload = blocksCommitted([block(6, [1, 2], [2, 3]), block(7, [3], [4])], undefined);
    expect(payload).toEqual({ first: 6, last: 7, hash: '0x7', parentHash: '0x5', accounts: [id(1), id(2), id(3), id(4)] });
  });

  it('leaves the accounts out when they would not fit, and keeps the reorg', () => {
    const many = Array.from({ length: 400 }, (_, i) => i);
    const payload = blocksCommitted([block(6, many, [])], { depth: 1, commonAncestor: 5 });
    expect(payload).toEqual({ first: 6, last: 6, hash: '0x6', parentHash: '0x5', reorg: { depth: 1, commonAncestor: 5 } });
  });

  it('fills a payload up to the limit, never past it', () => {
    for (let count = 150; count <= 175; count++) {
      const payload = blocksCommitted([block(6, Array.from({ length: count }, (_, i) => i), [])], undefined);
      expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(NOTIFY_PAYLOAD_BYTES);
      if (count <= 160) expect(payload.accounts).toHaveLength(count);
    }
  });
});
