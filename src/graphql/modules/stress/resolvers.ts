import { createHash } from 'node:crypto';
import { narrow, type Wide } from '../../../fixed/index.js';
import type { Account, MarginState } from '../../../ledger/index.js';
import { accountRisk } from '../../../risk/account.js';
import { positionRisk } from '../../../risk/position.js';
import type { RequestContext } from '../../context.js';
import { connectionOf, pageOf, type PageArgs } from '../../pagination.js';
import type { ModuleResolvers } from '../../resolvers.js';
import { AccountColumns } from '../../risk-engine/columns.js';
import { served, stress, stressedPage, type Marked, type StateCounts, type Stressed, type StressOutcome } from '../../risk-engine/stress.js';
import { shockedMarks, type Shock } from './shock.js';

/** The parent of StressResult fields: the outcome, and what its `accounts` page needs. */
interface StressView {
  blockNumber: number;
  outcome: StressOutcome;
  columns: AccountColumns;
  shocked: Marked;
  /** Tags the cursors of this stress (a cursor of other shocks is refused). */
  kind: string;
}

/**
 * The venue's accounts at this request's block: the risk engine's columns when it holds
 * that block (the same columns that pick risk-ordered pages), else read in the request's
 * own snapshot (a full read: the exact path, for a process whose engine is loading).
 */
async function columnsAt(ctx: RequestContext): Promise<AccountColumns> {
  const held = ctx.riskEngine?.columnsAt(await ctx.block());
  if (held) return held;
  const [kinds, accounts, positions] = await Promise.all([
    ctx.query<{ id: string; kind: string }>('SELECT id, kind::text FROM market'),
    ctx.query<{ id: string; c: string; margin_state: MarginState }>('SELECT id, collateral::text AS c, margin_state FROM account'),
    ctx.query<{ account_id: string; market_id: string; s: string; e: string | null; f: string }>(
      'SELECT account_id, market_id, size::text AS s, entry_price::text AS e, funding_snapshot::text AS f FROM position WHERE closed_block IS NULL',
    ),
  ]);
  const columns = new AccountColumns();
  columns.fill(kinds, accounts, positions);
  return columns;
}

const counts = (c: StateCounts) => ({ healthy: c.HEALTHY, marginCall: c.MARGIN_CALL, liquidatable: c.LIQUIDATABLE, bankrupt: c.BANKRUPT });

export const stressResolvers: ModuleResolvers = {
  Query: {
    stress: async (_: unknown, { shocks }: { shocks: Shock[] }, ctx): Promise<StressView> => {
      const block = await ctx.block();
      const [{ now, shocked }, columns] = await Promise.all([shockedMarks(ctx, shocks), columnsAt(ctx)]);
      await ctx.budget.resume();
      const kind = `stress:${createHash('sha256').update(JSON.stringify(shocks, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).digest('hex').slice(0, 12)}`;
      return { blockNumber: block.number, outcome: stress(columns, now, shocked), columns, shocked, kind };
    },
  },
  StressResult: {
    accountsBefore: (v: StressView) => counts(v.outcome.before),
    accountsAfter: (v: StressView) => counts(v.outcome.after),
    totalEquityBefore: (v: StressView) => narrow(v.outcome.totalEquityBefore),
    totalEquityAfter: (v: StressView) => narrow(v.outcome.totalEquityAfter),
    deficitAfter: (v: StressView) => narrow(v.outcome.deficitAfter as Wide),
    accounts: (v: StressView, args: PageArgs) => {
      const page = pageOf(args, v.kind, ['int4', 'numeric', 'text']);
      const after = page.after ? ([Number(page.after[0]), BigInt(page.after[1]!), page.after[2]!] as const) : null;
      const rows = stressedPage(v.columns, v.outcome, v.shocked, after, page.first);
      return connectionOf(rows, page, v.kind, (s) => [String(s.bucket), s.key.toString(), s.accountId], (s) => s, async () => v.outcome.changed.length);
    },
  },
  StressedAccount: {
    account: (s: Stressed, _: unknown, ctx: RequestContext) => ctx.loaders.accountOf(s.accountId),
  },
  Account: {
    stress: async (a: Account, { shocks }: { shocks: Shock[] }, ctx): Promise<Stressed> => {
      const [{ shocked }, positions] = await Promise.all([shockedMarks(ctx, shocks), ctx.loaders.openPositions.load(a.id)]);
      const risks = positions.map((p) => positionRisk(p, shocked.markets.get(p.marketId)!, shocked.marks.get(p.marketId)!));
      return served(a.id, a.marginState, accountRisk(a.collateral, risks));
    },
  },
};
