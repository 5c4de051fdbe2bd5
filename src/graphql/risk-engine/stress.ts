/**
 * Market-wide stress (issue 15, item 4; SPEC section 8): every account at shocked marks,
 * exactly, from the engine's columns. Float sums with error bounds decide the state after
 * the shock wherever they can (far from every threshold); the accounts they cannot decide
 * are evaluated exactly (src/risk). Totals are exact sums over markets (each account's
 * equity is its constant part plus sizes times units, columns.ts), and the deficit the
 * exact sum of the negative accounts' equities.
 */
import { narrow, wideRatio, type Fixed, type Wide } from '../../fixed/index.js';
import type { Market, MarginState } from '../../ledger/index.js';
import { marginStateOf } from '../../risk/margin-state.js';
import type { AccountRisk } from '../../risk/account.js';
import type { Mark } from '../../risk/mark.js';
import type { AccountColumns, Evaluated } from './columns.js';

const RELATIVE_ERROR = 1e-10;
const ABSOLUTE_ERROR = 1e-12;
const STATES: readonly MarginState[] = ['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT'];

export type StateCounts = Record<MarginState, number>;

export interface Marked {
  markets: ReadonlyMap<string, Market>;
  marks: ReadonlyMap<string, Mark>;
}

export interface StressOutcome {
  before: StateCounts;
  after: StateCounts;
  totalEquityBefore: Wide;
  totalEquityAfter: Wide;
  /** The sum of the negative equities after the shock, as a positive number. */
  deficitAfter: Wide;
  /** Rows whose state the shock changes. */
  changed: readonly number[];
  /** Float values after the shock (for ordering the changed ones). */
  values: Evaluated;
}

/** One account after the shock, as served. */
export interface Stressed {
  accountId: string;
  stateBefore: MarginState;
  equity: Fixed;
  initialMargin: Fixed;
  maintenanceMargin: Fixed;
  marginRatio: Fixed | null;
  marginState: MarginState;
  /** Its place in the riskiest-first order: bucket (0: equity <= 0), key, as order.ts sorts. */
  bucket: number;
  key: bigint;
}

export function stress(columns: AccountColumns, now: Marked, shocked: Marked): StressOutcome {
  const n = columns.accountCount;
  const values: Evaluated = {
    equity: new Float64Array(n), equityError: new Float64Array(n),
    maintenance: new Float64Array(n), maintenanceError: new Float64Array(n),
    notional: new Float64Array(n), notionalError: new Float64Array(n),
    initial: new Float64Array(n), initialError: new Float64Array(n),
  };
  columns.evaluate(shocked.markets, shocked.marks, values, RELATIVE_ERROR, ABSOLUTE_ERROR);
  const before = emptyCounts();
  const after = emptyCounts();
  const changed: number[] = [];
  const negative: number[] = [];
  for (let row = 0; row < n; row++) {
    if (!columns.isPresent(row)) continue;
    const stateBefore = columns.stateAt(row);
    before[stateBefore]++;
    let state = floatState(values, row);
    let insolvent = values.equity[row]! + values.equityError[row]! < 0;
    if (state === null) {
      const risk = columns.exactRisk(row, shocked.markets, shocked.marks);
      state = marginStateOf(risk.equity, risk.initialMargin, risk.maintenanceMargin);
      insolvent = risk.equity < 0n;
    }
    after[state]++;
    if (state !== stateBefore) changed.push(row);
    if (insolvent) negative.push(row);
  }
  return {
    before,
    after,
    totalEquityBefore: columns.totalEquity(now.markets, now.marks),
    totalEquityAfter: columns.totalEquity(shocked.markets, shocked.marks),
    deficitAfter: -columns.sumEquity(negative, shocked.markets, shocked.marks),
    changed,
    values,
  };
}

/**
 * The state at the float values where their bounds decide it (SPEC section 4: HEALTHY E >=
 * IM; MARGIN_CALL MM <= E < IM; LIQUIDATABLE 0 <= E < MM; BANKRUPT E < 0); null otherwise.
 */
