/**
 * GraphQL over WebSocket (graphql-ws, "graphql-transport-ws") on the HTTP server's
 * `/graphql`, through the same admission as HTTP (protection/admission.ts):
 *
 * - upgrade: the path is /graphql, the Origin is allowed (cors.ts); at most
 *   `upgradesPerTurn` handshakes per turn of the event loop, the others on the next turns
 *   (accept pacing: a reconnect storm of 10,000 clients is taken in order, the loop
 *   turning between, instead of all at once);
 * - connection_init: the API key (close 4403), then the client's connection count
 *   (PTS_MAX_CONNECTIONS_PER_CLIENT, close 4029);
 * - subscribe: the key's rate, the text, parsing and validation, the operation (coerced
 *   variables, cost), and for a subscription the connection's count
 *   (PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION): each refusal is an `error` message for that
 *   operation, the connection stays;
 * - a query runs with graphql-js within its budget; its answer is written within the
 *   answer cap as graphql-ws's `next` message would be;
 * - a subscription is delivered by the pipeline (subscriptions/pipeline.ts).
 *
 * Each operation has its own RequestContext, released (and its budget ended) when the
 * operation completes or the connection closes.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { execute, GraphQLError, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../log/index.js';
import type { RequestContext } from '../context.js';
import { selectBlock } from '../compiled-executor.js';
import type { ApiMetrics, OperationType, Outcome } from '../metrics.js';
import { cancelledError, CLOSE_TOO_MANY_CONNECTIONS, type Admission, type Principal } from '../protection/index.js';
import type { Cors } from '../http/cors.js';
import type { SubscriptionPipeline } from '../subscriptions/pipeline.js';
import { deliveryOf } from '../subscriptions/shared-execution.js';
import { socketSink } from '../subscriptions/socket-sink.js';

/** Close code of a subscriber whose buffer overflowed. */
export const CLOSE_TOO_SLOW = 4008;
/** Close code of a refused API key. */
export const CLOSE_FORBIDDEN = 4403;

export interface WebSocketApiOptions {
  httpServer: http.Server;
  schema: GraphQLSchema;
  admission: Admission;
  pipeline: SubscriptionPipeline;
  cors: Cors;
  /** A new context for one operation. */
  context(): RequestContext;
  /** A result with errors as the client may see it (masked, with the request id). */
  format(result: ExecutionResult, requestId: string): unknown;
  metrics: ApiMetrics;
  logger: Logger;
  /** Largest message a client may send, in bytes. Default 1 MiB. */
  maxPayload?: number;
  /** WebSocket handshakes per turn of the event loop; more wait for the next turns. Default 64. */
  upgradesPerTurn?: number;
}

/** What one WebSocket connection holds, kept on graphql-ws's per-connection `extra`. */
interface Connection {
  principal: Principal;
  /** Live operations by id. */
  operations: Map<string, { context: RequestContext; subscription: boolean }>;
  subscriptions: number;
  /** Cut off as too slow: its other subscriptions overflow too, and say nothing more. */
  cutOff: boolean;
}

interface Extra extends Record<PropertyKey, unknown> {
  connection: Connection;
}

export interface WebSocketApi {
  /** Closes every connection (1001) and stops accepting new ones. */
  dispose(): Promise<void>;
}

