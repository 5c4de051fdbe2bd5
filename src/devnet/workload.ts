import { keccak256, toHex, type Address, type Hex } from 'viem';
import type { VenueDriver } from './venue-driver.js';

/** A small deterministic PRNG (mulberry32): the same seed, the same chain. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct trader addresses derived from `seed`. */
export function traderAddresses(count: number, seed = 1): Address[] {
  return Array.from({ length: count }, (_, i) => `0x${keccak256(toHex(`pts trader ${seed}:${i}`)).slice(26)}` as Address);
}

export interface WorkloadOptions {
  seed?: number;
  traders: readonly Address[];
  /** Venue events per block, roughly (each trade is two). Default 100. */
  eventsPerBlock?: number;
  /** Block time of the generated chain, for option expiries. */
  startTime: number;
}

interface Listed {
  id: string;
  underlying: 'ETH' | 'BTC';
  option?: { kind: 'CALL' | 'PUT'; strike: number };
}

/**
 * Random but reproducible venue traffic for tests and benchmarks: ETH and BTC
 * perpetuals and ETH options, random-walk index prices, trades between random traders
 * near the index, deposits and withdrawals, and the odd liquidation. Decimal amounts
 * are built as strings (cents), never as floats that reach the ledger.
 */
export class Workload {
  private readonly next: () => number;
  private readonly prices = { ETH: 2000, BTC: 60000 };
  readonly markets: Listed[];

  constructor(private readonly venue: VenueDriver, private readonly options: WorkloadOptions) {
    this.next = random(options.seed ?? 7);
    this.markets = [
      { id: 'ETH-PERP', underlying: 'ETH' },
      { id: 'BTC-PERP', underlying: 'BTC' },
      { id: `ETH-C-2000`, underlying: 'ETH', option: { kind: 'CALL', strike: 2000 } },
      { id: `ETH-P-1800`, underlying: 'ETH', option: { kind: 'PUT', strike: 1800 } },
    ];
  }

  /** Listings, volatilities, first prices and a deposit for every trader, in chunks of at most `chunk` calls. */
  setup(chunk = 250): Hex[][] {
    const c = this.venue.call;
    const expiry = this.options.startTime + 30 * 86400;
    const first: Hex[] = [];
    for (const market of this.markets) {
      first.push(market.option
        ? c.listOption(market.id, market.underlying, market.option.kind, market.option.strike, expiry, { imf: '0.15', mmf: '0.08' })
        : c.listPerpetual(market.id, market.underlying, { imf: '0.1', mmf: '0.05', fundingInterval: 3600, maxFundingRate: '0.001' }));
      if (market.option) first.push(c.volatility(market.id, '0.65'));
    }
    first.push(c.price('ETH', this.prices.ETH), c.price('BTC', this.prices.BTC));
    const deposits = this.options.traders.map((t) => c.depositFor(t, 0, this.cents(5000 + this.next() * 45000)));
    const chunks = [first];
    for (let i = 0; i < deposits.length; i += chunk) chunks.push(deposits.slice(i, i + chunk));
    return chunks;
  }

  /** The calls of the next block: new prices, then trades and transfers up to the event budget. */
  block(): Hex[] {
    const c = this.venue.call;
    const budget = this.options.eventsPerBlock ?? 100;
    const calls: Hex[] = [];
    for (const u of ['ETH', 'BTC'] as const) {
      this.prices[u] *= Math.exp((this.next() - 0.5) * 0.01);
      calls.push(c.price(u, this.cents(this.prices[u])));
    }
    let events = 2;
    const traders = this.options.traders;
    const pick = () => traders[Math.floor(this.next() * traders.length)]!;
    while (events < budget) {
      const roll = this.next();
      if (roll < 0.04) {
        calls.push(c.depositFor(pick(), 0, this.cents(100 + this.next() * 2000)));
        events += 1;
      } else if (roll < 0.05) {
        const market = this.markets[Math.floor(this.next() * 2)]!;
        const size = this.cents(0.01 + this.next());
        const price = this.cents(this.prices[market.underlying] * (0.97 + this.next() * 0.02));
        calls.push(c.liquidate(market.id, { trader: pick(), sub: 0 }, { trader: pick(), sub: 0 }, this.next() < 0.5 ? size : `-${size}`, price, this.cents(1 + this.next() * 20)));
        events += 2;
      } else {
        const market = this.markets[Math.floor(this.next() * this.markets.length)]!;
        const index = this.prices[market.underlying];
        const price = market.option
          ? Math.max(1, Math.abs(index - market.option.strike) * 0.6 + index * 0.04 * (0.8 + this.next() * 0.4))
          : index * (0.999 + this.next() * 0.002);
        const size = market.underlying === 'BTC' ? 0.001 + this.next() * 0.05 : 0.01 + this.next() * 2;
        let buyer = pick();
        let seller = pick();
        if (buyer === seller) seller = traders[(traders.indexOf(seller) + 1) % traders.length]!;
        if (this.next() < 0.5) [buyer, seller] = [seller, buyer];
        calls.push(c.trade(market.id, { trader: buyer, sub: 0, fee: '0.1' }, { trader: seller, sub: 0, fee: '0.1' }, this.units(size), this.cents(price)));
        events += 2;
      }
    }
    return calls;
  }

  private cents(value: number): string {
    return (Math.round(value * 100) / 100).toFixed(2);
  }

  private units(value: number): string {
    return (Math.round(value * 10_000) / 10_000).toFixed(4);
  }
}
