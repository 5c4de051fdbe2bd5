import type pg from 'pg';
import { Ingester } from '../chain/ingester.js';
import { Rpc } from '../chain/rpc.js';
import { requireChain, type Config } from '../config/index.js';
import type { Logger } from '../log/index.js';

/** An ingester configured from the environment (SPEC section 6). */
export function ingesterFromConfig(config: Config, pool: pg.Pool, logger: Logger) {
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
    batchBlocks: config.batchBlocks,
    pollIntervalMs: config.pollIntervalMs,
    params: { oracleStalenessSeconds: config.oracleStalenessSeconds, riskFreeRate: config.riskFreeRate },
  });
  return { rpc, ingester };
}
