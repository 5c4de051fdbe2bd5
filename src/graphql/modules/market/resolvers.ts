import type { Market, MarketKind } from '../../../ledger/index.js';
import { then } from '../../memo.js';
import type { ModuleResolvers } from '../../resolvers.js';

const isPerpetual = (market: Market) => market.kind === 'PERPETUAL';

export const marketResolvers: ModuleResolvers = {
  Query: {
    market: (_: unknown, { id }: { id: string }, ctx) => ctx.loaders.market(id),
    markets: async (_: unknown, { kind, underlying }: { kind?: MarketKind | null; underlying?: string | null }, ctx) => {
      const markets = [...(await ctx.loaders.markets()).values()];
      return markets.filter((m) => (kind == null || m.kind === kind) && (underlying == null || m.underlying === underlying));
    },
  },
  Market: {
    // Terms that only one kind has are null on the other (stored as 0).
    strike: (m: Market) => (isPerpetual(m) ? null : m.strike),
    expiry: (m: Market) => (isPerpetual(m) ? null : m.expiry),
    fundingInterval: (m: Market) => (isPerpetual(m) ? m.fundingInterval : null),
    maxFundingRate: (m: Market) => (isPerpetual(m) ? m.maxFundingRate : null),
    indexPrice: (m: Market, _: unknown, ctx) => then(ctx.loaders.underlying(m.underlying), (u) => u?.indexPrice ?? null),
    indexPriceStale: (m: Market, _: unknown, ctx) => then(ctx.loaders.underlying(m.underlying), (u) => u?.indexStale ?? true),
    value: (m: Market, _: unknown, ctx) => then(ctx.loaders.risk.marks(), (marks) => marks.get(m.id)?.value ?? null),
    openInterest: (m: Market, _: unknown, ctx) => then(ctx.loaders.marketStatsOf(m.id), (s) => s.openInterest),
    shortInterest: (m: Market, _: unknown, ctx) => then(ctx.loaders.marketStatsOf(m.id), (s) => s.shortInterest),
    longCount: (m: Market, _: unknown, ctx) => then(ctx.loaders.marketStatsOf(m.id), (s) => s.longCount),
    shortCount: (m: Market, _: unknown, ctx) => then(ctx.loaders.marketStatsOf(m.id), (s) => s.shortCount),
  },
};
