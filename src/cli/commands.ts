import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';

export interface CommandContext {
  config: Config;
  logger: Logger;
  args: string[];
}

interface Command {
  summary: string;
  run(context: CommandContext): Promise<void>;
}

/** The pts commands (SPEC section 6); each module is loaded only when its command runs. */
export const commands: Record<string, Command> = {
  dev: {
    summary: 'embedded PostgreSQL, a local devnet with the demo venue and traders, ingester and API: no setup',
    run: async (context) => (await import('./dev.js')).dev(context),
  },
  start: {
    summary: 'ingester and API for the chain in PTS_RPC_URL / PTS_VENUE_ADDRESSES',
    run: async (context) => (await import('./start.js')).start(context, { ingest: true, serve: true }),
  },
  serve: {
    summary: 'the GraphQL API only (HTTP and WebSocket on PORT, path /graphql)',
    run: async (context) => (await import('./start.js')).start(context, { ingest: false, serve: true }),
  },
  ingest: {
    summary: 'the ingester only',
    run: async (context) => (await import('./start.js')).start(context, { ingest: true, serve: false }),
  },
  migrate: {
    summary: 'apply pending database migrations and exit',
    run: async (context) => (await import('./migrate.js')).migrateCommand(context),
  },
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  pts ${name.padEnd(8)} ${c.summary}`);
  return `usage: pts <command>\n\n${lines.join('\n')}\n\nConfiguration is by environment variables; see README.md.\n`;
}
