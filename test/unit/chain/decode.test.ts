import fc from 'fast-check';
import { encodeEventTopics, encodeAbiParameters, decodeEventLog, type AbiEvent, type Hex } from 'viem';
import { decodeVenueLog, venueTopics, type RawLog } from '../../../src/chain/decode.js';
import { fromBytes32Name, toBytes32Name } from '../../../src/chain/names.js';
import { venueAbi } from '../../../src/chain/venue-abi.js';

const position = { blockNumber: 7n, blockHash: '0xb', transactionHash: '0xABC', transactionIndex: 2, logIndex: 5 };
const VENUE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

/** A log as a venue would emit it, encoded by viem. */
function encode(event: AbiEvent, args: Record<string, unknown>): RawLog {
  const topics = encodeEventTopics({ abi: [event], eventName: event.name, args } as never) as Hex[];
  const nonIndexed = event.inputs.filter((i) => !i.indexed);
  const data = encodeAbiParameters(nonIndexed, nonIndexed.map((i) => args[i.name!]));
  return { address: VENUE, topics, data, ...position };
}

const word = (type: string): fc.Arbitrary<unknown> => {
  if (type === 'bytes32') return fc.constantFrom('ETH-PERP', 'BTC', 'ETH-C-3000-DEC', 'X').map(toBytes32Name);
  if (type === 'address') return fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
  const bits = Number(type.replace(/^u?int/, ''));
  return type.startsWith('uint')
    ? fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n })
    : fc.bigInt({ min: -(1n << BigInt(bits - 1)), max: (1n << BigInt(bits - 1)) - 1n });
};

describe('decodeVenueLog', () => {
  it.each(venueAbi.map((e) => [e.name, e] as const))('decodes %s exactly as viem does', (_, event) => {
    const args = fc.record(Object.fromEntries(event.inputs.map((i) => [i.name!, word(i.type)])));
    fc.assert(fc.property(args, (values) => {
      const log = encode(event, values);
      const ours = decodeVenueLog(log) as unknown as Record<string, unknown>;
      const theirs = decodeEventLog({ abi: [event], topics: log.topics as [Hex], data: log.data as Hex, strict: true }).args as Record<string, unknown>;
      expect(ours.type).toBe(event.name);
      for (const input of event.inputs) {
        let expected = theirs[input.name!];
        if (input.type === 'bytes32') expected = fromBytes32Name(expected as string);
        if (input.type === 'address') expected = (expected as string).toLowerCase();
        if (['uint32', 'uint8'].includes(input.type)) expected = Number(expected);
        if (input.type === 'uint64') expected = Number(expected as bigint > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : expected);
        expect(ours[input.name!]).toEqual(expected);
      }
      expect(ours).toMatchObject({ blockNumber: 7, transactionIndex: 2, logIndex: 5, transactionHash: '0xabc', venue: VENUE.toLowerCase() });
    }), { numRuns: 100 });
  });

  const filled = venueAbi.find((e) => e.name === 'Filled')!;
  const good = () => encode(filled, { marketId: toBytes32Name('ETH-PERP'), owner: VENUE, subaccount: 1, sizeDelta: -5n, price: 10n, fee: 0n });

  it('turns a short, long or non-hex data field into Malformed', () => {
    for (const data of [good().data.slice(0, -64), `${good().data}00`, `${good().data.slice(0, -2)}zz`]) {
      expect(decodeVenueLog({ ...good(), data })).toMatchObject({ type: 'Malformed', reason: expect.stringMatching(/Filled needs 96 bytes/) });
    }
  });

  it('turns a missing topic, an unknown topic or an out-of-range word into Malformed', () => {
    const log = good();
    expect(decodeVenueLog({ ...log, topics: log.topics.slice(0, 3) })).toMatchObject({ type: 'Malformed', reason: expect.stringMatching(/4 topics, got 3/) });
    expect(decodeVenueLog({ ...log, topics: [`0x${'11'.repeat(32)}`] })).toMatchObject({ type: 'Malformed', reason: expect.stringMatching(/unknown event topic/) });
    expect(decodeVenueLog({ ...log, topics: [] })).toMatchObject({ type: 'Malformed' });
    const badSub = [...log.topics];
    badSub[3] = `0x${'ff'.repeat(32)}`; // uint32 subaccount with high bits set
    expect(decodeVenueLog({ ...log, topics: badSub })).toMatchObject({ type: 'Malformed', reason: expect.stringMatching(/subaccount exceeds uint32/) });
    const badOwner = [...log.topics];
    badOwner[2] = `0x${'01'.repeat(32)}`;
    expect(decodeVenueLog({ ...log, topics: badOwner })).toMatchObject({ type: 'Malformed', reason: expect.stringMatching(/owner is not an address/) });
    for (const topic of [`0x${'zz'.repeat(32)}`, `0x${'00'.repeat(31)}`, '0x']) {
      const badTopic = [...log.topics];
      badTopic[1] = topic;
      expect(decodeVenueLog({ ...log, topics: badTopic })).toMatchObject({ type: 'Malformed', reason: expect.stringMatching(/marketId is not a 32-byte word/) });
    }
  });

  it('lists the topic0 of all eight events for the log filter', () => {
    expect(venueTopics).toHaveLength(8);
  });
});
