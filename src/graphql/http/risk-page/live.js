// The risk page's data access: queries as JSON POSTs to this server's /graphql (a JSON
// content type is what Apollo's CSRF prevention asks of a browser, and the page is
// same-origin, so no CORS is involved), and subscriptions over one graphql-ws connection on
// the same URL (graphql-ws's browser build, the `graphqlWs` global). With PTS_API_KEYS the
// key the user gives goes with each request (Authorization) and as the WebSocket's
// connection parameters, where the API looks for it; a refusal (HTTP 401, close 4403) is
// an Unauthorized error, which the page answers by asking for a key.
//
// The page keeps to the API's limits: one WebSocket with three subscriptions (blocks,
// transitions, the chosen account), and one accounts query per committed block at most (a
// block that comes while one is running is folded into the next, app.js).
import { TransitionCursor } from './model.js';

/** What a row of the accounts table shows. */
const ACCOUNT_ROW = 'id owner subaccount marginState marginRatio equity initialMargin maintenanceMargin';
const TRANSITION = 'account { id } from to blockNumber blockTimestamp equity maintenanceMargin';
/** What the chosen account's panel shows. */
const ACCOUNT_DETAIL = `${ACCOUNT_ROW} collateral freeCollateral leverage notional unrealizedPnl
  positions { id market { id kind } size entryPrice markPrice value notional unrealizedPnl maintenanceMargin liquidationPrice }`;

const RISKIEST = `query RiskPageAccounts($first: Int!) {
  meta { blockNumber blockTimestamp }
  accounts(first: $first, orderBy: RISK_DESC) { edges { node { ${ACCOUNT_ROW} } } }
}`;
const RECENT_TRANSITIONS = `query RiskPageTransitions($first: Int!) {
  meta { blockNumber blockTimestamp }
  transitions(first: $first, newestFirst: true) { edges { node { ${TRANSITION} } } }
}`;
const ACCOUNT = `query RiskPageAccount($owner: String!, $subaccount: SafeInt!) {
  meta { blockNumber blockTimestamp }
  account(owner: $owner, subaccount: $subaccount) { ${ACCOUNT_DETAIL} }
}`;
const BLOCKS = 'subscription RiskPageBlocks { blockCommitted { blockNumber blockTimestamp reorg { depth commonAncestor } } }';
const TRANSITIONS = `subscription RiskPageTransitionFeed($afterBlock: SafeInt) { marginStateChanged(afterBlock: $afterBlock) { ${TRANSITION} } }`;
const ACCOUNT_UPDATES = `subscription RiskPageAccountUpdates($owner: String!, $subaccount: SafeInt!) {
  accountUpdated(owner: $owner, subaccount: $subaccount) { ${ACCOUNT_DETAIL} }
}`;

/** The server wants an API key (PTS_API_KEYS), and the page has none or a wrong one. */
export class Unauthorized extends Error {}