export function startWebSocketApi(options: WebSocketApiOptions): WebSocketApi {
  const { schema, admission, pipeline, metrics, logger } = options;
  // Upgrades are routed here rather than by ws listening on the HTTP server itself, which
  // would also re-emit the HTTP server's errors (a port in use) on the WebSocket server,
  // where graphql-ws prints them as an internal error of its own.
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 1024 * 1024 });
  const upgrades = new UpgradeTurns(options.upgradesPerTurn ?? 64, (request, socket, head) =>
    wsServer.handleUpgrade(request, socket, head, (ws) => wsServer.emit('connection', ws, request)),
  );
  options.httpServer.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((request.url ?? '').split('?', 1)[0] !== '/graphql') return refuseUpgrade(socket, 404, 'Not Found');
    // Browsers send any site's Origin to any WebSocket server: only allowed origins connect.
    if (!options.cors.allowsWebSocket(request)) return refuseUpgrade(socket, 403, 'Forbidden');
    upgrades.add(request, socket, head);
  });
  wsServer.on('connection', (socket) => {
    metrics.connectionOpened();
    socket.once('close', () => metrics.connectionClosed());
  });

  const observe = (operation: OperationType, outcome: Outcome, started: number) =>
    metrics.observeRequest(operation, outcome, 'ws', (performance.now() - started) / 1000);

  /** Ends an operation: its budget (an execution stops at its next list), its snapshot. */
  const release = (connection: Connection | undefined, id: string) => {
    const operation = connection?.operations.get(id);
    if (!operation) return;
    connection!.operations.delete(id);
    if (operation.subscription) connection!.subscriptions--;
    operation.context.budget.abort(cancelledError());
    void operation.context.release();
  };

  const cutOff = (connection: Connection, socket: WebSocket, message: string) => {
    if (connection.cutOff) return;
    connection.cutOff = true;
    logger.warn('closing a subscriber that does not keep up', { reason: message, client: clientLabel(connection.principal), subscriptions: connection.subscriptions });
    socket.close(CLOSE_TOO_SLOW, message);
    // A client that stopped reading may never answer the close handshake.
    setTimeout(() => socket.terminate(), 5000).unref();
  };

  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      // Whatever graphql-js throws while setting an operation up is that operation's
      // (masked) error: graphql-ws would close the whole connection with its message.
      subscribe: (args) => Promise.resolve(pipeline.subscribe(args)).catch((error: unknown) => internalError(error)),
      onConnect: (ctx) => {
        const params = ctx.connectionParams ?? {};
        const given = params.authorization ?? params.Authorization ?? ctx.extra.request.headers.authorization;
        const auth = admission.authenticate(given, ctx.extra.request.socket.remoteAddress);
        if (!auth.ok) {
          observe('unknown', 'unauthorized', performance.now());
          ctx.extra.socket.close(CLOSE_FORBIDDEN, `Forbidden: ${auth.message} (connectionParams: { authorization: "Bearer <key>" })`.slice(0, 123));
          return false;
        }
        if (!admission.openConnection(auth.principal)) {
          observe('unknown', 'rate_limited', performance.now());
          ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, admission.tooManyConnectionsMessage());
          return false;
        }
        const connection: Connection = { principal: auth.principal, operations: new Map(), subscriptions: 0, cutOff: false };
        ctx.extra.connection = connection;
        ctx.extra.socket.once('close', () => admission.closeConnection(connection.principal));
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const started = performance.now();
        const connection = ctx.extra.connection;
        const refuse = (outcome: Outcome, operation: OperationType, errors: readonly GraphQLError[]) => {
          observe(operation, outcome, started);
          return errors.map(forWebSocket);
        };
        if (!connection) return refuse('unauthorized', 'unknown', [new GraphQLError('Not authenticated', { extensions: { code: 'UNAUTHENTICATED' } })]);
        const rate = admission.takeRequest(connection.principal);
        if (!rate.allowed) return refuse('rate_limited', 'unknown', [admission.rateError(rate.retryAfterSeconds)]);
        const admitted = admission.prepare(payload.query, payload.operationName, payload.variables, 'ws');
        if ('errors' in admitted) return refuse('rejected', 'unknown', admitted.errors);
        const type = admitted.operation.operation as OperationType;
        const subscription = type === 'subscription';
        if (subscription && !admission.subscriptionAllowed(connection.subscriptions)) return refuse('rejected', type, [admission.tooManySubscriptions()]);

        const context = options.context();
        const socket = ctx.extra.socket;
        context.delivery = subscription
          ? pipeline.delivery({
              socket,
              id,
              document: admitted.document,
              text: payload.query,
              operationName: payload.operationName,
              variables: admitted.variables,
              requestId: context.requestId,
              onOverflow: (message) => cutOff(connection, socket, message),
            })
          : {
              key: null,
              sink: socketSink(socket, id, (result) =>
                admission.serialize(result.errors?.length ? options.format(result, context.requestId) : result, context.budget, context.requestId),
              ),
            };
        connection.operations.set(id, { context, subscription });
        if (subscription) connection.subscriptions++;
        observe(type, 'success', started);
        return {
          schema,
          document: admitted.document,
          operationName: payload.operationName ?? null,
          variableValues: admitted.variables,
          contextValue: context,
        };
      },
      execute: (args) => executeQuery(args).catch((error: unknown) => internalError(error)),
      onNext: (_ctx, _id, _payload, args, result) =>
        result.errors?.length ? (options.format(result, (args.contextValue as RequestContext).requestId) as ExecutionResult) : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => e.toJSON()),
      onComplete: (ctx, id) => release(ctx.extra.connection, id),
      onClose: (ctx) => {
        const connection = ctx.extra.connection;
        for (const id of [...(connection?.operations.keys() ?? [])]) release(connection, id);
      },
    },
    wsServer,
  );

  return {
    dispose: async () => {
      await Promise.resolve(server.dispose()).catch((error: Error) => logger.warn('closing WebSockets failed', { error: error.message }));
    },
  };
}

