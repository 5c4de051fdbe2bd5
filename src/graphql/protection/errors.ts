// Error masking: errors meant for the client (bad input, validation, limits, not found)
// pass through; anything unexpected becomes "Internal server error" with the request id,
// and the full error goes to the log under that id.
import { Kind, GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '../../log/index.js';

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/** PostgreSQL's query_canceled (statement_timeout). */
const QUERY_CANCELED = '57014';

/** Whether the client may see the error as it is. */
export function isUserFacing(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  const code = error.extensions?.code;
  if (code === 'INTERNAL_SERVER_ERROR') return false;
  if (typeof code === 'string') return true; // BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED, ...
  // A variable that failed coercion (a scalar's parseValue threw): the client's input.
  if (error.nodes?.length === 1 && error.nodes[0]!.kind === Kind.VARIABLE_DEFINITION) return true;
  const original = error.originalError;
  if (original === undefined || original === null) {
    // graphql-js's own errors about the request (syntax, validation, unknown fields) have
    // no cause and no path; one with a path was raised while completing the answer
    // ("Cannot return null for non-nullable field"): a fault of ours.
    return error.path === undefined;
  }
  // A resolver threw a GraphQLError on purpose; anything else (TypeError, pg errors) was not.
  return original instanceof GraphQLError && isUserFacing(original);
}

/**
 * The code a client-facing error is served with: its own, or the one of the GraphQLError
 * it wraps (Apollo files every validation refusal under GRAPHQL_VALIDATION_FAILED, but a
 * limit or a NUL character keeps its own); a variable that cannot be coerced is
 * BAD_USER_INPUT; any other that names none is a bad request (Apollo's default for it
 * would be INTERNAL_SERVER_ERROR).
 */
function clientCode(formatted: GraphQLFormattedError, error: unknown): string {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  const own = original instanceof GraphQLError ? original.extensions?.code : undefined;
  if (typeof own === 'string' && own !== 'INTERNAL_SERVER_ERROR') return own;
  const given = error instanceof GraphQLError ? error.extensions?.code : undefined;
  if (typeof given === 'string') return given;
  // A variable the executor could not coerce (graphql-js gives it no code; Apollo's is this).
  if (error instanceof GraphQLError && error.nodes?.[0]?.kind === Kind.VARIABLE_DEFINITION) return 'BAD_USER_INPUT';
  const code = formatted.extensions?.code;
  return typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR' ? code : 'BAD_REQUEST';
}

/**
 * The formatted error the client gets. `error` is the raw error (Apollo's formatError
 * second argument, or graphql-ws's result error).
 */
export function maskError(
  formatted: GraphQLFormattedError,
  error: unknown,
  requestId: string | undefined,
  logger: Logger,
): GraphQLFormattedError {
  const cause = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if ((cause as { code?: unknown } | null)?.code === QUERY_CANCELED) {
    // PostgreSQL's statement_timeout (the request time limit's backstop) cancelled a read.
    return {
      message: 'Request timed out: a read ran longer than PTS_REQUEST_TIMEOUT_MS; ask for less or retry',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'REQUEST_TIMEOUT', ...(requestId ? { requestId } : {}) },
    };
  }
  if (isUserFacing(error)) {
    const { stacktrace: _drop, http: _http, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
    extensions.code = clientCode(formatted, error);
    return { ...formatted, extensions: { ...extensions, ...(requestId ? { requestId } : {}) } };
  }
  logger.error('internal error', {
    requestId,
    path: formatted.path,
    error: cause instanceof Error ? cause.message : String(cause),
    stack: cause instanceof Error ? cause.stack : undefined,
    ...(cause instanceof Error && 'code' in cause ? { code: (cause as { code: unknown }).code } : {}),
  });
  return {
    message: INTERNAL_ERROR_MESSAGE,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
  };
}
