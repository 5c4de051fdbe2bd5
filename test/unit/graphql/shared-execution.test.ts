import { parse } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { Hub, type BlockEvent } from '../../../src/graphql/subscriptions/hub.js';
import { SharedSubscriptions, sharingKey, type Delivery } from '../../../src/graphql/subscriptions/shared-execution.js';

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
    const document = parse(text);
    const delivery: Delivery = { key: sharingKey(document, text, undefined, variables) };
    const stream = await shared.subscribe({ schema, document, variableValues: variables, contextValue: { delivery } });
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

describe('results delivered to a sink', () => {
  /** A subscription field served by a hub, as the server's are; event n resolves after `delays[n]` ms. */
  function hubFixture(delays: Record<number, number> = {}) {
    const hub = new Hub({ bufferSize: 100 });
    let executions = 0;
    const schema = makeExecutableSchema({
      typeDefs: 'type Query { ok: Boolean } type Event { n: Int! } type Subscription { events: Event! }',
      resolvers: {
        Subscription: { events: { subscribe: () => hub.subscribe('events', (e) => e), resolve: (event: object) => event } },
        Event: {
          n: (event: BlockEvent) => {
            executions++;
            const delay = delays[event.blockNumber];
            return delay === undefined ? event.blockNumber : new Promise((resolve) => setTimeout(() => resolve(event.blockNumber), delay));
          },
        },
      },
    });
    const shared = new SharedSubscriptions();
    const text = 'subscription { events { n } }';
    const subscribe = async () => {
      const got: unknown[] = [];
      const document = parse(text);
      const delivery: Delivery = { key: sharingKey(document, text, undefined, {}), sink: (result) => void got.push(result) };
      const stream = await shared.subscribe({ schema, document, contextValue: { delivery } });
      if (!(Symbol.asyncIterator in stream)) throw new Error(JSON.stringify(stream));
      const ended = stream.next(); // graphql-ws's loop: its first next() starts the delivery
      return { got, ended, stream };
    };
    const publish = (n: number) => hub.publish({ kind: 'block', chainId: 1, blockNumber: n, blockHash: `0x${n}`, blockTimestamp: n, headBlockNumber: n, reorg: null });
    return { hub, subscribe, publish, executions: () => executions };
  }
  const settle = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

  it('hands every subscriber each result, executed once, and yields nothing to the loop', async () => {
    const { hub, subscribe, publish, executions } = hubFixture();
    const [a, b] = [await subscribe(), await subscribe()];
    publish(1);
    publish(2);
    expect(a.got).toEqual([{ data: { events: { n: 1 } } }, { data: { events: { n: 2 } } }]);
    expect(b.got).toEqual(a.got);
    expect(b.got[0]).toBe(a.got[0]); // the same result object: serialized once (socket-sink.ts)
    expect(executions()).toBe(2);
    hub.close();
    expect(await a.ended).toEqual({ value: undefined, done: true });
  });

  it('keeps the order when an earlier result takes longer to execute', async () => {
    const { subscribe, publish } = hubFixture({ 1: 30 });
    const a = await subscribe();
    publish(1);
    publish(2);
    expect(a.got).toEqual([]);
    await settle(60);
    expect(a.got.map((r) => (r as { data: { events: { n: number } } }).data.events.n)).toEqual([1, 2]);
  });

  it('hands nothing on after the operation ended, not even a result still executing', async () => {
    const { subscribe, publish, hub } = hubFixture({ 1: 20 });
    const a = await subscribe();
    publish(1);
    await a.stream.return!();
    await settle(40);
    expect(a.got).toEqual([]);
    expect(hub.subscriberCount).toBe(0);
  });
});
