/**
 * Any past block (SPEC section 8): `block: BlockSelector` on the root fields, and cursors
 * that remember the block they were read at.
 *
 * One operation reads one block, as before. Before it runs, `operationBlock` finds the block
 * its root fields ask for: a `block` argument, else the block of an `after` cursor (a page
 * after it is read at that block unless `block` is given). Root fields that ask for none
 * read that block too, so `meta` names the block of the whole answer; two different blocks
 * in one operation are refused. The request's snapshot (snapshot.ts) then opens with
 * `openPast`: in its transaction the `pts_past` views (prisma/migrations/*_history_versions)
 * come first on the search_path and `pts.block` names the block, so the API's own SQL and
 * derivations (marks, risk, orders, stress) read every table as of that block, with that
 * block's timestamp as the time. Nothing shared across requests is used at a past block
 * (block cache, risk engine): they hold the newest block only. A selector (or cursor)
 * naming the last committed block reads the tables as they are and uses both: a client
 * paging a list while no block came after its first page pays nothing for the cursor's block.
 */
import {
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type pg from 'pg';
import { read } from '../db/store/columns.js';
import { badUserInput } from './pagination.js';
import { MARKETS_SQL } from './modules/market/sql.js';
import { UNDERLYINGS_SQL } from './modules/underlying/sql.js';
import type { Prefetched, SnapshotBlock } from './snapshot.js';

/** `input BlockSelector { number: SafeInt, hash: String }`: either or both (they must agree). */
export interface BlockSelector {
  number?: number | null;
  hash?: string | null;
}

const HASH = /^0x[0-9a-fA-F]{64}$/;

/** The selector checked for shape (the database decides whether the block is served). */
export function checkedSelector(selector: BlockSelector, argumentName = 'block'): BlockSelector {
  const { number, hash } = selector;
  if (number == null && hash == null) throw badUserInput('"block" needs a "number" or a "hash" (or both)', argumentName);
  if (number != null && (!Number.isSafeInteger(number) || number < 0)) {
    throw badUserInput(`"block.number" must be a block number (an integer >= 0), got ${number}`, argumentName);
  }
  if (hash != null && !HASH.test(hash)) throw badUserInput(`"block.hash" must be 0x and 64 hex digits, got "${hash}"`, argumentName);
  return { number: number ?? null, hash: hash?.toLowerCase() ?? null };
}

/**
 * Opens the request's transaction at the selected block: checks it is a committed block
 * of the canonical chain within the retained history (else BAD_USER_INPUT), then makes the
 * transaction read every table as of it. Returns the block as the snapshot's cursor row,
 * and whether it is the last committed block (then the tables are read as they are).
 */
export async function openPast(client: pg.PoolClient, selector: BlockSelector): Promise<{ block: SnapshotBlock; latest: boolean; prefetched: Prefetched }> {
  // BEGIN, the checks and the settings travel in one round trip (a simple-protocol query may
  // hold several statements, but no parameters: the selector is inlined, a safe integer and
  // a string literal with its quotes doubled; cursors' hashes hold no NUL, pagination.ts).
  // The settings are made whatever the checks find: a refused block throws below and the
  // transaction is rolled back. The last committed block (a cursor's, paged while no block
  // came after it) keeps the search_path: the tables themselves are that block in this
  // transaction, and what the process shares at the newest block (risk engine, block cache)
  // applies, as for a request that named none. The markets and underlyings at the block come in the same
  // round trip (each statement of the query is resolved after the one before it ran, so on
  // the views): nearly every read of a past block derives from them.
  if (selector.number != null && !Number.isSafeInteger(selector.number)) throw new Error(`openPast: block number ${selector.number}`);
  const number = selector.number == null ? 'NULL' : String(selector.number);
  const hash = selector.hash == null ? 'NULL' : `'${selector.hash.replaceAll("'", "''").replaceAll('\u0000', '')}'`;
  const results = (await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT c.chain_id, c.block_number AS last, c.head_block_number, b.number, b.hash, b.timestamp,
       GREATEST((SELECT min(number) FROM block), (SELECT first_block FROM history_horizon WHERE id = 1)) AS horizon,
       set_config('search_path', CASE WHEN b.number = c.block_number THEN current_setting('search_path') ELSE 'pts_past, public' END, true),
       set_config('pts.block', COALESCE(b.number, -1)::text, true)
  FROM cursor c
  LEFT JOIN LATERAL (SELECT * FROM block b
                      WHERE (${number}::int8 IS NULL OR b.number = ${number}::int8) AND (${hash}::text IS NULL OR b.hash = ${hash}::text)
                      LIMIT 1) b ON true
 WHERE c.id = 1;
${MARKETS_SQL};
${UNDERLYINGS_SQL}`)) as unknown as pg.QueryResult[];
  const rows = results[1]!.rows;
  const row = rows[0];
  const named = selector.number != null ? `block ${selector.number}${selector.hash ? ` (${selector.hash})` : ''}` : `block ${selector.hash}`;
  if (!row) throw badUserInput(`${named} is not committed yet: no block has been ingested`, 'block');
  const last = read.int(row.last);
  const horizon = read.int(row.horizon);
  if (selector.number != null && selector.number > last) {
    throw badUserInput(`${named} is not committed yet: the last committed block is ${last}`, 'block');
  }
  if (selector.number != null && selector.number < horizon) {
    throw badUserInput(`${named} is older than the retained history, which starts at block ${horizon} (PTS_HISTORY_BLOCKS)`, 'block');
  }
  if (row.number === null) {
    throw badUserInput(
      selector.hash != null
        ? `${named} is not a block of the canonical chain (a block of an abandoned branch, or never seen)`
        : `${named} is not a stored block`,
      'block',
    );
  }
  const found = read.int(row.number);
  if (found < horizon) throw badUserInput(`${named} is older than the retained history, which starts at block ${horizon} (PTS_HISTORY_BLOCKS)`, 'block');
  return {
    block: {
      chainId: read.int(row.chain_id),
      number: found,
      hash: row.hash as string,
      timestamp: read.int(row.timestamp),
      headBlockNumber: read.int(row.head_block_number),
    },
    latest: found === last,
    prefetched: { markets: results[2]!.rows, underlyings: results[3]!.rows },
  };
}

/** The block a cursor remembers (pagination.ts); null for a cursor without one or not a cursor. */
export type CursorBlockOf = (cursor: string) => { number: number; hash: string } | null;

/**
 * The block an operation's root fields select: their `block` arguments, else the blocks of
 * their `after` cursors; null when none does (the last committed block). Two different
 * blocks are a BAD_USER_INPUT error. Variables that do not coerce give null: the execution
 * reports them.
 */
export function operationBlock(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  cursorBlock: CursorBlockOf,
): BlockSelector | null {
  const operation = getOperationAST(document, operationName);
  const query = schema.getQueryType();
  if (!operation || operation.operation !== 'query' || !query) return null;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return null;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const fields: FieldNode[] = [];
  const collect = (set: SelectionSetNode, seen: Set<string>) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet, seen);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet, seen);
      }
    }
  };
  collect(operation.selectionSet, new Set());
  const given: BlockSelector[] = [];
  const remembered: BlockSelector[] = [];
  for (const node of fields) {
    const definition = query.getFields()[node.name.value];
    if (!definition || !node.arguments?.length) continue;
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(definition, node, coerced.coerced);
    } catch {
      continue; // the execution reports it
    }
    if (args.block != null) given.push(checkedSelector(args.block as BlockSelector));
    else if (typeof args.after === 'string') {
      const block = cursorBlock(args.after);
      if (block) remembered.push(block);
    }
  }
  const chosen = given.length > 0 ? given : remembered;
  const first = chosen[0];
  if (!first) return null;
  for (const other of chosen) {
    if (other.number !== first.number || other.hash !== first.hash) {
      throw badUserInput(
        `one operation reads one block, but its root fields ask for two (${describe(first)} and ${describe(other)}${given.length > 0 ? '' : ', remembered by their cursors'}); send them as separate operations`,
        'block',
      );
    }
  }
  return first;
}

function describe(selector: BlockSelector): string {
  return [selector.number != null ? `number ${selector.number}` : null, selector.hash != null ? `hash ${selector.hash}` : null].filter(Boolean).join(', ');
}
