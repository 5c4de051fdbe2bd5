// SPEC 2: bad events never stop ingestion. Whatever a (decodable) venue log says, the
// ledger must not produce a value PostgreSQL's NUMERIC(78,18) cannot store: the block's
// transaction would fail and the ingester retry it forever. Absurd values become
// VALUE_OUT_OF_RANGE anomalies instead (src/ledger/README.md, anomalies).
import fc from 'fast-check';
import { fitsStorage, STORAGE_MAX } from '../../../src/ledger/accounts.js';
import type { BlockChanges } from '../../../src/ledger/index.js';
import { ALICE, BOB, CAROL, LedgerChain, ORACLE_1, ORACLE_2, ev, x, type EventDraft } from '../../support/ledger.js';
import { unstorable } from '../../support/storable.js';

const UINT256_MAX = 2n ** 256n - 1n;
const INT256_MAX = 2n ** 255n - 1n;
const INT256_MIN = -(2n ** 255n);
/** 1e59, close to the largest value the columns hold (< 1e60), in 1e-18 units. */
const HUGE = 10n ** 77n;
const PARAMS = { oracleStalenessSeconds: 1_000_000_000, riskFreeRate: 0n };

const outOfRange = (changes: BlockChanges) => changes.anomalies.filter((a) => a.kind === 'VALUE_OUT_OF_RANGE');

function expectStorable(chain: LedgerChain): void {
  for (const changes of chain.history) expect(unstorable(changes)).toEqual([]);
}

