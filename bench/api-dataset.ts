// The dataset of bench/api.ts: a venue with perpetuals and options on ETH, BTC and SOL,
// `accounts` traders each holding `positionsPerAccount` positions, their collateral set so
// that margin ratios spread over HEALTHY and MARGIN_CALL (some close to a boundary), and
// price moves that flip some of them. Venue events go through the pure ledger (applyBlock,
// commitBlock) exactly as the ingester applies them; the caller persists the BlockChanges
// with LedgerStore.commit.
import { narrow, parseFixed, toFloat, type Fixed } from '../src/fixed/index.js';
import {
  applyBlock, commitBlock, emptyState,
  type BlockChanges, type LedgerParams, type LedgerState, type VenueEvent,
} from '../src/ledger/index.js';
import { accountRisk } from '../src/risk/account.js';
import { markOf } from '../src/risk/mark.js';
import { positionRisk } from '../src/risk/position.js';

type Body<T extends VenueEvent['type']> = Omit<Extract<VenueEvent, { type: T }>, 'type' | 'blockNumber' | 'transactionIndex' | 'logIndex' | 'transactionHash' | 'venue'>;
type Draft = { [T in VenueEvent['type']]: { type: T } & Body<T> }[VenueEvent['type']];

const VENUE = '0x00000000000000000000000000000000000000fe';
const ORACLES = ['0x0000000000000000000000000000000000000001', '0x0000000000000000000000000000000000000002', '0x0000000000000000000000000000000000000003'];
const x = (value: number | string): Fixed => parseFixed(typeof value === 'number' ? value.toFixed(12) : value);
const DAY = 86_400;
const T0 = 1_700_000_000;

interface Listing {
  id: string;
  underlying: string;
  kind: 'PERPETUAL' | 'CALL' | 'PUT';
  strike: number;
  expiry: number;
  vol: number;
}

const SPOT: Record<string, number> = { ETH: 3000, BTC: 60000, SOL: 150 };
/** Size of one "lot" of each underlying: about 3000-6000 of notional. */
const LOT: Record<string, number> = { ETH: 1, BTC: 0.05, SOL: 20 };

export class Market {
  readonly state: LedgerState = emptyState();
  readonly params: LedgerParams = { oracleStalenessSeconds: 3600, riskFreeRate: 0n };
  readonly owners: string[];
  private readonly listings: Listing[];
  private number = 0;
  private time = T0;
  private random: () => number;

  constructor(private readonly options: { accounts: number; positionsPerAccount: number; seed: number }) {
    this.owners = Array.from({ length: options.accounts }, (_, i) => `0x${(0xa000000 + i).toString(16).padStart(40, '0')}`);
    let s = options.seed >>> 0 || 1;
    this.random = () => {
      // xorshift32
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 2 ** 32;
    };
    this.listings = [
      { id: 'ETH-PERP', underlying: 'ETH', kind: 'PERPETUAL', strike: 0, expiry: 0, vol: 0 },
      { id: 'BTC-PERP', underlying: 'BTC', kind: 'PERPETUAL', strike: 0, expiry: 0, vol: 0 },
      { id: 'SOL-PERP', underlying: 'SOL', kind: 'PERPETUAL', strike: 0, expiry: 0, vol: 0 },
    ];
    for (const [underlying, strikes, vol] of [['ETH', [2500, 3000, 3500], 0.7], ['BTC', [50000, 60000, 70000], 0.55]] as const) {
      for (const days of [30, 90]) {
        for (const strike of strikes) {
          for (const kind of ['CALL', 'PUT'] as const) {
            this.listings.push({ id: `${underlying}-${days}D-${strike}-${kind[0]}`, underlying, kind, strike, expiry: T0 + days * DAY, vol: vol + (strike - SPOT[underlying]!) / SPOT[underlying]! / 5 });
          }
        }
      }
    }
  }

  get marketCount(): number {
    return this.listings.length;
  }

  get optionCount(): number {
    return this.listings.filter((l) => l.kind !== 'PERPETUAL').length;
  }