/**
 * A query or mutation over WebSocket: executed with graphql-js within the context's budget
 * (its list fields are paced), its answer written within the answer cap by the operation's
 * sink, as graphql-ws's own `next` message would be. graphql-ws then sends `complete`.
 * The answer is written from the iterator graphql-ws loops over, which it does only while
 * the operation is still live (a `complete` from the client meanwhile drops it).
 */
async function executeQuery(args: ExecutionArgs): Promise<AsyncIterableIterator<never>> {
  const sink = deliveryOf(args.contextValue)?.sink;
  if (!sink) throw new Error('a WebSocket query without its delivery');
  const result = (async () => {
    // The block its root fields select (past-block.ts), as over HTTP (compiled-executor.ts).
    const context = args.contextValue as RequestContext;
    const refused = await selectBlock(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown> | undefined, context);
    return refused ?? execute(args);
  })().catch(internalError);
  let written = false;
  const iterator: AsyncIterableIterator<never> = {
    async next() {
      if (!written) {
        written = true;
        await sink(await result);
      }
      return { done: true, value: undefined };
    },
    async return() {
      written = true;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

type Upgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Upgrades taken in turns of the event loop: at most `perTurn` handshakes per turn, the rest
 * in arrival order on the next turns (their sockets unread meanwhile: the kernel holds what
 * the clients send). Between turns the loop runs timers and the messages of connections
 * already open, so a reconnect storm neither starves them nor trips graphql-ws's 3 s
 * `connection_init` timer of connections it has just opened. A socket that closed while
 * waiting is skipped.
 */
export class UpgradeTurns {
  private readonly waiting: [http.IncomingMessage, Duplex, Buffer][] = [];
  private head = 0;
  private taken = 0;
  private scheduled = false;

  constructor(
    private readonly perTurn: number,
    private readonly upgrade: Upgrade,
  ) {}

  add(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    // An upgrade's socket has no error listener of Node's any more: one while it waits.
    socket.on('error', destroyOnError);
    this.waiting.push([request, socket, head]);
    this.take();
  }

  private take(): void {
    while (this.taken < this.perTurn && this.head < this.waiting.length) {
      const [request, socket, head] = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as never;
      socket.off('error', destroyOnError);
      if (socket.destroyed) continue;
      this.taken++;
      this.upgrade(request, socket, head);
    }
    if (this.head === this.waiting.length) this.waiting.length = this.head = 0;
    if (!this.scheduled && (this.taken > 0 || this.head < this.waiting.length)) {
      // The next turn starts a new count (and takes whoever waits).
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.taken = 0;
        this.take();
      });
    }
  }
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** How a client is named in the log: an address, or which key (never the key itself). */
function clientLabel(principal: Principal): string {
  return principal.key === null ? principal.client : 'an API key';
}

/** A thrown error as an operation's result: masked by onNext, and logged there. */
function internalError(error: unknown): ExecutionResult {
  return { errors: [new GraphQLError(error instanceof Error ? error.message : String(error), { originalError: error instanceof Error ? error : null })] };
}

/** Parse and validation errors get the codes Apollo gives them over HTTP; no `http` extension goes to a WebSocket client. */
function forWebSocket(error: GraphQLError): GraphQLError {
  const { http: _http, ...extensions } = error.extensions ?? {};
  if (_http === undefined) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    originalError: error.originalError ?? null,
    extensions,
  });
}
