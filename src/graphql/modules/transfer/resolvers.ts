import type { Account, TransferRecord } from '../../../ledger/index.js';
import { fetchConnection } from '../../keyset.js';
import type { PageArgs } from '../../pagination.js';
import { batchKey, type ModuleResolvers } from '../../resolvers.js';
import { transferFromRow, transferList } from './sql.js';

export const transferResolvers: ModuleResolvers = {
  Account: {
    transfers: (a: Account, args: PageArgs & { newestFirst?: boolean | null }, ctx, info) =>
      fetchConnection(ctx, transferList(args), args, transferFromRow, { column: 'account_id', id: a.id, batch: batchKey(info, args) }),
  },
  CollateralTransfer: {
    blockTimestamp: (t: TransferRecord) => t.timestamp,
  },
};
