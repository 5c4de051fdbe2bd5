import type { ModuleResolvers } from '../../resolvers.js';
import type { SnapshotBlock } from '../../snapshot.js';

/** `meta` is the snapshot's own cursor row: the block every other field is as of. */
export const metaResolvers: ModuleResolvers = {
  Query: {
    meta: (_: unknown, __: unknown, ctx) => ctx.block(),
  },
  Meta: {
    blockNumber: (block: SnapshotBlock) => block.number,
    blockHash: (block: SnapshotBlock) => block.hash,
    blockTimestamp: (block: SnapshotBlock) => block.timestamp,
  },
};
