// Child process of test/unit/graphql/paced-lists.test.ts: a paced list whose second item's
// budget ends while its first is still loading. graphql-js answers with the error and drops
// the first item's promise, which rejects later with nobody listening. argv[2] 'true'
// installs the server's handler (src/graphql/protection/abandoned-rejections.ts).
import { makeExecutableSchema } from '@graphql-tools/schema';
import { execute, parse } from 'graphql';
import { dropAbandonedExecutionRejections } from '../../src/graphql/protection/abandoned-rejections.js';
import { ExecutionBudget, timeoutError } from '../../src/graphql/protection/budget.js';
import { paceListFields } from '../../src/graphql/protection/paced-lists.js';
import { createLogger } from '../../src/log/index.js';

if (process.argv[2] === 'true') dropAbandonedExecutionRejections(createLogger('json'));
const budget = new ExecutionBudget(0);
const schema = paceListFields(
  makeExecutableSchema({
    typeDefs: 'type Query { rows: [Row!]! } type Row { cells: [Int!]! }',
    resolvers: {
      Query: { rows: () => [0, 1] },
      Row: {
        // Row 0's cells arrive later (a database read); row 1's are there, but the budget ends first.
        cells: (row: number) => {
          if (row === 0) return new Promise((resolve) => setTimeout(() => resolve([1]), 10));
          budget.abort(timeoutError(10));
          return [2];
        },
      },
    },
  }),
);
const result = await execute({ schema, document: parse('{ rows { cells } }'), contextValue: { pace: (v: unknown) => budget.pace(v) } });
await new Promise((resolve) => setTimeout(resolve, 100)); // row 0's cells arrive, and pace() rejects them
process.stdout.write(`answered ${String(result.errors?.[0]?.extensions.code)}; alive\n`);
