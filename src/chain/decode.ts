import { toEventSelector, type AbiEvent } from 'viem';
import type { VenueEvent } from '../ledger/index.js';
import { fromBytes32Name } from './names.js';
import { venueAbi } from './venue-abi.js';

/** A log as eth_getLogs returns it (viem's shape, bigints for the numbers). */
export interface RawLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber: bigint | number | null;
  blockHash: string | null;
  transactionHash: string | null;
  transactionIndex: number | null;
  logIndex: number | null;
}

type Value = bigint | string;

interface EventDecoder {
  name: VenueEvent['type'];
  inputs: readonly { name: string; type: string; indexed: boolean }[];
  indexedCount: number;
  dataWords: number;
}

const decoders = new Map<string, EventDecoder>(
  venueAbi.map((event: AbiEvent) => [
    toEventSelector(event).toLowerCase(),
    {
      name: event.name as VenueEvent['type'],
      inputs: event.inputs.map((input) => ({ name: input.name!, type: input.type, indexed: !!input.indexed })),
      indexedCount: event.inputs.filter((input) => input.indexed).length,
      dataWords: event.inputs.filter((input) => !input.indexed).length,
    },
  ]),
);

/** topic0 of every venue event, for the eth_getLogs filter. */
export const venueTopics = [...decoders.keys()] as `0x${string}`[];

class Malformed extends Error {}

/**
 * Decodes one venue log into a ledger event. Every SPEC event has only static 32-byte
 * fields, so this reads words directly (a few times faster than a general ABI decoder;
 * test/unit/chain/decode.test.ts checks it against viem's) and is strict: a wrong topic
 * count, a data length other than the event's, or a word out of its type's range makes
 * the log `Malformed`, which the ledger records as an anomaly. Never throws.
 */
export function decodeVenueLog(log: RawLog): VenueEvent {
  const ref = {
    blockNumber: Number(log.blockNumber ?? 0),
    transactionIndex: log.transactionIndex ?? 0,
    logIndex: log.logIndex ?? 0,
    transactionHash: (log.transactionHash ?? '').toLowerCase(),
    venue: log.address.toLowerCase(),
  };
  const malformed = (reason: string): VenueEvent => ({ ...ref, type: 'Malformed', reason, topics: [...log.topics], data: log.data });
  const decoder = decoders.get((log.topics[0] ?? '').toLowerCase());
  if (!decoder) return malformed(`unknown event topic ${log.topics[0] ?? '(none)'}`);
  if (log.topics.length !== decoder.indexedCount + 1) {
    return malformed(`${decoder.name} needs ${decoder.indexedCount + 1} topics, got ${log.topics.length}`);
  }
  const data = log.data.startsWith('0x') ? log.data.slice(2) : log.data;
  if (data.length !== decoder.dataWords * 64 || !/^[0-9a-fA-F]*$/.test(data)) {
    return malformed(`${decoder.name} needs ${decoder.dataWords * 32} bytes of data, got ${data.length / 2}`);
  }
  const args: Record<string, Value> = {};
  let topic = 1;
  let word = 0;
  try {
    for (const input of decoder.inputs) {
      const hex = input.indexed ? log.topics[topic++]!.slice(2) : data.slice(64 * word, 64 * ++word);
      args[input.name] = decodeWord(input.type, hex, input.name);
    }
  } catch (error) {
    if (error instanceof Malformed) return malformed(`${decoder.name}: ${error.message}`);
    throw error;
  }
  return { ...ref, ...toEvent(decoder.name, args) } as VenueEvent;
}

const UINT256 = 1n << 256n;

function decodeWord(type: string, hex: string, name: string): Value {
  if (hex.length !== 64) throw new Malformed(`${name} is not a 32-byte word`);
  if (type === 'bytes32') return fromBytes32Name(`0x${hex}`);
  const value = BigInt(`0x${hex}`);
  if (type === 'address') {
    if (value >> 160n !== 0n) throw new Malformed(`${name} is not an address`);
    return `0x${hex.slice(24).toLowerCase()}`;
  }
  const bits = BigInt(type.replace(/^u?int/, '') || '256');
  if (type.startsWith('uint')) {
    if (value >> bits !== 0n) throw new Malformed(`${name} exceeds ${type}`);
    return value;
  }
  const signed = value >= UINT256 / 2n ? value - UINT256 : value;
  const limit = 1n << (bits - 1n);
  if (signed < -limit || signed >= limit) throw new Malformed(`${name} exceeds ${type}`);
  return signed;
}

/** Seconds and counters: exact below 2^53; beyond that (centuries away) they saturate. */
const seconds = (value: Value) => Number(value as bigint > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : value);

function toEvent(name: VenueEvent['type'], a: Record<string, Value>): object {
  switch (name) {
    case 'MarketListed':
      return {
        type: name, marketId: a.marketId, underlying: a.underlying, kind: Number(a.kind), strike: a.strike,
        expiry: seconds(a.expiry!), initialMarginFraction: a.initialMarginFraction,
        maintenanceMarginFraction: a.maintenanceMarginFraction, fundingInterval: seconds(a.fundingInterval!),
        maxFundingRate: a.maxFundingRate,
      };
    case 'Deposited':
    case 'Withdrawn':
      return { type: name, owner: a.owner, subaccount: Number(a.subaccount), amount: a.amount };
    case 'Filled':
      return { type: name, marketId: a.marketId, owner: a.owner, subaccount: Number(a.subaccount), sizeDelta: a.sizeDelta, price: a.price, fee: a.fee };
    case 'Liquidated':
      return {
        type: name, marketId: a.marketId, owner: a.owner, subaccount: Number(a.subaccount), liquidator: a.liquidator,
        sizeDelta: a.sizeDelta, price: a.price, penalty: a.penalty,
      };
    default:
      return { type: name, ...a };
  }
}
