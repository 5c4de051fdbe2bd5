// The reference venue on a real anvil: every function once, its logs decoded with the
// tracker's venueAbi (SPEC section 2), every field checked, indexed ones included.
import {
  createPublicClient, createWalletClient, decodeEventLog, encodeFunctionData, http, parseEventLogs, toEventSelector, webSocket,
  type Address, type Hash, type Log,
} from 'viem';
import { MalformedEmitterArtifact, VenueArtifact } from '../../../src/chain/artifacts.js';
import { fromBytes32Name, toBytes32Name } from '../../../src/chain/names.js';
import { venueAbi } from '../../../src/chain/venue-abi.js';
import { startAnvil, type Anvil } from '../../../src/devnet/anvil.js';
import { anvilAccount, deployMalformedEmitter, deployVenue, type VenueDeployment } from '../../../src/devnet/deploy.js';

const E18 = 10n ** 18n;
const ETH = toBytes32Name('ETH');
const ETH_PERP = toBytes32Name('ETH-PERP');
const ETH_CALL = toBytes32Name('ETH-3000-C');
const lower = (a: string): string => a.toLowerCase();

let anvil: Anvil;
let venue: VenueDeployment;
let malformed: Address;
const [alice, bob, carol] = [anvilAccount(1), anvilAccount(2), anvilAccount(3)];

beforeAll(async () => {
  const started = performance.now();
  anvil = await startAnvil();
  venue = await deployVenue(anvil.rpcUrl);
  // Reported in the suite output: the cost every devnet test pays once.
  console.log(`anvil start + venue deploy: ${Math.round(performance.now() - started)} ms`);
  malformed = await deployMalformedEmitter(venue);
});

afterAll(async () => {
  await anvil?.stop();
});

/** A wallet client signing as one of anvil's default accounts. */
const walletOf = (account: ReturnType<typeof anvilAccount>) =>
  createWalletClient({ chain: venue.chain, transport: http(anvil.rpcUrl), account });

/** Waits for the transaction; returns its logs (all from the venue) decoded strictly. */
async function mined(hash: Hash) {
  const receipt = await venue.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  for (const log of receipt.logs) expect(lower(log.address)).toBe(lower(venue.address));
  const decoded = parseEventLogs({ abi: venueAbi, logs: receipt.logs, strict: true });
  expect(decoded).toHaveLength(receipt.logs.length); // nothing failed to decode
  return decoded;
}

const write = (functionName: string, args: readonly unknown[]) =>
  venue.walletClient.writeContract({ address: venue.address, abi: VenueArtifact.abi, functionName, args } as never);

describe('startAnvil', () => {
  it('serves the same chain over WebSocket', async () => {
    const ws = createPublicClient({ transport: webSocket(anvil.wsUrl) });
    try {
      expect(await ws.getChainId()).toBe(31337);
      // cacheTime 0: viem caches the block number for its polling interval (4 s), and beforeAll mined since.
      expect(await ws.getBlockNumber({ cacheTime: 0 })).toBe(await venue.publicClient.getBlockNumber({ cacheTime: 0 }));
    } finally {
      await ws.transport.getRpcClient().then((client) => client.close());
    }
  });

  it('fails fast, with the reason, when the port is taken', async () => {
    await expect(startAnvil({ port: anvil.port })).rejects.toThrow(/EADDRINUSE/);
  });
});

it('is owned by anvil account 0', async () => {
  const owner = await venue.publicClient.readContract({ address: venue.address, abi: VenueArtifact.abi, functionName: 'owner' });
  expect(owner).toBe(venue.owner.address);
  expect(lower(owner)).toBe('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');
});

it('listMarket emits MarketListed', async () => {
  const [log, ...rest] = await mined(await write('listMarket', [ETH_CALL, ETH, 1, 3000n * E18, 1_900_000_000n, E18 / 10n, E18 / 20n, 0n, 0n]));
  expect(rest).toEqual([]);
  expect(log!.eventName).toBe('MarketListed');
  expect(log!.args).toEqual({
    marketId: ETH_CALL, underlying: ETH, kind: 1, strike: 3000n * E18, expiry: 1_900_000_000n,
    initialMarginFraction: E18 / 10n, maintenanceMarginFraction: E18 / 20n, fundingInterval: 0n, maxFundingRate: 0n,
  });
  expect(log!.topics).toEqual([toEventSelector(venueAbi[0]), ETH_CALL, ETH]);
  expect(fromBytes32Name(log!.topics[1]!)).toBe('ETH-3000-C');
});

