import { setTimeout as sleep } from 'node:timers/promises';
import { createPublicClient, http, webSocket, type PublicClient } from 'viem';
import type { BlockHeader } from '../ledger/index.js';
import type { Logger } from '../log/index.js';
import { OutageLog } from '../log/outage.js';
import type { RawLog } from './decode.js';
import { errorText } from './log-range.js';

/** What the ingester asks of the chain. Transient faults are retried inside; see `Rpc`. */
export interface ChainRpc {
  chainId(): Promise<number>;
  headNumber(): Promise<number>;
  /**
   * Headers of the blocks of [from, to] that exist, in order: all of them, or those before
   * the first block the node does not have (the chain is shorter than a head read earlier,
   * or has not grown that far yet). Never waits for a block to be mined.
   */
  headers(from: number, to: number): Promise<BlockHeader[]>;
  /** Venue logs of blocks [from, to]. Throws when the provider refuses the range. */
  logs(from: number, to: number, addresses: readonly string[], topics: readonly string[]): Promise<RawLog[]>;
  /** Venue logs of the blocks with these hashes (EIP-234): exactly theirs, or an error for a block the node does not know. */
  blockLogs(hashes: readonly string[], addresses: readonly string[], topics: readonly string[]): Promise<RawLog[]>;
  /** Calls `onHead` when a new head arrives over WebSocket (a wake-up hint only). */
  watchHeads(onHead: () => void): () => void;
  close(): Promise<void>;
}

export interface RpcOptions {
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Longest wait between retries (default 10 s). */
  maxBackoffMs?: number;
  /** Block headers per JSON-RPC batch (default 200). */
  batchSize?: number;
}

/**
 * viem refuses HTTP responses over 10 MB by default: about 6,000 venue logs, which a busy
 * venue emits in a few dozen blocks. The log span (log-range.ts) aims well below this;
 * the limit only bounds what one response may hold in memory.
 */
const MAX_RESPONSE_BYTES = 64 * 2 ** 20;

interface Endpoint {
  url: string;
  client: PublicClient;
}

/**
 * JSON-RPC over one or more endpoints (http(s) or ws(s)). A call that fails for reasons
 * of transport (refused, reset, timeout, HTTP 5xx or 429) moves to the next endpoint and
 * is retried with exponential backoff until it succeeds, with one log line when an
 * outage starts and one when it ends; a JSON-RPC error answer is the caller's to handle.
 */
export class Rpc implements ChainRpc {
  private readonly endpoints: Endpoint[];
  private readonly socket: Endpoint | undefined;
  private current = 0;
  private readonly outage: OutageLog;
  /** Aborted by close(): ends the backoff waits of calls retrying through an outage. */
  private readonly closing = new AbortController();

  constructor(
    urls: readonly string[],
    private readonly logger: Logger,
    private readonly options: RpcOptions = {},
  ) {
    if (urls.length === 0) throw new Error('no RPC URL given');
    this.outage = new OutageLog(logger, 'RPC');
    const timeout = options.timeoutMs ?? 30_000;
    const batchSize = options.batchSize ?? 200;
    const make = (url: string): Endpoint => ({
      url,
      client: createPublicClient({
        transport: /^wss?:/.test(url)
          ? webSocket(url, { retryCount: 0, timeout, keepAlive: true, reconnect: true })
          : http(url, { retryCount: 0, timeout, batch: { batchSize, wait: 0 }, maxResponseBodySize: MAX_RESPONSE_BYTES }),
      }) as PublicClient,
    });
    const all = urls.map(make);
    // Requests go to HTTP endpoints when there are any (they batch); WebSocket only wakes us.
    const plain = all.filter((e) => !/^wss?:/.test(e.url));
    this.endpoints = plain.length > 0 ? plain : all;
    this.socket = all.find((e) => /^wss?:/.test(e.url));
  }

  async chainId(): Promise<number> {
    return Number(await this.call('eth_chainId', (c) => c.request({ method: 'eth_chainId' })));
  }

  async headNumber(): Promise<number> {
    return Number(await this.call('eth_blockNumber', (c) => c.request({ method: 'eth_blockNumber' })));
  }

  async headers(from: number, to: number): Promise<BlockHeader[]> {
    const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    for (let attempt = 0; ; attempt++) {
      const blocks = await this.call(`eth_getBlockByNumber ${from}..${to}`, (client) =>
        Promise.all(numbers.map((n) => client.request({ method: 'eth_getBlockByNumber', params: [`0x${n.toString(16)}`, false] }))),
      );
      const missing = blocks.findIndex((block) => !block);
      // A node may lack a block its head says exists (one behind the others of a load
      // balancer): ask again, a few times. A head below it means the chain ends before it.
      if (missing >= 0 && attempt < MISSING_BLOCK_RETRIES && (await this.headNumber()) >= numbers[missing]!) {
        this.current += 1;
        await this.backoff(attempt);
        continue;
      }
      return (missing >= 0 ? blocks.slice(0, missing) : blocks).map((block) => ({
        number: Number(block!.number),
        hash: block!.hash!.toLowerCase(),
        parentHash: block!.parentHash.toLowerCase(),
        timestamp: Number(block!.timestamp),
      }));
    }
  }

