// The one admission path of the API. Every operation, over HTTP (Apollo) or WebSocket
// (graphql-ws), passes the same checks in the same order, each defined once here:
//
//   1. who:        the API key (PTS_API_KEYS), per request (HTTP) or connection (WebSocket)
//   2. how often:  the key's request rate (PTS_RATE_LIMIT), per HTTP request or WebSocket operation
//   3. the text:   a string, nested at most `maxNesting` brackets deep (the parser recurses
//                  per bracket: a list literal nested 2,000 deep overflowed its stack)
//   4. parsing:    at most `maxTokens` tokens (parseOptions)
//   5. validation: graphql-js's rules, depth/alias/directive/static-cost limits, no NUL
//                  character in a string literal, introspection only when enabled (validationRules)
//   6. operation:  the named operation exists; a subscription only over WebSocket; no NUL
//                  character in the variables; the estimated volume (cost.ts) with the
//                  page sizes the executor will use (a variable's default included); the
//                  executors coerce the variables and refuse bad ones as BAD_USER_INPUT
//   7. execution:  an ExecutionBudget (budget.ts): the time limit, the event loop in slices;
//                  the answer's text within maxResponseBytes (serialize.ts)
//   8. holding:    WebSocket connections per client, subscriptions per connection
//
// Apollo runs steps 4 and 5 itself with the rules and options given here (its document
// cache then skips them for a text it has seen); the HTTP routes call 1-3 and Apollo's
// didResolveOperation hook calls 6. The WebSocket server calls `prepare` (3-6).
import {
  getOperationAST,
  GraphQLError,
  getNamedType,
  isIntrospectionType,
  Kind,
  parse,
  specifiedRules,
  validate,
  type ASTVisitor,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { ApiKeys, RateLimiter, type AuthResult, type RateDecision } from './auth.js';
import { ExecutionBudget } from './budget.js';
import { costOf, costRefusal, DEFAULT_LIMITS, limitError, limitRules, parseOptions, type QueryLimits } from './limits.js';
import { ResponseTooLargeError, serializeJson } from './serialize.js';

export type Transport = 'http' | 'ws';

export interface AdmissionOptions {
  schema: GraphQLSchema;
  /** PTS_API_KEYS; empty: the API is open. */
  apiKeys: readonly string[];
  /** PTS_RATE_LIMIT: requests per second per key; 0: unlimited. */
  ratePerSecond: number;
  /** PTS_INTROSPECTION. */
  introspection: boolean;
  /** PTS_REQUEST_TIMEOUT_MS; 0: no time limit. */
  timeoutMs: number;
  /** PTS_MAX_RESPONSE_BYTES: the largest answer (JSON text, UTF-8 bytes) of one operation or subscription event. */
  maxResponseBytes: number;
  /** PTS_MAX_CONNECTIONS_PER_CLIENT: WebSocket connections per API key, or per address when the API is open. */
  maxConnectionsPerClient: number;
  /** PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION. */
  maxSubscriptionsPerConnection: number;
  /** Query limits; default DEFAULT_LIMITS. */
  limits?: Partial<QueryLimits>;
}

/** Who is asking: the key it authenticated with (null on an open API) and the client it counts as. */
export interface Principal {
  key: string | null;
  /** What connections are counted by: the key, or the address on an open API. */
  client: string;
}

/** What an operation is once admitted: its document, operation and coerced variables. */
export interface Admitted {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** The variables as the client sent them (executors coerce them again, identically). */
  variables: Record<string, unknown>;
}

/** The error code of a refused subscription over HTTP or a missing operation. */
export const BAD_REQUEST = 'BAD_REQUEST';

/** WebSocket close code: the client holds PTS_MAX_CONNECTIONS_PER_CLIENT connections already. */
export const CLOSE_TOO_MANY_CONNECTIONS = 4029;

/** The code of an answer over PTS_MAX_RESPONSE_BYTES. */
export const RESPONSE_TOO_LARGE = 'RESPONSE_TOO_LARGE';

/** Parsed and validated documents by text (WebSocket; Apollo keeps its own): at most this many. */
const DOCUMENTS_KEPT = 1000;

export class Admission {
  readonly limits: QueryLimits;
  readonly keys: ApiKeys;
  readonly rates: RateLimiter;
  readonly validationRules: ValidationRule[];
  private readonly documents = new Map<string, { document: DocumentNode } | { errors: readonly GraphQLError[] }>();
  /** Nesting depths by text: the texts of a client's operations repeat (a map lookup beats a scan). */
  private readonly depths = new Map<string, number>();
  private readonly connections = new Map<string, number>();

  constructor(readonly options: AdmissionOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.keys = new ApiKeys(options.apiKeys);
    this.rates = new RateLimiter(options.ratePerSecond);
    this.validationRules = [...limitRules(this.limits), NoNulInStrings, SubscriptionRootNotConditional, ...(options.introspection ? [] : [NoIntrospection])];
  }

  get parseOptions() {
    return parseOptions(this.limits);
  }

  // ------------------------------------------------------------ 1, 2: who and how often

  /** Step 1: the key in `authorization` (a header value or `connectionParams.authorization`), from `address`. */
  authenticate(authorization: unknown, address: string | undefined): { ok: true; principal: Principal } | Extract<AuthResult, { ok: false }> {
    const auth = this.keys.check(authorization);
    if (!auth.ok) return auth;
    return { ok: true, principal: { key: auth.key, client: auth.key !== null ? `key:${auth.key}` : `address:${address ?? 'unknown'}` } };
  }

  /** Step 2: one request (HTTP) or operation (WebSocket) against the key's rate; an open API is not rate limited. */
  takeRequest(principal: Principal): RateDecision {
    return principal.key === null ? { allowed: true } : this.rates.take(principal.key);
  }

  rateError(retryAfterSeconds: number): GraphQLError {
    return new GraphQLError(this.rates.message(retryAfterSeconds), { extensions: { code: 'RATE_LIMITED', retryAfterSeconds } });
  }

  // ------------------------------------------------------------ 3-6: the operation

  /** Step 3: the query text, before the parser sees it; null when it may be parsed. */
  sourceError(query: unknown): GraphQLError | null {
    if (typeof query !== 'string') return null; // Apollo and graphql-ws say what is missing
    let depth = this.depths.get(query);
    if (depth === undefined) {
      depth = nestingDepth(query, this.limits.maxNesting);
      if (this.depths.size >= DOCUMENTS_KEPT) this.depths.clear();
      this.depths.set(query, depth);
    }
    if (depth > this.limits.maxNesting) {
      return limitError(`Query nested too deep: more than ${this.limits.maxNesting} levels of brackets ({, [, ( )`, { limit: 'nesting', maxNesting: this.limits.maxNesting });
    }
    return null;
  }

  /** Steps 3-6 for a transport that does not parse itself (WebSocket). */
  prepare(query: unknown, operationName: string | null | undefined, variables: unknown, transport: Transport): Admitted | { errors: readonly GraphQLError[] } {
    if (typeof query !== 'string') return { errors: [badRequest('An operation needs a `query` string')] };
    const source = this.sourceError(query);
    if (source) return { errors: [source] };
    const checked = this.document(query);
    if ('errors' in checked) return checked;
    return this.operation(checked.document, operationName, variables, transport);
  }

  /** Steps 4 and 5, remembered by text. */
  private document(query: string): { document: DocumentNode } | { errors: readonly GraphQLError[] } {
    let checked = this.documents.get(query);
    if (checked) return checked;
    try {
      const document = parse(query, this.parseOptions);
      const errors = validate(this.options.schema, document, [...specifiedRules, ...this.validationRules]);
      checked = errors.length > 0 ? { errors: errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) } : { document };
    } catch (error) {
      checked = { errors: [withCode(error instanceof GraphQLError ? error : new GraphQLError(String(error)), 'GRAPHQL_PARSE_FAILED')] };
    }
    if (this.documents.size >= DOCUMENTS_KEPT) this.documents.clear();
    this.documents.set(query, checked);
    return checked;
  }

  /**
   * Step 6: the operation to run, its transport, its variables coerced (the cost of
   * `fills(first: $n)` is the cost at `$n`'s default when the client sends none) and its
   * estimated volume. Errors carry `http.status` 400 for Apollo.
   */
  operation(document: DocumentNode, operationName: string | null | undefined, variables: unknown, transport: Transport): Admitted | { errors: readonly GraphQLError[] } {
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      return {
        errors: [
          new GraphQLError(operationName ? `Unknown operation named "${operationName}".` : 'Must provide operation name if query contains multiple operations.', {
            extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } },
          }),
        ],
      };
    }
    if (transport === 'http' && operation.operation === 'subscription') {
      return {
        errors: [
          badRequest('Subscriptions are served over WebSocket (the graphql-ws protocol, "graphql-transport-ws") on the same URL, not over HTTP'),
        ],
      };
    }
    const given = variables ?? {};
    if (typeof given !== 'object' || Array.isArray(given)) return { errors: [badRequest('`variables` must be a JSON object')] };
    const nul = findNul(given as Record<string, unknown>);
    if (nul !== null) return { errors: [nulError(`variable $${nul}`)] };
    const cost = costOf(this.options.schema, document, operation, given as Record<string, unknown>, this.limits);
    if (cost > this.limits.maxCost) return { errors: [withStatus(costRefusal(cost, this.limits), 400)] };
    return { document, operation, variables: given as Record<string, unknown> };
  }

  // ------------------------------------------------------------ 7: execution

  /** Step 7: the budget of one operation or subscription event. */
  budget(): ExecutionBudget {
    return new ExecutionBudget(this.options.timeoutMs);
  }

  /**
   * The answer's JSON text within maxResponseBytes, written in slices; an answer over the
   * cap becomes an error answer (RESPONSE_TOO_LARGE) instead. `requestId` goes into that error.
   */
  serialize(result: unknown, budget?: ExecutionBudget, requestId?: string): string | Promise<string> {
    const refused = (error: unknown): string => {
      const reason = error instanceof ResponseTooLargeError ? this.tooLarge() : error;
      if (!(reason instanceof GraphQLError)) throw error;
      return JSON.stringify({ errors: [{ message: reason.message, extensions: { ...reason.extensions, ...(requestId ? { requestId } : {}) } }] });
    };
    try {
      const text = serializeJson(result, this.options.maxResponseBytes, budget);
      return text instanceof Promise ? text.catch(refused) : text;
    } catch (error) {
      return refused(error);
    }
  }

  tooLarge(): GraphQLError {
    const max = this.options.maxResponseBytes;
    return new GraphQLError(
      `Response too large: the answer exceeds ${max.toLocaleString('en-US')} bytes (PTS_MAX_RESPONSE_BYTES); ask for fewer items per page (first) or fewer fields`,
      { extensions: { code: RESPONSE_TOO_LARGE, maxBytes: max } },
    );
  }

  // ------------------------------------------------------------ 8: what a client holds

  /** Step 8: a WebSocket connection for `principal`; false (and nothing counted) when it holds the most it may. */
  openConnection(principal: Principal): boolean {
    const held = this.connections.get(principal.client) ?? 0;
    if (held >= this.options.maxConnectionsPerClient) return false;
    this.connections.set(principal.client, held + 1);
    return true;
  }

  closeConnection(principal: Principal): void {
    const held = (this.connections.get(principal.client) ?? 0) - 1;
    if (held > 0) this.connections.set(principal.client, held);
    else this.connections.delete(principal.client);
  }

  tooManyConnectionsMessage(): string {
    // A close reason holds at most 123 bytes.
    return `Too many connections: at most ${this.options.maxConnectionsPerClient} per client (PTS_MAX_CONNECTIONS_PER_CLIENT)`.slice(0, 123);
  }

  /** Whether a connection holding `held` subscriptions may start another. */
  subscriptionAllowed(held: number): boolean {
    return held < this.options.maxSubscriptionsPerConnection;
  }

  tooManySubscriptions(): GraphQLError {
    const max = this.options.maxSubscriptionsPerConnection;
    return limitError(`Too many subscriptions on this connection: at most ${max} (PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION); open another connection or complete one first`, {
      limit: 'subscriptions',
      maxSubscriptions: max,
    });
  }
}

