// A Logger that keeps every line, for tests that check what a component said.
import type { Logger } from '../../src/log/index.js';

export interface LoggedLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

export function capturingLogger(): Logger & { lines: LoggedLine[]; messages(level?: LoggedLine['level']): string[] } {
  const lines: LoggedLine[] = [];
  const log = (level: LoggedLine['level']) => (message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields });
  const logger = {
    lines,
    messages: (level?: LoggedLine['level']) => lines.filter((l) => level === undefined || l.level === level).map((l) => l.message),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    progress: () => undefined,
    child: () => logger,
  };
  return logger;
}
