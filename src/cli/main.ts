import cluster from 'node:cluster';
import { ConfigError, loadConfig, requireChain, unknownVariableWarnings } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { findCommand, usage } from './commands.js';

/** Exit codes: 2 for what the user must fix before anything runs (and refusals such as a data folder in use), 1 for a failure while running. */
const fail = (message: string, code = 2): never => {
  process.stderr.write(`pts: ${message}\n`);
  process.exit(code);
};

const [name = 'help', ...args] = process.argv.slice(2);
if (['help', '--help', '-h'].includes(name)) {
  process.stdout.write(usage());
  process.exit(0);
}
const command = findCommand(name);
if (!command) fail(`unknown command: ${name}\n\n${usage()}`);
if (args.length > 0) fail(`pts ${name} takes no arguments (got ${args.join(' ')}): configuration is by environment variables, listed by pts help`);

// Every variable is checked before anything starts: no database or API is started for a
// command that cannot run.
let config;
try {
  config = loadConfig(process.env, name);
  if (command!.needsChain) requireChain(config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}
const logger = createLogger(config!.logFormat, { process: `pts ${name}` });
// API processes (PTS_API_PROCESSES) share the primary's environment, which has warned already.
if (!cluster.isWorker) for (const warning of unknownVariableWarnings(process.env)) logger.warn(warning);

try {
  await command!.run({ config: config!, logger });
} catch (error) {
  // An error with an exit code is a refusal its message explains (a data folder in use); anything else gets its stack.
  const exitCode = (error as { exitCode?: unknown })?.exitCode;
  const expected = typeof exitCode === 'number';
  logger.error(error instanceof Error ? error.message : String(error), expected ? {} : { stack: (error as Error)?.stack });
  process.exit(expected ? exitCode : 1);
}
