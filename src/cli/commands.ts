import { defaultText, variables, type Config } from '../config/index.js';
import type { Logger } from '../log/index.js';

export interface CommandContext {
  config: Config;
  logger: Logger;
}

interface Command {
  summary: string;
  /** Needs PTS_RPC_URL and PTS_VENUE_ADDRESSES: checked before anything starts. */
  needsChain?: boolean;
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
    needsChain: true,
    run: async (context) => (await import('./start.js')).start(context, { ingest: true, serve: true }),
  },
  serve: {
    summary: 'the GraphQL API only (HTTP and WebSocket on PORT, path /graphql)',
    run: async (context) => (await import('./start.js')).start(context, { ingest: false, serve: true }),
  },
  ingest: {
    summary: 'the ingester only',
    needsChain: true,
    run: async (context) => (await import('./start.js')).start(context, { ingest: true, serve: false }),
  },
  migrate: {
    summary: 'apply pending database migrations and exit',
    run: async (context) => (await import('./migrate.js')).migrateCommand(context),
  },
};

/** The command named `name`, if there is one (not an Object.prototype member). */
export function findCommand(name: string): Command | undefined {
  return Object.hasOwn(commands, name) ? commands[name] : undefined;
}

/** `pts help`: the commands, then every variable with its default and meaning. */
export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  pts ${name.padEnd(8)} ${c.summary}`);
  const width = Math.max(...variables.map((v) => v.name.length));
  const vars = variables.map((v) => `  ${v.name.padEnd(width)}  ${v.description} [default: ${defaultText(v)}]`);
  return (
    `usage: pts <command>\n\n${lines.join('\n')}\n\n` +
    `Configuration is by environment variables only (README.md, "Configuration"):\n\n${vars.join('\n')}\n`
  );
}