  async logs(from: number, to: number, addresses: readonly string[], topics: readonly string[]): Promise<RawLog[]> {
    const logs = await this.call(`eth_getLogs ${from}..${to}`, (client) =>
      client.request({
        method: 'eth_getLogs',
        params: [{
          fromBlock: `0x${from.toString(16)}`,
          toBlock: `0x${to.toString(16)}`,
          address: addresses as `0x${string}`[],
          topics: [topics as `0x${string}`[]],
        }],
      }),
    );
    return logs.map(rawLog);
  }

  async blockLogs(hashes: readonly string[], addresses: readonly string[], topics: readonly string[]): Promise<RawLog[]> {
    // One request per block, batched like headers.
    const lists = await this.call(`eth_getLogs of ${hashes.length} blocks by hash`, (client) =>
      Promise.all(hashes.map((blockHash) =>
        client.request({
          method: 'eth_getLogs',
          params: [{ blockHash: blockHash as `0x${string}`, address: addresses as `0x${string}`[], topics: [topics as `0x${string}`[]] }],
        }),
      )),
    );
    return lists.flat().map(rawLog);
  }

  watchHeads(onHead: () => void): () => void {
    if (!this.socket) return () => undefined;
    // poll: false subscribes to newHeads (the client's transport is a WebSocket).
    const options = {
      poll: false,
      emitMissed: false,
      onBlockNumber: () => onHead(),
      // close() ends the socket too, which viem reports as an error ("socket has been closed"): not one then.
      onError: (error: Error) => this.closing.signal.aborted || this.logger.warn('newHeads subscription error; polling covers it', { error: errorText(error) }),
    } as unknown as Parameters<PublicClient['watchBlockNumber']>[0];
    return this.socket.client.watchBlockNumber(options);
  }

  /** Closes the connections; calls still retrying through an outage reject at once. */
  async close(): Promise<void> {
    this.closing.abort();
    for (const endpoint of [...this.endpoints, this.socket]) {
      const transport = endpoint?.client.transport as { getRpcClient?: () => Promise<{ close(): void }> } | undefined;
      if (transport?.getRpcClient) (await transport.getRpcClient().catch(() => null))?.close();
    }
  }

  private async call<T>(label: string, request: (client: PublicClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.closing.signal.aborted) throw new Error('RPC client closed');
      const endpoint = this.endpoints[this.current % this.endpoints.length]!;
      try {
        const result = await request(endpoint.client);
        this.outage.succeeded({ url: endpoint.url });
        return result;
      } catch (error) {
        if (this.closing.signal.aborted) throw new Error('RPC client closed');
        if (!isTransient(error)) throw error;
        this.outage.failed({ url: endpoint.url, request: label, error: errorText(error).slice(0, 300) });
        this.current += 1; // fail over to the next endpoint, if there is one
        await this.backoff(attempt);
      }
    }
  }

  /** Exponential backoff with jitter (100 ms doubling, at most `maxBackoffMs`); close() ends it. */
  private async backoff(attempt: number): Promise<void> {
    const backoff = Math.min(this.options.maxBackoffMs ?? 10_000, 100 * 2 ** Math.min(attempt, 10));
    await sleep(backoff * (0.5 + Math.random() / 2), undefined, { signal: this.closing.signal }).catch(() => undefined);
  }
}

/** Asks for a block the node lacks though its head says it exists, before answering that the chain ends there. */
const MISSING_BLOCK_RETRIES = 3;

interface RpcLog {
  address: string; topics: readonly string[]; data: string; blockNumber: bigint | string | null; blockHash: string | null;
  transactionHash: string | null; transactionIndex: bigint | string | number | null; logIndex: bigint | string | number | null;
}

function rawLog(log: RpcLog): RawLog {
  return {
    address: log.address,
    topics: log.topics,
    data: log.data,
    blockNumber: log.blockNumber === null ? null : Number(log.blockNumber),
    blockHash: log.blockHash?.toLowerCase() ?? null,
    transactionHash: log.transactionHash,
    transactionIndex: log.transactionIndex === null ? null : Number(log.transactionIndex),
    logIndex: log.logIndex === null ? null : Number(log.logIndex),
  };
}

/** Transport faults and rate limits are worth retrying; a JSON-RPC error answer is not. */
export function isTransient(error: unknown): boolean {
  const name = (error as { name?: string })?.name ?? '';
  const status = (error as { status?: number })?.status;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  if (/HttpRequestError|TimeoutError|SocketClosedError|WebSocketRequestError|LimitExceededRpcError/.test(name)) {
    return !/more than \d+ results|range|size/i.test(errorText(error));
  }
  const text = errorText(error);
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|fetch failed|socket hang up|network|closed|timed out/i.test(text);
}
