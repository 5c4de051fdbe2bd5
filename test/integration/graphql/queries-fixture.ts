// Shared by the queries*.test.ts files: a small hand-checkable ledger history, committed
// to a test database, and a helper that executes one operation in its own request context.
import { graphql, parse, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { selectBlock } from '../../../src/graphql/compiled-executor.js';
import type pg from 'pg';
import { LedgerStore } from '../../../src/db/store/ledger-store.js';
import type { LedgerParams } from '../../../src/ledger/index.js';
import { RequestContext, type ApiDeps } from '../../../src/graphql/context.js';
import { ALICE, BOB, CAROL, LedgerChain, ORACLE_1, ORACLE_2, ev } from '../../support/ledger.js';

export const DAVE = '0x000000000000000000000000000000000000da7e';
export const ERIN = '0x00000000000000000000000000000000000e2140';
export const PARAMS: LedgerParams = { oracleStalenessSeconds: 3600, riskFreeRate: 0n };
export const YEAR = 365 * 86400;
/** ETH-C expires a quarter of a year after block 1. */
export const EXPIRY = 1000 + YEAR / 4;

/**
 * Block 1 (t=1000): ETH-PERP (IMF 0.1, MMF 0.05, hourly funding), ETH-C (call 3000),
 *   BTC-PERP (funding every 10 s), SOL-PERP (never priced); ETH at 3000 from two oracles,
 *   BTC at 100; ETH-C implied volatility 0.8; deposits.
 * Block 2 (t=1010): ALICE short 3 ETH-PERP at 3000 (the dYdX example); CAROL buys 2 ETH-C
 *   at 200; BOB sells 2 ETH-C at 200, buys 1 ETH-PERP at 3000 (fee 0.5) and sells it at
 *   3050 (realized +50, the position closes); DAVE buys 1 BTC-PERP at 110.
 * Block 3 (t=1020): ETH to 3100 on both oracles; BOB buys 2 ETH-PERP at 3100 (a second
 *   lifecycle) and withdraws 100; a malformed log.
 * Block 4 (t=1035): BTC reported again; ERIN deposits 100, buys 1 ETH-PERP at 3100 and is
 *   liquidated at 3090 with penalty 5 (liquidator BOB).
 * Blocks 4-5 (t=1035, 1041): BTC-PERP funding periods settle.
 */
export function scenario(): LedgerChain {
  const chain = new LedgerChain(PARAMS);
  chain.block(1000, [
    ev.perp('ETH-PERP', 'ETH', { interval: 3600 }),
    ev.option('ETH-C', 'ETH', 'CALL', 3000, EXPIRY),
    ev.perp('BTC-PERP', 'BTC', { interval: 10, maxRate: '0.05' }),
    ev.perp('SOL-PERP', 'SOL'),
    ev.price('ETH', 3000, ORACLE_1),
    ev.price('ETH', 3000, ORACLE_2),
    ev.price('BTC', 100, ORACLE_1),
    ev.vol('ETH-C', '0.8'),
    ev.deposit(ALICE, 1000),
    ev.deposit(BOB, 10000),
    ev.deposit(CAROL, 1000),
    ev.deposit(DAVE, 500),
  ]);
  chain.block(1010, [
    ev.fill('ETH-PERP', ALICE, -3, 3000),
    ev.fill('ETH-C', CAROL, 2, 200),
    ev.fill('ETH-C', BOB, -2, 200),
    ev.fill('ETH-PERP', BOB, 1, 3000, '0.5'),
    ev.fill('ETH-PERP', BOB, -1, 3050),
    ev.fill('BTC-PERP', DAVE, 1, 110),
  ]);
  chain.block(1020, [ev.price('ETH', 3100, ORACLE_1), ev.price('ETH', 3100, ORACLE_2), ev.fill('ETH-PERP', BOB, 2, 3100), ev.withdraw(BOB, 100), ev.malformed()]);
  chain.block(1035, [ev.price('BTC', 100, ORACLE_1), ev.deposit(ERIN, 100), ev.fill('ETH-PERP', ERIN, 1, 3100), ev.liquidate('ETH-PERP', ERIN, -1, 3090, 5)]);
  chain.block(1041, []);
  return chain;
}

/** Commits blocks [from, to) of the chain's history (0-based) in one batch. */
export async function commit(pool: pg.Pool, chain: LedgerChain, from = 0, to = chain.history.length): Promise<void> {
  const batch = chain.history.slice(from, to);
  await new LedgerStore(pool).commit({ chainId: 31337, headBlockNumber: batch.at(-1)!.block.number, batch, undo: new Map() });
}

/** Executes one operation in a fresh request context and releases it. */
export async function execute(
  schema: GraphQLSchema,
  pool: pg.Pool,
  source: string,
  variableValues?: Record<string, unknown>,
  deps: Partial<ApiDeps> = {},
): Promise<ExecutionResult> {
  const contextValue = new RequestContext({ pool, params: PARAMS, ...deps });
  try {
    // The block the operation selects (SPEC section 8), as the server's executors do first.
    let document;
    try {
      document = parse(source);
    } catch {
      document = null; // graphql() reports it
    }
    const refused = document && (await selectBlock(schema, document, undefined, variableValues, contextValue));
    if (refused) return refused;
    return await graphql({ schema, source, variableValues, contextValue });
  } finally {
    await contextValue.release();
  }
}

/** The data of a successful execution; fails the test with the errors otherwise. */
export async function data<T = any>(schema: GraphQLSchema, pool: pg.Pool, source: string, variables?: Record<string, unknown>, deps: Partial<ApiDeps> = {}): Promise<T> {
  const result = await execute(schema, pool, source, variables, deps);
  if (result.errors?.length) throw new Error(result.errors.map((e) => `${e.message} at ${e.path?.join('.')}`).join('\n'));
  return result.data as T;
}