function floatState(v: Evaluated, row: number): MarginState | null {
  const e = v.equity[row]!;
  const ee = v.equityError[row]!;
  const im = v.initial![row]!;
  const eim = v.initialError![row]!;
  const mm = v.maintenance[row]!;
  const emm = v.maintenanceError[row]!;
  const decided = (x: number, error: number) => x > error || x < -error;
  if (!decided(e, ee) || !decided(e - im, ee + eim) || !decided(e - mm, ee + emm)) return null;
  if (e >= im) return 'HEALTHY';
  if (e >= mm) return 'MARGIN_CALL';
  if (e >= 0) return 'LIQUIDATABLE';
  return 'BANKRUPT';
}

/** An account after the shock, exactly, with its riskiest-first sort key. */
export function stressed(columns: AccountColumns, row: number, shocked: Marked): Stressed {
  return served(columns.idAt(row), columns.stateAt(row), columns.exactRisk(row, shocked.markets, shocked.marks));
}

export function served(accountId: string, stateBefore: MarginState, risk: AccountRisk): Stressed {
  const equity = narrow(risk.equity);
  const marginRatio = risk.equity > 0n ? wideRatio(risk.maintenanceMargin, risk.equity) : null;
  return {
    accountId,
    stateBefore,
    equity,
    initialMargin: narrow(risk.initialMargin),
    maintenanceMargin: narrow(risk.maintenanceMargin),
    marginRatio,
    marginState: marginStateOf(risk.equity, risk.initialMargin, risk.maintenanceMargin),
    // RISK_DESC (order.ts): equity <= 0 first, lowest equity first; then the highest ratio.
    bucket: marginRatio === null ? 0 : 1,
    key: marginRatio === null ? equity : -marginRatio,
  };
}

/** Riskiest first, ties by account id. */
export function compareStressed(a: Pick<Stressed, 'bucket' | 'key' | 'accountId'>, b: Pick<Stressed, 'bucket' | 'key' | 'accountId'>): number {
  if (a.bucket !== b.bucket) return a.bucket - b.bucket;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0;
}

/**
 * The changed accounts after `cursor` (bucket, key, id), riskiest first, `first + 1` of
 * them, exact. Candidates come from the float values' bounds, as pages do (engine.ts):
 * every changed account whose exact key may lie between the cursor and the (first + 1)-th
 * smallest upper bound among those surely after it.
 */
export function stressedPage(columns: AccountColumns, outcome: StressOutcome, shocked: Marked, cursor: readonly [number, bigint, string] | null, first: number): Stressed[] {
  const v = outcome.values;
  type Range = { row: number; bLo: number; kLo: number; bHi: number; kHi: number };
  const ranges: Range[] = outcome.changed.map((row) => {
    const e = v.equity[row]!;
    const ee = v.equityError[row]!;
    const mm = v.maintenance[row]!;
    const emm = v.maintenanceError[row]!;
    const ratioLo = Math.max(0, mm - emm) / (e + ee);
    if (e - ee > 0) return { row, bLo: 1, kLo: -(mm + emm) / (e - ee), bHi: 1, kHi: -ratioLo };
    if (e + ee <= 0) return { row, bLo: 0, kLo: e - ee, bHi: 0, kHi: e + ee };
    return { row, bLo: 0, kLo: e - ee, bHi: 1, kHi: -ratioLo };
  });
  const cb = cursor ? cursor[0] : -1;
  const ck = cursor ? Number(cursor[1]) / 1e18 : -Infinity;
  const tolerance = cursor ? Math.abs(ck) * 1e-12 + 1e-15 : 0;
  const surelyAfter = (r: Range) => !cursor || r.bLo > cb || (r.bLo === cb && r.kLo > ck + tolerance);
  const mayBeAfter = (r: Range) => !cursor || r.bHi > cb || (r.bHi === cb && r.kHi >= ck - tolerance);
  const uppers = ranges.filter(surelyAfter).map((r) => [r.bHi, r.kHi] as const);
  uppers.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const limit = uppers.length > first ? uppers[first]! : null;
  const candidates = ranges.filter((r) => mayBeAfter(r) && (!limit || r.bLo < limit[0] || (r.bLo === limit[0] && r.kLo <= limit[1])));
  const exact = candidates.map((r) => stressed(columns, r.row, shocked));
  const after = cursor ? { bucket: cursor[0], key: cursor[1], accountId: cursor[2] } : null;
  return exact
    .filter((s) => !after || compareStressed(s, after) > 0)
    .sort(compareStressed)
    .slice(0, first + 1);
}

function emptyCounts(): StateCounts {
  return Object.fromEntries(STATES.map((s) => [s, 0])) as StateCounts;
}
