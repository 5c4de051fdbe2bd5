// Issue 4: query limits calibrated so that the heavy analytics query passes and abuse does
// not; API keys, the token bucket, and which errors reach clients.
import { getOperationAST, GraphQLError, parse, specifiedRules, validate, type GraphQLFormattedError } from 'graphql';
import { buildSchema } from '../../../src/graphql/schema.js';
import { nestingDepth } from '../../../src/graphql/protection/admission.js';
import {
  ApiKeys,
  costOf,
  costRefusal,
  DEFAULT_LIMITS,
  defaultAdmission,
  estimateCost,
  INTERNAL_ERROR_MESSAGE,
  isUserFacing,
  limitRules,
  maskError,
  QUERY_LIMIT_EXCEEDED,
  RateLimiter,
} from '../../../src/graphql/protection/index.js';
import type { Logger } from '../../../src/log/index.js';
import { HEAVY_QUERY } from './protection-fixture.js';

const schema = buildSchema();
const admission = defaultAdmission(schema);

/** Every refusal of the admission (text, parsing, validation, operation, cost), as messages. */
function refusals(query: string, variables: Record<string, unknown> = {}, transport: 'http' | 'ws' = 'http'): string[] {
  const admitted = admission.prepare(query, null, variables, transport);
  return 'errors' in admitted ? admitted.errors.map((e) => e.message) : [];
}

/** The first refusal's message and extensions (code, limit, ...), or null when admitted. */
function refusal(query: string, variables: Record<string, unknown> = {}, transport: 'http' | 'ws' = 'http') {
  const admitted = admission.prepare(query, null, variables, transport);
  if (!('errors' in admitted)) return null;
  const { http: _http, ...extensions } = admitted.errors[0]!.extensions;
  return { message: admitted.errors[0]!.message, ...extensions };
}

function nest(depth: number): string {
  // account -> positions -> account -> positions ...: 2 levels per round.
  let inner = 'id';
  for (let level = depth - 1; level >= 0; level--) inner = level % 2 === 0 ? `positions { ${inner} }` : `account { ${inner} }`;
  return `{ account(owner: "0x0000000000000000000000000000000000000001") { ${inner} } }`;
}

