// SPEC section 6 (and the defaults sections 3 names): configuration by environment, one
// declarative table (src/config/index.ts) read by loadConfig, `pts help` and the README.
import { readFileSync } from 'node:fs';
import { ConfigError, defaultText, loadConfig, otherVariables, requireChain, unknownVariableWarnings, variables } from '../../../src/config/index.js';
import { DEFAULT_LEDGER_PARAMS } from '../../../src/ledger/index.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('configuration (SPEC 6)', () => {
  it('has the SPEC defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined, dataDir: './.pts', rpcUrls: [], venueAddresses: [], startBlock: 0, confirmations: 0,
      port: 4000, oracleStalenessSeconds: 3600, riskFreeRate: 0n, introspection: false, apiKeys: [],
      maxResponseBytes: 16_777_216, maxSubscriptionsPerConnection: 100, maxConnectionsPerClient: 100, corsOrigins: [],
    });
    expect(DEFAULT_LEDGER_PARAMS).toEqual({ oracleStalenessSeconds: 3600, riskFreeRate: 0n });
  });

  it('reads every SPEC variable', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@h/db', PTS_DATA_DIR: '/tmp/x', PTS_RPC_URL: 'http://a:8545, ws://b:8546',
      PTS_VENUE_ADDRESSES: '0x00000000000000000000000000000000000000AA,0x00000000000000000000000000000000000000bb',
      PTS_START_BLOCK: '12', PTS_CONFIRMATIONS: '3', PORT: '8080', PTS_ORACLE_STALENESS_SECONDS: '600', PTS_RISK_FREE_RATE: '0.05',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgres://u@h/db', dataDir: '/tmp/x', rpcUrls: ['http://a:8545', 'ws://b:8546'],
      venueAddresses: ['0x00000000000000000000000000000000000000aa', '0x00000000000000000000000000000000000000bb'],
      startBlock: 12, confirmations: 3, port: 8080, oracleStalenessSeconds: 600, riskFreeRate: 5n * 10n ** 16n,
    });
    expect(() => requireChain(config)).not.toThrow();
  });

  it('declares every Config field once, and every field comes from the table', () => {
    const fields = variables.map((v) => v.field);
    expect(new Set(fields).size).toBe(fields.length);
    expect(new Set(variables.map((v) => v.name)).size).toBe(variables.length);
    expect(Object.keys(loadConfig({})).sort()).toEqual([...fields].sort());
  });

  it('reads the API limits the API engineer asked for, with their bounds', () => {
    expect(loadConfig({ PTS_MAX_RESPONSE_BYTES: '1024', PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '1', PTS_MAX_CONNECTIONS_PER_CLIENT: '7' })).toMatchObject({
      maxResponseBytes: 1024, maxSubscriptionsPerConnection: 1, maxConnectionsPerClient: 7,
    });
    expect(() => loadConfig({ PTS_MAX_RESPONSE_BYTES: '1023' })).toThrow('PTS_MAX_RESPONSE_BYTES must be an integer, at least 1024, got "1023"');
    expect(() => loadConfig({ PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '0' })).toThrow(/PTS_MAX_SUBSCRIPTIONS_PER_CONNECTION must be an integer, at least 1/);
    expect(() => loadConfig({ PTS_MAX_CONNECTIONS_PER_CLIENT: '0' })).toThrow(/PTS_MAX_CONNECTIONS_PER_CLIENT/);
  });

  it('turns introspection and the explorer on in pts dev, off elsewhere unless PTS_INTROSPECTION says so', () => {
    expect(loadConfig({}, 'dev').introspection).toBe(true);
    for (const command of ['start', 'serve', undefined]) expect(loadConfig({}, command).introspection).toBe(false);
    expect(loadConfig({ PTS_INTROSPECTION: 'true' }, 'serve').introspection).toBe(true);
    expect(loadConfig({ PTS_INTROSPECTION: 'no' }, 'dev').introspection).toBe(false);
  });

  it('serves the risk page in pts dev, elsewhere only with PTS_RISK_PAGE', () => {
    expect(loadConfig({}, 'dev').riskPage).toBe(true);
    for (const command of ['start', 'serve', undefined]) expect(loadConfig({}, command).riskPage).toBe(false);
    expect(loadConfig({ PTS_RISK_PAGE: 'yes' }, 'start').riskPage).toBe(true);
    expect(loadConfig({ PTS_RISK_PAGE: 'false' }, 'dev').riskPage).toBe(false);
    expect(() => loadConfig({ PTS_RISK_PAGE: 'on' })).toThrow('PTS_RISK_PAGE must be one of true, false, 1, 0, yes, no (any case), got "on"');
  });

  it('reads PTS_CORS_ORIGINS: origins or *, lower-cased; pts dev allows any origin when unset', () => {
    expect(loadConfig({ PTS_CORS_ORIGINS: 'https://App.example.com, http://localhost:3000' }).corsOrigins).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(loadConfig({ PTS_CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    expect(loadConfig({}, 'dev').corsOrigins).toEqual(['*']);
    expect(loadConfig({}, 'serve').corsOrigins).toEqual([]);
    expect(loadConfig({ PTS_CORS_ORIGINS: 'https://app.example.com' }, 'dev').corsOrigins).toEqual(['https://app.example.com']);
    for (const bad of ['https://a.example.com/', 'https://a.example.com/path', 'a.example.com', '*,https://a.example.com', 'https://user@a.example.com']) {
      expect(() => loadConfig({ PTS_CORS_ORIGINS: bad })).toThrow(/^PTS_CORS_ORIGINS must be \* alone \(any origin\) or comma-separated origins/);
    }
  });

  it('takes booleans as true/false, 1/0, yes/no in any case, and names the allowed values otherwise', () => {
    for (const [value, expected] of [['true', true], ['1', true], ['YES', true], ['False', false], ['0', false], ['no', false]] as const) {
      expect(loadConfig({ PTS_INTROSPECTION: value }).introspection).toBe(expected);
    }
    expect(() => loadConfig({ PTS_INTROSPECTION: 'on' })).toThrow('PTS_INTROSPECTION must be one of true, false, 1, 0, yes, no (any case), got "on"');
  });

  it('refuses a value outside an enum, listing the values', () => {
    expect(loadConfig({ PTS_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => loadConfig({ PTS_LOG_FORMAT: 'text' })).toThrow('PTS_LOG_FORMAT must be one of json, pretty, got "text"');
  });

  it('refuses malformed values with a ConfigError naming the variable', () => {
    expect(() => loadConfig({ PTS_CONFIRMATIONS: '-1' })).toThrow(/PTS_CONFIRMATIONS/);
    expect(() => loadConfig({ PORT: 'http' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' })).toThrow('PORT must be an integer from 0 to 65535, got "70000"');
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
    expect(() => loadConfig({ PTS_BATCH_BLOCKS: '0' })).toThrow(/PTS_BATCH_BLOCKS must be an integer, at least 1/);
    expect(() => loadConfig({ PTS_RISK_FREE_RATE: '5%' })).toThrow(/PTS_RISK_FREE_RATE/);
    expect(() => loadConfig({ PTS_VENUE_ADDRESSES: '0x12' })).toThrow(/PTS_VENUE_ADDRESSES/);
    expect(() => loadConfig({ PTS_RPC_URL: 'localhost:8545' })).toThrow(/PTS_RPC_URL must be a URL starting http:\/\/, https:\/\/, ws:\/\/, wss:\/\//);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:s3cret@x/y' })).toThrow('DATABASE_URL must be a URL starting postgresql://, postgres://, got a mysql:// URL');
    expect(() => loadConfig({ PTS_RPC_URL: 'https://ok.example, eth.example/v2/s3cret' })).toThrow('PTS_RPC_URL must be a URL starting http://, https://, ws://, wss://, got something that is not a URL');
    expect(() => requireChain(loadConfig({}))).toThrow(/PTS_RPC_URL/);
    expect(() => requireChain(loadConfig({ PTS_RPC_URL: 'http://a' }))).toThrow(/PTS_VENUE_ADDRESSES/);
    expect(new ConfigError('x').exitCode).toBe(2);
  });

  it('treats a blank value as unset', () => {
    expect(loadConfig({ PORT: ' ', DATABASE_URL: '', PTS_DATA_DIR: '' })).toMatchObject({ port: 4000, databaseUrl: undefined, dataDir: './.pts' });
  });
});

describe('unknown PTS_ variables', () => {
  it('get one warning each, naming the closest known variable', () => {
    const warnings = unknownVariableWarnings({
      PTS_API_KEY: 'k', PTS_INTROSPECTON: 'true', PTS_WHATEVER: '1', PTS_API_URL: 'http://x', PORT: '1', HOME: '/root', PTS_API_KEYS: 'a',
    });
    expect(warnings).toEqual([
      'PTS_API_KEY is read only by examples/partner-client.ts, not by pts: ignored; did you mean PTS_API_KEYS?',
      'PTS_API_URL is read only by examples/partner-client.ts, not by pts: ignored',
      'PTS_INTROSPECTON is not a pts variable: ignored; did you mean PTS_INTROSPECTION? (pts help lists them)',
      'PTS_WHATEVER is not a pts variable: ignored (pts help lists them)',
    ]);
  });

  it('leaves the tests\' and the debug variables alone', () => {
    expect(unknownVariableWarnings({ PTS_DEBUG: '1', PTS_TEST_SERVER_URL: 'x', PTS_TEST_RUN_ID: 'y', NODE_ENV: 'production' })).toEqual([]);
  });
});

describe('the README configuration tables', () => {
  /** `| \`NAME\` | default | meaning |` rows: name -> default, backticks removed. */
  const rows = new Map(
    [...readme.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \| .+ \|$/gm)].map((m) => [m[1]!, m[2]!.replace(/`/g, '').trim()]),
  );

  it('lists every variable of the table with its default, and nothing pts does not read', () => {
    for (const v of variables) expect([v.name, rows.get(v.name)]).toEqual([v.name, defaultText(v)]);
    const other = (name: string) => otherVariables.some((o) => (o.name.endsWith('*') ? name.startsWith(o.name.slice(0, -1)) : o.name === name));
    for (const name of rows.keys()) expect([name, variables.some((v) => v.name === name) || other(name)]).toEqual([name, true]);
  });

  it('is what `pts help` prints', async () => {
    const { usage } = await import('../../../src/cli/commands.js');
    for (const v of variables) expect(usage()).toContain(`${v.name} `);
    for (const v of variables) expect(usage()).toContain(`${v.description} [default: ${defaultText(v)}]`);
  });
});

describe('the pts command line (SPEC 6)', () => {
  it('has exactly dev, start, serve, ingest and migrate, with npm start running pts dev', async () => {
    const { commands, findCommand, usage } = await import('../../../src/cli/commands.js');
    expect(Object.keys(commands).sort()).toEqual(['dev', 'ingest', 'migrate', 'serve', 'start']);
    for (const name of Object.keys(commands)) expect(usage()).toContain(`pts ${name}`);
    expect(findCommand('toString')).toBeUndefined();
    expect(Object.entries(commands).filter(([, c]) => c.needsChain).map(([n]) => n).sort()).toEqual(['ingest', 'start']);
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(pkg.bin).toEqual({ pts: 'bin/pts.js' });
    expect(pkg.scripts.start).toMatch(/^node (--[\w=-]+ )*bin\/pts\.js dev$/); // node flags allowed
  });
});