it('updateMarginFractions emits MarginFractionsUpdated', async () => {
  const [log] = await mined(await write('updateMarginFractions', [ETH_PERP, E18 / 5n, E18 / 10n]));
  expect(log).toMatchObject({
    eventName: 'MarginFractionsUpdated',
    args: { marketId: ETH_PERP, initialMarginFraction: E18 / 5n, maintenanceMarginFraction: E18 / 10n },
  });
});

it('reportPrice: the source is the sender, the owner or an authorised reporter only', async () => {
  const [byOwner] = await mined(await write('reportPrice', [ETH, 3000n * E18]));
  expect(byOwner).toMatchObject({ eventName: 'PriceReported', args: { underlying: ETH, source: venue.owner.address, price: 3000n * E18 } });

  const asCarol = { address: venue.address, abi: VenueArtifact.abi, functionName: 'reportPrice', args: [ETH, 3010n * E18] } as const;
  await expect(walletOf(carol).writeContract(asCarol)).rejects.toThrow(/NotReporter/);

  await mined(await write('setReporter', [carol.address, true]));
  const [byCarol] = await mined(await walletOf(carol).writeContract(asCarol));
  expect(byCarol).toMatchObject({ eventName: 'PriceReported', args: { underlying: ETH, source: carol.address, price: 3010n * E18 } });

  await mined(await write('setReporter', [carol.address, false]));
  await expect(walletOf(carol).writeContract(asCarol)).rejects.toThrow(/NotReporter/);
});

it('reportVolatility emits VolatilityReported', async () => {
  const [log] = await mined(await write('reportVolatility', [ETH_CALL, (E18 * 65n) / 100n]));
  expect(log).toMatchObject({ eventName: 'VolatilityReported', args: { marketId: ETH_CALL, impliedVolatility: (E18 * 65n) / 100n } });
});

it('settleTrade emits the buyer fill (+size) then the seller fill (-size)', async () => {
  const logs = await mined(await write('settleTrade', [ETH_PERP, alice.address, 1, bob.address, 7, 2n * E18, 3001n * E18, 3n * E18, 2n * E18]));
  expect(logs.map((l) => [l.eventName, l.logIndex])).toEqual([['Filled', 0], ['Filled', 1]]);
  expect(logs[0]!.args).toEqual({ marketId: ETH_PERP, owner: alice.address, subaccount: 1, sizeDelta: 2n * E18, price: 3001n * E18, fee: 3n * E18 });
  expect(logs[1]!.args).toEqual({ marketId: ETH_PERP, owner: bob.address, subaccount: 7, sizeDelta: -2n * E18, price: 3001n * E18, fee: 2n * E18 });
  // The three indexed fields live in the topics (uint32 left-padded), as SPEC says.
  expect(logs[1]!.topics[3]).toBe(`0x${'7'.padStart(64, '0')}`);
});

it('settleTrade refuses a size that does not fit int256', async () => {
  await expect(write('settleTrade', [ETH_PERP, alice.address, 0, bob.address, 0, 2n ** 255n, E18, 0n, 0n])).rejects.toThrow(/SizeTooLarge/);
});

it('liquidate emits Liquidated for the victim then the liquidator fill on the other side', async () => {
  const logs = await mined(await write('liquidate', [ETH_PERP, alice.address, 1, carol.address, 2, -2n * E18, 2500n * E18, 50n * E18]));
  expect(logs.map((l) => l.eventName)).toEqual(['Liquidated', 'Filled']);
  expect(logs[0]!.args).toEqual({
    marketId: ETH_PERP, owner: alice.address, subaccount: 1, liquidator: carol.address,
    sizeDelta: -2n * E18, price: 2500n * E18, penalty: 50n * E18,
  });
  expect(logs[1]!.args).toEqual({ marketId: ETH_PERP, owner: carol.address, subaccount: 2, sizeDelta: 2n * E18, price: 2500n * E18, fee: 0n });
});

