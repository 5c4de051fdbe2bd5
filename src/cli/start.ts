import cluster from 'node:cluster';
import { openDatabase } from '../db/database.js';
import { startApiProcesses, untilPrimaryAsks } from './api-processes.js';
import { runIngester } from './ingester.js';
import type { CommandContext } from './commands.js';
import { untilSignal } from './signals.js';

/**
 * `pts start`, `pts ingest` and `pts serve`: the ingester and/or the API, until SIGINT/SIGTERM.
 * With PTS_API_PROCESSES > 1 the API runs in that many child processes (api-processes.ts),
 * which run this same command as API-only processes.
 */
export async function start({ config, logger }: CommandContext, parts: { ingest: boolean; serve: boolean }): Promise<void> {
  const apiProcess = cluster.isWorker;
  if (apiProcess) {
    parts = { ingest: false, serve: true };
    logger = logger.child({ apiProcess: cluster.worker!.id });
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pool: { max: 20, applicationName: 'pts' } });
  const stops: (() => Promise<void>)[] = [];
  let failure: Promise<never> = new Promise(() => undefined);
  try {
    if (parts.serve && !apiProcess && config.apiProcesses > 1) {
      // The primary's database: an embedded server belongs to this process alone, the API processes use its URL.
      const processes = startApiProcesses(config.apiProcesses, logger, { DATABASE_URL: database.url });
      stops.push(() => processes.stop());
    } else if (parts.serve) {
      const { startServer } = await import('../graphql/server.js');
      const server = await startServer({ config, database, logger: logger.child({ component: 'api' }) });
      stops.push(() => server.stop());
      logger.info('GraphQL API ready', { url: server.url, access: config.apiKeys.length > 0 ? 'API keys' : 'open (PTS_API_KEYS unset)' });
    }
    if (parts.ingest) {
      const ingester = runIngester(config, database.pool, logger);
      failure = ingester.failure;
      stops.unshift(() => ingester.stop());
    }
    await Promise.race([untilSignal(logger), failure, ...(apiProcess ? [untilPrimaryAsks(logger)] : [])]);
  } finally {
    for (const stop of stops) await stop().catch((error) => logger.error('shutdown step failed', { error }));
    await database.close();
    // The channel to the primary would keep an API process alive.
    if (apiProcess) cluster.worker!.disconnect();
  }
}
