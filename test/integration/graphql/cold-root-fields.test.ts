// Every root field of Query, each on a server that has answered nothing yet (empty block
// cache, no memo of any view), over HTTP (graphql-jit) and over WebSocket (graphql-js):
// every field of its type down to three levels, with no error and nothing logged as an
// internal error. `Query.positions` once failed on a cold server only ("Cannot return
// null for non-nullable field Position.id") while tests that warmed the cache passed.
import { isObjectType, getNamedType, type GraphQLArgument, type GraphQLField, type GraphQLObjectType } from 'graphql';
import { buildSchema } from '../../../src/graphql/schema.js';
import type { PtsServer } from '../../../src/graphql/server.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ALICE } from '../../support/ledger.js';
import { capturingLogger } from '../../support/logger.js';
import { fieldCall, selectAll } from '../../support/schema-operations.js';
import { commit, scenario } from './queries-fixture.js';
import { post, startTestServer, wsClient } from './server-support.js';

const schema = buildSchema();
const queryType = schema.getQueryType()!;

describe('every root field on a cold server', () => {
  let db: TestDatabase;
  let positionId: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    await commit(db.pool, scenario());
    const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM position WHERE account_id = $1 LIMIT 1`, [`${ALICE}:0`]);
    positionId = rows[0]!.id;
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** The `block` argument of root fields (SPEC section 8): unset, or a past block of the fixture. */
  let pastBlock: string | undefined;
  /** Values that find data in the fixture; connections take 3 rows, other optional arguments are left out. */
  const argumentValue = (argument: GraphQLArgument, field: GraphQLField<unknown, unknown>, parent: GraphQLObjectType): string | undefined => {
    const root = parent === queryType;
    switch (argument.name) {
      case 'owner':
        return root && field.name === 'account' ? JSON.stringify(ALICE) : undefined;
      case 'underlying':
        return root && field.name !== 'markets' && field.name !== 'positions' ? '"ETH"' : undefined;
      case 'market':
        return root && field.name === 'fundingHistory' ? '"BTC-PERP"' : root && field.name === 'market' ? '"ETH-PERP"' : undefined;
      case 'id':
        return field.name === 'position' ? JSON.stringify(positionId) : field.name === 'market' ? '"ETH-PERP"' : field.name === 'underlying' ? '"ETH"' : undefined;
      case 'source':
        return undefined;
      case 'block':
        return root ? pastBlock : undefined;
      case 'first':
        return '3';
      case 'includeClosed':
        return 'true';
      case 'shocks':
        // Inline Decimal literals: graphql-jit could not compile them (literal-variables.ts).
        return '[{ underlying: "ETH", priceMove: "-0.2", volatilityMove: "0.1" }]';
      default:
        return undefined;
    }
  };
  const operationFor = (field: GraphQLField<unknown, unknown>) => {
    const call = fieldCall(field, queryType, argumentValue);
    if (call === null) throw new Error(`no arguments for Query.${field.name}`);
    const type = getNamedType(field.type);
    return `{ ${call} ${isObjectType(type) ? selectAll(type, 3, argumentValue) : ''} }`;
  };

  const fields = Object.values(queryType.getFields());
  const atPast = fields.filter((field) => field.args.some((a) => a.name === 'block'));
  it.each([
    ...fields.map((field) => [field.name, field, undefined] as const),
    ...atPast.map((field) => [`${field.name}(block: { number: 3 })`, field, '{ number: 3 }'] as const),
  ])('Query.%s over HTTP and WebSocket', async (_name, field, block) => {
    pastBlock = block;
    const query = operationFor(field);
    for (const transport of ['http', 'ws'] as const) {
      const logger = capturingLogger();
      const server: PtsServer = await startTestServer(db.url, {}, { logger });
      try {
        const result = transport === 'http' ? (await post(server.url, query)).body : await overWebSocket(server.url, query);
        expect({ transport, errors: result.errors }).toEqual({ transport, errors: undefined });
        const data = (result.data as Record<string, unknown>)[field.name];
        expect(data).not.toBeNull();
        expect(logger.messages('error')).toEqual([]);
      } finally {
        await server.stop();
      }
    }
  });
});

async function overWebSocket(url: string, query: string): Promise<{ data?: unknown; errors?: unknown }> {
  const { client, dispose } = wsClient(url);
  try {
    const results: { data?: unknown; errors?: unknown }[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe({ query }, { next: (r) => void results.push(r as never), error: reject, complete: resolve });
    });
    return results[0]!;
  } finally {
    await dispose();
  }
}
