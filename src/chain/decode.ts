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
/** The kinds a venue log decodes to ('Malformed' is what one that does not decode becomes). */
type LogEventType = Exclude<VenueEvent['type'], 'Malformed'>;

/** Reads one 32-byte word (64 hex digits, no 0x); throws `Malformed` when it is out of its type's range. */
type WordReader = (hex: string) => Value;

interface EventDecoder {
  name: LogEventType;
  /** Readers of topics 1.., then of the data words, each with its input's name. */
  topics: readonly { name: string; read: WordReader }[];
  words: readonly { name: string; read: WordReader }[];
}

const decoders = new Map<string, EventDecoder>(
  venueAbi.map((event: AbiEvent) => {
    const field = (input: AbiEvent['inputs'][number]) => ({ name: input.name!, read: wordReader(input.type, input.name!) });
    return [
      toEventSelector(event).toLowerCase(),
      {
        name: event.name as LogEventType,
        topics: event.inputs.filter((input) => input.indexed).map(field),
        words: event.inputs.filter((input) => !input.indexed).map(field),
      },
    ];
  }),
);

/** topic0 of every venue event, for the eth_getLogs filter. */
export const venueTopics = [...decoders.keys()] as `0x${string}`[];

class Malformed extends Error {}

const HEX = /^[0-9a-fA-F]*$/;
const WORD = /^0x[0-9a-fA-F]{64}$/;

/**
 * Decodes one venue log into a ledger event. Every SPEC event has only static 32-byte
 * fields, so this reads words directly with a reader per field prepared from the ABI
 * (several times faster than a general ABI decoder; test/unit/chain/decode.test.ts checks
 * it against viem's) and is strict: a wrong topic count, a data length other than the
 * event's, or a word out of its type's range makes the log `Malformed`, which the ledger
 * records as an anomaly. Never throws.
 */
export function decodeVenueLog(log: RawLog): VenueEvent {
  const decoder = decoders.get((log.topics[0] ?? '').toLowerCase());
  if (!decoder) return malformed(log, `unknown event topic ${log.topics[0] ?? '(none)'}`);
  if (log.topics.length !== decoder.topics.length + 1) {
    return malformed(log, `${decoder.name} needs ${decoder.topics.length + 1} topics, got ${log.topics.length}`);
  }
  const data = log.data.startsWith('0x') ? log.data.slice(2) : log.data;
  if (data.length !== decoder.words.length * 64 || !HEX.test(data)) {
    return malformed(log, `${decoder.name} needs ${decoder.words.length * 32} bytes of data, got ${data.length / 2}`);
  }
  const args: Record<string, Value> = {};
  try {
    for (let i = 0; i < decoder.topics.length; i++) {
      const topic = log.topics[i + 1]!;
      if (!WORD.test(topic)) throw new Malformed(`${decoder.topics[i]!.name} is not a 32-byte word`);
      args[decoder.topics[i]!.name] = decoder.topics[i]!.read(topic.slice(2));
    }
    for (let i = 0; i < decoder.words.length; i++) {
      args[decoder.words[i]!.name] = decoder.words[i]!.read(data.slice(64 * i, 64 * i + 64));
    }
  } catch (error) {
    if (error instanceof Malformed) return malformed(log, `${decoder.name}: ${error.message}`);
    throw error;
  }
  return Object.assign(logRef(log), toEvent(decoder.name, args)) as VenueEvent;
}

function logRef(log: RawLog) {
  return {
    blockNumber: Number(log.blockNumber ?? 0),
    transactionIndex: log.transactionIndex ?? 0,
    logIndex: log.logIndex ?? 0,
    transactionHash: (log.transactionHash ?? '').toLowerCase(),
    venue: log.address.toLowerCase(),
  };
}

function malformed(log: RawLog, reason: string): VenueEvent {
  return { ...logRef(log), type: 'Malformed', reason, topics: [...log.topics], data: log.data };
}

const UINT256 = 1n << 256n;
/** An address word: 12 zero bytes, then the 20 address bytes. */
const ADDRESS_PADDING = '0'.repeat(24);

function wordReader(type: string, name: string): WordReader {
  if (type === 'bytes32') return bytes32Name;
  if (type === 'address') {
    return (hex) => {
      if (!hex.startsWith(ADDRESS_PADDING)) throw new Malformed(`${name} is not an address`);
      return `0x${hex.slice(24).toLowerCase()}`;
    };
  }
  const bits = BigInt(type.replace(/^u?int/, '') || '256');
  if (type.startsWith('uint')) {
    if (bits === 256n) return (hex) => BigInt(`0x${hex}`);
    return (hex) => {
      const value = BigInt(`0x${hex}`);
      if (value >> bits !== 0n) throw new Malformed(`${name} exceeds ${type}`);
      return value;
    };
  }
  const limit = 1n << (bits - 1n);
  return (hex) => {
    const value = BigInt(`0x${hex}`);
    const signed = value >= UINT256 / 2n ? value - UINT256 : value;
    if (signed < -limit || signed >= limit) throw new Malformed(`${name} exceeds ${type}`);
    return signed;
  };
}

/**
 * bytes32 names repeat in nearly every log (a handful of markets and underlyings), so
 * their decoding is remembered; the bound keeps a chain of made-up names from growing it.
 */
const names = new Map<string, string>();
function bytes32Name(hex: string): string {
  let name = names.get(hex);
  if (name === undefined) {
    name = fromBytes32Name(`0x${hex}`);
    if (names.size >= 10_000) names.clear();
    names.set(hex, name);
  }
  return name;
}

/** Seconds and counters: exact below 2^53; beyond that (centuries away) they saturate. */
const seconds = (value: Value) => Number(value as bigint > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : value);

/** Each kind's event from its decoded arguments: a case per kind and no default, so a new kind does not compile without its own. */
function toEvent(name: LogEventType, a: Record<string, Value>): object {
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
    case 'MarginFractionsUpdated':
      return { type: name, marketId: a.marketId, initialMarginFraction: a.initialMarginFraction, maintenanceMarginFraction: a.maintenanceMarginFraction };
    case 'PriceReported':
      return { type: name, underlying: a.underlying, source: a.source, price: a.price };
    case 'VolatilityReported':
      return { type: name, marketId: a.marketId, impliedVolatility: a.impliedVolatility };
  }
}
