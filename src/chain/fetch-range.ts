import type { BlockHeader, VenueEvent } from '../ledger/index.js';
import { decodeVenueLog, venueTopics, type RawLog } from './decode.js';
import type { ChainRpc } from './rpc.js';

export interface FetchedBlock {
  header: BlockHeader;
  events: VenueEvent[];
}

/** The range changed under us (a reorg between two requests): fetch it again. */
export class InconsistentRangeError extends Error {}

/**
 * The blocks of [from, to] that exist, each with exactly its venue events: all of them,
 * or those before the first block the chain does not have (it may be shorter than the
 * head the range was planned with); none if `from` does not exist.
 *
 * Headers come first and logs are then asked for those blocks only, so a block mined
 * between the two requests cannot come without its logs. Blocks after `lastFinal` may
 * still be reorged: their logs are asked by block hash (EIP-234), which answers exactly
 * that block's logs or fails, whatever the node's branch meanwhile. Blocks up to
 * `lastFinal` are final (PTS_REORG_DEPTH): one eth_getLogs range serves them. Either way
 * every header must follow the previous one and every log belong to its block's header,
 * or `InconsistentRangeError`.
 */
export async function fetchRange(
  rpc: ChainRpc,
  venues: readonly string[],
  from: number,
  to: number,
  lastFinal: number,
): Promise<FetchedBlock[]> {
  const headers = await rpc.headers(from, to);
  if (headers.length === 0) return [];
  for (let i = 1; i < headers.length; i++) {
    if (headers[i]!.parentHash !== headers[i - 1]!.hash) {
      throw new InconsistentRangeError(`block ${headers[i]!.number} does not follow ${headers[i - 1]!.number}`);
    }
  }
  const end = headers.at(-1)!.number;
  const firstRecent = Math.min(Math.max(lastFinal + 1, from), end + 1);
  const recent = headers.slice(firstRecent - from);
  const [finalLogs, recentLogs] = await Promise.all([
    firstRecent > from ? rpc.logs(from, firstRecent - 1, venues, venueTopics) : [],
    recent.length > 0 ? blockLogs(rpc, venues, recent) : [],
  ]);
  const byNumber = new Map<number, RawLog[]>();
  for (const log of [...finalLogs, ...recentLogs]) {
    const number = Number(log.blockNumber);
    const header = headers[number - from];
    if (!header || header.hash !== log.blockHash) {
      throw new InconsistentRangeError(`log of block ${number} (${log.blockHash}) is not on the fetched branch`);
    }
    let list = byNumber.get(number);
    if (!list) byNumber.set(number, (list = []));
    list.push(log);
  }
  return headers.map((header) => ({ header, events: (byNumber.get(header.number) ?? []).map(decodeVenueLog) }));
}

/** Logs by block hash; a failure for a block that is no longer canonical is a reorg, not a fault. */
async function blockLogs(rpc: ChainRpc, venues: readonly string[], headers: BlockHeader[]): Promise<RawLog[]> {
  try {
    return await rpc.blockLogs(headers.map((h) => h.hash), venues, venueTopics);
  } catch (error) {
    // The node forgets an orphaned block ("unknown block"); the headers are one branch, so its last block says.
    const last = headers.at(-1)!;
    const [now] = await rpc.headers(last.number, last.number);
    if (now?.hash !== last.hash) throw new InconsistentRangeError(`block ${last.number} was reorged while its logs were asked`);
    throw error;
  }
}
