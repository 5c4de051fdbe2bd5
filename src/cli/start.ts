import { databaseConfigFromEnv, openDatabase } from '../db/database.js';
import { runIngester } from './ingester.js';
import type { CommandContext } from './commands.js';
import { untilSignal } from './signals.js';

/** `pts start`, `pts ingest` and `pts serve`: the ingester and/or the API, until SIGINT/SIGTERM. */
export async function start({ config, logger }: CommandContext, parts: { ingest: boolean; serve: boolean }): Promise<void> {
  const database = await openDatabase({ ...databaseConfigFromEnv(), pool: { max: 20, applicationName: 'pts' } });
  const stops: (() => Promise<void>)[] = [];
  let failure: Promise<never> = new Promise(() => undefined);
  try {
    if (parts.serve) {
      const { startServer } = await import('../graphql/server.js');
      const server = await startServer({ config, database, logger: logger.child({ component: 'api' }) });
      stops.push(() => server.stop());
      logger.info('GraphQL API ready', { url: server.url });
    }
    if (parts.ingest) {
      const ingester = runIngester(config, database.pool, logger);
      failure = ingester.failure;
      stops.unshift(() => ingester.stop());
    }
    await Promise.race([untilSignal(logger), failure]);
  } finally {
    for (const stop of stops) await stop().catch((error) => logger.error('shutdown step failed', { error }));
    await database.close();
  }
}
