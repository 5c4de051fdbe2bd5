/**
 * Structured logging: one JSON object per line (for log collectors), or readable lines
 * on a terminal. Progress goes through `progress`, which redraws one status line on a
 * terminal and is a normal (rate-limited by the caller) log line otherwise.
 */
export type Fields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  progress(line: string, fields: Fields): void;
  child(fields: Fields): Logger;
}

export function createLogger(format: 'json' | 'pretty', base: Fields = {}, stream: NodeJS.WriteStream = process.stderr): Logger {
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown) stream.write('\r\x1b[2K');
    statusShown = false;
  };
  const write = (level: string, message: string, fields: Fields = {}) => {
    if (format === 'json') {
      stream.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields }, jsonSafe) + '\n');
      return;
    }
    clearStatus();
    const extra = Object.entries({ ...base, ...fields }).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)}`);
    stream.write(`${level === 'info' ? '' : `${level.toUpperCase()} `}${message}${extra.length ? ` ${extra.join(' ')}` : ''}\n`);
  };
  return {
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    progress: (line, fields) => {
      if (format === 'json' || !stream.isTTY) return write('info', 'progress', fields);
      stream.write(`\r\x1b[2K${line}`);
      statusShown = true;
    },
    child: (fields) => createLogger(format, { ...base, ...fields }, stream),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  progress: () => undefined,
  child: () => silentLogger,
};

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value instanceof Error ? value.message : value;
}
