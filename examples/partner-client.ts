// A partner's view of pts: query one account with every risk field and its last day hour
// by hour, then follow its margin-state changes live. It is written as a partner would, against the published
// package (`npm install @pts/client`), and compiles under strict settings; the pack test
// (test/e2e/client-package.test.ts) builds and runs it with plain node from the tarball.
//
//   npm start                                      # `pts dev`: devnet, demo traders, API on :4000
//   node bin/run-ts.js examples/partner-client.ts  # the riskiest account
//   node bin/run-ts.js examples/partner-client.ts 0xOwner [subaccount]
//
// PTS_API_URL (default http://localhost:4000/graphql) and PTS_API_KEY (when the API has
// PTS_API_KEYS) say where and as whom. `--events N` exits after N margin changes.
import {
  AccountDocument,
  AccountHistoryDocument,
  AccountsDocument,
  createPtsClient,
  MarginStateChangedDocument,
  PtsError,
  PtsTransportError,
  type AccountQuery,
} from '@pts/client';

const args = process.argv.slice(2);
const eventsFlag = args.indexOf('--events');
const exitAfter = eventsFlag >= 0 ? Number(args.splice(eventsFlag, 2)[1]) : Infinity;
const url = process.env['PTS_API_URL'] ?? 'http://localhost:4000/graphql';
const pts = createPtsClient({ url, apiKey: process.env['PTS_API_KEY'] });

async function main(): Promise<void> {
  let [owner, sub] = args;
  let subaccount = Number(sub ?? 0);
  if (!owner) {
    // No account given: take the riskiest one.
    const { accounts } = await pts.request(AccountsDocument, { first: 1, orderBy: 'RISK_DESC' });
    const riskiest = accounts.edges[0]?.node;
    if (!riskiest) return fail(`no accounts at ${url} yet: is the ingester running?`);
    owner = riskiest.owner;
    subaccount = riskiest.subaccount;
  }

  const { meta, account } = await pts.request(AccountDocument, { owner, subaccount });
  if (!account) return fail(`no account ${owner}:${subaccount} at block ${meta.blockNumber}`);
  show(account, meta.blockNumber);

  // The last day of the account, hour by hour, as of the same block.
  const day = await pts.request(AccountHistoryDocument, {
    owner,
    subaccount,
    every: 'HOUR',
    fromTimestamp: meta.blockTimestamp - 86_400,
    block: { number: meta.blockNumber },
  });
  for (const { node: t } of day.account?.history.edges ?? []) {
    console.log(
      `  ${new Date(t.timestamp * 1000).toISOString()} (block ${t.blockNumber}): equity ${t.equity}  total PnL ${t.totalPnl}  ` +
        `net transfers ${t.netTransfers}  margin ratio ${t.marginRatio ?? '-'}  ${t.marginState}`,
    );
  }

  let seen = 0;
  const unsubscribe = pts.subscribe(
    MarginStateChangedDocument,
    { owner, subaccount },
    ({ marginStateChanged: t }) => {
      console.log(
        `block ${t.blockNumber}: ${t.account.id} ${t.from} -> ${t.to} ` +
          `(equity ${t.equity}, initial margin ${t.initialMargin}, maintenance margin ${t.maintenanceMargin})`,
      );
      if (++seen >= exitAfter) void stop(0);
    },
    {
      onError: (error) => {
        console.error(`subscription ended: ${explain(error)}`);
        void stop(1);
      },
    },
  );
  console.log(`watching ${account.id} for margin changes (Ctrl-C to stop)`);

  async function stop(code: number): Promise<void> {
    unsubscribe();
    await pts.close();
    process.exit(code);
  }
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
}

function show(account: NonNullable<AccountQuery['account']>, block: number): void {
  console.log(`${account.id} at block ${block}: ${account.marginState}`);
  console.log(
    `  collateral ${account.collateral}  equity ${account.equity}  free ${account.freeCollateral}\n` +
      `  initial margin ${account.initialMargin}  maintenance margin ${account.maintenanceMargin}  ` +
      `margin ratio ${account.marginRatio ?? '-'}  leverage ${account.leverage ?? '-'}`,
  );
  for (const p of account.positions) {
    // A position's own mark is the value of one unit (`value`): the index for a
    // perpetual, the Black-Scholes value for an option, whose `markPrice` is the
    // underlying's index, shown beside it.
    const index = p.market.kind === 'PERPETUAL' ? '' : `  index ${p.markPrice ?? '-'}`;
    console.log(
      `  ${p.market.id.padEnd(16)} size ${p.size}  entry ${p.entryPrice ?? '-'}  mark ${p.value ?? '-'}${index}  ` +
        `uPnL ${p.unrealizedPnl}  liquidation ${p.liquidationPrice ?? '-'}`,
    );
  }
}

/** One line for a failure of the API: which kind, and what to do about the common ones. */
function explain(error: PtsError): string {
  const hint = error instanceof PtsTransportError ? ' (is the API running? PTS_API_URL says where)' : '';
  return `${error.name}${error.code ? ` ${error.code}` : ''}: ${error.message}${hint}`;
}

async function fail(message: string): Promise<void> {
  console.error(message);
  await pts.close();
  process.exit(1);
}

main().catch(async (error: unknown) => {
  // The API's failures are expected (down, refusing, rate limiting): one line, no stack.
  if (error instanceof PtsError) await fail(explain(error));
  else throw error;
});
