// The dataset of bench/scale: N accounts x 5 positions over three underlyings (ETH, BTC,
// SOL) with perpetuals and options, written straight into PostgreSQL (a million accounts
// through the ledger's own blocks would take an hour). The markets are listed and priced
// by the ledger (block 1, committed by LedgerStore); accounts and positions are rows of
// block 2, made by SQL from seeded hashes; collateral puts margin ratios over HEALTHY and
// MARGIN_CALL (a fifth of the accounts within 20% of a boundary), and every account's
// stored margin state is then set to what the ledger computes at block 2, exactly.
import { once } from 'node:events';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { narrow, parseFixed, toFloat, type Fixed } from "../src/fixed/index.js";
import { LedgerStore } from '../src/db/store/ledger-store.js';
import { applyBlock, commitBlock, emptyState, type LedgerParams, type VenueEvent } from '../src/ledger/index.js';
import { accountRisk } from '../src/risk/account.js';
import { marginStateOf } from '../src/risk/margin-state.js';
import { markOf } from '../src/risk/mark.js';
import { positionRisk } from '../src/risk/position.js';

export const PARAMS: LedgerParams = { oracleStalenessSeconds: 3600, riskFreeRate: 0n };
export const VENUE = '0x00000000000000000000000000000000000000fe';
export const ORACLES = ['0x0000000000000000000000000000000000000001', '0x0000000000000000000000000000000000000002', '0x0000000000000000000000000000000000000003'];
export const SPOT: Record<string, number> = { ETH: 3000, BTC: 60000, SOL: 150 };
const LOT: Record<string, number> = { ETH: 1, BTC: 0.05, SOL: 20 };
const DAY = 86_400;
export const T0 = 1_700_000_000;
const x = (value: number | string): Fixed => parseFixed(typeof value === 'number' ? value.toFixed(12) : value);

interface Listing {
  id: string;
  underlying: string;
  kind: 'PERPETUAL' | 'CALL' | 'PUT';
  strike: number;
  expiry: number;
  vol: number;
}

/** Where the dataset sits: its two blocks, spot prices, oracle sources and market ids. */
export interface DatasetOptions {
  /** Blocks 1 and 2 of the dataset (default: made-up headers at T0 and T0 + 12). */
  blocks?: readonly [Header, Header];
  /** Spot per underlying (default SPOT). */
  spot?: Readonly<Record<string, number>>;
  /** The oracle sources that report each spot (default ORACLES). */
  oracles?: readonly string[];
  /** Put before every market id (default none): beside another workload's markets. */
  marketPrefix?: string;
}

export interface Header {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
}

/** Three perpetuals and twelve options: 15 markets, an account's five picked with a stride that keeps them distinct. */
export function listings(spot: Readonly<Record<string, number>> = SPOT, t0 = T0, prefix = ''): Listing[] {
  const all: Listing[] = [
    { id: `${prefix}ETH-PERP`, underlying: 'ETH', kind: 'PERPETUAL', strike: 0, expiry: 0, vol: 0 },
    { id: `${prefix}BTC-PERP`, underlying: 'BTC', kind: 'PERPETUAL', strike: 0, expiry: 0, vol: 0 },
    { id: `${prefix}SOL-PERP`, underlying: 'SOL', kind: 'PERPETUAL', strike: 0, expiry: 0, vol: 0 },
  ];
  for (const [underlying, vol] of [['ETH', 0.7], ['BTC', 0.55]] as const) {
    // 2500, 3000, 3500 at an ETH spot of 3000.
    for (const strike of [5 / 6, 1, 7 / 6].map((m) => Math.round(spot[underlying]! * m))) {
      for (const kind of ['CALL', 'PUT'] as const) {
        all.push({ id: `${prefix}${underlying}-60D-${strike}-${kind[0]}`, underlying, kind, strike, expiry: t0 + 60 * DAY, vol: vol + (strike - spot[underlying]!) / spot[underlying]! / 5 });
      }
    }
  }
  return all;
}

