import { openDatabase } from '../db/database.js';
import type { CommandContext } from './commands.js';

/** `pts migrate`: opening the database applies pending migrations (src/db/migrate.ts). */
export async function migrateCommand({ config, logger }: CommandContext): Promise<void> {
  const started = Date.now();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await database.close();
  logger.info('database migrated', { ms: Date.now() - started });
}
