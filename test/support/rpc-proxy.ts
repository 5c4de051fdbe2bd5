// An HTTP JSON-RPC proxy in front of a node (anvil) whose answers a test controls, to
// force races deterministically: hold a call until the test lets it go, answer in the
// node's place (a stale eth_blockNumber), alter an answer, or wait until a call was
// answered. A batch is split into its calls, each going through the hooks on its own.
//
//   const proxy = await startRpcProxy(net.anvil.rpcUrl);
//   const release = gate();
//   proxy.use((call, forward) => (blockArg(call) > 20 ? release.promise.then(forward) : undefined));
//   net.follow({ rpcUrls: [proxy.url] });
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcCall {
  method: string;
  params: unknown[];
}

export interface RpcAnswer {
  result?: unknown;
  error?: { code: number; message: string };
}

/**
 * Sees each call before the node does. Returns (or resolves to) undefined to pass the call
 * on, maybe after acting on the node (then it must not have called `forward`), or the
 * answer to give: `forward()` (the next hook's, finally the node's), awaited after a hold
 * or changed, or one of its own.
 */
export type RpcHook = (call: RpcCall, forward: () => Promise<RpcAnswer>) => RpcAnswer | undefined | Promise<RpcAnswer | undefined>;

export interface RpcProxy {
  url: string;
  /** Adds a hook after the others; the function returned removes it. */
  use(hook: RpcHook): () => void;
  /** Called with every call and the answer it got, as it is sent; the function returned stops it. */
  watch(watcher: (call: RpcCall, answer: RpcAnswer) => void): () => void;
  /** Resolves with the first call answered from now on for which `match` holds. */
  answered(match: (call: RpcCall, answer: RpcAnswer) => boolean): Promise<RpcCall>;
  close(): Promise<void>;
}

/** The block number a call names as its first parameter (eth_getBlockByNumber), or NaN. */
export function blockArg(call: RpcCall): number {
  const first = call.params[0];
  return typeof first === 'string' && first.startsWith('0x') ? Number(first) : NaN;
}

/** eth_getLogs' [fromBlock, toBlock] when asked by range, else null. */
export function logRange(call: RpcCall): [number, number] | null {
  const filter = call.params[0] as { fromBlock?: string; toBlock?: string } | undefined;
  if (call.method !== 'eth_getLogs' || !filter?.fromBlock || !filter.toBlock) return null;
  return [Number(filter.fromBlock), Number(filter.toBlock)];
}

/** A promise the test resolves when it decides (`open()`), e.g. to hold calls until then. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** One call to the node at `url` (a hook may send a call to another node: a load balancer's). */
export async function askNode(url: string, call: RpcCall): Promise<RpcAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: call.method, params: call.params }),
  });
  const { result, error } = (await response.json()) as RpcAnswer;
  return error ? { error } : { result };
}

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const hooks: RpcHook[] = [];
  const watchers = new Set<(call: RpcCall, answer: RpcAnswer) => void>();
  const through = (call: RpcCall): Promise<RpcAnswer> => {
    // Hooks added or removed meanwhile apply to the calls after; this one keeps its chain.
    const chain = hooks.slice();
    const run = async (i: number): Promise<RpcAnswer> => {
      if (i === chain.length) return askNode(target, call);
      return (await chain[i]!(call, () => run(i + 1))) ?? run(i + 1);
    };
    return run(0);
  };
  const answer = async (request: { id?: unknown; method: string; params?: unknown[] }) => {
    const call: RpcCall = { method: request.method, params: request.params ?? [] };
    let reply: RpcAnswer;
    try {
      reply = await through(call);
    } catch (error) {
      reply = { error: { code: -32603, message: `proxy: ${(error as Error).message}` } };
    }
    for (const watcher of watchers) watcher(call, reply);
    return { jsonrpc: '2.0', id: request.id ?? null, ...reply };
  };

  const server = createServer((req, res) => {
    void (async () => {
      try {
        const body = JSON.parse(await text(req));
        const reply = Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      } catch (error) {
        // The client went away (close() while a call was held) or sent no JSON.
        if (!res.headersSent && !res.destroyed) res.writeHead(500).end(String(error));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    use(hook) {
      hooks.push(hook);
      return () => {
        const i = hooks.indexOf(hook);
        if (i >= 0) hooks.splice(i, 1);
      };
    },
    watch(watcher) {
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    answered(match) {
      return new Promise((resolve) => {
        const watcher = (call: RpcCall, reply: RpcAnswer) => {
          if (!match(call, reply)) return;
          watchers.delete(watcher);
          resolve(call);
        };
        watchers.add(watcher);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function text(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}
