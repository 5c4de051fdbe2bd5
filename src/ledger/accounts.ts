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

/** Largest magnitude NUMERIC(78,18) holds, in 1e-18 units. */
const LIMIT = 10n ** 78n;

/** Whether every value fits the database's NUMERIC(78,18). */
export function fitsStorage(...values: Fixed[]): boolean {
  return values.every((value) => abs(value) < LIMIT);
}
