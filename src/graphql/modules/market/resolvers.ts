import type { MarketKind } from '../../../ledger/index.js';
import { then } from '../../memo.js';
import type { ModuleResolvers } from '../../resolvers.js';
import type { MarketView } from './view.js';

export const marketResolvers: ModuleResolvers = {
  Query: {
    market: (_: unknown, { id }: { id: string }, ctx) => ctx.loaders.risk.market(id),
    markets: (_: unknown, { kind, underlying }: { kind?: MarketKind | null; underlying?: string | null }, ctx) =>
      then(ctx.loaders.risk.markets(), (markets) =>
        [...markets.values()].filter((m) => (kind == null || m.kind === kind) && (underlying == null || m.underlying === underlying)),
      ),
  },
  // The other fields are MarketView properties (view.ts).
  Market: {
    openInterest: (m: MarketView, _: unknown, ctx) => then(ctx.loaders.marketStatsOf(m.id), (s) => s.openInterest),
    shortInterest: (m: MarketView, _: unknown, ctx) => then(ctx.loaders.marketStatsOf(m.id), (s) => s.shortInterest),
    longCount: (m: MarketView, _: unknown, ctx) => then(ctx.loaders.marketStatsOf(m.id), (s) => s.longCount),
    shortCount: (m: MarketView, _: unknown, ctx) => then(ctx.loaders.marketStatsOf(m.id), (s) => s.shortCount),
  },
};