describe('query limits', () => {
  it('admit the heavy analytics query, and the limits have room above it', () => {
    expect(refusals(HEAVY_QUERY)).toEqual([]);
    const document = parse(HEAVY_QUERY);
    const cost = estimateCost(schema, document, getOperationAST(document)!, {}, DEFAULT_LIMITS.cost);
    expect(cost).toBeGreaterThan(400_000);
    expect(cost).toBeLessThan(DEFAULT_LIMITS.maxCost * 0.7);
  });

  it('refuse deep nesting', () => {
    expect(refusals(nest(8))).toEqual([]); // depth 10 with the account field and the leaf
    const [message] = refusals(nest(9));
    expect(message).toBe('Query depth limit of 10 exceeded, found 11.');
  });

  it('refuse alias amplification', () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: meta { blockNumber }`).join(' ')} }`;
    expect(refusals(aliases(20))).toEqual([]);
    expect(refusals(aliases(21))).toEqual(['Aliases limit of 20 exceeded, found 21.']);
  });

  it('refuse directive flooding', () => {
    const many = `{ meta { blockNumber ${'@include(if: true) '.repeat(21)} } }`;
    expect(refusals(many).join()).toMatch(/Directives limit of 20 exceeded, found 21/);
  });

  it('refuse documents of too many tokens while parsing', () => {
    const huge = `{ ${'meta { blockNumber } '.repeat(600)} }`;
    expect(refusal(huge)).toMatchObject({ code: 'GRAPHQL_PARSE_FAILED', message: expect.stringMatching(/Document contains more that 2000 tokens/) });
  });

  it('refuse texts nested deeper than the parser can take, before parsing, with a clear limit', () => {
    const deep = `{ accounts(marginState: ${'['.repeat(1990)}HEALTHY${']'.repeat(1990)}) { totalCount } }`;
    expect(refusal(deep)).toMatchObject({ code: QUERY_LIMIT_EXCEEDED, limit: 'nesting', message: expect.stringMatching(/nested too deep: more than 64 levels/) });
    expect(refusals(`{ accounts(marginState: ${'['.repeat(20)}HEALTHY${']'.repeat(20)}) { totalCount } }`).join()).not.toMatch(/nested too deep/);
  });

  it('count nesting outside strings and comments only', () => {
    expect(nestingDepth('{ a(b: "[[[[{{{{") { c } }', 64)).toBe(2);
    expect(nestingDepth('{ a(b: """ [[[ \\""" [[ """) # [[[[[\n { c } }', 64)).toBe(2);
    expect(nestingDepth('{ a(b: "\\"[[[") }', 64)).toBe(2);
    expect(nestingDepth('['.repeat(100), 10)).toBe(11); // stops counting past the limit
  });

  it('refuse nested full pages whether `first` is a literal or a variable', () => {
    const literal = `{ accounts(first: 1000) { edges { node { fills(first: 1000) { edges { node { price size } } } } } } }`;
    expect(refusals(literal).join()).toMatch(/Query Cost limit of 1000000 exceeded/);
    // graphql-armor's static cost cannot see variables; the estimate can.
    const variable = `query ($n: Int) { accounts(first: $n) { edges { node { fills(first: $n) { edges { node { price size } } } } } } }`;
    const document = parse(variable);
    expect(validate(schema, document, [...specifiedRules, ...limitRules(DEFAULT_LIMITS)])).toEqual([]);
    expect(refusals(variable, { n: 10 })).toEqual([]);
    const [message] = refusals(variable, { n: 1000 });
    expect(message).toMatch(/^Query too expensive: it may return about 4,003,001 values, the limit is 1,000,000/);
    // One parsed operation (as Apollo reuses it) asked again with other variables or under other limits.
    const operation = getOperationAST(document)!;
    const check = (variables: Record<string, unknown>, limits = DEFAULT_LIMITS) => {
      const cost = costOf(schema, document, operation, variables, limits);
      return cost > limits.maxCost ? costRefusal(cost, limits).message : null;
    };
    expect(check({ n: 10 })).toBeNull();
    expect(check({ n: 1000 })).toMatch(/about 4,003,001 values/);
    expect(check({ n: 10 })).toBeNull();
    expect(check({ n: 10 }, { ...DEFAULT_LIMITS, maxCost: 100 })).toMatch(/about 431 values, the limit is 100/);
    // An absent `first` costs its schema default (50).
    expect(refusals(`{ accounts { edges { node { fills { edges { node { price } } } } } } }`)).toEqual([]);
  });

  it('cost a variable the client leaves out at its default, as the executor will run it', () => {
    // Costed as `first: 1` before: one 2 KB request then returned 31 MB, twenty aliases of it exhausted the heap.
    const bomb = `query B($n: Int = 1000) { a0: fills(first: $n) { edges { node { id market { fills(first: $n) { edges { node { id price } } } } } } } }`;
    expect(refusal(bomb)).toMatchObject({ code: QUERY_LIMIT_EXCEEDED, limit: 'cost', message: expect.stringMatching(/^Query too expensive/) });
    expect(refusal(bomb, { n: 10 })).toBeNull();
    // The same as a subscription over WebSocket: refused before it runs on every event.
    const subscription = `subscription S($n: Int = 1000) { marginStateChanged { account { fills(first: $n) { edges { node { market { fills(first: $n) { edges { node { id } } } } } } } } } }`;
    expect(refusal(subscription, {}, 'ws')).toMatchObject({ code: QUERY_LIMIT_EXCEEDED, limit: 'cost' });
  });

  it('refuse the NUL character in any string argument; leave coercing variables to the executor', () => {
    // The executors coerce variables themselves and refuse bad ones (hostile.test.ts): not coerced twice.
    expect(refusal('query ($n: Int!) { accounts(first: $n) { totalCount } }')).toBeNull();
    expect(refusal('{ fills(market: "a\\u0000b") { totalCount } }')).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/NUL character/) });
    expect(refusal('query ($m: String) { fills(market: $m) { totalCount } }', { m: 'a\u0000b' })).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/NUL character .*\$m/) });
    expect(refusal('query ($s: [MarginState!]) { accounts(marginState: $s) { totalCount } }', { s: ['HEALTHY'] })).toBeNull();
  });

  it('refuse a subscription over HTTP, naming the transport that serves it', () => {
    expect(refusal('subscription { blockCommitted { blockNumber } }', {}, 'http')).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/WebSocket/) });
    expect(refusal('subscription { blockCommitted { blockNumber } }', {}, 'ws')).toBeNull();
  });

  it('refuse a subscription whose root field is conditional (graphql-js 16 threw setting it up, closing the connection)', () => {
    expect(refusal('subscription { blockCommitted @include(if: false) { blockNumber } }', {}, 'ws')).toMatchObject({ message: expect.stringMatching(/may not use @skip or @include/) });
    expect(refusal('subscription { ...F } fragment F on Subscription { blockCommitted @skip(if: true) { blockNumber } }', {}, 'ws')).not.toBeNull();
    expect(refusal('subscription { ... @include(if: true) { blockCommitted { blockNumber } } }', {}, 'ws')).not.toBeNull();
    expect(refusal('subscription { blockCommitted { blockNumber @include(if: false) } }', {}, 'ws')).toBeNull();
  });

  it('refuse introspection unless enabled', () => {
    const query = '{ __schema { types { name } } }';
    expect(refusals(query).join()).toMatch(/introspection/i);
    expect(defaultAdmission(schema, { introspection: true }).prepare(query, null, {}, 'http')).not.toHaveProperty('errors');
  });

  it('report limits with their own code', () => {
    expect(refusal(nest(12))).toEqual({ message: 'Query depth limit of 10 exceeded, found 14.', code: QUERY_LIMIT_EXCEEDED, limit: 'depth' });
  });
});

