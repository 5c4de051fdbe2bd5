import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { commands, usage } from './commands.js';

const [name = 'help', ...args] = process.argv.slice(2);
const command = commands[name];
if (!command) {
  process.stderr.write(usage());
  process.exit(name === 'help' || name === '--help' || name === '-h' ? 0 : 2);
}

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`pts: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
const logger = createLogger(config.logFormat, { process: `pts ${name}` });

try {
  await command.run({ config, logger, args });
} catch (error) {
  logger.error(error instanceof Error ? error.message : String(error), error instanceof ConfigError ? {} : { stack: (error as Error)?.stack });
  process.exit(1);
}
