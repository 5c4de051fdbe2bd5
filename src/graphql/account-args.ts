/**
 * The `owner` and `subaccount` arguments that pick accounts (Query.account, the `owner`
 * and `subaccount` filters of lists, Subscription.marginStateChanged), checked. A
 * malformed one is a mistake to report: answering null or an empty page would look like
 * "no such account" and hide the typo.
 */
import { badUserInput } from './pagination.js';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const MAX_SUBACCOUNT = 0xffffffff; // uint32 in the venue's events (SPEC section 2)

/** The owner as accounts store it (lower case); throws BAD_USER_INPUT unless it is an address. */
export function ownerArgument(owner: string): string {
  if (!ADDRESS.test(owner)) {
    throw badUserInput(`owner must be a 0x-prefixed 20-byte hex address, got ${JSON.stringify(owner)}`, 'owner');
  }
  return owner.toLowerCase();
}

/** The subaccount; throws BAD_USER_INPUT unless it is a uint32. */
export function subaccountArgument(subaccount: number): number {
  if (!Number.isSafeInteger(subaccount) || subaccount < 0 || subaccount > MAX_SUBACCOUNT) {
    throw badUserInput(`subaccount must be a uint32 (0 to ${MAX_SUBACCOUNT}), got ${subaccount}`, 'subaccount');
  }
  return subaccount;
}
