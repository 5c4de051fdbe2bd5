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
 * Blocks [from, to] with their venue events, consistent with one another: every header's
 * parent is the previous header and every log belongs to the header of its block. Logs
 * and headers come from separate requests, so a reorg in between shows up here as an
 * `InconsistentRangeError` rather than as a silent mix of two branches.
 */
export async function fetchRange(rpc: ChainRpc, venues: readonly string[], from: number, to: number): Promise<FetchedBlock[]> {
  const [logs, headers] = await Promise.all([rpc.logs(from, to, venues, venueTopics), rpc.headers(from, to)]);
  for (let i = 1; i < headers.length; i++) {
    if (headers[i]!.parentHash !== headers[i - 1]!.hash) {
      throw new InconsistentRangeError(`block ${headers[i]!.number} does not follow ${headers[i - 1]!.number}`);
    }
  }
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
