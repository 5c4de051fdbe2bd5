export { applyBlock, commitBlock, DEFAULT_LEDGER_PARAMS, type LedgerParams } from './apply-block.js';
export * from './changes.js';
export * from './events.js';
export * from './state.js';
export { ANOMALY_KINDS, type AnomalyKind } from './anomalies.js';