  /** The blocks that list the markets, price them and open every account's positions. */
  setup(): BlockChanges[] {
    const blocks: BlockChanges[] = [];
    const listing: Draft[] = [];
    for (const l of this.listings) {
      listing.push({
        type: 'MarketListed', marketId: l.id, underlying: l.underlying, kind: l.kind === 'PERPETUAL' ? 0 : l.kind === 'CALL' ? 1 : 2,
        strike: l.kind === 'PERPETUAL' ? 0n : x(l.strike), expiry: l.expiry,
        initialMarginFraction: x('0.1'), maintenanceMarginFraction: x('0.05'),
        fundingInterval: l.kind === 'PERPETUAL' ? 3600 : 0, maxFundingRate: l.kind === 'PERPETUAL' ? x('0.01') : 0n,
      });
      if (l.kind !== 'PERPETUAL') listing.push({ type: 'VolatilityReported', marketId: l.id, impliedVolatility: x(l.vol.toFixed(4)) });
    }
    for (const [underlying, spot] of Object.entries(SPOT)) {
      for (const source of ORACLES) listing.push({ type: 'PriceReported', underlying, source, price: x(spot) });
    }
    blocks.push(this.block(listing));

    // Positions: the three perpetuals and options picked at random, sizes of 0.5-4 lots,
    // long or short, filled near the mark; a token deposit first.
    const options = this.listings.filter((l) => l.kind !== 'PERPETUAL');
    const perps = this.listings.filter((l) => l.kind === 'PERPETUAL');
    for (let from = 0; from < this.owners.length; from += 100) {
      const events: Draft[] = [];
      for (const owner of this.owners.slice(from, from + 100)) {
        events.push({ type: 'Deposited', owner, subaccount: 0, amount: x(1) });
        const picked = [...perps.slice(0, Math.min(3, this.options.positionsPerAccount))];
        const pool = [...options];
        while (picked.length < this.options.positionsPerAccount && pool.length > 0) picked.push(pool.splice(Math.floor(this.random() * pool.length), 1)[0]!);
        for (const l of picked) {
          const lots = 0.5 + this.random() * 3.5;
          const size = (this.random() < 0.5 ? -1 : 1) * lots * LOT[l.underlying]!;
          const mark = this.markFloat(l.id);
          events.push({
            type: 'Filled', marketId: l.id, owner, subaccount: 0,
            sizeDelta: x(size.toFixed(6)), price: x((mark * (0.99 + this.random() * 0.02)).toFixed(6)), fee: x('0.5'),
          });
        }
      }
      blocks.push(this.block(events));
    }

    // Collateral: equity set to r * maintenance margin with r spread over [1.05, 4]; a fifth
    // of the accounts sit within 20% of a boundary (MM or IM = 2 MM), so price moves flip some.
    const topUps: Draft[] = [];
    for (const owner of this.owners) {
      const { equity, maintenanceMargin } = this.risk(`${owner}:0`);
      const u = this.random();
      const r = u < 0.1 ? 1.05 + this.random() * 0.2 : u < 0.2 ? 1.85 + this.random() * 0.3 : 2.2 + this.random() * 1.8;
      const target = maintenanceMargin * r;
      if (target > equity) topUps.push({ type: 'Deposited', owner, subaccount: 0, amount: x((target - equity).toFixed(6)) });
    }
    blocks.push(this.block(topUps));
    return blocks;
  }

  /** Margin states after setup, counted. */
  states(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const account of this.state.accounts.values()) counts[account.marginState] = (counts[account.marginState] ?? 0) + 1;
    return counts;
  }

  /** Round k: ETH and BTC move 7% down on odd rounds, back up on even ones (every oracle). */
  priceMove(round: number): BlockChanges & { description: string } {
    const factor = round % 2 === 1 ? 0.93 : 1;
    const events: Draft[] = [];
    for (const underlying of ['ETH', 'BTC']) {
      for (const source of ORACLES) events.push({ type: 'PriceReported', underlying, source, price: x(SPOT[underlying]! * factor) });
    }
    return Object.assign(this.block(events), { description: factor === 1 ? 'ETH and BTC back to 3000 and 60000' : 'ETH and BTC down 7%' });
  }

  /** A small ETH move (0.1% up or down, every oracle): a new block for the caches. */
  tick(i: number): BlockChanges {
    const price = SPOT.ETH! * (i % 2 === 1 ? 1.001 : 0.999);
    return this.block(ORACLES.map((source) => ({ type: 'PriceReported' as const, underlying: 'ETH', source, price: x(price) })));
  }

  private markFloat(marketId: string): number {
    const market = this.state.markets.get(marketId)!;
    const index = this.state.underlyings.get(market.underlying)!.indexPrice;
    return toFloat(markOf(market, index, this.time, this.params.riskFreeRate).value!);
  }

  private risk(accountId: string): { equity: number; maintenanceMargin: number } {
    const account = this.state.accounts.get(accountId)!;
    const risks = [];
    for (const position of this.state.openPositions.get(accountId)?.values() ?? []) {
      const market = this.state.markets.get(position.marketId)!;
      const mark = markOf(market, this.state.underlyings.get(market.underlying)?.indexPrice ?? null, this.time, this.params.riskFreeRate);
      risks.push(positionRisk(position, market, mark));
    }
    const risk = accountRisk(account.collateral, risks);
    return { equity: toFloat(narrow(risk.equity)), maintenanceMargin: toFloat(narrow(risk.maintenanceMargin)) };
  }

  private block(drafts: Draft[]): BlockChanges {
    const number = ++this.number;
    this.time += 12;
    const events = drafts.map((event, i) => ({
      ...event,
      blockNumber: number,
      transactionIndex: i,
      logIndex: i,
      transactionHash: `0x${number.toString(16).padStart(8, '0')}${i.toString(16).padStart(56, '0')}`,
      venue: VENUE,
    })) as VenueEvent[];
    const header = { number, hash: `0x${number.toString(16).padStart(64, '0')}`, parentHash: `0x${(number - 1).toString(16).padStart(64, '0')}`, timestamp: this.time };
    const changes = applyBlock(this.state, header, events, this.params);
    commitBlock(this.state, changes);
    return changes;
  }
}
