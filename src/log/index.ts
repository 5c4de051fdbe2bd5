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

export function createLogger(format: 'json' | 'pretty', base: Fields = {}, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): Logger {
  return logger(format, base, stream, { line: undefined });
}

/**
 * The status line on screen, if any: one per stream, shared by a root logger and all its
 * children, since the bar drawn by the ingester's logger must be cleared by the demo's.
 */
interface Status {
  line: string | undefined;
}

function logger(format: 'json' | 'pretty', base: Fields, stream: NodeJS.WritableStream & { isTTY?: boolean }, status: Status): Logger {
  const write = (level: string, message: string, fields: Fields = {}) => {
    if (format === 'json') {
      stream.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields }, jsonSafe) + '\n');
      return;
    }
    const extra = Object.entries({ ...base, ...fields }).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)}`);
    const line = `${level === 'info' ? '' : `${level.toUpperCase()} `}${message}${extra.length ? ` ${extra.join(' ')}` : ''}\n`;
    // One write: the bar cleared, the line, the bar drawn again below it.
    stream.write(status.line === undefined ? line : `${CLEAR_LINE}${line}${status.line}`);
  };
  return {
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    progress: (line, fields) => {
      if (format === 'json' || !stream.isTTY) return write('info', 'progress', fields);
      // The last bar is erased when the process exits, so that the shell's prompt starts on a clean line.
      if (status.line === undefined) process.once('exit', () => status.line !== undefined && stream.write(CLEAR_LINE));
      stream.write(`${CLEAR_LINE}${line}`);
      status.line = line;
    },
    child: (fields) => logger(format, { ...base, ...fields }, stream, status),
  };
}

/** Carriage return, then erase the line: the cursor is back at its start. */
const CLEAR_LINE = '\r\x1b[2K';

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
