/**
 * Whether a pg error says the database could not be reached or dropped the connection (an
 * outage to wait out), rather than that a statement failed.
 *
 * - a socket error (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, ...);
 * - SQLSTATE class 08 (connection exception), 57P01-57P03 (the server shutting down,
 *   crashed, or still starting up);
 * - pg's own messages for a connection that ended or never came: "Connection terminated
 *   unexpectedly", "... is not queryable", "timeout exceeded when trying to connect";
 * - a database that refuses connections for maintenance (ALLOW_CONNECTIONS false): its
 *   SQLSTATE (55000) is too general to go by, so its message.
 */
export function isConnectionError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && /^(E[A-Z]+|08...|57P0[123])$/.test(code)) return true;
  return typeof message === 'string' && /Connection terminated|not queryable|timeout exceeded when trying to connect|not currently accepting connections/i.test(message);
}
