/**
 * Apollo Server for GraphQL over HTTP, its pipeline bound to the admission
 * (protection/admission.ts): Apollo parses and validates with the admission's options and
 * rules, its didResolveOperation hook runs the admission's operation step (coerced
 * variables, transport, cost), execution is graphql-jit's within the request's budget
 * (compiled-executor.ts), and the answer's text is written within the answer cap, in
 * slices (stringifyResult).
 */
import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from '../../log/index.js';
import { compiledExecutor } from '../compiled-executor.js';
import type { RequestContext } from '../context.js';
import type { OperationType } from '../metrics.js';
import { maskError, type Admission } from '../protection/index.js';
import type { RequestInfo } from './routes.js';

export interface ApolloOptions {
  schema: GraphQLSchema;
  admission: Admission;
  httpServer: http.Server;
  /** The request a context serves (routes.ts). */
  infoOf(context: RequestContext): RequestInfo | undefined;
  logger: Logger;
}

export async function startApollo(options: ApolloOptions): Promise<ApolloServer<RequestContext>> {
  const { schema, admission, logger, infoOf } = options;
  // formatError is given no context: the request id comes through the errors
  // didEncounterErrors saw first, and stringifyResult's through the answer's data or errors.
  // (No AsyncLocalStorage: it turns on promise hooks for the whole process, a cost on every
  // await of every request and subscription event.)
  const errorRequests = new WeakMap<object, string>();
  const answerContexts = new WeakMap<object, RequestContext>();

  const requestPlugin: ApolloServerPlugin<RequestContext> = {
    async requestDidStart({ contextValue }) {
      const info = infoOf(contextValue);
      return {
        async didResolveOperation({ document, operation, request }) {
          if (info && operation) info.operation = operation.operation as OperationType;
          // Step 6 of the admission, as for WebSocket; Apollo answers the error (400).
          const admitted = admission.operation(document, request.operationName, request.variables, 'http');
          if ('errors' in admitted) throw admitted.errors[0];
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) errorRequests.set(error, contextValue.requestId);
        },
        async willSendResponse({ response, contextValue }) {
          // Everything is resolved: give the snapshot back before the bytes go out.
          await contextValue.release();
          const body = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
          const answer = body.data ?? body.errors;
          if (answer) answerContexts.set(answer, contextValue);
          if (!info || info.outcome) return;
          info.outcome = !body.errors?.length ? 'success' : body.data === undefined ? 'rejected' : 'error';
        },
      };
    },
  };

  const apollo = new ApolloServer<RequestContext>({
    gateway: compiledExecutor(schema),
    // Apollo's own refusal names its constructor option; the admission's rule names PTS_INTROSPECTION.
    introspection: true,
    // A GET (or a form-encoded POST) must carry a header a cross-site form cannot set
    // (`content-type: application/json`, `apollo-require-preflight`): see cors.ts.
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // The command that runs the server owns SIGINT/SIGTERM and drains in order (stop()).
    // Apollo's own handler (on outside NODE_ENV=test) stopped it and re-raised the signal
    // mid-shutdown, killing the process with the database and the devnet still stopping.
    stopOnTerminationSignals: false,
    parseOptions: admission.parseOptions,
    validationRules: admission.validationRules,
    formatError: (formatted, error) => maskError(formatted, error, typeof error === 'object' && error !== null ? errorRequests.get(error) : undefined, logger),
    stringifyResult: (answer) => {
      const context = answerContexts.get((answer.data ?? answer.errors) as object);
      return admission.serialize(answer, context?.budget, context?.requestId);
    },
    logger: apolloLogger(logger),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer, stopGracePeriodMillis: admission.options.timeoutMs + 1000 }),
      requestPlugin,
      // No cache hints are served; the default cache-control plugin would still wrap every
      // field resolver (about a fifth of execution time on the account risk query).
      ApolloServerPluginCacheControlDisabled(),
      // Apollo's own landing pages load from a CDN; the explorer is ours (explorer.ts, routes.ts).
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();
  return apollo;
}

function apolloLogger(logger: Logger) {
  return {
    debug: () => undefined,
    info: (message: unknown) => logger.info(String(message)),
    warn: (message: unknown) => logger.warn(String(message)),
    error: (message: unknown) => logger.error(String(message)),
  };
}
