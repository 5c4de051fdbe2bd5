// Query limits: what one operation may ask for, over HTTP (Apollo) and WebSocket
// (graphql-ws) alike. Why each number: see DEFAULT_LIMITS.
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorConfig } from '@escape.tech/graphql-armor-types';
import {
  GraphQLError,
  Kind,
  isInputType,
  typeFromAST,
  valueFromAST,
  visit,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { estimateCost, type CostOptions } from './cost.js';

export interface QueryLimits {
  /** Deepest field nesting (fragments flattened). */
  maxDepth: number;
  /** Aliased fields per operation. */
  maxAliases: number;
  /** Lexical tokens per document (checked while parsing). */
  maxTokens: number;
  /** Brackets ({, [, ( ) nested in the text, checked before parsing (admission.ts): the parser recurses per level. */
  maxNesting: number;
  /** Directives per operation. */
  maxDirectives: number;
  /** graphql-armor's static cost (literal `first` only, 1.5x per level): a cheap pre-check. */
  maxStaticCost: number;
  /** The variables-aware estimate of returned values (cost.ts): the real volume limit. */
  maxCost: number;
  cost: CostOptions;
}

/**
 * Calibrated on the heaviest legitimate query (test/unit/graphql/protection.test.ts):
 * `accounts(first: 1000) { edges { node { every scalar and risk field, greeks, positions {
 * every field, market { every field } } } } }`, the analytics export of a whole page.
 * - depth: that query is 6 deep; going through fills or transitions back to a market is 9.
 *   10 leaves room for that and stops account -> positions -> account -> ... cycles.
 * - aliases: a dashboard asks for a handful of named markets or accounts in one request;
 *   beyond 20, aliasing is amplification (each alias runs its resolvers again).
 * - tokens: the heavy query is 94 tokens, the partner client's largest document about
 *   300; 2000 refuses megabyte documents before validation even starts.
 * - nesting: the heavy query nests 12 brackets deep; 64 leaves room for list arguments
 *   and refuses texts that would exhaust the parser's stack (2,000 levels did).
 * - directives: a few @include/@skip per query; 20 stops directive flooding.
 * - static cost: the heavy query scores about 416,000 under armor's formula; 1,000,000
 *   admits it with room and refuses literal nesting such as accounts(first: 1000) x
 *   fills(first: 1000) (about 10^9).
 * - estimated values: the heavy query is about 560,000 values (1000 accounts x (about 45
 *   fields and greeks + 10 positions x 50 fields)); 1,000,000 admits it with room and
 *   refuses any nesting of two full pages (1000 x 1000 x fields), whether `first` is a
 *   literal or a variable.
 */
export const DEFAULT_LIMITS: QueryLimits = {
  maxDepth: 10,
  maxAliases: 20,
  maxTokens: 2000,
  maxNesting: 64,
  maxDirectives: 20,
  maxStaticCost: 1_000_000,
  maxCost: 1_000_000,
  cost: {
    maxPageSize: 1000,
    defaultListSize: 10,
    listSizes: { 'Query.markets': 100, 'Query.underlyings': 20, 'Underlying.markets': 50 },
    introspectionCost: 5000,
  },
};

/** The error code of every limit refusal. */
export const QUERY_LIMIT_EXCEEDED = 'QUERY_LIMIT_EXCEEDED';

export function limitError(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: QUERY_LIMIT_EXCEEDED, ...extensions } });
}

/** Reports armor's refusals without its "Syntax Error:" prefix (they are not syntax errors). */
function reportTo(limit: string) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    context?.reportError(limitError(error.message.replace(/^Syntax Error: /, ''), { limit }));
  };
}

