import type pg from 'pg';
import { Ingester } from '../chain/ingester.js';
import { Rpc } from '../chain/rpc.js';
import { requireChain, type Config } from '../config/index.js';
import type { Logger } from '../log/index.js';

export interface RunningIngester {
  /** Rejects when the ingester stops on its own (what retrying cannot fix); never resolves. */
  failure: Promise<never>;
  /** Stops it after its transaction in flight, closing its RPC connections. */
  stop(): Promise<void>;
}

/** Starts an ingester configured from the environment (SPEC section 6). */
export function runIngester(config: Config, pool: pg.Pool, logger: Logger): RunningIngester {
  requireChain(config);
  const rpc = new Rpc(config.rpcUrls, logger.child({ component: 'rpc' }));
  const ingester = new Ingester({
    rpc,
    pool,
    logger: logger.child({ component: 'ingester' }),
    venues: config.venueAddresses,
    startBlock: config.startBlock,
    confirmations: config.confirmations,
    reorgDepth: config.reorgDepth,
    historyBlocks: config.historyBlocks,
    batchBlocks: config.batchBlocks,
    pollIntervalMs: config.pollIntervalMs,
    params: { oracleStalenessSeconds: config.oracleStalenessSeconds, riskFreeRate: config.riskFreeRate },
  });
  const running = ingester.run();
  return {
    // run() only returns once stopped; until then only its failure matters.
    failure: running.then(() => new Promise<never>(() => undefined)),
    async stop() {
      await ingester.stop();
      // A request retrying through an RPC outage would hold the ingester until the node
      // came back: closing the RPC ends it. The write in flight goes to the database and
      // finishes.
      await rpc.close();
      await running.catch(() => undefined);
    },
  };
}
