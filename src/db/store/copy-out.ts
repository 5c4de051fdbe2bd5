// Reading a whole table fast: COPY ... TO STDOUT in text format, parsed line by line as
// it streams in. Loading a million accounts' positions through a result set (one object
// per row, every NUMERIC a string) took most of the restart's time; this reads the same
// rows without building them.
import copyStreams from 'pg-copy-streams';
import type { Queryable } from './bulk.js';

/**
 * Calls `onRow` with the fields of each row of `query` (a SELECT), as COPY text gives
 * them: `null` for NULL, escapes undone. The field array is reused between rows.
 */
export async function copyOut(client: Queryable, query: string, onRow: (fields: readonly (string | null)[]) => void): Promise<void> {
  const stream = client.query(copyStreams.to(`COPY (${query}) TO STDOUT`));
  const fields: (string | null)[] = [];
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + chunk.toString('utf8');
    let start = 0;
    for (let end = text.indexOf('\n', start); end >= 0; end = text.indexOf('\n', start)) {
      splitFields(text, start, end, fields);
      onRow(fields);
      start = end + 1;
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) {
    splitFields(rest, 0, rest.length, fields);
    onRow(fields);
  }
}

function splitFields(text: string, start: number, end: number, fields: (string | null)[]): void {
  fields.length = 0;
  let from = start;
  for (let tab = text.indexOf('\t', from); tab >= 0 && tab < end; tab = text.indexOf('\t', from)) {
    fields.push(field(text.slice(from, tab)));
    from = tab + 1;
  }
  fields.push(field(text.slice(from, end)));
}

function field(raw: string): string | null {
  if (raw === '\\N') return null;
  return raw.includes('\\') ? raw.replace(/\\(.)/g, (_, c: string) => UNESCAPE[c] ?? c) : raw;
}

const UNESCAPE: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v', '\\': '\\' };

/**
 * A NUMERIC(p, 18) column's text as a Fixed: PostgreSQL writes exactly 18 decimals for
 * that scale, so the digits without the point are the raw integer.
 */
export function fixedOfNumeric18(text: string): bigint {
  const point = text.length - 19;
  if (text.charCodeAt(point) !== 0x2e) throw new Error(`not a NUMERIC with 18 decimals: ${text}`);
  return BigInt(text.slice(0, point) + text.slice(point + 1));
}