function armorConfig(limits: QueryLimits): GraphQLArmorConfig {
  const common = { propagateOnRejection: false, exposeLimits: true };
  return {
    // Field suggestions ("Did you mean ...") stay: the schema is public (codegen, docs).
    blockFieldSuggestion: { enabled: false },
    maxDepth: { ...common, n: limits.maxDepth, flattenFragments: true, onReject: [reportTo('depth')] },
    maxAliases: { ...common, n: limits.maxAliases, onReject: [reportTo('aliases')] },
    maxDirectives: { ...common, n: limits.maxDirectives, onReject: [reportTo('directives')] },
    costLimit: { ...common, maxCost: limits.maxStaticCost, flattenFragments: true, onReject: [reportTo('staticCost')] },
    // Tokens are limited by graphql-js's own parser (parseOptions below): a refusal is a
    // plain 400 parse error, where armor's token plugin throws out of a plugin hook.
    maxTokens: { enabled: false },
  };
}

/** graphql-armor's validation rules (depth, aliases, directives, static cost). */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  return new ApolloArmor(armorConfig(limits)).protect().validationRules;
}

export function parseOptions(limits: QueryLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

/**
 * Costs by operation (Apollo reuses a document it has parsed) and by the values its `first`
 * arguments take, the only variables the estimate reads: the same query for another
 * account costs the same, and walking the document again was ~2% of serving a small
 * query. At most a few page-size combinations are kept per operation.
 */
interface OperationCosts {
  /** Variables used as `first` anywhere in the document (fragments included), with their defaults. */
  pageVariables: readonly { name: string; defaultValue: unknown }[];
  byPages: Map<string, number>;
}

const costs = new WeakMap<QueryLimits, WeakMap<OperationDefinitionNode, OperationCosts>>();
const PAGE_SIZES_PER_OPERATION = 64;

/**
 * The estimated values the operation may return (cost.ts) with the `first` values the
 * executor will use: a page variable the client sends, else its default (a
 * `$n: Int = 1000` left out costs 1000, not 1). Only page variables are read, so the
 * other variables are not coerced twice (the executor does, and refuses bad ones).
 */
export function costOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  limits: QueryLimits,
): number {
  let byOperation = costs.get(limits);
  if (!byOperation) costs.set(limits, (byOperation = new WeakMap()));
  let known = byOperation.get(operation);
  if (!known) byOperation.set(operation, (known = { pageVariables: pageVariables(schema, document, operation), byPages: new Map() }));
  const pages: Record<string, unknown> = {};
  for (const { name, defaultValue } of known.pageVariables) pages[name] = variables[name] === undefined ? defaultValue : variables[name];
  const key = JSON.stringify(known.pageVariables.map(({ name }) => pages[name] ?? null));
  let cost = known.byPages.get(key);
  if (cost === undefined) {
    cost = estimateCost(schema, document, operation, pages, limits.cost);
    if (known.byPages.size >= PAGE_SIZES_PER_OPERATION) known.byPages.clear();
    known.byPages.set(key, cost);
  }
  return cost;
}

function pageVariables(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): { name: string; defaultValue: unknown }[] {
  const names = new Set<string>();
  visit(document, {
    Argument(node) {
      if (node.name.value === 'first' && node.value.kind === Kind.VARIABLE) names.add(node.value.name.value);
    },
  });
  return [...names].sort().map((name) => {
    const definition = operation.variableDefinitions?.find((d) => d.variable.name.value === name);
    const type = definition ? typeFromAST(schema, definition.type) : undefined;
    const defaultValue = definition?.defaultValue && type && isInputType(type) ? valueFromAST(definition.defaultValue, type) : undefined;
    return { name, defaultValue };
  });
}

/** The refusal of an operation estimated at `cost` values. */
export function costRefusal(cost: number, limits: QueryLimits): GraphQLError {
  return limitError(
    `Query too expensive: it may return about ${Math.round(cost).toLocaleString('en-US')} values, ` +
      `the limit is ${limits.maxCost.toLocaleString('en-US')}; ask for fewer items per page (first) or fewer nested lists`,
    { limit: 'cost', cost: Math.round(cost), maxCost: limits.maxCost },
  );
}
