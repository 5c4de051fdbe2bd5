/**
 * Kinds of ingestion anomaly (SPEC section 2). "Skipped" events leave the state as if the
 * log did not exist; "applied" ones change it as the chain says and are recorded anyway.
 */
export const ANOMALY_KINDS = {
  /** Skipped: a venue log that does not decode as an ABI v1 event. */
  MALFORMED_LOG: 'skipped',
  /** Skipped: an event naming a market that was never listed. */
  UNKNOWN_MARKET: 'skipped',
  /** Skipped: a fill, liquidation or price report at price 0. */
  ZERO_PRICE: 'skipped',
  /** Skipped: a fill or liquidation on an option at or after its expiry. */
  EXPIRED_OPTION_FILL: 'skipped',
  /** Skipped: a fill or liquidation of size 0 (it would move the funding premium for nothing). */
  ZERO_SIZE_FILL: 'skipped',
  /** Skipped: a second listing of a market id. */
  DUPLICATE_MARKET: 'skipped',
  /** Skipped: a listing with an unknown kind, or an option without strike or expiry. */
  INVALID_MARKET: 'skipped',
  /**
   * Skipped: a value that would not fit NUMERIC(78,18) is never stored (the write would fail
   * and stop ingestion). An event is skipped; an expiry payout is not paid (the position
   * closes); a funding premium sample is held as none; a funding step (cumulative index, or
   * an open position's accrued funding) is not applied, its periods settling at rate 0; a
   * margin transition is recorded with its amounts saturated at +-(1e60 - 1e-18), the exact
   * ones in the anomaly's data.
   */
  VALUE_OUT_OF_RANGE: 'skipped',
  /** Applied: a withdrawal that leaves collateral negative (the money did leave). */
  NEGATIVE_COLLATERAL: 'applied',
  /** Applied: a perpetual listed with funding interval 0 trades without funding. */
  FUNDING_DISABLED: 'applied',
  /** Deferred: an option expired while its underlying had no index; it settles at the first index. */
  SETTLEMENT_DEFERRED: 'deferred',
} as const;

export type AnomalyKind = keyof typeof ANOMALY_KINDS;
