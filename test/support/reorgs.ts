// Changing a devnet's chain under a following ingester, and watching where it is: the
// helpers of the reorg tests.
import { encodeFunctionData, type Hex } from 'viem';
import { VenueArtifact } from '../../src/chain/artifacts.js';
import type { Devnet } from './devnet.js';
import { waitFor } from './wait.js';

/** Replaces the last `depth` blocks (anvil_reorg); each entry of `blocks` is mined (as one venue batch) at that offset. */
export async function reorg(net: Devnet, depth: number, blocks: { offset: number; calls: Hex[] }[]): Promise<void> {
  const { deployment } = net;
  const txs = blocks.map(({ offset, calls }) => [
    { from: deployment.owner.address, to: deployment.address, gas: '0x1000000',
      data: encodeFunctionData({ abi: VenueArtifact.abi, functionName: 'batch', args: [calls] } as never) },
    offset,
  ]);
  await deployment.testClient.request({ method: 'anvil_reorg', params: [depth, txs] } as never);
}

/** Removes the last `depth` blocks (anvil_rollback): a shorter chain. */
export async function rollback(net: Devnet, depth: number): Promise<void> {
  await net.deployment.testClient.request({ method: 'anvil_rollback', params: [depth] } as never);
}

export async function chainHead(net: Devnet): Promise<number> {
  return Number(await net.deployment.publicClient.getBlockNumber({ cacheTime: 0 }));
}

export async function hashOf(net: Devnet, number: number): Promise<string> {
  return (await net.deployment.publicClient.getBlock({ blockNumber: BigInt(number) })).hash.toLowerCase();
}

/** The last committed block of `net`'s database. */
export async function cursorOf(net: Devnet): Promise<{ number: number; hash: string } | undefined> {
  const { rows } = await net.db.pool.query('SELECT block_number::int AS number, block_hash AS hash FROM cursor');
  return rows[0];
}

/** Resolves once the database's last block is the chain's head block (same hash). */
export async function caughtUp(net: Devnet, timeoutMs?: number): Promise<number> {
  let head = -1;
  await until('the ingester is at the chain head', async () => {
    head = await chainHead(net);
    return (await cursorOf(net))?.hash === (await hashOf(net, head));
  }, timeoutMs);
  return head;
}

/** waitFor (wait.ts), `what` first. */
export function until(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  return waitFor(condition, what, timeoutMs);
}
