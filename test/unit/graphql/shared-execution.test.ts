import { parse } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { SharedSubscriptions } from '../../../src/graphql/subscriptions/shared-execution.js';

/** A subscription field whose every subscriber receives the same event objects, as from the hub. */
function fixture(events: object[], failures = 0) {
  let executions = 0;
  let failed = 0;
  const schema = makeExecutableSchema({
    typeDefs: `
      type Query { ok: Boolean }
      type Event { n: Int! label(prefix: String): String! }
      type Subscription { events(owner: String): Event! }`,
    resolvers: {
      Subscription: {
        events: {
          subscribe: async function* () {
            for (const event of events) yield event;
          },
          resolve: (event: object) => event,
        },
      },
      Event: {
        n: (event: { n: number }) => {
          executions++;
          if (failed < failures) {
            failed++;
            throw new Error('connection closed mid-read');
          }
          return event.n;
        },
        label: (event: { n: number }, { prefix }: { prefix?: string }) => `${prefix ?? ''}${event.n}`,
      },
    },
  });
  const shared = new SharedSubscriptions();
  const subscribe = async (text: string, variables: Record<string, unknown>) => {
    const stream = await shared.subscribe({ schema, document: shared.document(parse(text), text), variableValues: variables });
    if (!(Symbol.asyncIterator in stream)) throw new Error(JSON.stringify(stream));
    const results = [];
    for await (const result of stream) results.push(result);
    return results;
  };
  return { subscribe, executions: () => executions };
}

describe('shared subscription execution', () => {
  const events = [{ n: 1 }, { n: 2 }];

  it('executes an event once for every subscriber of the same query, whatever the root arguments', async () => {
    const { subscribe, executions } = fixture(events);
    const text = 'subscription ($owner: String) { events(owner: $owner) { n } }';
    const [a, b, c] = await Promise.all([subscribe(text, { owner: '0xa' }), subscribe(text, { owner: '0xb' }), subscribe(text, {})]);
    expect(a).toEqual([{ data: { events: { n: 1 } } }, { data: { events: { n: 2 } } }]);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(executions()).toBe(2); // one per event, not one per subscriber and event
  });

  it('does not pass on a result with errors: the next subscriber executes for itself', async () => {
    const { subscribe, executions } = fixture([{ n: 1 }], 1);
    const text = 'subscription { events { n } }';
    const first = await subscribe(text, {});
    const second = await subscribe(text, {});
    expect(first[0]!.errors?.[0]?.message).toBe('connection closed mid-read');
    expect(second).toEqual([{ data: { events: { n: 1 } } }]);
    expect(executions()).toBe(2);
  });

  it('executes separately where a variable reaches below the root field, or the text differs', async () => {
    const { subscribe, executions } = fixture(events);
    const text = 'subscription ($p: String) { events { n label(prefix: $p) } }';
    const [a, b, c] = await Promise.all([
      subscribe(text, { p: 'x' }),
      subscribe(text, { p: 'y' }),
      subscribe('subscription { events { n } }', {}),
    ]);
    expect(a.map((r) => (r.data as any).events.label)).toEqual(['x1', 'x2']);
    expect(b.map((r) => (r.data as any).events.label)).toEqual(['y1', 'y2']);
    expect(c).toEqual([{ data: { events: { n: 1 } } }, { data: { events: { n: 2 } } }]);
    expect(executions()).toBe(6);
  });
});
