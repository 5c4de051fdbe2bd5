import type { Market, MarketKind } from '../../../ledger/index.js';
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
    indexPrice: async (m: Market, _: unknown, ctx) => (await ctx.loaders.underlying(m.underlying))?.indexPrice ?? null,
    indexPriceStale: async (m: Market, _: unknown, ctx) => (await ctx.loaders.underlying(m.underlying))?.indexStale ?? true,
    value: async (m: Market, _: unknown, ctx) => (await ctx.loaders.risk.mark(m.id))?.value ?? null,
    openInterest: async (m: Market, _: unknown, ctx) => (await ctx.loaders.marketStats.load(m.id)).openInterest,
    shortInterest: async (m: Market, _: unknown, ctx) => (await ctx.loaders.marketStats.load(m.id)).shortInterest,
    longCount: async (m: Market, _: unknown, ctx) => (await ctx.loaders.marketStats.load(m.id)).longCount,
    shortCount: async (m: Market, _: unknown, ctx) => (await ctx.loaders.marketStats.load(m.id)).shortCount,
  },
};
