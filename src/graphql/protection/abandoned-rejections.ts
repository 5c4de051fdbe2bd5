// graphql-js (16) drops the promises of a list's earlier items when a later item throws, as
// a spent budget's pace() does (budget.ts): when one of those later rejects, nobody hears
// it, and Node ends the process on an unhandled rejection. One request past its budget
// could so take the server down. The executor has already answered that request with the
// error; what is left is a GraphQLError nobody awaits, which is safe to drop. Any other
// unhandled rejection is a defect and still ends the process, as Node's default does.
import { GraphQLError } from 'graphql';
import type { Logger } from '../../log/index.js';

/** What the process does with an unhandled rejection: drops an execution's GraphQLError, throws anything else. */
export function onUnhandledRejection(reason: unknown): void {
  if (reason instanceof GraphQLError) return;
  throw reason;
}

let installed = false;

/** Installs onUnhandledRejection once per process (startServer calls it). */
export function dropAbandonedExecutionRejections(logger: Logger): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason) => {
    if (!(reason instanceof GraphQLError)) logger.error('unhandled rejection', { error: String((reason as Error)?.stack ?? reason) });
    onUnhandledRejection(reason);
  });
}
