import { LatestBlock } from '../../../src/graphql/latest-block.js';
import type { SnapshotBlock } from '../../../src/graphql/snapshot.js';

const block = (number: number): SnapshotBlock => ({ chainId: 1, number, hash: `0x${number}`, timestamp: 1000 + number, headBlockNumber: number });

describe('LatestBlock', () => {
  let now = 0;
  let listening = true;
  const latest = () => new LatestBlock({ listening: () => listening, maxAgeMs: 1000, now: () => now });
  beforeEach(() => {
    now = 0;
    listening = true;
  });

  it('knows the block a snapshot saw until a commit is notified', () => {
    const known = latest();
    expect(known.current()).toBeNull();
    known.observed(block(5), known.ticket());
    expect(known.current()).toEqual(block(5));
    known.forget();
    expect(known.current()).toBeNull();
  });

  it('ignores a snapshot that began before the last notification: its block may be the one before the commit', () => {
    const known = latest();
    const ticket = known.ticket();
    known.forget();
    known.observed(block(5), ticket);
    expect(known.current()).toBeNull();
    known.observed(block(6), known.ticket());
    expect(known.current()).toEqual(block(6));
  });

  it('trusts nothing while notifications are not arriving, nor a block older than maxAgeMs', () => {
    const known = latest();
    known.observed(block(5), known.ticket());
    listening = false;
    expect(known.current()).toBeNull();
    known.observed(block(6), known.ticket());
    listening = true;
    expect(known.current()).toEqual(block(5));
    now = 1000;
    expect(known.current()).toEqual(block(5));
    now = 1001;
    expect(known.current()).toBeNull();
  });
});