describe('nothing the ledger produces is beyond NUMERIC(78,18)', () => {
  describe('funding premium samples', () => {
    it('samples a premium that does not fit as none, once, and settles as if unsampled', () => {
      const chain = new LedgerChain(PARAMS);
      chain.block(1000, [ev.perp('P', 'U', { interval: 100 }), { ...ev.price('U', 1), price: 1n }, ev.deposit(ALICE, 10), ev.deposit(BOB, 10)]);
      // Last fill near 1e59 against an index of 1e-18: the premium is about 1e77 (1e95 units).
      const fills = [{ ...ev.fill('P', ALICE, 1, 1), price: HUGE }, { ...ev.fill('P', BOB, -1, 1), price: HUGE }];
      const absurd = chain.block(1010, fills);
      expect(outOfRange(absurd)).toEqual([expect.objectContaining({ logIndex: null, data: expect.objectContaining({ market: 'P', indexPrice: '0.000000000000000001' }) })]);
      expect(absurd.fundingSamples).toEqual([]);
      expect(chain.market('P').funding.premium).toBeNull();
      // The inputs are unchanged in the next block: nothing new to say.
      expect(outOfRange(chain.block(1050))).toEqual([]);
      const boundary = chain.block(1100);
      expect(boundary.fundingSettlements).toEqual([expect.objectContaining({ rate: 0n, cumulativeFunding: 0n })]);
      expectStorable(chain);
    });

    it('holds as none a premium whose weight over one funding period would not fit, and drops a held one', () => {
      const chain = new LedgerChain(PARAMS);
      const interval = 10 ** 15;
      chain.block(1000, [ev.perp('P', 'U', { interval }), ev.price('U', 1), ev.deposit(ALICE, 10), ev.deposit(BOB, 10)]);
      chain.block(1001, [ev.fill('P', ALICE, 1, 2), ev.fill('P', BOB, -1, 2)]);
      expect(chain.market('P').funding.premium).toBe(x(1));
      // premium 1e50 fits on its own, but 1e50 x 1e15 s does not.
      const absurd = chain.block(1002, [{ ...ev.fill('P', ALICE, 1, 1), price: 10n ** 68n }, { ...ev.fill('P', BOB, -1, 1), price: 10n ** 68n }]);
      expect(fitsStorage((10n ** 68n - x(1)) * 10n ** 18n / x(1))).toBe(true);
      expect(outOfRange(absurd)).toHaveLength(1);
      expect(absurd.fundingSamples).toEqual([expect.objectContaining({ premium: null })]);
      expectStorable(chain);
    });

    it('leaves uncovered a held sample that would take the weighted sum beyond range (a state stored before the bound)', () => {
      const chain = new LedgerChain(PARAMS);
      chain.block(1000, [ev.perp('P', 'U', { interval: 10 ** 6 }), ev.price('U', 1)]);
      const market = chain.market('P');
      chain.state.markets.set('P', { ...market, funding: { ...market.funding, premium: HUGE } });
      const next = chain.block(1100);
      expect(outOfRange(next)).toHaveLength(1);
      expect(chain.market('P').funding).toMatchObject({ weightedPremium: 0n, coveredSeconds: 0 });
      expectStorable(chain);
    });
  });

  describe('the cumulative funding index', () => {
    it('does not apply a step that would take it beyond range: the periods settle at rate 0', () => {
      const chain = new LedgerChain(PARAMS);
      // Index 1e59, premium 0.1, a cap that lets it through: each period adds 1e58 to F.
      chain.block(1000, [ev.perp('P', 'U', { interval: 100, maxRate: '1' }), { ...ev.price('U', 1), price: HUGE }, ev.deposit(ALICE, 10), ev.deposit(BOB, 10)]);
      const price = HUGE + HUGE / 10n;
      chain.block(1000, [{ ...ev.fill('P', ALICE, '0.000000000000000001', 1), price }, { ...ev.fill('P', BOB, '-0.000000000000000001', 1), price }]);
      expect(chain.market('P').funding.premium).toBe(x('0.1'));
      const first = chain.block(1100);
      expect(first.fundingSettlements).toEqual([expect.objectContaining({ rate: x('0.1'), cumulativeFunding: HUGE / 10n })]);
      expect(outOfRange(first)).toEqual([]);
      // A gap of 200 periods: one period fits (F = 2e58), the other 199 at once do not.
      const gap = chain.block(1100 + 200 * 100);
      expect(gap.fundingSettlements.map((s) => [s.period, s.periods, s.rate, s.cumulativeFunding])).toEqual([
        [11, 1, x('0.1'), 2n * HUGE / 10n],
        [12, 199, 0n, 2n * HUGE / 10n],
      ]);
      expect(outOfRange(gap)).toEqual([expect.objectContaining({ data: expect.objectContaining({ market: 'P', period: 12, periods: 199, rate: '0.1' }) })]);
      expect(chain.market('P')).toMatchObject({ cumulativeFunding: 2n * HUGE / 10n, lastFundingRate: 0n });
      expectStorable(chain);
    });

    it('does not apply a step that would give an open position unstorable accrued funding; its fills still apply', () => {
      const chain = new LedgerChain(PARAMS);
      chain.block(1000, [ev.perp('P', 'U', { interval: 100, maxRate: '1' }), ev.price('U', 100), ev.deposit(ALICE, 10), ev.deposit(BOB, 10), ev.deposit(CAROL, 10)]);
      // Alice holds 1e59 units; a premium of 0.5 on index 100 adds 50 to F per period: 5e60 accrued.
      chain.block(1000, [{ ...ev.fill('P', ALICE, 1, 150), sizeDelta: HUGE }, { ...ev.fill('P', BOB, 1, 150), sizeDelta: -HUGE }]);
      const boundary = chain.block(1100);
      expect(boundary.fundingSettlements).toEqual([expect.objectContaining({ rate: 0n, cumulativeFunding: 0n })]);
      expect(outOfRange(boundary)).toHaveLength(1);
      // Alice can still trade: there is no unstorable funding to settle.
      const close = chain.block(1101, [{ ...ev.fill('P', ALICE, 1, 150), sizeDelta: -HUGE }]);
      expect(close.fills).toHaveLength(1);
      expect(outOfRange(close)).toEqual([]);
      expectStorable(chain);
    });
  });

  describe('margin transitions', () => {
    it('records a transition whose amounts are beyond range saturated, with the exact ones in an anomaly', () => {
      const chain = new LedgerChain(PARAMS);
      chain.block(1000, [ev.perp('P', 'U'), { ...ev.price('U', 1), price: HUGE }, ev.deposit(ALICE, 100), ev.deposit(BOB, 100)]);
      // 1e59 units at 1e59: notional 1e118, far beyond the columns.
      const block = chain.block(1001, [{ ...ev.fill('P', ALICE, 1, 1), sizeDelta: HUGE, price: HUGE }]);
      expect(block.transitions).toEqual([expect.objectContaining({
        from: 'HEALTHY', to: 'LIQUIDATABLE', equity: x(100), initialMargin: STORAGE_MAX, maintenanceMargin: STORAGE_MAX,
      })]);
      expect(chain.account(ALICE)!.marginState).toBe('LIQUIDATABLE');
      expect(outOfRange(block)).toEqual([expect.objectContaining({
        data: expect.objectContaining({ account: `${ALICE}:0`, to: 'LIQUIDATABLE', initialMargin: '1' + '0'.repeat(117) }),
      })]);
      // The index falls to 1e-18: equity about -1e118, saturated negative.
      const crash = chain.block(1002, [{ ...ev.price('U', 1), price: 1n }]);
      expect(crash.transitions).toEqual([expect.objectContaining({ to: 'BANKRUPT', equity: -STORAGE_MAX })]);
      // (The last fill near 1e59 on that index also gives a premium beyond range.)
      expect(outOfRange(crash).map((a) => a.data['account'] ?? a.data['market'])).toEqual(['P', `${ALICE}:0`]);
      expectStorable(chain);
    });
  });

  it('skips a fill whose own realized PnL would not fit, even where the running total would', () => {
    const chain = new LedgerChain(PARAMS);
    chain.block(1000, [ev.perp('P', 'U', { interval: 0 }), ev.price('U', 1), ev.deposit(ALICE, 10)]);
    const at = (size: bigint, price: bigint) => ({ ...ev.fill('P', ALICE, 1, 1), sizeDelta: size, price });
    // Long 2e59 units bought at 9, half sold at 1e-18: realized about -9e59, long 1e59 at 9.
    chain.block(1001, [at(2n * HUGE, x(9)), at(-HUGE, 1n)]);
    expect(chain.position(ALICE, 'P')).toMatchObject({ size: HUGE, entryPrice: x(9) });
    // Selling 2e59 at 25 realizes +1.6e60 in one fill (the lifecycle's total, 7e59, would fit).
    const big = chain.block(1002, [at(-2n * HUGE, x(25))]);
    expect(big.fills).toEqual([]);
    expect(outOfRange(big)).toHaveLength(1);
    expect(chain.position(ALICE, 'P')).toMatchObject({ size: HUGE, entryPrice: x(9) });
    expectStorable(chain);
  });

  describe('property: any decodable events, however extreme', () => {
    const extreme = fc.oneof(
      fc.constantFrom(1n, 10n ** 18n, HUGE, HUGE / 10n, 10n ** 59n, 10n ** 40n, UINT256_MAX, INT256_MAX),
      fc.bigInt({ min: 1n, max: UINT256_MAX }),
      fc.bigInt({ min: 1n, max: 10n ** 22n }),
    );
    const uint = fc.oneof(fc.constant(0n), extreme);
    const int = fc.oneof(extreme, extreme.map((v) => (v > INT256_MAX ? INT256_MIN : -v)), fc.constant(INT256_MIN));
    const seconds = fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.constantFrom(1, Number.MAX_SAFE_INTEGER), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
    const owner = fc.constantFrom(ALICE, BOB, CAROL);
    const perp = fc.constantFrom('P1', 'P2');
    const market = fc.constantFrom('P1', 'P2', 'C', 'Q');

    const eventArb: fc.Arbitrary<EventDraft> = fc.oneof(
      fc.record({ o: owner, a: uint }).map(({ o, a }) => ({ ...ev.deposit(o, 0), amount: a })),
      fc.record({ o: owner, a: uint }).map(({ o, a }) => ({ ...ev.withdraw(o, 0), amount: a })),
      fc.record({ m: market, o: owner, d: int, p: uint, f: uint }).map(({ m, o, d, p, f }) => ({ ...ev.fill(m, o, 1, 1), sizeDelta: d, price: p, fee: f })),
      fc.record({ m: market, o: owner, d: int, p: uint, pen: uint }).map(({ m, o, d, p, pen }) => ({ ...ev.liquidate(m, o, 1, 1, 0), sizeDelta: d, price: p, penalty: pen })),
      fc.record({ u: fc.constantFrom('U', 'V'), p: uint, s: fc.constantFrom(ORACLE_1, ORACLE_2) }).map(({ u, p, s }) => ({ ...ev.price(u, 1, s), price: p })),
      fc.record({ m: market, v: uint }).map(({ m, v }) => ({ ...ev.vol(m, 1), impliedVolatility: v })),
      fc.record({ m: market, i: uint, mm: uint }).map(({ m, i, mm }) => ({ ...ev.fractions(m, '0.1', '0.05'), initialMarginFraction: i, maintenanceMarginFraction: mm })),
    );
    const listingArb = fc.record({
      p1: fc.record({ interval: seconds, maxRate: uint, imf: uint, mmf: uint }),
      p2: fc.record({ interval: seconds, maxRate: uint, imf: uint, mmf: uint }),
      strike: extreme,
      expiry: fc.integer({ min: 1001, max: 50_000 }),
      put: fc.record({ strike: extreme, imf: uint, mmf: uint }),
    });
    const blocksArb = fc.array(fc.record({
      dt: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 10 ** 9 })),
      events: fc.array(eventArb, { maxLength: 6 }),
    }), { minLength: 1, maxLength: 12 });

    it('never throws and never produces a value the database cannot store', () => {
      fc.assert(fc.property(listingArb, blocksArb, (listing, blocks) => {
        const chain = new LedgerChain({ oracleStalenessSeconds: 3600, riskFreeRate: 0n });
        const perpListing = (id: string, underlying: string, t: typeof listing.p1): EventDraft => ({
          ...ev.perp(id, underlying), fundingInterval: t.interval, maxFundingRate: t.maxRate, initialMarginFraction: t.imf, maintenanceMarginFraction: t.mmf,
        });
        chain.block(1000, [
          perpListing('P1', 'U', listing.p1),
          perpListing('P2', 'V', listing.p2),
          { ...ev.option('C', 'U', 'CALL', 1, listing.expiry), strike: listing.strike },
          { ...ev.option('Q', 'V', 'PUT', 1, listing.expiry), strike: listing.put.strike, initialMarginFraction: listing.put.imf, maintenanceMarginFraction: listing.put.mmf },
          ev.deposit(ALICE, 1000), ev.deposit(BOB, 1000),
        ]);
        let time = 1000;
        for (const block of blocks) chain.block((time += block.dt), block.events);
        expectStorable(chain);
        // Every skipped-or-saturated value said so: an anomaly whenever a transition was saturated.
        for (const changes of chain.history) {
          const saturated = changes.transitions.filter((t) => [t.equity, t.initialMargin, t.maintenanceMargin].some((v) => v === STORAGE_MAX || v === -STORAGE_MAX));
          if (saturated.length > 0) expect(outOfRange(changes).length).toBeGreaterThanOrEqual(saturated.length);
        }
      }), { numRuns: 300 });
    });

    it('fills near the limit, then funding over long gaps, keep every value storable', () => {
      const near = fc.oneof(fc.constantFrom(HUGE, 9n * HUGE, 10n ** 77n + 1n, 1n, 10n ** 18n), fc.bigInt({ min: 10n ** 70n, max: 10n ** 78n - 1n }));
      fc.assert(fc.property(near, near, near, near, seconds, fc.array(fc.integer({ min: 1, max: 10 ** 9 }), { minLength: 1, maxLength: 6 }),
        (size, fillPrice, index, maxRate, interval, gaps) => {
          const chain = new LedgerChain(PARAMS);
          chain.block(1000, [{ ...ev.perp('P', 'U'), fundingInterval: interval, maxFundingRate: maxRate }, { ...ev.price('U', 1), price: index }, ev.deposit(ALICE, 10), ev.deposit(BOB, 10)]);
          chain.block(1001, [{ ...ev.fill('P', ALICE, 1, 1), sizeDelta: size, price: fillPrice }, { ...ev.fill('P', BOB, 1, 1), sizeDelta: -size, price: fillPrice }]);
          let time = 1001;
          for (const gap of gaps) chain.block((time += gap), [{ ...ev.price('U', 1), price: index }]);
          chain.block(time + 1, [{ ...ev.fill('P', ALICE, 1, 1), sizeDelta: -size, price: index }, { ...ev.fill('P', BOB, 1, 1), sizeDelta: size, price: index }]);
          expectStorable(chain);
        }), { numRuns: 300 });
    });
  });
});
