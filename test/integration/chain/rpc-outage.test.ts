// Issue 3: RPC faults. The node stops mid-run and restarts (anvil --state keeps the
// chain); ingestion says so once, resumes by itself and ends in the right state. With
// several RPC URLs, a dead one is failed over.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startAnvil } from '../../../src/devnet/anvil.js';
import { Workload, traderAddresses } from '../../../src/devnet/workload.js';
import { expectEqualToFreshIngest, startDevnet, type Devnet } from '../../support/devnet.js';
import { capturingLogger } from '../../support/logger.js';

async function head(net: Devnet): Promise<number> {
  return Number(await net.deployment.publicClient.getBlockNumber({ cacheTime: 0 }));
}

describe('RPC outages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pts-anvil-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes after the node stops mid-run and comes back', async () => {
    const state = join(dir, 'chain.json');
    const net = await startDevnet({ anvil: { state } });
    try {
      const logger = capturingLogger();
      const { lines } = logger;
      const now = Number((await net.deployment.publicClient.getBlock()).timestamp);
      const workload = new Workload(net.venue, { traders: traderAddresses(20), eventsPerBlock: 20, startTime: now });
      for (const calls of workload.setup()) await net.venue.send(calls);
      for (let i = 0; i < 30; i++) await net.venue.send(workload.block());
      const following = net.follow({ logger });
      await following.reached(await head(net));

      await net.anvil.stop();
      await new Promise((r) => setTimeout(r, 1500)); // the ingester keeps failing meanwhile
      net.anvil = await startAnvil({ port: net.anvil.port, state });
      for (let i = 0; i < 30; i++) await net.venue.send(workload.block());
      const tip = await head(net);
      await following.reached(tip);

      const warnings = lines.filter((l) => l.message.startsWith('RPC unavailable'));
      expect(warnings).toHaveLength(1); // one line per outage, not one per retry
      expect(lines.some((l) => l.message === 'RPC reachable again')).toBe(true);
      await expectEqualToFreshIngest(net, tip);
    } finally {
      await net.close();
    }
  }, 120_000);

  it('fails over to the next RPC URL when one is down', async () => {
    const net = await startDevnet();
    try {
      const logger = capturingLogger();
      const { lines } = logger;
      const dead = `http://127.0.0.1:${await freePort()}`;
      const c = net.venue.call;
      await net.venue.send([c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 3600, maxFundingRate: '0.01' }), c.price('ETH', 2000)]);
      const following = net.follow({ rpcUrls: [dead, net.anvil.rpcUrl], logger });
      await following.reached(await head(net));
      expect(lines.filter((l) => l.message.startsWith('RPC unavailable'))).toHaveLength(1);
      expect(await net.db.prisma.market.count()).toBe(1);
    } finally {
      await net.close();
    }
  });
});
