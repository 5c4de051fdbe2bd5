import { GroupCommit, type Batch } from '../../../src/chain/group-commit.js';
import type { BlockChanges } from '../../../src/ledger/index.js';

const block = (number: number) => ({ block: { number, hash: `0x${number}`, parentHash: `0x${number - 1}`, timestamp: number } }) as BlockChanges;

/** A write function whose calls the test settles one by one. */
function controlledWrites() {
  const calls: { batch: Batch; settle(error?: Error): void }[] = [];
  const write = (batch: Batch) =>
    new Promise<void>((resolve, reject) => calls.push({ batch, settle: (error) => (error ? reject(error) : resolve()) }));
  return { calls, write };
}
const numbers = (batch: Batch) => batch.batch.map((c) => c.block.number);
const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('writes one batch at a time; what is applied meanwhile goes in the next, together', async () => {
    const { calls, write } = controlledWrites();
    const writer = new GroupCommit(write);
    writer.add(block(1), null, 10);
    writer.kick();
    writer.add(block(2), [], 11);
    writer.kick();
    writer.add(block(3), null, 12);
    writer.kick();
    expect(calls.map((c) => numbers(c.batch))).toEqual([[1]]);
    expect(writer.backlog).toBe(2);
    calls[0]!.settle();
    await tick();
    expect(calls.map((c) => numbers(c.batch))).toEqual([[1], [2, 3]]);
    expect(calls[1]!.batch.head).toBe(12);
    expect([...calls[1]!.batch.undo.keys()]).toEqual([2]);
    const flushed = writer.flush();
    calls[1]!.settle();
    await flushed;
    expect(writer.backlog).toBe(0);
  });

  it('after a failed write drops the queue, stays failed until reset, and keeps the rollback for the next batch', async () => {
    const { calls, write } = controlledWrites();
    const writer = new GroupCommit(write);
    writer.rolledBack(2, 7);
    writer.rolledBack(1, 6);
    writer.add(block(7), null, 10);
    writer.kick();
    expect(calls[0]!.batch.reorg).toEqual({ depth: 3, commonAncestor: 6 });
    writer.add(block(8), null, 10);
    calls[0]!.settle(new Error('disk full'));
    await expect(writer.flush()).rejects.toThrow('disk full');
    expect(writer.failed).toBe(true);
    expect(calls).toHaveLength(1); // block 8 stood on the failed batch: never written
    writer.add(block(9), null, 10);
    writer.kick();
    expect(calls).toHaveLength(1);
    await writer.reset();
    expect(writer.failed).toBe(false);
    expect(writer.backlog).toBe(0);
    writer.add(block(7), null, 10);
    writer.kick();
    expect(calls[1]!.batch.reorg).toEqual({ depth: 3, commonAncestor: 6 });
    calls[1]!.settle();
    await writer.flush();
  });
});
