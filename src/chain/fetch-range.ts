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
 * between the two requests cannot come without its logs. Every header must follow the
 * previous one and every log belong to its block's header, or `InconsistentRangeError`.
 */
export async function fetchRange(rpc: ChainRpc, venues: readonly string[], from: number, to: number): Promise<FetchedBlock[]> {
  const headers = await rpc.headers(from, to);
  if (headers.length === 0) return [];
  for (let i = 1; i < headers.length; i++) {
    if (headers[i]!.parentHash !== headers[i - 1]!.hash) {
      throw new InconsistentRangeError(`block ${headers[i]!.number} does not follow ${headers[i - 1]!.number}`);
    }
  }
  const logs = await rpc.logs(from, headers.at(-1)!.number, venues, venueTopics);
  const byNumber = new Map<number, RawLog[]>();
  for (const log of logs) {
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
