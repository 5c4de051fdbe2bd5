// The one place that builds pg connection pools and the Prisma driver adapter.
//
// Every pool in the project comes from createPool so that all of them agree on:
// - exact numbers: NUMERIC (OID 1700) and INT8 (OID 20), and their arrays, are returned
//   as strings, never JS numbers (node-postgres already does this by default; it is
//   pinned here per pool so no global pg.types.setTypeParser elsewhere can change it);
// - a bounded pool size, a connect timeout and an application_name (visible in
//   pg_stat_activity);
// - the `name` column shim below, which the Prisma CLI needs.
// Prisma Client queries are unaffected by the type parsers: PrismaPg passes its own
// parsers with every query.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';

/** PostgreSQL type OIDs used here. */
export const PgOid = {
  INT8: 20,
  NAME: 19,
  TEXT: 25,
  NUMERIC: 1700,
  TEXT_ARRAY: 1009,
  INT8_ARRAY: 1016,
  NUMERIC_ARRAY: 1231,
} as const;

const identity = (value: string): string => value;
// (node-postgres's own default for NUMERIC[] is an array of floats.)
const parseStringArray = pg.types.getTypeParser(PgOid.TEXT_ARRAY as unknown as 25, 'text');

/** Type parsers of every pool: exact values as strings, the rest as node-postgres does. */
export const exactTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (oid === PgOid.NUMERIC || oid === PgOid.INT8) return identity;
      if (oid === PgOid.NUMERIC_ARRAY || oid === PgOid.INT8_ARRAY) return parseStringArray;
    }
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

// ---------------------------------------------------------------------------------------
// Shim for prisma/orm#27403: Prisma's migrate engine, running through the pg driver
// adapter (`prisma migrate deploy`/`status` with prisma.config.ts), reads catalog columns
// of type `name` (OID 19) and fails with "Column type 'name' could not be deserialized".
// A `name` is just a string, so results report such columns as `text` (OID 25). The
// rewrite sits in Client.query so that it covers pool.query, pooled clients and the
// clients PrismaPg checks out for transactions alike. Row values are untouched (pg
// returns `name` values as strings already). Remove once the upstream issue is fixed.
type Fields = { dataTypeID: number }[];
function nameColumnsAsText<T>(result: T): T {
  const results = Array.isArray(result) ? result : [result];
  for (const r of results as { fields?: Fields }[]) {
    for (const field of r?.fields ?? []) {
      if (field.dataTypeID === PgOid.NAME) field.dataTypeID = PgOid.TEXT;
    }
  }
  return result;
}

class NameAsTextClient extends pg.Client {
  // One override for all of pg's query() overloads: callbacks, promises, submittables.
  override query(...args: any[]): any {
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as (err: Error | null, res?: unknown) => void;
      args[last] = (err: Error | null, res?: unknown) => callback(err, err ? res : nameColumnsAsText(res));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const returned = (super.query as (...a: unknown[]) => unknown)(...args);
    if (returned instanceof Promise) return returned.then(nameColumnsAsText);
    return returned; // a Submittable (cursor, stream): handled by its owner
  }
}
// ---------------------------------------------------------------------------------------

export interface PoolOptions {
  /** Maximum connections (default 10). */
  max?: number;
  /** application_name reported to the server (default "pts"). */
  applicationName?: string;
  /** Milliseconds to wait for a connection before failing (default 10 s). */
  connectionTimeoutMillis?: number;
  /** Milliseconds an idle connection is kept (default 10 s). */
  idleTimeoutMillis?: number;
  /** Let the process exit while connections are idle (default false). */
  allowExitOnIdle?: boolean;
}

/**
 * The project's pg pool: a pg.Pool whose connections apply the settings above, and which
 * outlives the server dropping them (a restart, a terminated backend). An idle one: the
 * pool discards it and the next checkout reconnects. One checked out: pg emits 'error'
 * on it, which with no listener would crash the process; its holder learns from the
 * statement that fails instead, and the pool discards it on release.
 */
export class PtsPool extends pg.Pool {
  constructor(config: pg.PoolConfig) {
    super({ ...config, Client: NameAsTextClient as unknown as new () => pg.ClientBase });
    this.on('error', () => undefined);
    this.on('connect', (client) => client.on('error', () => undefined));
  }
}

export function createPool(url: string, options: PoolOptions = {}): PtsPool {
  const pool = new PtsPool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'pts',
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
    idleTimeoutMillis: options.idleTimeoutMillis ?? 10_000,
    allowExitOnIdle: options.allowExitOnIdle ?? false,
    types: exactTypes,
  });
  return pool;
}

/**
 * The Prisma driver adapter over a fresh pool of its own (used by prisma.config.ts for
 * the Prisma CLI); the pool ends when Prisma disposes the adapter.
 */
export function createAdapter(url: string, options: PoolOptions = {}): PrismaPg {
  // allowExitOnIdle: the Prisma CLI does not end the pool when it is done, and idle
  // connections would otherwise hold its process open for idleTimeoutMillis.
  const pool = createPool(url, { applicationName: 'pts-prisma', allowExitOnIdle: true, ...options });
  return new PrismaPg(pool, {
    disposeExternalPool: true,
  });
}
