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
import { ABSOLUTE_ERROR, boundsOf, candidates, emptyBounds, RELATIVE_ERROR, type Bounds } from './bounds.js';
import { marginStateOf } from '../../risk/margin-state.js';
import type { AccountRisk } from '../../risk/account.js';
import type { Mark } from '../../risk/mark.js';
import type { AccountColumns, Evaluated } from './columns.js';

const STATES: readonly MarginState[] = ['HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT'];
/** Accounts classified between two calls of `pace`. */
const STEP_ACCOUNTS = 100_000;

export type StateCounts = Record<MarginState, number>;

export interface Marked {
  markets: ReadonlyMap<string, Market>;
  marks: ReadonlyMap<string, Mark>;
}

/**
 * A stress, with nothing of the columns it was made from: it outlives their next refresh
 * (the engine keeps it for the pages after the first), and its pages are served from the
 * request's own snapshot.
 */
export interface StressOutcome {
  before: StateCounts;
  after: StateCounts;
  totalEquityBefore: Wide;
  totalEquityAfter: Wide;
  /** The sum of the negative equities after the shock, as a positive number. */
  deficitAfter: Wide;
  /** The accounts whose state the shock changes, and where each may sit in the riskiest-first order. */
  changed: readonly string[];
  bounds: Bounds;
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

/**
 * The stress of `shocked` against `now`. `pace` is awaited between steps of a few
 * milliseconds (a million accounts take a few hundred): a request's budget, so the event
 * loop keeps turning and the deadline holds. The columns must not change meanwhile.
 */
export async function stress(columns: AccountColumns, now: Marked, shocked: Marked, pace: () => void | Promise<void>): Promise<StressOutcome> {
  const n = columns.accountCount;
  const values: Evaluated = {
    equity: new Float64Array(n), equityError: new Float64Array(n),
    maintenance: new Float64Array(n), maintenanceError: new Float64Array(n),
    notional: new Float64Array(n), notionalError: new Float64Array(n),
    initial: new Float64Array(n), initialError: new Float64Array(n),
  };
  for (const _ of columns.evaluation(shocked.markets, shocked.marks, values, RELATIVE_ERROR, ABSOLUTE_ERROR)) await pace();
  const before = emptyCounts();
  const after = emptyCounts();
  const changed: number[] = [];
  const negative: number[] = [];
  for (let row = 0; row < n; row++) {
    if (row % STEP_ACCOUNTS === STEP_ACCOUNTS - 1) await pace();
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
  const bounds = emptyBounds(changed.length);
  changed.forEach((row, at) => boundsOf('RISK_DESC', values, row, bounds, at));
  await pace();
  return {
    before,
    after,
    totalEquityBefore: columns.totalEquity(now.markets, now.marks),
    totalEquityAfter: columns.totalEquity(shocked.markets, shocked.marks),
    deficitAfter: -columns.sumEquity(negative, shocked.markets, shocked.marks),
    changed: changed.map((row) => columns.idAt(row)),
    bounds,
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
  if (!decided(e, ee) || !decided(e - im, ee + eim) || !decided(e - mm, ee + emm)) return null;
  if (e >= im) return 'HEALTHY';
  if (e >= mm) return 'MARGIN_CALL';
  if (e >= 0) return 'LIQUIDATABLE';
  return 'BANKRUPT';
}

/** Whether x's sign is certain though it may be off by `error`. */
function decided(x: number, error: number): boolean {
  return x > error || x < -error;
}

/** An account after the shock, exactly, with its riskiest-first sort key. */
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
export function compareStressed(a: StressedKey, b: StressedKey): number {
  if (a.bucket !== b.bucket) return a.bucket - b.bucket;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0;
}

export type StressedKey = Pick<Stressed, 'bucket' | 'key' | 'accountId'>;

/**
 * The changed accounts that can be among the `first` + 1 after `cursor` (riskiest first),
 * from their float bounds (bounds.ts): the caller evaluates them exactly, orders them with
 * `compareStressed` and keeps those after the cursor.
 */
export function pageCandidates(outcome: StressOutcome, cursor: StressedKey | null, first: number): string[] {
  const place = cursor ? { bucket: cursor.bucket, key: Number(cursor.key) / 1e18 } : null;
  return candidates(outcome.bounds, outcome.changed.length, () => true, place, first).map((i) => outcome.changed[i]!);
}

function emptyCounts(): StateCounts {
  return Object.fromEntries(STATES.map((s) => [s, 0])) as StateCounts;
}
