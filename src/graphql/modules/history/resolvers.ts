/**
 * `Account.history` (SPEC section 8): the account as of interval boundaries (HOUR, DAY) or
 * as of each block that changed one of its values (BLOCK), oldest first, up to the block the
 * request reads. Each tick is derived like the live account (the same marks, position and
 * account views of risk.ts) from the rows the versions give at its block, with that block's
 * timestamp as the time; a page's blocks are read in a constant number of statements.
 */
import { narrow, type Fixed } from '../../../fixed/index.js';
import type { Account, LedgerParams, MarginState } from '../../../ledger/index.js';
import { marginRatio } from '../../../risk/account.js';
import { marksOf } from '../../../risk/mark.js';
import type { RequestContext } from '../../context.js';
import { badUserInput, connectionOf, pageOf, type PageArgs } from '../../pagination.js';
import type { ModuleResolvers } from '../../resolvers.js';
import { AccountView, PositionView } from '../../risk.js';
import type { RunQuery } from '../../snapshot.js';
import { accountAtBlocks, blocksAtTimes, blocksOf, candidateBlocks, type AccountAt } from './sql.js';

type Interval = 'BLOCK' | 'HOUR' | 'DAY';
const SECONDS: Record<Exclude<Interval, 'BLOCK'>, number> = { HOUR: 3600, DAY: 86400 };

export interface AccountTick {
  /** The boundary (HOUR, DAY) or the block's timestamp (BLOCK): the tick's cursor key. */
  timestamp: number;
  blockNumber: number;
  blockTimestamp: number;
  collateral: Fixed;
  equity: Fixed;
  unrealizedPnl: Fixed;
  realizedPnl: Fixed;
  netTransfers: Fixed;
  totalPnl: Fixed;
  marginRatio: Fixed | null;
  marginState: MarginState;
}

/** The tick of the account's rows at a block, derived as the live API derives the account. */
export function tickOf(at: AccountAt, timestamp: number, params: LedgerParams): AccountTick {
  const held = at.positions.filter((p) => p.closedBlock === null);
  // Only open positions are marked: the other markets' marks (option pricing) would go unread.
  const markets = held.map((p) => at.markets.get(p.marketId)!);
  const marks = marksOf(markets, (underlying) => at.indexPrices.get(underlying) ?? null, at.timestamp, params.riskFreeRate);
  const open = held.map((p, i) => new PositionView(p, markets[i]!, marks.get(p.marketId)!));
  const view = new AccountView(at.account, open, at.timestamp, params.riskFreeRate);
  const equity = narrow(view.risk.equity);
  return {
    timestamp,
    blockNumber: at.block,
    blockTimestamp: at.timestamp,
    collateral: at.account.collateral,
    equity,
    unrealizedPnl: narrow(view.unrealizedPnl),
    realizedPnl: at.positions.reduce((sum, p) => sum + p.realizedPnl, 0n),
    netTransfers: at.netTransfers,
    totalPnl: equity - at.netTransfers,
    marginRatio: marginRatio(view.risk),
    marginState: at.account.marginState,
  };
}

const sameValues = (a: AccountTick, b: AccountTick) =>
  a.collateral === b.collateral &&
  a.equity === b.equity &&
  a.unrealizedPnl === b.unrealizedPnl &&
  a.realizedPnl === b.realizedPnl &&
  a.netTransfers === b.netTransfers &&
  a.marginRatio === b.marginRatio &&
  a.marginState === b.marginState;

interface HistoryArgs extends PageArgs {
  every?: Interval | null;
  fromTimestamp?: number | null;
  toTimestamp?: number | null;
}

/** Blocks evaluated per step of a BLOCK history (a page may skip blocks that changed nothing). */
const STEP = 256;