/**
 * The deepest bracket nesting of a GraphQL text, ignoring strings and comments; stops
 * counting once past `stopAbove`. Linear and without recursion, so safe on any input.
 */
export function nestingDepth(text: string, stopAbove: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < text.length && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 /* " */) {
      if (text.startsWith('"""', i)) {
        const end = blockStringEnd(text, i + 3);
        i = end < 0 ? text.length : end + 2;
      } else {
        i++;
        while (i < text.length && text.charCodeAt(i) !== 0x22 && text.charCodeAt(i) !== 0x0a) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
      }
    } else if (c === 0x7b || c === 0x5b || c === 0x28) {
      if (++depth > deepest && (deepest = depth) > stopAbove) return deepest;
    } else if (c === 0x7d || c === 0x5d || c === 0x29) {
      depth = Math.max(0, depth - 1);
    }
  }
  return deepest;
}

/** The index of the `"""` closing a block string whose text starts at `from` (escaped \""" skipped); -1 if none. */
function blockStringEnd(text: string, from: number): number {
  for (let i = text.indexOf('"""', from); i >= 0; i = text.indexOf('"""', i + 1)) {
    if (text.charCodeAt(i - 1) !== 0x5c) return i;
  }
  return -1;
}

/**
 * graphql-js's NoSchemaIntrospectionCustomRule, saying which setting turns introspection on
 * (Apollo's own rule told operators to "pass introspection: true to ApolloServer").
 */
