// The margin pass skips holders whose state cannot have changed (src/ledger/margin-watch.ts):
// the skip must never change a result, and must actually skip.
import fc from 'fast-check';
import { ONE } from '../../../src/fixed/index.js';
import { driftOf, limitOf, type WatchedMarket } from '../../../src/ledger/margin-watch.js';
import { ALICE, BOB, CAROL, LedgerChain, ORACLE_1, ev, marginStateFromScratch, x, type EventDraft } from '../../support/ledger.js';

const PARAMS = { oracleStalenessSeconds: 100_000, riskFreeRate: 0n };
const id = (owner: string, subaccount = 0) => `${owner.toLowerCase()}:${subaccount}`;

function listed(): LedgerChain {
  const chain = new LedgerChain(PARAMS);
  chain.block(10_000, [
    ev.perp('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', interval: 3600, maxRate: '0.01' }),
    ev.perp('BTC-PERP', 'BTC', { imf: '0.1', mmf: '0.05' }),
    ev.option('ETH-C-100', 'ETH', 'CALL', 100, 400_000),
    ev.option('ETH-P-90', 'ETH', 'PUT', 90, 400_000),
    ev.vol('ETH-C-100', '0.6'),
    ev.vol('ETH-P-90', '0.7'),
    ev.price('ETH', 100, ORACLE_1),
    ev.price('BTC', 150, ORACLE_1),
  ]);
  return chain;
}

const evaluatedIn = (chain: LedgerChain) => chain.history.at(-1)!.marginWatch!.limits;

