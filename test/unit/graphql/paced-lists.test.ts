// protection/paced-lists.ts with budget.ts: list fields let the event loop turn once paced
// work has run a slice, and stop once the budget is spent; plain values stay plain.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { execute, parse } from 'graphql';
import { ExecutionBudget, SLICE_MS, timeoutError } from '../../../src/graphql/protection/budget.js';
import { onUnhandledRejection } from '../../../src/graphql/protection/abandoned-rejections.js';
import { paceListFields } from '../../../src/graphql/protection/paced-lists.js';

/** rows(n) x 3 cells: each cell's `v` works `msPerCell` synchronously, below the paced `cells` list. */
function fixture(msPerCell: number) {
  let cellCalls = 0;
  const schema = paceListFields(
    makeExecutableSchema({
      // Nullable items: a spent budget makes each later item an error of its own. With
      // non-null items graphql-js drops the earlier items' promises when one throws, and
      // their rejections, unheard, would fail whichever test jest is running then (the
      // server's handler for them is tested below, in a child process).
      typeDefs: 'type Query { rows(n: Int!): [Row]! } type Row { i: Int! cells: [Cell]! } type Cell { v: Int! }',
      resolvers: {
        Query: { rows: (_: unknown, { n }: { n: number }) => Array.from({ length: n }, (_, i) => ({ i })) },
        Row: { cells: () => [{ v: 1 }, { v: 2 }, { v: 3 }] },
        Cell: {
          v: (cell: { v: number }) => {
            cellCalls++;
            const until = performance.now() + msPerCell;
            while (performance.now() < until);
            return cell.v;
          },
        },
      },
    }),
  );
  return { schema, cellCalls: () => cellCalls };
}

/** Counts turns of the event loop (check phases) until stopped. */
function turnCounter() {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return { stop: () => ((running = false), turns) };
}

const document = parse('query ($n: Int!) { rows(n: $n) { i cells { v } } }');
const CELLS = [{ v: 1 }, { v: 2 }, { v: 3 }];

describe('paced list fields', () => {
  it('complete at once, without a promise, while the work fits in a slice', async () => {
    const { schema } = fixture(0);
    const budget = new ExecutionBudget(0);
    // The first paced point after the event loop turned starts a slice: plain, whatever the clock says.
    await new Promise((resolve) => setImmediate(resolve));
    expect(budget.pace('value')).toBe('value');
    const result = execute({ schema, document, variableValues: { n: 5 }, contextValue: { pace: (v: unknown) => budget.pace(v) } });
    // Within the slice (a loaded machine may still pause this process past it: then a promise, same answer).
    expect((await result).data).toEqual({ rows: Array.from({ length: 5 }, (_, i) => ({ i, cells: CELLS })) });
  });

  it('let the event loop turn once a slice is spent, and still answer everything in order', async () => {
    const rows = 10;
    const { schema } = fixture((SLICE_MS * 3) / (rows * 3)); // three slices of synchronous work
    const budget = new ExecutionBudget(0);
    const counter = turnCounter();
    const result = execute({ schema, document, variableValues: { n: rows }, contextValue: { pace: (v: unknown) => budget.pace(v) } });
    expect(result).toBeInstanceOf(Promise);
    const done = await result;
    expect(counter.stop()).toBeGreaterThanOrEqual(2); // three slices of work, two turns between them at least
    expect(done).toEqual({ data: { rows: Array.from({ length: rows }, (_, i) => ({ i, cells: CELLS })) } });
  });

  it('answer synchronously when not paced (the same work holds the event loop throughout)', () => {
    const { schema } = fixture((SLICE_MS * 3) / 30);
    const result = execute({ schema, document, variableValues: { n: 10 }, contextValue: {} });
    expect(result).not.toBeInstanceOf(Promise);
  });

  it('stop at the next list once the budget is spent', async () => {
    const rows = 50;
    const { schema, cellCalls } = fixture(SLICE_MS / 8);
    const budget = new ExecutionBudget(0);
    setImmediate(() => budget.abort(timeoutError(10)));
    const result = await execute({ schema, document, variableValues: { n: rows }, contextValue: { pace: (v: unknown) => budget.pace(v) } });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'REQUEST_TIMEOUT' } });
    expect(cellCalls()).toBeLessThan(rows * 3);
  });

  it('can leave a GraphQLError nobody hears (graphql-js drops the pending items of a list when one throws): the process of the server lives on', () => {
    // In a child process: jest reports unhandled rejections itself instead of letting a
    // process handler see them. Without the handler the child dies; with it, it lives.
    const child = (handler: boolean) =>
      spawnSync(process.execPath, [fileURLToPath(new URL('../../../bin/run-ts.js', import.meta.url)), fileURLToPath(new URL('../../support/abandoned-rejection.ts', import.meta.url)), String(handler)], { encoding: 'utf8' });
    const bare = child(false);
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/REQUEST_TIMEOUT|timed out/);
    const handled = child(true);
    expect(handled.stderr).toBe('');
    expect(handled.stdout.trim()).toBe('answered REQUEST_TIMEOUT; alive');
    expect(handled.status).toBe(0);
    expect(() => onUnhandledRejection(new TypeError('a defect'))).toThrow('a defect');
  });

  it('end by themselves at the deadline, without a timer', async () => {
    const { schema } = fixture(2);
    const budget = new ExecutionBudget(15);
    const result = await execute({ schema, document, variableValues: { n: 40 }, contextValue: { pace: (v: unknown) => budget.pace(v) } });
    expect(result.errors?.[0]).toMatchObject({ message: expect.stringMatching(/timed out after 15 ms/), extensions: { code: 'REQUEST_TIMEOUT', timeoutMs: 15 } });
  });
});