function NoIntrospection(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      const type = getNamedType(context.getType());
      if (type && isIntrospectionType(type)) {
        context.reportError(
          new GraphQLError(`Introspection is disabled on this server (the query asks for "${node.name.value}"): set PTS_INTROSPECTION=true to enable it; the schema is also in schema.graphql`, {
            nodes: node,
            extensions: { code: 'INTROSPECTION_DISABLED' },
          }),
        );
      }
    },
  };
}

/**
 * A subscription's root field may not be @skip- or @include-conditional (GraphQL spec,
 * "Single root field"; graphql-js 16 does not check it and its createSourceEventStream
 * throws on a skipped root, which graphql-ws answers by closing the whole connection).
 */
function SubscriptionRootNotConditional(context: ValidationContext): ASTVisitor {
  const check = (set: SelectionSetNode, seen: Set<string>) => {
    for (const selection of set.selections) {
      if (selection.directives?.some((d) => d.name.value === 'skip' || d.name.value === 'include')) {
        context.reportError(new GraphQLError('The root field of a subscription may not use @skip or @include', { nodes: selection }));
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) check(selection.selectionSet, seen);
      if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = context.getFragment(selection.name.value);
        if (fragment) check(fragment.selectionSet, seen);
      }
    }
  };
  return {
    OperationDefinition(node) {
      if (node.operation === 'subscription') check(node.selectionSet, new Set());
    },
  };
}

