import type pg from 'pg';
import type { BlockChanges, BlockHeader, LedgerState, OracleSource } from '../../ledger/index.js';
import { emptyState } from '../../ledger/index.js';
import type { MarginState } from '../../ledger/index.js';
import { copyRows, deleteRows, deleteVersionsAbove, insertRows, type Queryable } from './bulk.js';
import { copyOut, fixedOfNumeric18 } from './copy-out.js';
import { keyOf, read, readerOf, recordOf, rowOf, type TableSpec } from './columns.js';
import * as tables from './tables.js';
import type { UndoEntry } from './undo.js';

/** The last committed block and the chain it belongs to. */
export interface Cursor {
  chainId: number;
  block: BlockHeader;
  headBlockNumber: number;
}

/** Channel that carries "blocks committed" notifications (payload: `BlocksCommitted`). */
export const BLOCKS_CHANNEL = 'pts_blocks';

export interface BlocksCommitted {
  first: number;
  last: number;
  hash: string;
  /** Hash of block `first - 1`, which the batch was committed on. */
  parentHash?: string;
  /**
   * Every account whose `account` or `position` rows the batch wrote; absent when the
   * list would not fit in a notification (`NOTIFY_PAYLOAD_BYTES`). An API process's block
   * cache keeps the rows of the other accounts across the batch (graphql/block-cache.ts).
   */
  accounts?: string[];
  /** Set on the first batch after a rollback. */
  reorg?: ReorgInfo;
}

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const NOTIFY_PAYLOAD_BYTES = 7999;

/** The notification of a committed batch: with the accounts it changed when they fit. */
export function blocksCommitted(batch: readonly BlockChanges[], reorg: ReorgInfo | undefined): BlocksCommitted {
  const first = batch[0]!.block;
  const last = batch.at(-1)!.block;
  const payload: BlocksCommitted = { first: first.number, last: last.number, hash: last.hash, parentHash: first.parentHash };
  if (reorg) payload.reorg = reorg;
  // Account ids are ASCII (`0x…:n`): each takes its length, two quotes and a comma.
  let bytes = Buffer.byteLength(JSON.stringify(payload)) + ',"accounts":[]'.length;
  const accounts = new Set<string>();
  const add = (id: string) => {
    if (accounts.has(id)) return;
    accounts.add(id);
    bytes += id.length + 3;
  };
  for (const changes of batch) {
    for (const account of changes.accounts) add(account.id);
    for (const position of changes.positions) add(position.accountId);
    if (bytes > NOTIFY_PAYLOAD_BYTES) return payload;
  }
  return { ...payload, accounts: [...accounts] };
}

export interface ReorgInfo {
  /** Blocks undone. */
  depth: number;
  /** The last block both branches share. */
  commonAncestor: number;
}

export class ReorgTooDeepError extends Error {
  constructor(readonly ancestor: number, readonly missing: number) {
    super(
      `cannot roll back to block ${ancestor}: block ${missing} has no undo log (it was committed as final ` +
        `or pruned); the reorg is deeper than the kept history (PTS_REORG_DEPTH)`,
    );
    this.name = 'ReorgTooDeepError';
  }
}

/**
 * The ledger's persistence: one transaction per batch of blocks, the undo log that makes
 * reorgs reversible, and the state the ingester resumes from. Writes go through pg with
 * column arrays (src/db/store/bulk.ts) rather than Prisma: a block of thousands of fills
 * is a handful of statements.
 */
export class LedgerStore {
  constructor(private readonly pool: pg.Pool) {}

  async cursor(client: Queryable = this.pool): Promise<Cursor | null> {
    const { rows } = await client.query(
      `SELECT c.chain_id, c.block_number, c.block_hash, c.block_timestamp, c.head_block_number, b.parent_hash
         FROM cursor c LEFT JOIN block b ON b.number = c.block_number WHERE c.id = 1`,
    );
    const row = rows[0];
    if (!row) return null;
    return {
      chainId: read.int(row.chain_id),
      block: {
        number: read.int(row.block_number),
        hash: row.block_hash,
        parentHash: row.parent_hash ?? '',
        timestamp: read.int(row.block_timestamp),
      },
      headBlockNumber: read.int(row.head_block_number),
    };
  }

