// The risk page's view: React 18 (its UMD build, the `React` and `ReactDOM` globals) without
// JSX, so the file runs as it is; uPlot draws the equity chart. Everything it shows comes
// from live.js, and everything it derives from model.js.
import uPlot from 'uplot';
import { accountDetail, Api, equityHistory, followAccount, followBlocks, followTransitions, riskiestAccounts, Unauthorized } from './live.js';
import { addTransitions, EquitySamples, formatAmount, formatPercent, marginBuffer, priceDistance, shortAccount } from './model.js';

const { createElement: h, Fragment, useCallback, useEffect, useMemo, useRef, useState } = globalThis.React;

/** Rows of the accounts table, and transitions kept in the list. */
const ACCOUNTS_SHOWN = 25;
const TRANSITIONS_SHOWN = 30;
const KEY_STORAGE = 'pts-risk-page-api-key';

const STATE_LABEL = { HEALTHY: 'healthy', MARGIN_CALL: 'margin call', LIQUIDATABLE: 'liquidatable', BANKRUPT: 'bankrupt' };

/** The account chosen in the URL (#account=<owner>:<subaccount>), so a reload keeps it. */
function chosenInUrl() {
  const match = /^#account=(0x[0-9a-fA-F]{40}):(\d+)$/.exec(location.hash);
  return match ? `${match[1].toLowerCase()}:${match[2]}` : null;
}

function StateBadge({ state }) {
  return h('span', { className: `state state-${state}` }, STATE_LABEL[state] ?? state);
}