/**
 * PostgreSQL text cannot hold U+0000, so a string argument with one could only fail inside
 * a statement: refused here as the client's mistake.
 */
function NoNulInStrings(context: ValidationContext) {
  return {
    StringValue(node: { value: string }) {
      if (node.value.includes('\u0000')) context.reportError(nulError('a string literal'));
    },
  };
}

function nulError(where: string): GraphQLError {
  return new GraphQLError(`Strings may not contain the NUL character (U+0000): found in ${where}`, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
}

/** The name of the first variable holding a string with U+0000 anywhere inside, or null. */
function findNul(variables: Record<string, unknown>): string | null {
  for (const name in variables) if (holdsNul(variables[name])) return name;
  return null;
}

/** Walks JSON as sent (any depth: without recursion) for a string with U+0000. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object') return false;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (next.includes('\u0000')) return true;
    } else if (next !== null && typeof next === 'object') {
      for (const key in next) pending.push((next as Record<string, unknown>)[key]);
    }
  }
  return false;
}

function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: BAD_REQUEST, http: { status: 400 } } });
}

/** `error` with `code`, unless it has one. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions?.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    originalError: error.originalError ?? null,
    extensions: { code, ...error.extensions },
  });
}

function withStatus(error: GraphQLError, status: number): GraphQLError {
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status } } });
}

/** Admission with every option at its default, for tests of one step. */
export function defaultAdmission(schema: GraphQLSchema, overrides: Partial<AdmissionOptions> = {}): Admission {
  return new Admission({
    schema,
    apiKeys: [],
    ratePerSecond: 0,
    introspection: false,
    timeoutMs: 10_000,
    maxResponseBytes: 16 * 2 ** 20,
    maxConnectionsPerClient: 100,
    maxSubscriptionsPerConnection: 100,
    ...overrides,
  });
}
