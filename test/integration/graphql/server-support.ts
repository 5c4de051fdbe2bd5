// Helpers of the server*.test.ts and subscriptions*.test.ts files: a real API server on a
// free port over a test database, HTTP requests, and graphql-ws clients.
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../../src/config/index.js';
import { startServer, type PtsServer, type StartServerOptions } from '../../../src/graphql/server.js';
import type pg from 'pg';
import { LedgerStore } from '../../../src/db/store/ledger-store.js';
import { createLogger, silentLogger, type Logger } from '../../../src/log/index.js';
import { ALICE, BOB, CAROL, ev, LedgerChain } from '../../support/ledger.js';

/** PTS_DEBUG=1 shows what the server logs. */
export const testLogger: Logger = process.env.PTS_DEBUG ? createLogger('pretty') : silentLogger;

/**
 * A small ledger: block 1 lists ETH-PERP and prices ETH at 3000, deposits for Alice, Bob
 * and Carol; block 2 Alice shorts 3 at 3000, Bob buys 2, Carol buys 1; block 3 ETH to
 * 3100; block 4 Carol deposits more; block 5 is empty.
 */
export function ledger(): LedgerChain {
  const chain = new LedgerChain({ oracleStalenessSeconds: 3600, riskFreeRate: 0n });
  chain.block(1000, [ev.perp('ETH-PERP', 'ETH'), ev.price('ETH', 3000), ev.deposit(ALICE, 1000), ev.deposit(BOB, 10000), ev.deposit(CAROL, 1000)]);
  chain.block(1010, [ev.fill('ETH-PERP', ALICE, -3, 3000), ev.fill('ETH-PERP', BOB, 2, 3000), ev.fill('ETH-PERP', CAROL, 1, 3000)]);
  chain.block(1020, [ev.price('ETH', 3100)]);
  chain.block(1030, [ev.deposit(CAROL, 5)]);
  chain.block(1040, []);
  return chain;
}

/** Commits `chain`'s blocks (from the `from`th on) as the ingester would (one transaction, a notification). */
export async function commitLedger(pool: pg.Pool, chain: LedgerChain, options: { head?: number; chainId?: number; from?: number } = {}): Promise<void> {
  // `from`: the first block (0-based index into its history) not committed yet.
  const batch = chain.history.slice(options.from ?? 0);
  await new LedgerStore(pool).commit({
    chainId: options.chainId ?? 31337,
    headBlockNumber: options.head ?? batch.at(-1)!.block.number,
    batch,
    undo: new Map(),
  });
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), logFormat: 'json', ...overrides };
}

export async function startTestServer(
  url: string,
  overrides: Partial<Config> = {},
  options: Partial<Omit<StartServerOptions, 'config' | 'database'>> = {},
): Promise<PtsServer> {
  return startServer({ config: testConfig(overrides), database: { url }, logger: testLogger, port: 0, host: '127.0.0.1', ...options });
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** POSTs one operation; `init` may replace the body or add headers. */
export async function post<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: (await parse(response)) as T };
}

export async function raw(url: string, init: RequestInit): Promise<HttpResult> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await parse(response) };
}

async function parse(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The data of a successful HTTP query; throws with the errors otherwise. */
export async function data<T = any>(url: string, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<T> {
  const result = await post(url, query, variables, headers);
  if (result.status !== 200 || result.body.errors) throw new Error(`HTTP ${result.status}: ${JSON.stringify(result.body)}`);
  return result.body.data as T;
}

export function wsUrl(url: string): string {
  return url.replace(/^http/, 'ws');
}

/** A WebSocket close as the client saw it. */
export interface Close {
  code: number;
  reason: string;
}

export interface WsClient {
  client: Client;
  /** Close events of the underlying socket. */
  closes: Close[];
  dispose(): Promise<void>;
}

export function wsClient(url: string, connectionParams?: Record<string, unknown>): WsClient {
  const closes: Close[] = [];
  const client = createClient({
    url: wsUrl(url),
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: { closed: (event) => closes.push({ code: (event as Close).code, reason: String((event as Close).reason) }) },
  });
  return { client, closes, dispose: async () => client.dispose() };
}

/** A subscription's results as they arrive, with helpers to wait for them. */
export class Collected<T = any> {
  readonly results: FormattedExecutionResult<T, unknown>[] = [];
  error: unknown = undefined;
  completed = false;
  private waiters: (() => void)[] = [];
  readonly unsubscribe: () => void;

  constructor(client: Client, query: string, variables?: Record<string, unknown>) {
    this.unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          this.results.push(result);
          this.wake();
        },
        error: (error) => {
          this.error = error;
          this.wake();
        },
        complete: () => {
          this.completed = true;
          this.wake();
        },
      },
    );
  }

  get data(): T[] {
    return this.results.map((r) => {
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return r.data as T;
    });
  }

  /** Resolves once `predicate` holds (checked on every event), or rejects after `timeoutMs`. */
  async until(predicate: (self: this) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (this.error !== undefined && !predicate(this)) throw new Error(`subscription failed: ${describe(this.error)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.results)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'code' in error) return `close ${(error as Close).code} ${(error as Close).reason}`;
  return JSON.stringify(error);
}

/** A logger that keeps what it is given (error masking tests). */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
