import { abs, type Fixed } from '../fixed/index.js';
import type { Draft } from './draft.js';
import { accountId } from './events.js';
import type { Account } from './state.js';

/** The account an event names, created HEALTHY with no collateral on first sight (SPEC section 4). */
export function accountFor(draft: Draft, owner: string, subaccount: number): Account {
  const id = accountId(owner, subaccount);
  return draft.account(id) ?? {
    id,
    owner: owner.toLowerCase(),
    subaccount,
    collateral: 0n,
    marginState: 'HEALTHY',
    createdBlock: draft.block.number,
    updatedBlock: draft.block.number,
  };
}

/** The magnitude NUMERIC(78,18) stays below, in 1e-18 units (60 integer digits). */
export const STORAGE_LIMIT = 10n ** 78n;
/** The largest magnitude NUMERIC(78,18) holds: 999...9.999999999999999999. */
export const STORAGE_MAX: Fixed = STORAGE_LIMIT - 1n;

/** Whether every value fits the database's NUMERIC(78,18). */
export function fitsStorage(...values: Fixed[]): boolean {
  return values.every((value) => abs(value) < STORAGE_LIMIT);
}

/** The value, saturated at +-STORAGE_MAX: for derived amounts that are recorded, never applied. */
export function clampStorage(value: Fixed): Fixed {
  return value > STORAGE_MAX ? STORAGE_MAX : value < -STORAGE_MAX ? -STORAGE_MAX : value;
}