it('emitFill emits one raw Filled, for any market (no validation)', async () => {
  const [log] = await mined(await write('emitFill', [toBytes32Name('NOPE'), bob.address, 4294967295, -1n, 0n, 1n]));
  expect(log!.args).toEqual({ marketId: toBytes32Name('NOPE'), owner: bob.address, subaccount: 4294967295, sizeDelta: -1n, price: 0n, fee: 1n });
});

it('deposit and withdraw are for the sender and unchecked; depositFor is the owner funding anyone', async () => {
  const wallet = walletOf(alice);
  const call = (functionName: 'deposit' | 'withdraw', args: readonly [number, bigint]) =>
    wallet.writeContract({ address: venue.address, abi: VenueArtifact.abi, functionName, args });

  const [dep] = await mined(await call('deposit', [3, 1000n * E18]));
  expect(dep).toMatchObject({ eventName: 'Deposited', args: { owner: alice.address, subaccount: 3, amount: 1000n * E18 } });
  const [wd] = await mined(await call('withdraw', [3, 5000n * E18])); // more than deposited
  expect(wd).toMatchObject({ eventName: 'Withdrawn', args: { owner: alice.address, subaccount: 3, amount: 5000n * E18 } });
  const [funded] = await mined(await write('depositFor', [bob.address, 9, 42n * E18]));
  expect(funded).toMatchObject({ eventName: 'Deposited', args: { owner: bob.address, subaccount: 9, amount: 42n * E18 } });
  await expect(wallet.writeContract({ address: venue.address, abi: VenueArtifact.abi, functionName: 'depositFor', args: [alice.address, 0, 1n] }))
    .rejects.toThrow(/NotOwner/);
});

it('owner-only functions refuse anyone else', async () => {
  const wallet = walletOf(alice);
  const calls = [
    { functionName: 'listMarket', args: [ETH_PERP, ETH, 0, 0n, 0n, 1n, 1n, 3600n, 1n] },
    { functionName: 'updateMarginFractions', args: [ETH_PERP, 1n, 1n] },
    { functionName: 'reportVolatility', args: [ETH_CALL, 1n] },
    { functionName: 'settleTrade', args: [ETH_PERP, alice.address, 0, bob.address, 0, 1n, 1n, 0n, 0n] },
    { functionName: 'liquidate', args: [ETH_PERP, alice.address, 0, bob.address, 0, 1n, 1n, 0n] },
    { functionName: 'emitFill', args: [ETH_PERP, alice.address, 0, 1n, 1n, 0n] },
    { functionName: 'setReporter', args: [alice.address, true] },
    { functionName: 'transferOwnership', args: [alice.address] },
    { functionName: 'batch', args: [[]] },
  ];
  for (const call of calls) {
    await expect(wallet.writeContract({ address: venue.address, abi: VenueArtifact.abi, ...call } as never)).rejects.toThrow(/NotOwner/);
  }
});

it('transferOwnership hands every owner right over', async () => {
  await mined(await write('transferOwnership', [bob.address]));
  await expect(write('emitFill', [ETH_PERP, alice.address, 0, 1n, 1n, 0n])).rejects.toThrow(/NotOwner/);
  const asBob = walletOf(bob);
  const [log] = await mined(await asBob.writeContract({ address: venue.address, abi: VenueArtifact.abi, functionName: 'reportPrice', args: [ETH, 1n] }));
  expect(log).toMatchObject({ eventName: 'PriceReported', args: { source: bob.address } });
  await expect(asBob.writeContract({ address: venue.address, abi: VenueArtifact.abi, functionName: 'transferOwnership', args: ['0x0000000000000000000000000000000000000000'] }))
    .rejects.toThrow(/ZeroAddress/);
  await mined(await asBob.writeContract({ address: venue.address, abi: VenueArtifact.abi, functionName: 'transferOwnership', args: [venue.owner.address] }));
});