async function history(account: Account, args: HistoryArgs, ctx: RequestContext) {
  const every = args.every ?? 'HOUR';
  for (const name of ['fromTimestamp', 'toTimestamp'] as const) {
    const value = args[name];
    if (value != null && value < 0) throw badUserInput(`"${name}" must be a timestamp (seconds, >= 0), got ${value}`, name);
  }
  const kind = `history:${every}`;
  const page = pageOf(args, kind, ['int8']);
  const block = await ctx.block();
  const query: RunQuery = (sql, params) => ctx.query(sql, params);
  const [created] = await query<{ timestamp: string }>('SELECT timestamp FROM public.block WHERE number = $1', [account.createdBlock]);
  // Nothing before the account existed, nothing after the block read (later blocks may still come).
  const from = Math.max(args.fromTimestamp ?? 0, Number(created?.timestamp ?? 0));
  const to = Math.min(args.toTimestamp ?? block.timestamp, block.timestamp);
  const after = page.after ? Number(page.after[0]) : null;
  let ticks: AccountTick[];
  let totalCount: () => Promise<number>;
  if (every === 'BLOCK') {
    ticks = await changingTicks(ctx, account.id, { from, to, upTo: block.number, after }, page.first + 1);
    totalCount = async () => (await changingTicks(ctx, account.id, { from, to, upTo: block.number, after: null }, Infinity)).length;
  } else {
    const interval = SECONDS[every];
    const firstK = Math.ceil(from / interval);
    const lastK = Math.floor(to / interval);
    const startK = after === null ? firstK : Math.max(firstK, Math.floor(after / interval) + 1);
    const boundaries: number[] = [];
    for (let k = startK; k <= lastK && boundaries.length <= page.first; k++) boundaries.push(k * interval);
    const blocks = await blocksAtTimes(query, boundaries, block.number);
    const distinct = [...new Map(blocks.flatMap((b) => (b ? [[b.number, b] as const] : []))).values()];
    const rows = new Map((await accountAtBlocks(query, account.id, distinct, await ctx.loaders.markets())).map((at) => [at.block, at]));
    ticks = boundaries.flatMap((t, i) => {
      const at = blocks[i] == null ? undefined : rows.get(blocks[i]!.number);
      return at ? [tickOf(at, t, ctx.params)] : [];
    });
    totalCount = async () => Math.max(0, lastK - firstK + 1);
  }
  await ctx.budget.resume();
  const keyOf = every === 'BLOCK' ? (tick: AccountTick) => [String(tick.blockNumber)] : (tick: AccountTick) => [String(tick.timestamp)];
  return connectionOf(ticks, page, kind, keyOf, (tick) => tick, totalCount, block);
}

/**
 * The BLOCK ticks after `after` (a block number; null: from the range's start): each
 * candidate block's tick, kept when one of its values differs from the tick before it.
 */
async function changingTicks(
  ctx: RequestContext,
  accountId: string,
  range: { from: number; to: number; upTo: number; after: number | null },
  limit: number,
): Promise<AccountTick[]> {
  const query: RunQuery = (sql, params) => ctx.query(sql, params);
  // The tick before the first candidate: the cursor's, or the last block before the range.
  const before = range.after ?? (await blocksAtTimes(query, [range.from - 1], range.upTo))[0] ?? null;
  const markets = await ctx.loaders.markets();
  const start = before === null ? null : typeof before === 'number' ? (await blocksOf(query, [before]))[0] ?? null : before;
  let previous = start === null ? undefined : (await accountAtBlocks(query, accountId, [start], markets)).map((at) => tickOf(at, at.timestamp, ctx.params))[0];
  const ticks: AccountTick[] = [];
  let cursor = start?.number ?? -1;
  for (;;) {
    const candidates = await candidateBlocks(query, accountId, { after: cursor, upTo: range.upTo, from: range.from, to: range.to }, STEP);
    for (const at of await accountAtBlocks(query, accountId, candidates, markets)) {
      const tick = tickOf(at, at.timestamp, ctx.params);
      if (!previous || !sameValues(previous, tick)) ticks.push(tick);
      previous = tick;
      if (ticks.length >= limit) return ticks;
    }
    if (candidates.length < STEP) return ticks;
    cursor = candidates.at(-1)!.number;
    await ctx.budget.resume();
  }
}

export const historyResolvers: ModuleResolvers = {
  Account: {
    history: (a: Account, args: HistoryArgs, ctx) => history(a, args, ctx),
  },
};
