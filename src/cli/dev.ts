import { openDatabase } from '../db/database.js';
import { LedgerStore } from '../db/store/ledger-store.js';
import { startAnvil } from '../devnet/anvil.js';
import { deployVenue } from '../devnet/deploy.js';
import { startDemo } from '../devnet/demo.js';
import { VenueDriver } from '../devnet/venue-driver.js';
import { runIngester } from './ingester.js';
import type { CommandContext } from './commands.js';
import { untilSignal } from './signals.js';

/**
 * `pts dev` (= `npm start`): everything on one machine with no setup. PostgreSQL is
 * embedded under PTS_DATA_DIR unless DATABASE_URL is set; the chain is a new anvil
 * devnet mining a block a second, so the ledger tables start empty each run. Its API has
 * introspection and the explorer on, the risk page at `/`, and CORS open (src/config's
 * per-command defaults).
 */
export async function dev({ config, logger }: CommandContext): Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error) => logger.error('shutdown step failed', { error }));
  };
  try {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pool: { max: 20, applicationName: 'pts dev' } });
    stops.push(() => database.close());
    await new LedgerStore(database.pool).reset();
    logger.info('database ready (ledger tables emptied for the new devnet)', { embedded: !config.databaseUrl, dataDir: config.dataDir });

    const anvil = await startAnvil({ blockTime: 1 });
    stops.push(() => anvil.stop());
    const deployment = await deployVenue(anvil.rpcUrl);
    logger.info('devnet ready', { rpcUrl: anvil.rpcUrl, wsUrl: anvil.wsUrl, venue: deployment.address });

    const { startServer } = await import('../graphql/server.js');
    const server = await startServer({ config, database, logger: logger.child({ component: 'api' }) });
    stops.push(() => server.stop());

    const ingester = runIngester(
      {
        ...config,
        rpcUrls: [anvil.rpcUrl, anvil.wsUrl],
        venueAddresses: [deployment.address.toLowerCase() as `0x${string}`],
        startBlock: Number(deployment.blockNumber),
        confirmations: 0,
        pollIntervalMs: 250,
      },
      database.pool,
      logger,
    );
    stops.push(() => ingester.stop());

    const stopDemo = await startDemo({ venue: new VenueDriver(deployment), rpcUrl: anvil.rpcUrl, pool: database.pool, logger: logger.child({ component: 'demo' }) });
    stops.push(stopDemo);

    // The explorer and the risk page are on here unless PTS_INTROSPECTION=false or
    // PTS_RISK_PAGE=false (the config's per-command defaults).
    const explorer = config.introspection ? `; open it in a browser for the explorer (GraphiQL)` : '';
    const riskPage = config.riskPage ? `; the live risk page is at ${new URL('/', server.url).href}` : '';
    logger.info(`pts dev is running: GraphQL (HTTP and WebSocket) at ${server.url}${explorer}${riskPage}`, {
      graphql: server.url,
      rpc: anvil.rpcUrl,
      ...(config.riskPage ? { riskPage: new URL('/', server.url).href } : {}),
    });
    await Promise.race([untilSignal(logger), ingester.failure]);
  } finally {
    await stopAll();
  }
}
