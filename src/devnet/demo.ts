import type pg from 'pg';
import { createWalletClient, http, type Address, type Hex } from 'viem';
import { VenueArtifact } from '../chain/artifacts.js';
import { toBytes32Name } from '../chain/names.js';
import { parseFixed } from '../fixed/index.js';
import type { Logger } from '../log/index.js';
import { anvilAccount } from './deploy.js';
import type { VenueDriver } from './venue-driver.js';
import { random, traderAddresses } from './workload.js';

export interface DemoOptions {
  venue: VenueDriver;
  rpcUrl: string;
  /** The tracker's database: the liquidator bot reads who is liquidatable from it. */
  pool: pg.Pool;
  logger: Logger;
  seed?: number;
}

const TRADERS = 12;
const UNDERLYINGS = { ETH: 2000, BTC: 60_000 } as const;
type Underlying = keyof typeof UNDERLYINGS;

/**
 * The demo market of `pts dev`: ETH and BTC perpetuals and a few ETH options, three
 * oracle sources reporting random-walk prices every second, a dozen traders trading
 * (some with too much leverage) and moving collateral, and a liquidator bot that reads
 * the tracker's own margin states and liquidates what it finds. Margin transitions
 * start within a minute. Returns a function that stops it.
 */
export async function startDemo(options: DemoOptions): Promise<() => Promise<void>> {
  const { venue, logger } = options;
  const c = venue.call;
  const next = random(options.seed ?? Date.now() % 2 ** 31);
  const traders = traderAddresses(TRADERS, 42);
  const prices: Record<Underlying, number> = { ...UNDERLYINGS };
  const reporters = [7, 8, 9].map((i) => anvilAccount(i));
  const liquidator = anvilAccount(5).address;
  const now = Math.floor(Date.now() / 1000);
  const options_ = [
    { id: 'ETH-C-2000-1H', kind: 'CALL' as const, strike: 2000, expiry: now + 3600 },
    { id: 'ETH-P-1900-1H', kind: 'PUT' as const, strike: 1900, expiry: now + 3600 },
    { id: 'ETH-C-2200-1D', kind: 'CALL' as const, strike: 2200, expiry: now + 86_400 },
    { id: 'ETH-P-1800-1D', kind: 'PUT' as const, strike: 1800, expiry: now + 86_400 },
  ];

  await venue.send([
    c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 60, maxFundingRate: '0.0005' }),
    c.listPerpetual('BTC-PERP', 'BTC', { imf: '0.1', mmf: '0.05', fundingInterval: 60, maxFundingRate: '0.0005' }),
    ...options_.flatMap((o) => [
      c.listOption(o.id, 'ETH', o.kind, o.strike, o.expiry, { imf: '0.15', mmf: '0.08' }),
      c.volatility(o.id, '0.7'),
    ]),
    ...reporters.map((r) => c.setReporter(r.address, true)),
    c.price('ETH', UNDERLYINGS.ETH),
    c.price('BTC', UNDERLYINGS.BTC),
    // Collateral from 1,000 to 20,000: the small accounts run out of margin first.
    ...traders.map((t, i) => c.depositFor(t, 0, 1000 + Math.round((19_000 * Math.max(0, i - 1)) / (TRADERS - 2)))),
    // The liquidator takes over what it liquidates: without collateral of its own it would
    // be liquidatable itself at once.
    c.depositFor(liquidator, 0, 1_000_000),
  ]);
  // Two traders with 1,000 each take opposite sides at 9.95x (IM 995): a move of 0.05%
  // either way puts one of them in MARGIN_CALL, so transitions start with the first price
  // reports. (At 9.7x the band was -0.34%..+0.28%, and the walk stayed inside it for a
  // whole minute in a few starts out of a hundred: the pts-dev e2e test failed so.)
  await venue.send([c.trade('ETH-PERP', { trader: traders[0]!, sub: 0 }, { trader: traders[1]!, sub: 0 }, '4.975', UNDERLYINGS.ETH)]);
  logger.info('demo market listed', { markets: ['ETH-PERP', 'BTC-PERP', ...options_.map((o) => o.id)], traders: TRADERS });

  let running = true;
  const loops: Promise<void>[] = [];
  const every = (ms: number, name: string, tick: () => Promise<void>) =>
    loops.push((async () => {
      while (running) {
        try {
          await tick();
        } catch (error) {
          if (running) logger.warn(`demo ${name} failed; going on`, { error: (error as Error).message.slice(0, 200) });
        }
        await new Promise((r) => setTimeout(r, ms * (0.5 + next())));
      }
    })());

  // Oracle sources: each reports the shared random walk with its own small noise.
  const wallets = reporters.map((account) => createWalletClient({ account, chain: venue.deployment.chain, transport: http(options.rpcUrl) }));
  every(1000, 'oracle', async () => {
    for (const u of Object.keys(prices) as Underlying[]) prices[u] *= Math.exp((next() - 0.5) * 0.012);
    await Promise.all(wallets.map(async (wallet) => {
      for (const u of Object.keys(prices) as Underlying[]) {
        const price = (prices[u] * (1 + (next() - 0.5) * 0.001)).toFixed(2);
        const hash = await wallet.writeContract({
          address: venue.address, abi: VenueArtifact.abi, functionName: 'reportPrice',
          args: [toBytes32Name(u), parseFixed(price)],
        });
        await venue.deployment.publicClient.waitForTransactionReceipt({ hash });
      }
    }));
  });

  // Traders: random trades near the index, leverage up to ~8x for the small accounts.
  every(700, 'trading', async () => {
    const calls: Hex[] = [];
    for (let i = 0; i < 3; i++) {
      const a = Math.floor(next() * TRADERS);
      const b = (a + 1 + Math.floor(next() * (TRADERS - 1))) % TRADERS;
      const roll = next();
      if (roll < 0.6) {
        const u: Underlying = next() < 0.7 ? 'ETH' : 'BTC';
        const notional = 500 + next() * 4000;
        const size = (notional / prices[u]).toFixed(4);
        const price = (prices[u] * (0.999 + next() * 0.002)).toFixed(2);
        calls.push(c.trade(`${u}-PERP`, { trader: traders[a]!, sub: 0, fee: '0.5' }, { trader: traders[b]!, sub: 0, fee: '0.5' }, size, price));
      } else if (roll < 0.85) {
        const o = options_[Math.floor(next() * options_.length)]!;
        if (o.expiry <= Date.now() / 1000) continue;
        const intrinsic = Math.max(0, o.kind === 'CALL' ? prices.ETH - o.strike : o.strike - prices.ETH);
        const premium = (intrinsic + prices.ETH * 0.02 * (0.5 + next())).toFixed(2);
        calls.push(c.trade(o.id, { trader: traders[a]!, sub: 0 }, { trader: traders[b]!, sub: 0 }, (0.1 + next()).toFixed(2), premium));
      } else if (roll < 0.95) {
        calls.push(c.depositFor(traders[a]!, 0, (200 + next() * 2000).toFixed(2)));
      } else {
        calls.push(c.volatility(options_[Math.floor(next() * options_.length)]!.id, (0.5 + next() * 0.5).toFixed(2)));
      }
    }
    if (calls.length > 0) await venue.send(calls);
  });

  // Liquidator: closes the perpetual positions of accounts the tracker marks liquidatable
  // (never its own: that would move its positions to itself and only charge the penalty).
  every(2000, 'liquidator', async () => {
    const { rows } = await options.pool.query(
      `SELECT a.owner, p.market_id, p.size::text AS size, u.index_price::text AS price
         FROM account a
         JOIN position p ON p.account_id = a.id AND p.closed_block IS NULL
         JOIN market m ON m.id = p.market_id AND m.kind = 'PERPETUAL'
         JOIN underlying u ON u.id = m.underlying
        WHERE a.margin_state IN ('LIQUIDATABLE', 'BANKRUPT') AND u.index_price IS NOT NULL AND a.owner <> $1
        LIMIT 5`,
      [liquidator.toLowerCase()],
    );
    if (rows.length === 0) return;
    await venue.send(rows.map((row) => {
      const size = parseFixed(row.size);
      const closing = size > 0n ? `-${row.size}` : row.size.slice(1);
      return c.liquidate(row.market_id, { trader: row.owner as Address, sub: 0 }, { trader: liquidator, sub: 0 }, closing, row.price, '5');
    }));
    logger.info('demo liquidator liquidated positions', { positions: rows.length });
  });

  return async () => {
    running = false;
    // A transaction in flight waits for its receipt, for up to viem's 180 s if the devnet
    // died under it: stop waiting after 3 s.
    await Promise.race([Promise.allSettled(loops), new Promise((r) => setTimeout(r, 3000).unref())]);
  };
}