  /** The ledger state as of the last committed block. */
  async loadState(): Promise<LedgerState> {
    // One snapshot for every table.
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
      // One client runs one statement at a time anyway; in sequence, inside one snapshot.
      const markets = await client.query('SELECT * FROM market');
      const underlyings = await client.query('SELECT * FROM underlying');
      const sources = await client.query('SELECT * FROM oracle_source');
      const cursor = await this.cursor(client);
      const state = emptyState();
      // Accounts and positions straight into the state's columns (copy-out.ts): a million
      // accounts' rows as result objects took most of a restart.
      const { rows: sizes } = await client.query(
        `SELECT relname, GREATEST(reltuples, 0)::int8 AS n FROM pg_class WHERE relname IN ('account', 'position') AND relkind = 'r'`,
      );
      const estimate = (table: string) => Number(sizes.find((r) => r.relname === table)?.n ?? 0);
      state.accounts.reserve(Math.ceil(estimate('account') * 1.05));
      state.positions.reserve(Math.ceil(estimate('position') * 1.05), Math.ceil(estimate('account') * 1.05));
      // Accounts in id order, so that an account's row in the table is its rank by id, which
      // PostgreSQL gives each position (a hash join on its side, while this side parses):
      // finding a million accounts' rows by id here took a quarter of a restart.
      await client.query(`SET LOCAL work_mem = '256MB'`);
      await copyOut(client, 'SELECT id, subaccount, collateral, margin_state, created_block, updated_block FROM account ORDER BY id', (f) =>
        state.accounts.load(f[0]!, Number(f[1]), fixedOfNumeric18(f[2]!), f[3] as MarginState, Number(f[4]), Number(f[5])),
      );
      // Every lifecycle, in the table's order (no sort: see PositionTable.load): the last of each pair stays.
      await copyOut(
        client,
        `SELECT a.rank, p.market_id, p.seq, p.size, p.entry_price, p.realized_pnl, p.funding_snapshot, p.settled_funding, p.fees_paid,
                p.opened_block, p.closed_block, p.updated_block
           FROM position p JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rank FROM account) a ON a.id = p.account_id`,
        (f) =>
          state.positions.load(
            Number(f[0]), f[1]!, Number(f[2]), fixedOfNumeric18(f[3]!), f[4] == null ? null : fixedOfNumeric18(f[4]), fixedOfNumeric18(f[5]!),
            fixedOfNumeric18(f[6]!), fixedOfNumeric18(f[7]!), fixedOfNumeric18(f[8]!), Number(f[9]), f[10] == null ? null : Number(f[10]), Number(f[11]),
          ),
      );
      const sourcesBy = new Map<string, Map<string, OracleSource>>();
      for (const row of sources.rows) {
        const source = recordOf(tables.oracleSources, row);
        let map = sourcesBy.get(source.underlying);
        if (!map) sourcesBy.set(source.underlying, (map = new Map()));
        map.set(source.source, source);
      }
      for (const row of markets.rows) state.markets.set(row.id, marketFromRow(row));
      for (const row of underlyings.rows) {
        state.underlyings.set(row.id, { ...recordOf(tables.underlyings, row), sources: sourcesBy.get(row.id) ?? new Map() });
      }
      state.lastBlock = cursor?.block ?? null;
      return state;
    });
  }

  /**
   * Commits a batch of consecutive blocks in one transaction: their rows, history, undo
   * logs (for blocks that may still reorg), the cursor, and a notification that
   * listeners receive only once the transaction commits.
   */
  async commit(input: {
    chainId: number;
    headBlockNumber: number;
    batch: readonly BlockChanges[];
    undo: ReadonlyMap<number, UndoEntry[]>;
    reorg?: ReorgInfo;
  }): Promise<void> {
    const { batch } = input;
    const last = batch.at(-1);
    if (!last) return;
    return this.transaction('BEGIN', async (client) => {
      // The last line of defence against a gap or a fork in the stored chain.
      const cursor = await this.cursor(client);
      const first = batch[0]!.block;
      if (cursor && (first.number !== cursor.block.number + 1 || first.parentHash !== cursor.block.hash)) {
        throw new Error(
          `block ${first.number} (parent ${first.parentHash}) does not follow the last stored block ` +
            `${cursor.block.number} (${cursor.block.hash})`,
        );
      }
      await writeLatest(client, tables.markets, batch.flatMap((c) => c.markets));
      await writeLatest(client, tables.underlyings, batch.flatMap((c) => c.underlyings));
      await writeLatest(client, tables.oracleSources, batch.flatMap((c) => c.oracleSources));
      await writeLatest(client, tables.accounts, batch.flatMap((c) => c.accounts));
      await writeLatest(client, tables.positions, batch.flatMap((c) => c.positions));
      for (const name of Object.keys(tables.versionTables) as tables.MutableTable[]) {
        await writeVersions(client, tables.mutableTables[name] as TableSpec<unknown>, tables.versionTables[name] as TableSpec<tables.Version<unknown>>, batch, name);
      }
      for (const [field, spec] of tables.historyTables) {
        const records = batch.flatMap((c) => c[field] as unknown[]);
        await copyRows(client, spec as TableSpec<unknown>, records);
      }
      await copyRows(client, tables.blocks, batch);
      await copyRows(client, tables.undoLog, [...input.undo].map(([blockNumber, entries]) => ({ blockNumber, entries })));
      await client.query(
        `INSERT INTO cursor (id, chain_id, block_number, block_hash, block_timestamp, head_block_number)
         VALUES (1, $1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET chain_id = $1, block_number = $2, block_hash = $3, block_timestamp = $4, head_block_number = $5`,
        [input.chainId, last.block.number, last.block.hash, last.block.timestamp, input.headBlockNumber],
      );
      await client.query('SELECT pg_notify($1, $2)', [BLOCKS_CHANNEL, JSON.stringify(blocksCommitted(batch, input.reorg))]);
    });
  }

  /** Runs `work` on one client inside one transaction opened by `begin`; rolls it back on failure. */
  private async transaction<T>(begin: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Records the chain head seen (meta.headBlockNumber) without committing a block. */
  async recordHead(headBlockNumber: number): Promise<void> {
    await this.pool.query('UPDATE cursor SET head_block_number = $1 WHERE id = 1', [headBlockNumber]);
  }

  /** Stored block hashes from `from` to `to` inclusive, for finding the common ancestor of a reorg. */
  async blockHashes(from: number, to: number): Promise<Map<number, string>> {
    const { rows } = await this.pool.query('SELECT number, hash FROM block WHERE number BETWEEN $1 AND $2', [from, to]);
    return new Map(rows.map((row) => [read.int(row.number), row.hash as string]));
  }

  /**
   * Undoes every block after `ancestor` in one transaction: mutable rows get back the
   * version they had before the first undone block, history after the ancestor goes, and
   * the cursor returns to the ancestor. Throws `ReorgTooDeepError` (changing nothing)
   * when a block to undo has no undo log.
   */
  async rollbackTo(ancestor: number): Promise<number> {
    return this.transaction('BEGIN', async (client) => {
      const undone = await client.query(
        `SELECT b.number, u.entries FROM block b LEFT JOIN undo_log u ON u.block_number = b.number
          WHERE b.number > $1 ORDER BY b.number`,
        [ancestor],
      );
      const missing = undone.rows.find((row) => row.entries === null);
      if (missing) throw new ReorgTooDeepError(ancestor, read.int(missing.number));
      const ancestorRow = await client.query('SELECT number, hash, timestamp FROM block WHERE number = $1', [ancestor]);
      if (!ancestorRow.rows[0]) {
        // Only a rollback to before the first block ingested may have no ancestor row.
        const older = await client.query('SELECT 1 FROM block WHERE number <= $1 LIMIT 1', [ancestor]);
        if (older.rows.length > 0) throw new ReorgTooDeepError(ancestor, ancestor);
      }

      // The oldest undone block holds each row's version as of the ancestor.
      const restore = new Map<string, UndoEntry>();
      for (const row of undone.rows) {
        for (const entry of row.entries as UndoEntry[]) {
          const id = `${entry.table}|${entry.key.join('|')}`;
          if (!restore.has(id)) restore.set(id, entry);
        }
      }
      for (const [name, spec] of Object.entries(tables.mutableTables) as [keyof typeof tables.mutableTables, TableSpec<unknown>][]) {
        const entries = [...restore.values()].filter((e) => e.table === name);
        await deleteRows(client, spec, entries.filter((e) => e.prior === null).map((e) => e.key));
        await insertRows(client, spec, entries.flatMap((e) => (e.prior ? [e.prior] : [])), true);
        await deleteVersionsAbove(client, tables.versionTables[name] as TableSpec<unknown>, entries.map((e) => e.key), ancestor);
      }
      for (const [, spec] of tables.historyTables) {
        await client.query(`DELETE FROM "${spec.table}" WHERE block_number > $1`, [ancestor]);
      }
      await client.query('DELETE FROM block WHERE number > $1', [ancestor]);
      await client.query('DELETE FROM undo_log WHERE block_number > $1', [ancestor]);
      const back = ancestorRow.rows[0];
      if (back) {
        await client.query('UPDATE cursor SET block_number = $1, block_hash = $2, block_timestamp = $3 WHERE id = 1', [
          back.number,
          back.hash,
          back.timestamp,
        ]);
      } else {
        await client.query('DELETE FROM cursor');
      }
      return undone.rows.length;
    });
  }

  /** Empties every ledger table (`pts dev` starts a new devnet chain each time). */
  async reset(): Promise<void> {
    const history = tables.historyTables.map(([, spec]) => `"${spec.table}"`);
    const mutable = Object.values(tables.mutableTables).map((spec) => `"${spec.table}"`);
    const versions = Object.values(tables.versionTables).map((spec) => `"${spec.table}"`);
    await this.pool.query(`TRUNCATE ${[...mutable, ...versions, ...history, 'block', 'undo_log', 'cursor', 'history_horizon'].join(', ')}`);
  }

  /**
   * Forgets the state of blocks before `horizon` (PTS_HISTORY_BLOCKS): drops every row
   * version that a newer version at or before `horizon` replaces, so each row keeps the
   * version it had at `horizon` and those after; the API refuses older blocks from then on.
   */
  async pruneHistory(horizon: number): Promise<void> {
    if (horizon <= 0) return;
    return this.transaction('BEGIN', async (client) => {
      await client.query(
        `INSERT INTO history_horizon (id, first_block) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET first_block = GREATEST(history_horizon.first_block, $1)`,
        [horizon],
      );
      for (const spec of Object.values(tables.versionTables)) {
        const key = spec.key.filter((name) => name !== 'version_block');
        const same = key.map((name) => `n."${name}" = v."${name}"`).join(' AND ');
        await client.query(
          `DELETE FROM "${spec.table}" v WHERE v.version_block < $1
             AND EXISTS (SELECT 1 FROM "${spec.table}" n WHERE ${same} AND n.version_block > v.version_block AND n.version_block <= $1)`,
          [horizon],
        );
      }
    });
  }

  /** Drops undo logs of blocks at or below `finalized`: they can no longer reorg. */
  async pruneUndo(finalized: number): Promise<void> {
    await this.pool.query('DELETE FROM undo_log WHERE block_number <= $1', [finalized]);
  }
}