function App() {
  const [apiKey, setApiKey] = useState(() => sessionStorage.getItem(KEY_STORAGE) ?? '');
  const [status, setStatus] = useState('connecting');
  const [problem, setProblem] = useState(null);
  const [block, setBlock] = useState(null);
  const [accounts, setAccounts] = useState([]);
  const [transitions, setTransitions] = useState([]);
  const [chosen, setChosen] = useState(chosenInUrl);
  const [reconnects, setReconnects] = useState(0);
  const latestBlock = useRef(null);
  /** Listeners of each committed block besides the table's (the chosen account's samples). */
  const blockListeners = useRef(new Set());

  const api = useMemo(
    () => new Api(location.origin, apiKey, { status: setStatus, reconnected: () => setReconnects((n) => n + 1) }),
    [apiKey],
  );
  useEffect(() => () => api.close(), [api]);

  const failed = useCallback((error) => {
    if (error instanceof Unauthorized) setStatus('unauthorized');
    else setProblem(error.message);
  }, []);

  // The table: the riskiest accounts, read again after each committed block (one query at a
  // time; blocks that come meanwhile are folded into the next read).
  useEffect(() => {
    let stopped = false;
    let running = false;
    let again = false;
    const refresh = async () => {
      if (running) return void (again = true);
      running = true;
      try {
        do {
          again = false;
          const { block, accounts } = await riskiestAccounts(api, ACCOUNTS_SHOWN);
          if (stopped) return;
          setAccounts(accounts);
          setBlock((current) => (current && current.blockNumber > block.blockNumber ? current : block));
          setProblem(null);
        } while (again && !stopped);
      } catch (error) {
        if (!stopped) failed(error);
      } finally {
        running = false;
      }
    };
    void refresh();
    const stop = followBlocks(
      api,
      (committed) => {
        latestBlock.current = committed;
        setBlock(committed);
        for (const listener of blockListeners.current) listener(committed);
        void refresh();
      },
      failed,
    );
    return () => {
      stopped = true;
      stop();
    };
  }, [api, reconnects, failed]);

  // Transitions: the latest, then each as it happens. A feed the server ends with an error
  // (its resume block gone from the stored history after a long absence, an API with no
  // block yet) starts over from the latest list a moment later.
  useEffect(() => {
    let stopped = false;
    let stop = () => undefined;
    let timer;
    const restart = (error) => {
      failed(error);
      stop();
      if (!stopped && !(error instanceof Unauthorized)) timer = setTimeout(start, 2000);
    };
    const start = () =>
      followTransitions(api, TRANSITIONS_SHOWN, (t) => setTransitions((list) => addTransitions(list, [t], TRANSITIONS_SHOWN)), restart)
        .then((feed) => {
          if (stopped) return feed.stop();
          stop = feed.stop;
          setTransitions(feed.recent);
        })
        .catch(restart);
    void start();
    return () => {
      stopped = true;
      clearTimeout(timer);
      stop();
    };
  }, [api, failed]);

  useEffect(() => {
    const onHash = () => setChosen(chosenInUrl());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const choose = (id) => {
    location.hash = `account=${id}`;
  };

  if (status === 'unauthorized') {
    return h(KeyPrompt, {
      given: apiKey !== '',
      onKey: (key) => {
        sessionStorage.setItem(KEY_STORAGE, key);
        setStatus('connecting');
        setApiKey(key);
      },
    });
  }
  return h(
    'div',
    { className: 'page' },
    h(
      'header',
      null,
      h('h1', null, 'pts risk'),
      h('span', { className: `status status-${status}`, 'data-status': status }, status),
      h('span', { className: 'block', 'data-block': block?.blockNumber ?? '' }, block ? `block ${block.blockNumber} \u00b7 ${new Date(block.blockTimestamp * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC` : ''),
      h('a', { href: '/graphql', className: 'explorer-link' }, 'GraphQL'),
    ),
    problem && h('div', { className: 'problem', role: 'alert' }, problem),
    h(
      'main',
      null,
      h('section', { className: 'accounts' }, h('h2', null, 'Accounts, riskiest first'), h(AccountsTable, { accounts, chosen, choose })),
      h('section', { className: 'transitions' }, h('h2', null, 'Margin transitions'), h(TransitionList, { transitions, choose })),
      h(
        'section',
        { className: 'detail' },
        chosen ? h(AccountPanel, { key: chosen, api, id: chosen, reconnects, latestBlock, blockListeners, failed }) : h('p', { className: 'hint' }, 'Choose an account for its positions, equity and distance to liquidation.'),
      ),
    ),
  );
}

function AccountsTable({ accounts, chosen, choose }) {
  return h(
    'table',
    { className: 'accounts-table' },
    h('thead', null, h('tr', null, ...['Account', 'State', 'Margin ratio', 'Equity', 'Maintenance', 'To liquidation'].map((name) => h('th', { key: name }, name)))),
    h(
      'tbody',
      null,
      accounts.map((a) =>
        h(
          'tr',
          {
            key: a.id,
            'data-account': a.id,
            'data-state': a.marginState,
            className: a.id === chosen ? 'chosen' : '',
            tabIndex: 0,
            onClick: () => choose(a.id),
            onKeyDown: (event) => event.key === 'Enter' && choose(a.id),
          },
          h('td', { className: 'id', title: a.id }, shortAccount(a.id)),
          h('td', null, h(StateBadge, { state: a.marginState })),
          h('td', { className: 'num' }, formatPercent(a.marginRatio)),
          h('td', { className: 'num' }, formatAmount(a.equity)),
          h('td', { className: 'num' }, formatAmount(a.maintenanceMargin)),
          h('td', { className: 'num' }, formatAmount(marginBuffer(a))),
        ),
      ),
    ),
  );
}

function TransitionList({ transitions, choose }) {
  if (transitions.length === 0) return h('p', { className: 'hint' }, 'None yet: they appear here as blocks change accounts\u2019 margin states.');
  return h(
    'ol',
    { className: 'transition-list' },
    transitions.map((t) =>
      h(
        'li',
        { key: `${t.account.id}@${t.blockNumber}`, 'data-transition': `${t.account.id}@${t.blockNumber}`, 'data-to': t.to, onClick: () => choose(t.account.id) },
        h('span', { className: 'at' }, `#${t.blockNumber}`),
        h('span', { className: 'id' }, shortAccount(t.account.id)),
        h(StateBadge, { state: t.from }),
        '\u2192',
        h(StateBadge, { state: t.to }),
        h('span', { className: 'num' }, `equity ${formatAmount(t.equity)}`),
      ),
    ),
  );
}

/** The chosen account: its figures, positions and equity chart, kept live by accountUpdated. */
function AccountPanel({ api, id, reconnects, latestBlock, blockListeners, failed }) {
  const [account, setAccount] = useState(undefined);
  const [samplesVersion, setSamplesVersion] = useState(0);
  const samples = useMemo(() => new EquitySamples(), [id]);

  useEffect(() => {
    const [owner, sub] = id.split(':');
    const subaccount = Number(sub);
    let stopped = false;
    // An update that comes before the first read is newer than it: the read is then dropped.
    let updated = false;
    const sample = (block, equity) => {
      samples.add(block.blockNumber, block.blockTimestamp, equity);
      setSamplesVersion((n) => n + 1);
    };
    // A committed block the account was not updated in: its equity held through it.
    const onBlock = (block) => {
      if (samples.last !== null) sample(block, samples.last);
    };
    const stop = followAccount(
      api,
      owner,
      subaccount,
      (next) => {
        updated = true;
        setAccount(next);
        if (latestBlock.current) sample(latestBlock.current, next.equity);
      },
      failed,
    );
    Promise.all([accountDetail(api, owner, subaccount), equityHistory(api, owner, subaccount)])
      .then(([{ block, account }, history]) => {
        if (stopped) return;
        for (const s of history) samples.add(s.block, s.timestamp, s.equity);
        blockListeners.current.add(onBlock);
        if (updated) return;
        setAccount(account);
        if (account) sample(latestBlock.current && latestBlock.current.blockNumber > block.blockNumber ? latestBlock.current : block, account.equity);
      })
      .catch(failed);
    return () => {
      stopped = true;
      blockListeners.current.delete(onBlock);
      stop();
    };
    // After a reconnect, read it again: it may have moved while the page was away.
  }, [api, id, reconnects, samples, latestBlock, blockListeners, failed]);

  if (account === undefined) return h('p', { className: 'hint' }, `Loading ${shortAccount(id)}\u2026`);
  if (account === null) return h('p', { className: 'hint' }, `No account ${id}.`);
  const figures = [
    ['Equity', formatAmount(account.equity)],
    ['Collateral', formatAmount(account.collateral)],
    ['Initial margin', formatAmount(account.initialMargin)],
    ['Maintenance margin', formatAmount(account.maintenanceMargin)],
    ['To liquidation (equity \u2212 maintenance)', formatAmount(marginBuffer(account))],
    ['Margin ratio', formatPercent(account.marginRatio)],
    ['Leverage', account.leverage == null ? '\u2014' : `${formatAmount(account.leverage)}\u00d7`],
    ['Unrealized PnL', formatAmount(account.unrealizedPnl)],
  ];
  return h(
    'div',
    { className: 'account', 'data-account-panel': account.id, 'data-state': account.marginState },
    h('h2', null, `Account ${shortAccount(account.id)} `, h(StateBadge, { state: account.marginState })),
    h('p', { className: 'owner' }, account.id),
    h('dl', { className: 'figures' }, figures.map(([name, value]) => h(Fragment, { key: name }, h('dt', null, name), h('dd', { className: 'num' }, value)))),
    h('h3', null, 'Positions'),
    h(PositionsTable, { positions: account.positions }),
    h('h3', null, 'Equity'),
    h(EquityChart, { samples, version: samplesVersion }),
  );
}

function PositionsTable({ positions }) {
  if (positions.length === 0) return h('p', { className: 'hint' }, 'No open position.');
  const columns = ['Market', 'Size', 'Entry', 'Mark', 'Liquidation price', 'Index move to liquidation', 'Unrealized PnL', 'Maintenance'];
  return h(
    'table',
    { className: 'positions-table' },
    h('thead', null, h('tr', null, ...columns.map((name) => h('th', { key: name }, name)))),
    h(
      'tbody',
      null,
      positions.map((p) =>
        h(
          'tr',
          { key: p.id, 'data-position': p.id },
          h('td', null, p.market.id),
          h('td', { className: 'num' }, formatAmount(p.size, 4)),
          h('td', { className: 'num' }, formatAmount(p.entryPrice)),
          h('td', { className: 'num' }, formatAmount(p.markPrice)),
          h('td', { className: 'num' }, formatAmount(p.liquidationPrice)),
          h('td', { className: 'num' }, formatPercent(priceDistance(p))),
          h('td', { className: 'num' }, formatAmount(p.unrealizedPnl)),
          h('td', { className: 'num' }, formatAmount(p.maintenanceMargin)),
        ),
      ),
    ),
  );
}

/** Steps of the chart's time axis, in seconds. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

/** uPlot on the samples; redrawn when `version` moves. */
function EquityChart({ samples, version }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = () => Math.max(300, box.current.clientWidth);
    plot.current = new uPlot(
      {
        width: width(),
        height: 220,
        scales: { x: { time: true } },
        series: [{}, { label: 'equity', stroke: '#2563eb', fill: 'rgba(37, 99, 235, 0.08)', width: 2, paths: uPlot.paths.stepped({ align: 1 }) }],
        // Block times are whole seconds, shown in UTC as the header shows the block's.
        axes: [{ incrs: TIME_STEPS, values: (_, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(11, 19)) }, { size: 80 }],
        legend: { show: true },
      },
      samples.series(),
      box.current,
    );
    const resize = () => plot.current.setSize({ width: width(), height: 220 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current.destroy();
    };
  }, [samples]);
  useEffect(() => plot.current.setData(samples.series()), [samples, version]);
  return h('div', { className: 'equity-chart', ref: box, 'data-samples': samples.samples.length });
}

function KeyPrompt({ given, onKey }) {
  const [key, setKey] = useState('');
  return h(
    'form',
    {
      className: 'key-prompt',
      onSubmit: (event) => {
        event.preventDefault();
        if (key.trim()) onKey(key.trim());
      },
    },
    h('h1', null, 'pts risk'),
    h('p', null, given ? 'The API refused that key.' : 'This API needs a key (PTS_API_KEYS).', ' It is kept in this tab only.'),
    h('input', { type: 'password', name: 'api-key', autoComplete: 'off', placeholder: 'API key', value: key, onChange: (event) => setKey(event.target.value) }),
    h('button', { type: 'submit' }, 'Connect'),
  );
}

globalThis.ReactDOM.createRoot(document.getElementById('root')).render(h(App));
