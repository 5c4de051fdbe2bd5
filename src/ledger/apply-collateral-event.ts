import { formatFixed } from '../fixed/index.js';
import { accountFor, fitsStorage } from './accounts.js';
import type { Draft } from './draft.js';
import type { EventOf } from './events.js';

/** Deposits add to collateral; withdrawals subtract, even below zero (the money did leave). */
export function applyCollateralEvent(draft: Draft, event: EventOf<'Deposited' | 'Withdrawn'>): void {
  const account = accountFor(draft, event.owner, event.subaccount);
  const deposit = event.type === 'Deposited';
  const collateral = account.collateral + (deposit ? event.amount : -event.amount);
  if (!fitsStorage(collateral)) {
    draft.anomaly(event, 'VALUE_OUT_OF_RANGE', `${event.type} of ${formatFixed(event.amount)} overflows collateral`, {
      account: account.id,
      amount: formatFixed(event.amount),
    });
    return;
  }
  if (collateral < 0n && !deposit) {
    draft.anomaly(event, 'NEGATIVE_COLLATERAL', `withdrawal leaves ${account.id} with collateral ${formatFixed(collateral)}`, {
      account: account.id,
      amount: formatFixed(event.amount),
      collateralAfter: formatFixed(collateral),
    });
  }
  draft.putAccount({ ...account, collateral, updatedBlock: draft.block.number });
  draft.touched.add(account.id);
  draft.records.transfers.push({
    blockNumber: event.blockNumber,
    logIndex: event.logIndex,
    transactionHash: event.transactionHash,
    timestamp: draft.block.timestamp,
    accountId: account.id,
    kind: deposit ? 'DEPOSIT' : 'WITHDRAWAL',
    amount: event.amount,
    collateralAfter: collateral,
  });
}