function event(number: number, i: number, body: Record<string, unknown>): VenueEvent {
  return { ...body, blockNumber: number, transactionIndex: i, logIndex: i, transactionHash: `0x${number.toString(16).padStart(8, '0')}${i.toString(16).padStart(56, '0')}`, venue: VENUE } as VenueEvent;
}

export function header(number: number, timestamp: number): Header {
  return { number, hash: `0x${number.toString(16).padStart(64, '0')}`, parentHash: `0x${(number - 1).toString(16).padStart(64, '0')}`, timestamp };
}

/** The owner of account i (subaccount 0). */
export function ownerOf(i: number): string {
  return `0x${(0xa0000000 + i).toString(16).padStart(40, '0')}`;
}

/** SQL: a seeded non-negative hash of an integer expression. */
const hash = (expression: string) => `(hashint8((${expression})::int8)::int8 & 2147483647)`;

export async function buildScaleDataset(pool: pg.Pool, accounts: number, log: (line: string) => void, options: DatasetOptions = {}): Promise<void> {
  const store = new LedgerStore(pool);
  const [h1, h2] = options.blocks ?? [header(1, T0), header(2, T0 + 12)];
  const spot = options.spot ?? SPOT;
  // Block 1: the markets, their volatilities and prices, through the ledger.
  const state = emptyState();
  const markets = listings(spot, h1.timestamp, options.marketPrefix);
  const drafts: Record<string, unknown>[] = [];
  for (const l of markets) {
    drafts.push({
      type: 'MarketListed', marketId: l.id, underlying: l.underlying, kind: l.kind === 'PERPETUAL' ? 0 : l.kind === 'CALL' ? 1 : 2,
      strike: l.kind === 'PERPETUAL' ? 0n : x(l.strike), expiry: l.expiry, initialMarginFraction: x('0.1'), maintenanceMarginFraction: x('0.05'),
      fundingInterval: l.kind === 'PERPETUAL' ? 3600 : 0, maxFundingRate: l.kind === 'PERPETUAL' ? x('0.01') : 0n,
    });
    if (l.kind !== 'PERPETUAL') drafts.push({ type: 'VolatilityReported', marketId: l.id, impliedVolatility: x(l.vol.toFixed(4)) });
  }
  for (const [underlying, price] of Object.entries(spot)) for (const source of options.oracles ?? ORACLES) drafts.push({ type: 'PriceReported', underlying, source, price: x(price) });
  const block1 = applyBlock(state, h1, drafts.map((d, i) => event(h1.number, i, d)), PARAMS);
  commitBlock(state, block1);
  await store.commit({ chainId: 31337, headBlockNumber: h2.number, batch: [block1], undo: new Map() });

  // Block 2's rows, by SQL: marks (index or option value) of each market at block 2's time.
  const t2 = h2.timestamp;
  const marks = markets.map((l) => {
    const market = state.markets.get(l.id)!;
    const mark = markOf(market, state.underlyings.get(l.underlying)!.indexPrice, t2, PARAMS.riskFreeRate);
    return toFloat(mark.value!);
  });
  let started = performance.now();
  await pool.query(`INSERT INTO block (number, hash, parent_hash, timestamp, event_count) VALUES ($1, $2, $3, $4, 0)`, [h2.number, h2.hash, h2.parentHash, t2]);
  await pool.query(
    `INSERT INTO account (id, owner, subaccount, collateral, margin_state, created_block, updated_block)
     SELECT o || ':0', o, 0, 0, 'HEALTHY', $2, $2 FROM (SELECT '0x' || lpad(to_hex(2684354560 + i), 40, '0') AS o FROM generate_series(0, $1::int - 1) i) a`,
    [accounts, h2.number],
  );
  log(`   ${accounts} accounts inserted in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  started = performance.now();
  // Five distinct markets per account (stride 3 over 15), sizes 0.5-4 lots either side, entries within 1% of the mark.
  await pool.query(
    `WITH m AS (SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[]) WITH ORDINALITY AS m(id, lot, mark, ord))
     INSERT INTO position (id, account_id, market_id, seq, size, entry_price, realized_pnl, funding_snapshot, settled_funding, fees_paid, opened_block, closed_block, updated_block)
     SELECT a || ':' || m.id || ':1', a, m.id, 1,
            round((CASE WHEN ${hash('i * 16 + k')} % 2 = 0 THEN 1 ELSE -1 END * (0.5 + 3.5 * (${hash('i * 16 + k + 7')} % 1000000) / 1e6) * m.lot)::numeric, 6),
            round((m.mark * (0.99 + 0.02 * (${hash('i * 16 + k + 11')} % 1000000) / 1e6))::numeric, 6),
            0, 0, 0, 0, $5, NULL, $5
       FROM generate_series(0, $4::int - 1) i
      CROSS JOIN generate_series(0, 4) k
      CROSS JOIN LATERAL (SELECT '0x' || lpad(to_hex(2684354560 + i), 40, '0') || ':0' AS a) acc
       JOIN m ON m.ord = ((i + k * 3) % 15) + 1`,
    [markets.map((l) => l.id), markets.map((l) => LOT[l.underlying]!), marks, accounts, h2.number],
  );
  log(`   ${accounts * 5} positions inserted in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await pool.query(`UPDATE cursor SET block_number = $1, block_hash = $2, block_timestamp = $3`, [h2.number, h2.hash, t2]);

  // Collateral: equity = r x maintenance margin (r in [1.05, 4], a fifth near a boundary),
  // from the exact risk of the loaded state; then the margin state that gives, exactly.
  started = performance.now();
  const loaded = await store.loadState();
  const lines: string[] = [];
  const seeded = (i: number) => ((Math.imul(i, 2654435761) >>> 0) % 1_000_000) / 1_000_000;
  let i = 0;
  const counts: Record<string, number> = {};
  const valued = new Map([...loaded.markets.values()].map((m) => [m.id, { market: m, mark: markOf(m, loaded.underlyings.get(m.underlying)!.indexPrice, t2, PARAMS.riskFreeRate) }]));
  for (const [id] of loaded.accounts) {
    const risks = [...loaded.openPositions.get(id).values()].map((p) => positionRisk(p, valued.get(p.marketId)!.market, valued.get(p.marketId)!.mark));
    const bare = accountRisk(0n, risks);
    const u = seeded(i++);
    const r = u < 0.1 ? 1.05 + u * 2 : u < 0.2 ? 1.85 + (u - 0.1) * 3 : 2.2 + (u - 0.2) * 2.25;
    const mm = toFloat(narrow(bare.maintenanceMargin));
    const eq = toFloat(narrow(bare.equity));
    const collateral = x((mm * r - eq).toFixed(6));
    const risk = accountRisk(collateral, risks);
    const state = marginStateOf(risk.equity, risk.initialMargin, risk.maintenanceMargin);
    counts[state] = (counts[state] ?? 0) + 1;
    lines.push(`${id}\t${collateral < 0n ? '-' : ''}${(collateral < 0n ? -collateral : collateral) / 10n ** 18n}.${((collateral < 0n ? -collateral : collateral) % 10n ** 18n).toString().padStart(18, '0')}\t${state}\n`);
  }
  const client = await pool.connect();
  try {
    await client.query('CREATE TEMP TABLE seeded (id text, collateral numeric, margin_state margin_state)');
    const stream = client.query(copyStreams.from('COPY seeded FROM STDIN'));
    const done = once(stream, 'finish');
    for (let from = 0; from < lines.length; from += 10_000) if (!stream.write(lines.slice(from, from + 10_000).join(''))) await once(stream, 'drain');
    stream.end();
    await done;
    await client.query('UPDATE account a SET collateral = s.collateral, margin_state = s.margin_state FROM seeded s WHERE a.id = s.id');
  } finally {
    client.release();
  }
  await pool.query('ANALYZE account; ANALYZE position');
  log(`   collateral and margin states set in ${((performance.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`);
}
