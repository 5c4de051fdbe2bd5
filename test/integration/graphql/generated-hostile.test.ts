// Issue 14: random operations built from schema.graphql (test/support/operation-generator.ts)
// against a server with data, over HTTP POST, HTTP GET, WebSocket queries and WebSocket
// subscriptions (a block with margin transitions is committed while they listen): no
// answer is a 5xx, none carries INTERNAL_SERVER_ERROR, none is over the answer cap, nothing
// is logged as an internal error, a plain query keeps being answered throughout, and the
// server's memory stays bounded. The seeds run are fixed, plus one more from
// PTS_FUZZ_SEED (or the clock), printed on failure.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildSchema } from '../../../src/graphql/schema.js';
import type { PtsServer } from '../../../src/graphql/server.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { capturingLogger } from '../../support/logger.js';
import { OperationGenerator, type GeneratedOperation } from '../../support/operation-generator.js';
import { commit, scenario } from './queries-fixture.js';
import { post, raw, startTestServer, wsUrl } from './server-support.js';
import { waitFor } from '../../support/wait.js';

const OPERATIONS_PER_SEED = 120;
const SEEDS = [1, 2, 3, Number(process.env.PTS_FUZZ_SEED ?? Date.now() % 1_000_000)];
/** Small enough that some generated answers pass it. */
const MAX_RESPONSE_BYTES = 256 * 1024;

interface Answer {
  transport: string;
  status?: number;
  bytes: number;
  errors: { message?: string; extensions?: { code?: string } }[];
}

describe('generated hostile operations', () => {
  const schema = buildSchema();

  it.each(SEEDS.map((seed) => [seed]))('seed %i: no internal error, no answer over the cap, over every transport', async (seed) => {
    // The fixture's first three blocks; the fourth (a liquidation, margin transitions) comes while the subscriptions listen.
    const db: TestDatabase = await createTestDatabase();
    await commit(db.pool, scenario(), 0, 3);
    const logger = capturingLogger();
    const server: PtsServer = await startTestServer(db.url, { maxResponseBytes: MAX_RESPONSE_BYTES, requestTimeoutMs: 5000, maxSubscriptionsPerConnection: 1000 }, { logger });
    const generator = new OperationGenerator(schema, seed);
    const client = createClient({ url: wsUrl(server.url), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
    const subscriptions: { operation: GeneratedOperation; answers: Answer[]; stop: () => void }[] = [];
    const rssBefore = process.memoryUsage().rss;
    const failures: string[] = [];
    const check = (operation: GeneratedOperation, answer: Answer) => {
      const internal = answer.errors.find((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR' || e.extensions?.code === undefined);
      if ((answer.status ?? 200) >= 500 || internal || answer.bytes > MAX_RESPONSE_BYTES + 1024) {
        failures.push(`seed ${seed}, ${answer.transport} (status ${answer.status ?? '-'}, ${answer.bytes} bytes): ${JSON.stringify(internal ?? answer.errors[0] ?? null)}\n  ${operation.text}\n  variables: ${JSON.stringify(operation.variables)}`);
      }
    };
    try {
      for (let i = 0; i < OPERATIONS_PER_SEED; i++) {
        const operation = generator.operation();
        if (operation.kind === 'subscription') {
          const answers: Answer[] = [];
          const stop = subscribe(client, operation, answers);
          subscriptions.push({ operation, answers, stop });
          // Over HTTP a subscription is a clear 400.
          check(operation, await overPost(server.url, operation));
          continue;
        }
        check(operation, await overPost(server.url, operation));
        check(operation, await overGet(server.url, operation));
        check(operation, await overWebSocket(client, operation));
        // A plain query is answered at every step.
        const plain = await post(server.url, '{ meta { blockNumber } }');
        if (plain.status !== 200 || plain.body.errors) failures.push(`seed ${seed}: the plain query failed after operation ${i}: ${JSON.stringify(plain.body)}`);
      }
      // Subscription events: a block with a liquidation and margin transitions, committed while they listen.
      await commit(db.pool, scenario(), 3, 4);
      const live = subscriptions.filter((s) => s.answers.length === 0).length;
      await waitFor(() => server.hub.subscriberCount <= live && subscriptions.some((s) => s.answers.length > 0), 'an answer', 5000).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const { operation, answers } of subscriptions) for (const answer of answers) check(operation, answer);
    } finally {
      for (const s of subscriptions) s.stop();
      await client.dispose();
      await server.stop();
      await db.drop();
    }
    expect(failures).toEqual([]);
    expect(logger.messages('error')).toEqual([]);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 2 ** 20);
  });
});

async function overPost(url: string, operation: GeneratedOperation): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: operation.text, variables: operation.variables }) });
  return answerOf('POST', response);
}

async function overGet(url: string, operation: GeneratedOperation): Promise<Answer> {
  const search = new URLSearchParams({ query: operation.text, variables: JSON.stringify(operation.variables) });
  // Long texts make URLs no server takes: those go as POST only.
  if (search.toString().length > 8000) return { transport: 'GET', bytes: 0, errors: [] };
  const response = await raw(`${url}?${search}`, { headers: { 'apollo-require-preflight': 'true' } });
  const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  return { transport: 'GET', status: response.status, bytes: Buffer.byteLength(text), errors: (response.body as { errors?: Answer['errors'] })?.errors ?? [] };
}

async function answerOf(transport: string, response: Response): Promise<Answer> {
  const text = await response.text();
  let errors: Answer['errors'] = [];
  try {
    errors = (JSON.parse(text) as { errors?: Answer['errors'] }).errors ?? [];
  } catch {
    errors = [{ message: `not JSON: ${text.slice(0, 200)}` }];
  }
  return { transport, status: response.status, bytes: Buffer.byteLength(text), errors };
}

function overWebSocket(client: Client, operation: GeneratedOperation): Promise<Answer> {
  return new Promise((resolve) => {
    const answer: Answer = { transport: 'ws', bytes: 0, errors: [] };
    client.subscribe(
      { query: operation.text, variables: operation.variables },
      {
        next: (result) => {
          answer.bytes += Buffer.byteLength(JSON.stringify(result));
          answer.errors.push(...((result.errors ?? []) as Answer['errors']));
        },
        error: (error) => {
          if (Array.isArray(error)) answer.errors.push(...(error as Answer['errors']));
          else answer.errors.push({ message: `connection: ${String((error as { reason?: string }).reason ?? error)}` });
          resolve(answer);
        },
        complete: () => resolve(answer),
      },
    );
  });
}

function subscribe(client: Client, operation: GeneratedOperation, answers: Answer[]): () => void {
  return client.subscribe(
    { query: operation.text, variables: operation.variables },
    {
      next: (result) => answers.push({ transport: 'ws subscription', bytes: Buffer.byteLength(JSON.stringify(result)), errors: (result.errors ?? []) as Answer['errors'] }),
      error: (error) => answers.push({ transport: 'ws subscription', bytes: 0, errors: Array.isArray(error) ? (error as Answer['errors']) : [{ message: String(error) }] }),
      complete: () => undefined,
    },
  );
}

