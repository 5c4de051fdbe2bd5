import { fetchConnection, type BlockRange } from '../../keyset.js';
import type { PageArgs } from '../../pagination.js';
import type { ModuleResolvers } from '../../resolvers.js';
import { anomalyFromRow, anomalyList } from './sql.js';

export const anomalyResolvers: ModuleResolvers = {
  Query: {
    anomalies: (_: unknown, { first, after, ...filter }: PageArgs & BlockRange & { kind?: string | null }, ctx) =>
      fetchConnection(ctx, anomalyList(filter), { first, after }, anomalyFromRow),
  },
};
