// stress() decides most accounts' state after a shock from float sums and their error
// bounds, and evaluates exactly the ones the bounds cannot decide. Accounts built to land
// exactly on a threshold after the shock (E = IM, E = MM, E = 0, and one unit of 1e-18 to
// either side), at magnitudes where float64 cannot see that unit, must still be counted,
// listed and ordered exactly as src/risk classifies them.
import { mul, narrow, toSql, wide, type Fixed, type Wide } from '../../../../src/fixed/index.js';
import type { Market, MarginState } from '../../../../src/ledger/index.js';
import { AccountColumns } from '../../../../src/graphql/risk-engine/columns.js';
import { compareStressed, pageCandidates, served, stress, type Marked, type Stressed, type StressedKey } from '../../../../src/graphql/risk-engine/stress.js';
import { accountRisk, marginState } from '../../../../src/risk/account.js';
import { markOf } from '../../../../src/risk/mark.js';
import { positionRisk } from '../../../../src/risk/position.js';
import { x } from '../../../support/ledger.js';
import { random } from '../../../support/operation-generator.js';

const market = (id: string, underlying: string, imf: string, mmf: string, funding: string) =>
  ({ id, underlying, kind: 'PERPETUAL', strike: 0n, expiry: 0, impliedVolatility: null, initialMarginFraction: x(imf), maintenanceMarginFraction: x(mmf), cumulativeFunding: x(funding) }) as unknown as Market;

const MARKETS = new Map([
  ['ETH-PERP', market('ETH-PERP', 'ETH', '0.1', '0.05', '1.234567')],
  ['BTC-PERP', market('BTC-PERP', 'BTC', '0.2', '0.1', '-0.5')],
]);
const INDEX = { ETH: x('3000.25'), BTC: x('97000.5') };

function marked(move: Fixed): Marked {
  const marks = new Map([...MARKETS.values()].map((m) => {
    const index = m.underlying === 'ETH' ? mul(INDEX.ETH, x(1) + move) : INDEX.BTC;
    return [m.id, markOf(m, index, 0, 0n)] as const;
  }));
  return { markets: MARKETS, marks };
}

interface Row {
  id: string;
  collateral: Fixed;
  state: MarginState;
  positions: { market: string; size: Fixed; entry: Fixed; snapshot: Fixed }[];
}

/** Accounts whose equity at `at` sits on a threshold (or one 1e-18 beside it); their stored state arbitrary. */
function venue(seed: number, at: Marked): Row[] {
  const next = random(seed);
  const int = (n: number) => Math.floor(next() * n);
  const decimal = (whole: number, places: number) => x(`${int(whole)}.${String(int(10 ** places)).padStart(places, '0')}`);
  const states: MarginState[] = ['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT'];
  const rows: Row[] = [];
  for (let i = 0; i < 400; i++) {
    const positions = [...MARKETS.keys()].filter(() => int(3) > 0).map((m) => ({
      market: m,
      size: (int(2) ? 1n : -1n) * (x(1 + int(i < 200 ? 5 : 50_000)) + decimal(1, 6)),
      entry: (m === 'ETH-PERP' ? x(2000 + int(2000)) : x(90_000 + int(10_000))) + decimal(1, 6),
      snapshot: decimal(3, 6),
    }));
    const risk = accountRisk(0n, positions.map((p) => positionRisk({ size: p.size, entryPrice: p.entry, fundingSnapshot: p.snapshot }, at.markets.get(p.market)!, at.marks.get(p.market)!)));
    const target = [risk.initialMargin, risk.maintenanceMargin, 0n][int(3)]!;
    const unit = wide.of(1n);
    const equity: Wide = target + [0n, unit, -unit][int(3)]!;
    const collateral = equity - risk.equity;
    if (collateral % wide.of(1n) !== 0n) throw new Error('the fixture needs 18-decimal products');
    rows.push({ id: `a${String(i).padStart(4, '0')}`, collateral: narrow(collateral), state: states[int(4)]!, positions });
  }
  return rows;
}

function columnsOf(rows: Row[]): AccountColumns {
  const columns = new AccountColumns();
  columns.fill(
    [...MARKETS.values()].map((m) => ({ id: m.id, kind: m.kind })),
    rows.map((r) => ({ id: r.id, c: toSql(r.collateral), margin_state: r.state })),
    rows.flatMap((r) => r.positions.map((p) => ({ account_id: r.id, market_id: p.market, s: toSql(p.size), e: toSql(p.entry), f: toSql(p.snapshot) }))),
  );
  return columns;
}

describe('stress (pure)', () => {
  it.each([[1], [2], [3]])('seed %i: accounts exactly on a threshold after the shock are counted, listed and ordered exactly', async (seed) => {
    const now = marked(0n);
    const shocked = marked(x('-0.2'));
    const rows = venue(seed, shocked);
    const columns = columnsOf(rows);
    const outcome = await stress(columns, now, shocked, () => undefined);

    const exact = rows.map((r) => {
      const risk = accountRisk(r.collateral, r.positions.map((p) => positionRisk({ size: p.size, entryPrice: p.entry, fundingSnapshot: p.snapshot }, MARKETS.get(p.market)!, shocked.marks.get(p.market)!)));
      return { row: r, risk, state: marginState(risk) };
    });
    const count = (state: MarginState, of: (e: (typeof exact)[number]) => MarginState) => exact.filter((e) => of(e) === state).length;
    for (const state of ['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT'] as const) {
      expect([state, outcome.after[state]]).toEqual([state, count(state, (e) => e.state)]);
      expect([state, outcome.before[state]]).toEqual([state, count(state, (e) => e.row.state)]);
    }
    const changed = exact.filter((e) => e.state !== e.row.state);
    expect([...outcome.changed].sort()).toEqual(changed.map((e) => e.row.id).sort());
    expect(outcome.totalEquityAfter).toBe(exact.reduce((sum, e) => sum + e.risk.equity, 0n));
    expect(outcome.deficitAfter).toBe(exact.reduce((sum, e) => (e.risk.equity < 0n ? sum - e.risk.equity : sum), 0n));

    // Paged to the end, 9 at a time, each page's candidates evaluated exactly (as the
    // resolver does): the exact riskiest-first order.
    const exactById = new Map(exact.map((e) => [e.row.id, served(e.row.id, e.row.state, e.risk)]));
    const want = changed.map((e) => exactById.get(e.row.id)!).sort(compareStressed).map((s) => s.accountId);
    const got: string[] = [];
    let cursor: StressedKey | null = null;
    for (;;) {
      const page: Stressed[] = pageCandidates(outcome, cursor, 9)
        .map((id) => exactById.get(id)!)
        .filter((s) => !cursor || compareStressed(s, cursor) > 0)
        .sort(compareStressed);
      got.push(...page.slice(0, 9).map((s) => s.accountId));
      if (page.length <= 9) break;
      cursor = page[8]!;
    }
    expect(got).toEqual(want);
  });
});
