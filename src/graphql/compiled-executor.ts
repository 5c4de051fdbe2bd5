/**
 * Executes queries with graphql-jit: each operation is compiled once into a JavaScript
 * function of (root, context, variables), then run per request. graphql-js interprets the
 * document for every request instead (argument coercion, field collection, completion of
 * every value); on the account risk query, ~500 fields over memoized values, that
 * interpretation was most of the server's CPU.
 *
 * Apollo Server 5 takes a custom executor only through its gateway interface; this is
 * that interface with a fixed schema. Parsing, validation (with the limits), the cost
 * check, context and error masking stay Apollo's: only execution changes. Subscription
 * events run compiled too (`operationCompiler`, subscriptions/shared-execution.ts): a tick
 * executes one selection per watched account.
 */
import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { getVariableValues, GraphQLError, printSchema, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { RequestContext } from './context.js';
import { literalsAsVariables } from './literal-variables.js';
import { cursorBlock } from './pagination.js';
import { operationBlock } from './past-block.js';

type Gateway = ApolloServerOptionsWithGateway<never>['gateway'];
type Result = ExecutionResult<Record<string, unknown>>;

/**
 * Operations compiled per parsed document (Apollo reuses the document of a query text it
 * has seen, from its bounded document store; a document it drops takes its entry along).
 */
type Compiled = Map<string, CompiledOperation>;

/** An operation compiled, and the values of the variables that took its literals' place (literal-variables.ts). */
export interface CompiledOperation {
  compiled: CompiledQuery;
  literals: Record<string, unknown> | null;
}

/** Compiles an operation of `schema` once per parsed document and operation name. */
export function operationCompiler(schema: GraphQLSchema): (document: DocumentNode, operationName: string | undefined) => CompiledOperation | Result {
  const compiled = new WeakMap<DocumentNode, Compiled>();
  return (document, operationName) => {
    let byOperation = compiled.get(document);
    if (!byOperation) compiled.set(document, (byOperation = new Map()));
    const cached = byOperation.get(operationName ?? '');
    if (cached) return cached;
    const { document: compilable, values: literals } = literalsAsVariables(schema, document);
    let made: CompiledQuery | Result;
    try {
      made = compileQuery(schema, compilable, operationName) as CompiledQuery | Result;
    } catch (error) {
      made = { errors: [asGraphQLError(error as Error)] };
    }
    if (!isCompiledQuery(made)) return withGraphQLErrors(made); // not kept: any number of wrong names may be tried
    const operation = { compiled: made, literals: Object.keys(literals).length > 0 ? literals : null };
    byOperation.set(operationName ?? '', operation);
    return operation;
  };
}

export function isCompiledOperation(compiled: CompiledOperation | Result): compiled is CompiledOperation {
  return 'compiled' in compiled;
}

/** Runs a compiled operation with the request's variables and its literals' values. */
export function runOperation(operation: CompiledOperation, root: unknown, context: unknown, variables: Record<string, unknown>): ReturnType<CompiledQuery['query']> {
  return operation.compiled.query(root, context, operation.literals ? { ...variables, ...operation.literals } : variables);
}

export function compiledExecutor(schema: GraphQLSchema): Gateway {
  const compile = operationCompiler(schema);
  return {
    async load() {
      return {
        async executor({ document, operation, request, context }) {
          // The name the client asked for (the context's operationName is the resolved one, unset when none matched).
          const compiled = compile(document, request.operationName ?? undefined);
          // Not compilable (an unknown operation name): Apollo answers 400 with the error.
          if (!isCompiledOperation(compiled)) return compiled;
          const variables = request.variables ?? {};
          if (context instanceof RequestContext) {
            const refused = await selectBlock(schema, document, request.operationName, variables, context);
            if (refused) return refused;
          }
          let result = (await runOperation(compiled, undefined, context, variables)) as Result;
          // It assumed the newest block it knew of and then read from a newer one: its fields
          // would mix two blocks. Resolvers only read, so it runs again, on the newer block.
          if (context instanceof RequestContext && context.blockMoved) {
            await context.restart();
            result = (await runOperation(compiled, undefined, context, variables)) as Result;
          }
          // No data at all: graphql-jit refused the variables. graphql-js's errors for them
          // point at the variable's definition, which is how Apollo tells a client's bad
          // input (400) from a fault; only this path pays for checking them twice.
          if (result.data === undefined && result.errors) {
            const checked = getVariableValues(schema, operation?.variableDefinitions ?? [], variables);
            if (checked.errors) return { errors: checked.errors };
          }
          return withGraphQLErrors(result);
        },
      };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async stop() {},
  };
}

/**
 * Points the context at the block the operation's root fields select (past-block.ts), if
 * any; a refused selection is the operation's answer (an error, no data).
 */
export async function selectBlock(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  context: RequestContext,
): Promise<Result | null> {
  let selector;
  try {
    selector = operationBlock(schema, document, operationName, variables, cursorBlock);
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    throw error;
  }
  if (selector) await context.readAt(selector);
  return null;
}

export function withGraphQLErrors(result: Result): Result {
  return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
}

/**
 * graphql-jit's errors are not constructed by graphql-js's GraphQLError (no nodes, and
 * the extensions of the error a resolver threw are not carried). Rebuilt here so that the
 * masking in errors.ts and Apollo see what graphql-js would have produced.
 */
function asGraphQLError(error: Error & { path?: readonly (string | number)[]; locations?: unknown; originalError?: Error | null }): GraphQLError {
  const converted = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined });
  // The locations graphql-jit computed; GraphQLError derives them only from nodes, which it does not keep.
  if (error.locations) (converted as { locations?: unknown }).locations = error.locations;
  return converted;
}
