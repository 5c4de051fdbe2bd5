// Blocks committed straight into a test database the way LedgerStore.commit commits them
// (rows, cursor and the notification in one transaction), with hand-made hashes so that
// branches differ, and rolled back the way LedgerStore.rollbackTo does: the feed and
// replay tests drive the API's subscriptions with them.
import type pg from 'pg';
import { BLOCKS_CHANNEL, type BlocksCommitted, type ReorgInfo } from '../../../src/db/store/ledger-store.js';

export const OWNER = '0x00000000000000000000000000000000000000a1';

export interface Block {
  number: number;
  /** Branch tag: block 7 of branch "b" has hash 0xb7. */
  branch?: string;
  transitions?: { subaccount: number; to: string }[];
}

export const hashOf = (b: Block) => `0x${b.branch ?? 'a'}${b.number}`;

/** Commits blocks like LedgerStore.commit: rows, cursor and the notification in one transaction. */
export async function commitBlocks(pool: pg.Pool, blocks: Block[], options: { reorg?: ReorgInfo; notify?: boolean; head?: number; client?: pg.PoolClient } = {}): Promise<void> {
  const client = options.client ?? (await pool.connect());
  try {
    await client.query('BEGIN');
    for (const b of blocks) {
      await client.query('INSERT INTO block (number, hash, parent_hash, timestamp, event_count) VALUES ($1, $2, $3, $4, 0)', [
        b.number, hashOf(b), `0xparent${b.number}`, 1000 + b.number,
      ]);
      for (const t of b.transitions ?? []) {
        await client.query(
          `INSERT INTO margin_transition (account_id, block_number, timestamp, "from", "to", equity, initial_margin, maintenance_margin)
           VALUES ($1, $2, $3, 'HEALTHY', $4, '1.5', '2', '1')`,
          [`${OWNER}:${t.subaccount}`, b.number, 1000 + b.number, t.to],
        );
      }
    }
    const last = blocks.at(-1)!;
    await client.query(
      `INSERT INTO cursor (id, chain_id, block_number, block_hash, block_timestamp, head_block_number) VALUES (1, 31337, $1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET block_number = $1, block_hash = $2, block_timestamp = $3, head_block_number = $4`,
      [last.number, hashOf(last), 1000 + last.number, options.head ?? last.number],
    );
    if (options.notify !== false) {
      await notify(client, { first: blocks[0]!.number, last: last.number, hash: hashOf(last), ...(options.reorg ? { reorg: options.reorg } : {}) });
    }
    await client.query('COMMIT');
  } finally {
    if (!options.client) client.release();
  }
}

/** Sends the notification LedgerStore.commit sends with a batch. */
export async function notify(db: pg.Pool | pg.PoolClient, payload: BlocksCommitted): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [BLOCKS_CHANNEL, JSON.stringify(payload)]);
}

/** Undoes blocks above `ancestor` like LedgerStore.rollbackTo (which sends no notification). */
export async function rollBack(pool: pg.Pool, ancestor: number): Promise<void> {
  await pool.query('DELETE FROM block WHERE number > $1', [ancestor]);
  await pool.query('DELETE FROM margin_transition WHERE block_number > $1', [ancestor]);
  await pool.query(`UPDATE cursor SET block_number = $1, block_hash = (SELECT hash FROM block WHERE number = $1)`, [ancestor]);
}

export const range = (from: number, to: number, branch?: string): Block[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ number: from + i, ...(branch ? { branch } : {}) }));

