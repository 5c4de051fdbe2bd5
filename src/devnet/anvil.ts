// Starts a local anvil node (the binary shipped by npm `@foundry-rs/anvil`) for the
// devnet, the demo and the integration tests.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { diesWithThisProcess } from '../process/dies-with-this-process.js';
import { onProcessEnd } from '../process/on-process-end.js';

export interface AnvilOptions {
  /** Default: a free port chosen by the OS. */
  port?: number;
  /** Seconds between blocks; default: none (automine, one block per transaction). */
  blockTime?: number;
  /** Default 31337 (anvil's own default). */
  chainId?: number;
  /** Default true: anvil's banner and per-request logs are noise in tests. */
  silent?: boolean;
  /** A file to load the chain from on start and dump it to on stop (anvil --state): a restart keeps the chain. */
  state?: string;
}

export interface Anvil {
  rpcUrl: string;
  wsUrl: string;
  port: number;
  /** The anvil process (setpriv execs it, so it is the pid that was spawned). */
  pid: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 20_000;

/**
 * The platform binary itself, not the package's bin.mjs wrapper: spawning the
 * wrapper adds a node process (~50 ms) and a second pid between us and anvil.
 */
export function anvilBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  try {
    const path = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/${exe}`);
    if (existsSync(path)) return path;
  } catch {
    // fall through
  }
  throw new Error(`no anvil binary for ${process.platform}-${process.arch}: is @foundry-rs/anvil installed?`);
}

export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  // A port picked by us can be taken before anvil binds it; retry only in that case.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(port, options);
    } catch (error) {
      if (options.port !== undefined || attempt >= 3) throw error;
    }
  }
}

async function launch(port: number, options: AnvilOptions): Promise<Anvil> {
  // If the port is taken, the node already there would answer our readiness poll
  // before our anvil dies of EADDRINUSE: check first.
  await assertPortFree(port);
  const chainId = options.chainId ?? 31337;
  const silent = options.silent ?? true;
  const args = ['--host', HOST, '--port', String(port), '--chain-id', String(chainId)];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  if (silent) args.push('--silent');
  if (options.state !== undefined) args.push('--state', options.state);

  const { command, args: commandArgs, tied } = diesWithThisProcess(anvilBinaryPath(), args);
  // Tied to this process, anvil gets a process group of its own: Ctrl-C in a terminal
  // signals the whole foreground group, and anvil must stay up while `pts dev` shuts
  // down in order (the demo's transactions in flight wait for their receipts). Untied, it
  // stays in ours so that Ctrl-C cannot leave it behind.
  const child = spawn(command, commandArgs, { stdio: ['ignore', silent ? 'ignore' : 'inherit', 'pipe'], detached: tied });
  // Never leave an anvil behind (SIGKILL: nothing to flush when the process itself ends).
  const untrack = onProcessEnd(() => child.kill('SIGKILL'));
  // Keep the tail of stderr for the error message if anvil dies during startup.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    if (!silent) process.stderr.write(chunk);
  });
  // 'error' (e.g. the binary cannot be executed) may come without 'exit'; without a
  // listener it would also crash the process.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      stderr += `\n${error.message}`;
      resolve();
    });
  });
  let dead = false;
  void exited.then(() => (dead = true));

  const rpcUrl = `http://${HOST}:${port}`;
  const stop = async (): Promise<void> => {
    if (!dead) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    untrack();
  };

  try {
    await waitForRpc(rpcUrl, chainId, () => dead, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { rpcUrl, wsUrl: `ws://${HOST}:${port}`, port, pid: child.pid!, stop };
}

/** Polls eth_chainId until anvil answers with the expected chain id. */
async function waitForRpc(rpcUrl: string, chainId: number, dead: () => boolean, stderr: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (dead()) throw new Error(`anvil exited during startup: ${stderr()}`);
    try {
      const response = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      const body = (await response.json()) as { result?: string };
      if (body.result !== undefined && Number(body.result) === chainId) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`anvil did not answer on ${rpcUrl} within ${STARTUP_TIMEOUT_MS} ms: ${stderr()}`);
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error) => reject(new Error(`cannot start anvil on ${HOST}:${port}: ${error.message}`)));
    server.listen(port, HOST, () => server.close(() => resolve()));
  });
}

/** Asks the OS for a free TCP port by binding port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