/**
 * Upserts the last version of each row changed in the batch. Only that version becomes a
 * row: a busy market has a new version per fill (its last fill price), hundreds per batch.
 */
async function writeLatest<T>(client: Queryable, spec: TableSpec<T>, records: readonly T[]): Promise<void> {
  if (records.length === 0) return;
  const latest = new Map<string, T>();
  for (const record of records) latest.set(keyOf(spec, record), record);
  await insertRows(client, spec, [...latest.values()].map((record) => rowOf(spec, record)), true);
}

/**
 * Appends the version each row had at the end of each block of the batch that changed it
 * (one COPY per table per batch): the past state of any block is rebuilt from these.
 */
async function writeVersions<T>(
  client: Queryable,
  spec: TableSpec<T>,
  versionSpec: TableSpec<tables.Version<T>>,
  batch: readonly BlockChanges[],
  field: tables.MutableTable,
): Promise<void> {
  const versions: tables.Version<T>[] = [];
  for (const changes of batch) {
    const records = changes[field] as unknown as readonly T[];
    if (records.length === 0) continue;
    // A row changed twice in a block (a market per fill) keeps its last version of the block.
    const last = new Map<string, T>();
    for (const record of records) last.set(keyOf(spec, record), record);
    for (const record of last.values()) versions.push({ block: changes.block.number, record });
  }
  await copyRows(client, versionSpec, versions);
}

export const marketFromRow = readerOf(tables.markets);
export const positionFromRow = readerOf(tables.positions);