describe('API keys', () => {
  const keys = new ApiKeys(['k1-secret', 'k2-secret']);

  it('accept a configured bearer key', () => {
    expect(keys.check('Bearer k2-secret')).toEqual({ ok: true, key: 'k2-secret' });
    expect(keys.check('bearer   k1-secret ')).toEqual({ ok: true, key: 'k1-secret' });
  });

  it('refuse missing, malformed and unknown keys with a clear message', () => {
    expect(keys.check(undefined)).toMatchObject({ ok: false, reason: 'missing', message: expect.stringMatching(/Authorization: Bearer <key>/) });
    expect(keys.check('k1-secret')).toMatchObject({ ok: false, reason: 'invalid', message: expect.stringMatching(/Bearer <key>/) });
    expect(keys.check('Bearer nope')).toMatchObject({ ok: false, reason: 'invalid', message: 'Invalid API key' });
  });

  it('are not required when none is configured', () => {
    expect(new ApiKeys([]).check(undefined)).toEqual({ ok: true, key: null });
  });
});

describe('rate limiter (token bucket per key)', () => {
  it('allows a burst of one second, then the rate, separately per key', () => {
    let now = 0;
    const limiter = new RateLimiter(5, () => now);
    for (let i = 0; i < 5; i++) expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b')).toEqual({ allowed: true });
    now += 200; // one token back
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a').allowed).toBe(false);
    now += 10_000; // refills to the burst, no more
    for (let i = 0; i < 5; i++) expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('says when to retry at low rates, and 0 disables it', () => {
    let now = 0;
    const slow = new RateLimiter(1, () => now);
    expect(slow.take('a').allowed).toBe(true);
    expect(slow.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(slow.message(1)).toMatch(/at most 1 requests per second per API key \(PTS_RATE_LIMIT\); retry after 1 s/);
    const off = new RateLimiter(0, () => now);
    for (let i = 0; i < 100; i++) expect(off.take('a').allowed).toBe(true);
  });
});

describe('error masking', () => {
  const logged: Record<string, unknown>[] = [];
  const logger: Logger = {
    info: () => undefined,
    warn: () => undefined,
    error: (message, fields) => logged.push({ message, ...fields }),
    progress: () => undefined,
    child: () => logger,
  };
  const format = (error: GraphQLError): GraphQLFormattedError => error.toJSON();

  beforeEach(() => {
    logged.length = 0;
  });

  it('passes errors meant for the client', () => {
    const input = new GraphQLError('first must be at most 1000', { extensions: { code: 'BAD_USER_INPUT' } });
    expect(isUserFacing(input)).toBe(true);
    expect(maskError(format(input), input, 'r1', logger)).toEqual({
      message: 'first must be at most 1000',
      extensions: { code: 'BAD_USER_INPUT', requestId: 'r1' },
    });
    // A resolver's deliberate GraphQLError, wrapped by graphql-js with a path.
    const thrown = new GraphQLError('Unknown market');
    const located = new GraphQLError(thrown.message, { originalError: thrown, path: ['market'] });
    expect(isUserFacing(located)).toBe(true);
    // graphql-js validation: no cause.
    expect(isUserFacing(new GraphQLError('Cannot query field "x" on type "Query".'))).toBe(true);
    expect(logged).toEqual([]);
  });

  it('masks anything unexpected and logs it with the request id', () => {
    const cause = new TypeError("Cannot read properties of undefined (reading 'size')");
    const located = new GraphQLError(cause.message, { originalError: cause, path: ['account', 'positions', 0, 'size'] });
    expect(isUserFacing(located)).toBe(false);
    expect(maskError(format(located), located, 'r2', logger)).toEqual({
      message: INTERNAL_ERROR_MESSAGE,
      path: ['account', 'positions', 0, 'size'],
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'r2' },
    });
    expect(logged).toEqual([
      expect.objectContaining({ message: 'internal error', requestId: 'r2', error: cause.message, stack: cause.stack }),
    ]);
    // Errors Apollo marks internal, and non-GraphQL errors, are masked too.
    expect(isUserFacing(new GraphQLError('Context creation failed: boom', { extensions: { code: 'INTERNAL_SERVER_ERROR' } }))).toBe(false);
    expect(isUserFacing(new Error('connection terminated'))).toBe(false);
  });
});