it('batch emits many events in one transaction, in call order', async () => {
  const fill = (i: number) => encodeFunctionData({
    abi: VenueArtifact.abi, functionName: 'emitFill',
    args: [ETH_PERP, i % 2 ? alice.address : bob.address, i, BigInt(i + 1) * E18, 3000n * E18 + BigInt(i), BigInt(i)],
  });
  const n = 300;
  const calls = [
    ...Array.from({ length: n }, (_, i) => fill(i)),
    encodeFunctionData({ abi: VenueArtifact.abi, functionName: 'settleTrade', args: [ETH_PERP, alice.address, 0, bob.address, 0, E18, E18, 0n, 0n] }),
    encodeFunctionData({ abi: VenueArtifact.abi, functionName: 'reportPrice', args: [ETH, 2999n * E18] }),
  ];
  const logs = await mined(await write('batch', [calls]));
  expect(logs).toHaveLength(n + 3);
  logs.slice(0, n).forEach((log, i) => {
    expect(log.logIndex).toBe(i);
    expect(log.args).toEqual({
      marketId: ETH_PERP, owner: i % 2 ? alice.address : bob.address, subaccount: i,
      sizeDelta: BigInt(i + 1) * E18, price: 3000n * E18 + BigInt(i), fee: BigInt(i),
    });
  });
  expect(logs.slice(n).map((l) => l.eventName)).toEqual(['Filled', 'Filled', 'PriceReported']);
  // delegatecall keeps msg.sender: the owner is the price source.
  expect(logs[n + 2]!.args).toEqual({ underlying: ETH, source: venue.owner.address, price: 2999n * E18 });
});

it('batch is all or nothing: a failing call reverts the whole transaction with its error', async () => {
  const calls = [
    encodeFunctionData({ abi: VenueArtifact.abi, functionName: 'emitFill', args: [ETH_PERP, alice.address, 0, 1n, 1n, 0n] }),
    encodeFunctionData({ abi: VenueArtifact.abi, functionName: 'transferOwnership', args: ['0x0000000000000000000000000000000000000000'] }),
  ];
  await expect(write('batch', [calls])).rejects.toThrow(/ZeroAddress/);
});

describe('MalformedEmitter', () => {
  const FILLED = toEventSelector(venueAbi.find((e) => e.name === 'Filled')!);

  async function rawLogs(hash: Hash): Promise<Log[]> {
    const receipt = await venue.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    return receipt.logs;
  }

  it('emits a Filled-looking log whose data is too short to decode', async () => {
    const hash = await venue.walletClient.writeContract({
      address: malformed, abi: MalformedEmitterArtifact.abi, functionName: 'emitShortFill', args: [ETH_PERP, alice.address, 5, 7n],
    });
    const [log, ...rest] = await rawLogs(hash);
    expect(rest).toEqual([]);
    expect(log!.topics).toEqual([FILLED, ETH_PERP, `0x${lower(alice.address).slice(2).padStart(64, '0')}`, `0x${'5'.padStart(64, '0')}`]);
    expect(log!.data).toBe(`0x${'7'.padStart(64, '0')}`);
    expect(() => decodeEventLog({ abi: venueAbi, topics: log!.topics, data: log!.data })).toThrow();
    expect(parseEventLogs({ abi: venueAbi, logs: [log!] })).toEqual([]);
  });

  it('emits any raw log, e.g. a Filled topic0 with a missing indexed topic', async () => {
    const data = `0x${'00'.repeat(96)}` as const;
    const hash = await venue.walletClient.writeContract({
      address: malformed, abi: MalformedEmitterArtifact.abi, functionName: 'emitRaw', args: [[FILLED, ETH_PERP, ETH_PERP], data],
    });
    const [log] = await rawLogs(hash);
    expect(log!.topics).toEqual([FILLED, ETH_PERP, ETH_PERP]);
    expect(log!.data).toBe(data);
    expect(() => decodeEventLog({ abi: venueAbi, topics: log!.topics, data: log!.data })).toThrow();
  });
});
