// The decoding ABI (written from SPEC section 2) must match what contracts/Venue.sol
// really emits, and the committed artifacts must match a fresh compile of the sources.
import { readFileSync } from 'node:fs';
import { toEventSelector } from 'viem';
import { ARTIFACTS_FILE, COMPILE_COMMAND, compileContracts, renderArtifacts, type AbiEntry, type CompiledContract } from '../../../scripts/compile-contracts.js';
import { fromBytes32Name, toBytes32Name } from '../../../src/chain/names.js';
import { venueAbi, venueEventNames } from '../../../src/chain/venue-abi.js';

interface EventShape { name: string; inputs: { name: string; type: string; indexed: boolean }[] }

/** Only what identifies an event on chain and names its fields; sorted by event name. */
function eventShapes(abi: readonly { type: string; name?: string; inputs?: readonly { name?: string; type: string; indexed?: boolean }[] }[]): EventShape[] {
  return abi
    .filter((entry) => entry.type === 'event')
    .map((entry) => ({
      name: entry.name ?? '',
      inputs: (entry.inputs ?? []).map((p) => ({ name: p.name ?? '', type: p.type, indexed: p.indexed === true })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

let compiled: CompiledContract[];
const contract = (name: string): CompiledContract => {
  const found = compiled.find((c) => c.name === name);
  if (!found) throw new Error(`${name} not compiled`);
  return found;
};

beforeAll(() => {
  compiled = compileContracts();
});

describe('venueAbi', () => {
  it('is exactly the events Venue.sol declares: names, input names, types, indexed flags, order', () => {
    const fromSolidity = eventShapes(contract('Venue').abi);
    expect(fromSolidity).toEqual(eventShapes(venueAbi));
    expect(fromSolidity).toHaveLength(8);
  });

  it('has the same topic0 for every event as the compiled contract', () => {
    const solEvents = contract('Venue').abi.filter((e): e is AbiEntry & { type: 'event' } => e.type === 'event');
    for (const event of venueAbi) {
      const sol = solEvents.find((e) => e.name === event.name);
      expect(sol).toBeDefined();
      expect(toEventSelector(sol as Parameters<typeof toEventSelector>[0])).toBe(toEventSelector(event));
    }
  });

  it('lists venueEventNames in ABI order', () => {
    expect(venueAbi.map((e) => e.name)).toEqual([...venueEventNames]);
  });

  it('MalformedEmitter declares no event of its own', () => {
    expect(contract('MalformedEmitter').abi.filter((e) => e.type === 'event')).toEqual([]);
  });
});

describe('src/chain/artifacts.ts', () => {
  it(`equals a fresh compile (if not: run \`${COMPILE_COMMAND}\`)`, () => {
    expect(readFileSync(ARTIFACTS_FILE, 'utf8')).toBe(renderArtifacts(compiled));
  });

  it('is deterministic', () => {
    expect(renderArtifacts(compileContracts())).toBe(renderArtifacts(compiled));
  });
});

describe('bytes32 names', () => {
  it('encodes ASCII right-padded with zero bytes', () => {
    expect(toBytes32Name('ETH')).toBe(`0x455448${'0'.repeat(58)}`);
    expect(toBytes32Name('ETH-PERP')).toBe(`0x4554482d50455250${'0'.repeat(48)}`);
  });

  it.each(['ETH-PERP', 'ETH', 'BTC-31DEC26-100000-C', 'X'.repeat(32), ''])('round trips %j', (name) => {
    expect(fromBytes32Name(toBytes32Name(name))).toBe(name);
  });

  it('accepts upper-case hex from anywhere', () => {
    expect(fromBytes32Name(toBytes32Name('ETH').toUpperCase().replace('0X', '0x'))).toBe('ETH');
  });

  it('refuses names it cannot encode', () => {
    expect(() => toBytes32Name('X'.repeat(33))).toThrow(RangeError);
    expect(() => toBytes32Name('ÉTH')).toThrow(RangeError);
    expect(() => toBytes32Name('ETH\n')).toThrow(RangeError);
  });

  it('returns the hex itself for bytes that are not a padded ASCII name (never throws on chain data)', () => {
    const inner = `0x41004200${'0'.repeat(56)}`; // zero byte inside the name
    const high = `0xff${'0'.repeat(62)}`; // non-ASCII
    const upper = `0xFF${'0'.repeat(62)}`;
    expect(fromBytes32Name(inner)).toBe(inner);
    expect(fromBytes32Name(high)).toBe(high);
    expect(fromBytes32Name(upper)).toBe(high);
  });

  it('throws on a value that is not 32 bytes of hex', () => {
    expect(() => fromBytes32Name('0x4554')).toThrow(TypeError);
    expect(() => fromBytes32Name('ETH')).toThrow(TypeError);
  });
});
