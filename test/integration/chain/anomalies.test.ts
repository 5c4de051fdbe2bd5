// Issue 3: bad venue logs on a real chain are recorded and skipped (or applied, for an
// over-withdrawal), and ingestion goes on.
import { MalformedEmitterArtifact } from '../../../src/chain/artifacts.js';
import { toBytes32Name } from '../../../src/chain/names.js';
import { deployMalformedEmitter } from '../../../src/devnet/deploy.js';
import { startDevnet, TRADERS, type Devnet } from '../../support/devnet.js';

const [ALICE] = TRADERS as [`0x${string}`];

describe('anomalies on a real chain', () => {
  let net: Devnet;
  beforeAll(async () => {
    net = await startDevnet();
  });
  afterAll(async () => {
    await net?.close();
  });

  it('records an unknown market, a malformed log and a zero price, applies an over-withdrawal, and keeps going', async () => {
    const { venue, db, deployment } = net;
    const c = venue.call;
    const emitter = await deployMalformedEmitter(deployment);
    const following = net.follow({ venues: [deployment.address.toLowerCase(), emitter.toLowerCase()] });
    await venue.send([
      c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 3600, maxFundingRate: '0.01' }),
      c.price('ETH', 2000),
      c.depositFor(ALICE, 0, 100),
    ]);
    await venue.send([c.fill('SOL-PERP', ALICE, 0, 1, 20), c.price('ETH', 0)]);
    const hash = await deployment.walletClient.writeContract({
      address: emitter, abi: MalformedEmitterArtifact.abi, functionName: 'emitShortFill',
      args: [toBytes32Name('ETH-PERP'), ALICE, 0, 1n],
    });
    await deployment.publicClient.waitForTransactionReceipt({ hash });
    const owner = deployment.owner.address.toLowerCase();
    const last = await venue.send([c.withdraw(0, 5), c.fill('ETH-PERP', ALICE, 0, 1, 2000)]);
    await following.reached(last.blockNumber);

    const anomalies = await db.prisma.anomaly.findMany({ orderBy: [{ blockNumber: 'asc' }, { seq: 'asc' }] });
    expect(anomalies.map((a) => [a.kind, a.venue])).toEqual([
      ['UNKNOWN_MARKET', deployment.address.toLowerCase()],
      ['ZERO_PRICE', deployment.address.toLowerCase()],
      ['MALFORMED_LOG', emitter.toLowerCase()],
      ['NEGATIVE_COLLATERAL', deployment.address.toLowerCase()],
    ]);
    expect(anomalies[2]!.message).toMatch(/Filled needs 96 bytes of data, got 32/);
    expect(anomalies[2]!.transactionHash).toBe(hash.toLowerCase());
    // Skipped: no SOL-PERP fill, the index is still 2000. Applied: the owner is 5 short.
    expect(await db.prisma.fill.count({ where: { marketId: 'SOL-PERP' } })).toBe(0);
    expect((await db.prisma.underlying.findUniqueOrThrow({ where: { id: 'ETH' } })).indexPrice!.toFixed(0)).toBe('2000');
    const ownerAccount = await db.prisma.account.findUniqueOrThrow({ where: { id: `${owner}:0` } });
    expect(ownerAccount.collateral.toFixed(0)).toBe('-5');
    expect(ownerAccount.marginState).toBe('BANKRUPT');
    // And the chain went on: the last fill is in.
    expect(await db.prisma.fill.count({ where: { marketId: 'ETH-PERP', accountId: `${ALICE}:0` } })).toBe(1);
  });
});
