/**
 * Relay connections over keyset pages. A cursor is an opaque base64url token holding the
 * sort key of its row (never an offset), tagged with what it pages through so that a
 * cursor of one list is refused by another. A page fetches `first + 1` rows: the extra one
 * only says whether there is a next page.
 */
import { GraphQLError } from 'graphql';
import type { Now } from './memo.js';

export const DEFAULT_FIRST = 50;
export const MAX_FIRST = 1000;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/**
 * What a key part is, for validating decoded cursors before they reach SQL: a value that
 * passed here cannot fail there (out of range, a NUL in text).
 */
export type KeyPart = 'int4' | 'int8' | 'numeric' | 'text';

export interface Page {
  first: number;
  /** The decoded sort key of the `after` cursor, as text; null for the first page. */
  after: string[] | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<N> {
  edges: { cursor: string; node: N }[];
  pageInfo: PageInfo;
  /** A thunk: the `totalCount` resolver calls it (one count statement) only when selected. */
  totalCount: () => Promise<number>;
}

/**
 * `totalCount` of every `…Connection` type in `typeDefs`. Explicit rather than left to the
 * default resolver: graphql-js's calls a function-valued property, graphql-jit's (the
 * executor, compiled-executor.ts) reads it as is.
 */
export function connectionResolvers(typeDefs: string): Record<string, { totalCount: (c: Connection<unknown>) => Promise<number> }> {
  const names = [...typeDefs.matchAll(/^type (\w+Connection)\b/gm)].map(([, name]) => name!);
  return Object.fromEntries(names.map((name) => [name, { totalCount: (c: Connection<unknown>) => c.totalCount() }]));
}

/** A client mistake in the request; `argumentName` names the argument at fault. */
export function badUserInput(message: string, argumentName?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(argumentName ? { argumentName } : {}) } });
}

/** Validates `first` and decodes `after` against the key shape of the list it pages. */
export function pageOf(args: PageArgs, kind: string, parts: readonly KeyPart[]): Page {
  const first = args.first ?? DEFAULT_FIRST;
  if (!Number.isInteger(first) || first < 0 || first > MAX_FIRST) {
    throw badUserInput(`"first" must be between 0 and ${MAX_FIRST}, got ${first}`);
  }
  return { first, after: args.after == null ? null : decodeCursor(args.after, kind, parts) };
}

/** The block a page was read at: its cursors remember it (SPEC section 8, past-block.ts). */
export interface CursorBlock {
  number: number;
  hash: string;
}

/** A cursor: the list's tag, the row's sort key and, last, the block it was read at. */
export function encodeCursor(kind: string, key: readonly string[], block?: CursorBlock): string {
  const parts: unknown[] = [kind, ...key];
  if (block) parts.push({ b: block.number, h: block.hash });
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function blockPart(value: unknown): CursorBlock | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { b, h } = value as { b?: unknown; h?: unknown };
  if (!Number.isSafeInteger(b) || (b as number) < 0 || typeof h !== 'string' || h.length > 100 || h.includes('\u0000')) return null;
  return { number: b as number, hash: h };
}

/** The block a cursor remembers, without checking the rest (the list it belongs to does); null if none. */
export function cursorBlock(cursor: string): CursorBlock | null {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) return null;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(decoded) ? blockPart(decoded.at(-1)) : null;
  } catch {
    return null;
  }
}

const INTEGER = /^-?\d{1,80}$/;
const RANGES: Partial<Record<KeyPart, readonly [bigint, bigint]>> = {
  int4: [-(2n ** 31n), 2n ** 31n - 1n],
  int8: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Whether `value` is a valid text of a key part of type `part`. */
function validPart(value: unknown, part: KeyPart): value is string {
  if (typeof value !== 'string') return false;
  if (part === 'text') return !value.includes('\u0000');
  if (!INTEGER.test(value)) return false;
  const range = RANGES[part];
  return range === undefined || (BigInt(value) >= range[0] && BigInt(value) <= range[1]);
}

export function decodeCursor(cursor: string, kind: string, parts: readonly KeyPart[]): string[] {
  const invalid = () => badUserInput(`"after" is not a cursor of this list (${kind}); pass an endCursor or edge cursor it returned`, 'after');
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded[0] !== kind) throw invalid();
  // Cursors made before they remembered their block have none: they page at the request's block.
  if (decoded.length === parts.length + 2 && blockPart(decoded.at(-1))) decoded.pop();
  if (decoded.length !== parts.length + 1) throw invalid();
  const key = decoded.slice(1);
  key.forEach((value, i) => {
    if (!validPart(value, parts[i]!)) throw invalid();
  });
  return key as string[];
}

/**
 * The connection of a page of `first + 1` rows in order. `keyOf` gives a row's sort key
 * (what its cursor encodes). `hasPreviousPage` is true exactly when paging from a cursor:
 * a cursor always stands for a row before the page, and computing more would cost a
 * statement (Relay allows this for forward pagination).
 *
 * `block` is the block the page was read at: its cursors remember it.
 *
 * `nodeOf` may answer with a promise (a node derived from rows not read yet, such as a
 * position's view on a cold block cache): the connection then waits for every node, since
 * an edge's `node` is read as a plain property and must hold the node itself.
 */
export function connectionOf<R, N>(
  rows: readonly R[],
  page: Page,
  kind: string,
  keyOf: (row: R) => readonly string[],
  nodeOf: (row: R) => Now<N>,
  totalCount: () => Promise<number>,
  block?: CursorBlock,
): Now<Connection<N>> {
  const kept = rows.slice(0, page.first);
  const nodes = kept.map(nodeOf);
  const build = (settled: readonly N[]): Connection<N> => {
    const edges = kept.map((row, i) => ({ cursor: encodeCursor(kind, keyOf(row), block), node: settled[i]! }));
    return {
      edges,
      pageInfo: {
        hasNextPage: rows.length > page.first,
        hasPreviousPage: page.after !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      totalCount,
    };
  };
  return nodes.some((node) => node instanceof Promise) ? Promise.all(nodes).then(build) : build(nodes as N[]);
}