describe('margin watch', () => {
  it('skips a holder far from its thresholds on a small move and evaluates it once a move could cross one', () => {
    const chain = listed();
    // ALICE: 10 long at 100 on 200 of collateral: IM 100, MM 50, 100 away from MARGIN_CALL.
    // BOB: 1 long at 100 on 10.05: 0.05 away from it.
    chain.block(10_001, [ev.deposit(ALICE, 200), ev.deposit(BOB, '10.05'), ev.fill('ETH-PERP', ALICE, 10, 100), ev.fill('ETH-PERP', BOB, 1, 100)]);
    chain.block(10_002, [ev.price('ETH', '100.1')]);
    expect(evaluatedIn(chain).has(id(ALICE))).toBe(false); // could move ~1.1, has 100
    expect(evaluatedIn(chain).has(id(BOB))).toBe(true); // could move ~0.11, has 0.05
    chain.block(10_003, [ev.price('ETH', 90)]);
    // Equity 100 against IM 90: still HEALTHY, but a 10% move may have crossed: evaluated.
    expect(evaluatedIn(chain).has(id(ALICE))).toBe(true);
    expect(chain.account(ALICE)!.marginState).toBe('HEALTHY');
    expect(chain.account(BOB)!.marginState).toBe('LIQUIDATABLE');
    chain.block(10_004, [ev.price('ETH', 85)]);
    expect(chain.account(ALICE)!.marginState).toBe('MARGIN_CALL');
    expect(chain.history.at(-1)!.transitions.map((t) => [t.accountId, t.from, t.to])).toEqual([
      [id(ALICE), 'HEALTHY', 'MARGIN_CALL'],
      [id(BOB), 'LIQUIDATABLE', 'BANKRUPT'],
    ]);
  });

  it('evaluates every holder again after a state is loaded (the watch lives in memory only)', () => {
    const chain = listed();
    chain.block(10_001, [ev.deposit(ALICE, 200), ev.fill('ETH-PERP', ALICE, 10, 100)]);
    chain.state.marginWatch.markets.clear();
    chain.state.marginWatch.limits.clear();
    chain.block(10_002, [ev.price('ETH', '100.1')]);
    expect(evaluatedIn(chain).has(id(ALICE))).toBe(true);
  });

  it('limit: an account exactly on a threshold is evaluated on any move; one without positions only on its own events', () => {
    const margins = { equity: 5n, initialMargin: 5n, maintenanceMargin: 1n };
    expect(limitOf(7n, margins, 10n)).toBe(-1n);
    expect(limitOf(7n, { equity: 5n, initialMargin: 0n, maintenanceMargin: 0n }, 0n)).toBeNull();
    // exposure x (drift - 7) < slack x 1e18: with slack 4 and exposure 1e18, up to drift 10.
    expect(limitOf(7n, { equity: 5n, initialMargin: 1n, maintenanceMargin: 1n }, ONE)).toBe(10n);
  });

  it('drift: equity and margin moves per unit, relative to the scale, rounded up', () => {
    const before: WatchedMarket = { scale: x(100), equity: x(100), initialMargin: x(100) * x('0.1'), maintenanceMargin: x(100) * x('0.05') };
    const now: WatchedMarket = { ...before, equity: x(101), initialMargin: x(101) * x('0.1'), maintenanceMargin: x(101) * x('0.05') };
    // (1 + 0.1) / 100 = 0.011, in 36 decimals.
    expect(driftOf(before, now)).toBe(11n * 10n ** 33n);
    expect(driftOf(before, { ...now, equity: before.equity + 1n, initialMargin: before.initialMargin, maintenanceMargin: before.maintenanceMargin })).toBe(10n ** 16n);
    expect(driftOf(before, { ...before })).toBe(0n);
  });

  it('property: prices walking in small and large steps, funding, volatility, fractions and time never leave an account in another state than its positions give', () => {
    const owners = [ALICE, BOB, CAROL];
    const markets = ['ETH-PERP', 'BTC-PERP', 'ETH-C-100', 'ETH-P-90'];
    const opening = fc.array(fc.record({
      owner: fc.constantFrom(...owners), sub: fc.constantFrom(0, 1), market: fc.constantFrom(...markets),
      size: fc.integer({ min: -500, max: 500 }).filter((n) => n !== 0), collateral: fc.integer({ min: 1, max: 3000 }),
    }), { minLength: 1, maxLength: 12 });
    const step = fc.record({
      dt: fc.integer({ min: 0, max: 900 }),
      eth: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -30, max: 30 }) }, { weight: 1, arbitrary: fc.integer({ min: -1500, max: 1500 }) }),
      btc: fc.integer({ min: -40, max: 40 }),
      extra: fc.oneof(
        { weight: 6, arbitrary: fc.constant<EventDraft[]>([]) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 150 }).map((v) => [ev.vol('ETH-C-100', (v / 100).toFixed(2))]) },
        { weight: 1, arbitrary: fc.integer({ min: 5, max: 30 }).map((f) => [ev.fractions('ETH-PERP', (f / 100).toFixed(2), (f / 200).toFixed(3))]) },
        { weight: 1, arbitrary: fc.record({ owner: fc.constantFrom(...owners), size: fc.integer({ min: -50, max: 50 }).filter((n) => n !== 0) })
          .map(({ owner, size }) => [ev.fill('ETH-PERP', owner, (size / 10).toFixed(1), 101)]) },
      ),
    });
    let skipped = 0;
    fc.assert(fc.property(opening, fc.array(step, { minLength: 5, maxLength: 60 }), (opens, steps) => {
      const chain = listed();
      chain.block(10_001, opens.flatMap((o) => [
        ev.deposit(o.owner, o.collateral, o.sub),
        ev.fill(o.market, o.owner, (o.size / 100).toFixed(2), o.market.startsWith('ETH-PERP') ? 100 : o.market === 'BTC-PERP' ? 150 : 8, 0, o.sub),
      ]));
      let eth = 100_000; // thousandths: integers, exact
      let btc = 150_000;
      let time = 10_001;
      for (const s of steps) {
        eth = Math.max(1000, eth + s.eth);
        btc = Math.max(1000, btc + s.btc);
        const holders = [...chain.state.openPositions].filter(([, open]) => open.size > 0).map(([accountId]) => accountId);
        chain.block((time += s.dt), [ev.price('ETH', (eth / 1000).toFixed(3)), ev.price('BTC', (btc / 1000).toFixed(3)), ...s.extra]);
        skipped += holders.filter((accountId) => !evaluatedIn(chain).has(accountId)).length;
        for (const accountId of chain.state.accounts.keys()) {
          expect(chain.state.accounts.get(accountId)!.marginState).toBe(marginStateFromScratch(chain.state, accountId));
        }
      }
    }), { numRuns: 150 });
    expect(skipped).toBeGreaterThan(0);
  });
});
