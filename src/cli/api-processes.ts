import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log/index.js';

/** The message the primary sends an API process to make it drain and exit, as SIGTERM would. */
const SHUTDOWN = 'pts:shutdown';

export interface ApiProcesses {
  /** Drains every API process and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * PTS_API_PROCESSES > 1: the API runs in that many processes sharing PORT (node:cluster:
 * the primary accepts connections and hands them out in turn), so it can use every core;
 * each process has its own read pool, block cache and LISTEN feed (subscriptions reach
 * every process through PostgreSQL, as behind a load balancer). The primary serves
 * nothing itself (it holds the port); `pts start` runs the ingester there. An API process
 * that dies (rather than draining) is replaced a second later. `env` is added to their
 * environment.
 */
export function startApiProcesses(count: number, logger: Logger, env: Record<string, string> = {}): ApiProcesses {
  let stopping = false;
  const restarts = new Set<NodeJS.Timeout>();
  const fork = (): Worker => {
    const worker = cluster.fork(env);
    worker.once('exit', (code, signal) => {
      // A process that drained and disconnected was stopped on purpose (a terminal's SIGINT reaches it too).
      if (stopping || worker.exitedAfterDisconnect) return;
      logger.error('an API process exited; starting another', { pid: worker.process.pid, code, signal });
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (!stopping) fork();
      }, 1000);
      restarts.add(timer);
    });
    return worker;
  };
  for (let i = 0; i < count; i++) fork();
  logger.info('API processes starting', { processes: count });
  return {
    async stop() {
      stopping = true;
      for (const timer of restarts) clearTimeout(timer);
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      await Promise.all(
        workers.map((worker) => new Promise<void>((resolve) => {
          worker.once('exit', () => resolve());
          // A message rather than a signal: one that already got the terminal's SIGINT is draining, and a second signal would cut that short.
          if (worker.isConnected()) worker.send(SHUTDOWN);
          else worker.process.kill('SIGTERM');
        })),
      );
    },
  };
}

/** In an API process: resolves when the primary asks it to shut down. */
export function untilPrimaryAsks(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (message !== SHUTDOWN) return;
      logger.info('shutting down', { reason: 'asked by the primary process' });
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
  });
}