/** The API of the server the page came from. */
export class Api {
  /**
   * `apiKey`: '' for none. `on.status(status)`: 'connecting', 'live', 'reconnecting' or
   * 'unauthorized', as the WebSocket goes; `on.reconnected()`: live again after a loss (what
   * the page shows may have moved meanwhile).
   */
  constructor(origin, apiKey, on) {
    this.url = `${origin}/graphql`;
    this.headers = { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
    let connections = 0;
    this.ws = globalThis.graphqlWs.createClient({
      url: this.url.replace(/^http/, 'ws'),
      connectionParams: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      // Reconnects for as long as the page is open (a restarting server comes back), with
      // jitter so that pages do not all come back at once; not after a refused key.
      retryAttempts: Infinity,
      shouldRetry: (event) => event?.code !== 4403,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** retries) * (0.5 + Math.random() / 2))),
      on: {
        connecting: () => on.status(connections === 0 ? 'connecting' : 'reconnecting'),
        connected: () => {
          on.status('live');
          if (connections++ > 0) on.reconnected();
        },
        closed: (event) => on.status(event?.code === 4403 ? 'unauthorized' : 'reconnecting'),
      },
    });
  }

  /** The data of one query; throws Unauthorized on a 401, an Error with the messages otherwise. */
  async query(query, variables) {
    const response = await fetch(this.url, { method: 'POST', headers: this.headers, body: JSON.stringify({ query, variables }) });
    const body = await response.json().catch(() => null);
    if (response.status === 401) throw new Unauthorized(body?.errors?.[0]?.message ?? 'an API key is needed');
    if (!body || body.errors) throw new Error(body ? body.errors.map((e) => e.message).join('; ') : `HTTP ${response.status}`);
    return body.data;
  }

  /**
   * Starts a subscription; `next(data)` for each event, `error(error)` if the server ends it
   * with an error. Returns the function that ends it. graphql-ws sends `variables` again, as
   * they are then, each time it reconnects: a resumable feed moves its cursor in them.
   */
  subscribe(query, variables, next, error) {
    return this.ws.subscribe(
      { query, variables },
      {
        next: (result) => (result.errors ? error(new Error(result.errors.map((e) => e.message).join('; '))) : next(result.data)),
        error: (e) => error(e instanceof Error ? e : new Error(Array.isArray(e) ? e.map((x) => x.message).join('; ') : `connection closed (${e?.code ?? 'unknown'})`)),
        complete: () => undefined,
      },
    );
  }

  close() {
    void this.ws.dispose();
  }
}

/** The `first` riskiest accounts (RISK_DESC) and the block they are as of. */
export async function riskiestAccounts(api, first) {
  const data = await api.query(RISKIEST, { first });
  return { block: data.meta, accounts: data.accounts.edges.map((e) => e.node) };
}

/** The account `owner:subaccount` (null if it has no event) and the block it is as of. */
export async function accountDetail(api, owner, subaccount) {
  const data = await api.query(ACCOUNT, { owner, subaccount });
  return { block: data.meta, account: data.account };
}

/**
 * The account's equity before the page watched it, as samples `{ block, timestamp, equity }`,
 * oldest first. `Account.history` (SPEC section 8) is not in the API yet, so there are none:
 * the chart starts when the account is chosen and grows with the page's own samples
 * (accountUpdated, blockCommitted). Once the API has it, this is the one function to change:
 *   account(owner: $owner, subaccount: $subaccount) {
 *     history(every: BLOCK, first: 1000) { edges { node { blockNumber blockTimestamp equity } } } }
 * mapped to samples; the page's own samples continue after the last of them.
 */
export async function equityHistory(_api, _owner, _subaccount) {
  return [];
}

/** Each committed block: `next({ blockNumber, blockTimestamp, reorg })`. */
export function followBlocks(api, next, error) {
  return api.subscribe(BLOCKS, {}, (data) => next(data.blockCommitted), error);
}

/** Each update of the account `owner:subaccount`: `next(account)`. */
export function followAccount(api, owner, subaccount, next, error) {
  return api.subscribe(ACCOUNT_UPDATES, { owner, subaccount }, (data) => next(data.accountUpdated), error);
}

/**
 * The `first` latest margin transitions, newest first, then each new one as it happens
 * (`next(transition)`), none lost or shown twice across reconnects (TransitionCursor).
 */
export async function followTransitions(api, first, next, error) {
  const data = await api.query(RECENT_TRANSITIONS, { first });
  const recent = data.transitions.edges.map((e) => e.node);
  const cursor = new TransitionCursor(data.meta.blockNumber);
  // graphql-ws sends this object again on each reconnection, with the cursor's block then.
  const variables = { afterBlock: cursor.afterBlock };
  const stop = api.subscribe(
    TRANSITIONS,
    variables,
    ({ marginStateChanged: transition }) => {
      if (!cursor.accept(transition)) return;
      variables.afterBlock = cursor.afterBlock;
      next(transition);
    },
    error,
  );
  return { recent, stop };
}

/** Every operation the page sends, by name (test/unit/graphql/risk-page.test.ts validates them against the schema). */
export const OPERATIONS = { RISKIEST, RECENT_TRANSITIONS, ACCOUNT, BLOCKS, TRANSITIONS, ACCOUNT_UPDATES };
