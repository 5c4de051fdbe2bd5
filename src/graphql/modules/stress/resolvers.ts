import { createHash } from 'node:crypto';
import { narrow } from '../../../fixed/index.js';
import type { Account, MarginState } from '../../../ledger/index.js';
import { accountRisk } from '../../../risk/account.js';
import { positionRisk } from '../../../risk/position.js';
import type { RequestContext } from '../../context.js';
import { connectionOf, pageOf, type PageArgs } from '../../pagination.js';
import type { ModuleResolvers } from '../../resolvers.js';
import { readColumns } from '../../risk-engine/past.js';
import { compareStressed, pageCandidates, served, stress, type Marked, type StateCounts, type Stressed, type StressOutcome } from '../../risk-engine/stress.js';
import { shockedMarks, type Shock } from './shock.js';

/** The parent of StressResult fields: the outcome, and what its `accounts` page needs. */
interface StressView {
  blockNumber: number;
  outcome: StressOutcome;
  shocked: Marked;
  /** Tags the cursors of this stress (a cursor of other shocks is refused). */
  kind: string;
}

/** One account after the shock, exactly, from the request's snapshot. */
async function stressedAccount(ctx: RequestContext, account: Account, shocked: Marked): Promise<Stressed> {
  const positions = await ctx.loaders.openPositions.load(account.id);
  const risks = positions.map((p) => positionRisk(p, shocked.markets.get(p.marketId)!, shocked.marks.get(p.marketId)!));
  return served(account.id, account.marginState, accountRisk(account.collateral, risks));
}

const counts = (c: StateCounts) => ({ healthy: c.HEALTHY, marginCall: c.MARGIN_CALL, liquidatable: c.LIQUIDATABLE, bankrupt: c.BANKRUPT });
const shocksKey = (shocks: readonly Shock[]) =>
  createHash('sha256').update(JSON.stringify(shocks, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).digest('hex').slice(0, 12);

export const stressResolvers: ModuleResolvers = {
  Query: {
    stress: async (_: unknown, { shocks }: { shocks: Shock[] }, ctx): Promise<StressView> => {
      const block = await ctx.block();
      const { now, shocked } = await shockedMarks(ctx, shocks);
      const kind = `stress:${shocksKey(shocks)}`;
      const pace = () => ctx.budget.pace(undefined);
      const made = await ctx.riskEngine?.stressAt(block, kind, (columns, held) => stress(columns, held, shocked, pace));
      // The exact path, for a process whose engine does not hold the block (loading, behind, or a past block).
      const outcome = made ?? (await stress(await readColumns((sql, params) => ctx.query(sql, params), ctx.pastBlock ? block.number : null), now, shocked, pace));
      await ctx.budget.resume();
      return { blockNumber: block.number, outcome, shocked, kind };
    },
  },
  StressResult: {
    accountsBefore: (v: StressView) => counts(v.outcome.before),
    accountsAfter: (v: StressView) => counts(v.outcome.after),
    totalEquityBefore: (v: StressView) => narrow(v.outcome.totalEquityBefore),
    totalEquityAfter: (v: StressView) => narrow(v.outcome.totalEquityAfter),
    deficitAfter: (v: StressView) => narrow(v.outcome.deficitAfter),
    accounts: async (v: StressView, args: PageArgs, ctx: RequestContext) => {
      const page = pageOf(args, v.kind, ['int4', 'numeric', 'text']);
      const after = page.after ? { bucket: Number(page.after[0]), key: BigInt(page.after[1]!), accountId: page.after[2]! } : null;
      const ids = pageCandidates(v.outcome, after, page.first);
      const exact = await Promise.all(
        ids.map(async (id) => {
          const account = await ctx.loaders.account.load(id);
          // The outcome was made at this request's block: its accounts are in its snapshot.
          if (!account) throw new Error(`stressed account ${id} is not in the snapshot of block ${v.blockNumber}`);
          return stressedAccount(ctx, account, v.shocked);
        }),
      );
      const rows = exact.filter((s) => !after || compareStressed(s, after) > 0).sort(compareStressed);
      return connectionOf(rows, page, v.kind, (s) => [String(s.bucket), s.key.toString(), s.accountId], (s) => s, async () => v.outcome.changed.length, (await ctx.blockIfAny()) ?? undefined);
    },
  },
  StressedAccount: {
    account: (s: Stressed, _: unknown, ctx: RequestContext) => ctx.loaders.accountOf(s.accountId),
  },
  Account: {
    stress: async (a: Account, { shocks }: { shocks: Shock[] }, ctx): Promise<Stressed> => stressedAccount(ctx, a, (await shockedMarks(ctx, shocks)).shocked),
  },
};
