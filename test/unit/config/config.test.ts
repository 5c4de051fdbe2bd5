// SPEC section 6 (and the defaults sections 3 names): configuration by environment.
import { ConfigError, loadConfig, requireChain } from '../../../src/config/index.js';
import { DEFAULT_LEDGER_PARAMS } from '../../../src/ledger/index.js';

describe('configuration (SPEC 6)', () => {
  it('has the SPEC defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined, dataDir: './.pts', rpcUrls: [], venueAddresses: [], startBlock: 0, confirmations: 0,
      port: 4000, oracleStalenessSeconds: 3600, riskFreeRate: 0n,
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

  it('refuses malformed values with a ConfigError naming the variable', () => {
    expect(() => loadConfig({ PTS_CONFIRMATIONS: '-1' })).toThrow(/PTS_CONFIRMATIONS/);
    expect(() => loadConfig({ PORT: 'http' })).toThrow(ConfigError);
    expect(() => loadConfig({ PTS_RISK_FREE_RATE: '5%' })).toThrow(/PTS_RISK_FREE_RATE/);
    expect(() => loadConfig({ PTS_VENUE_ADDRESSES: '0x12' })).toThrow(/PTS_VENUE_ADDRESSES/);
    expect(() => requireChain(loadConfig({}))).toThrow(/PTS_RPC_URL/);
  });
});

describe('the pts command line (SPEC 6)', () => {
  it('has exactly dev, start, serve, ingest and migrate, with npm start running pts dev', async () => {
    const { commands, usage } = await import('../../../src/cli/commands.js');
    expect(Object.keys(commands).sort()).toEqual(['dev', 'ingest', 'migrate', 'serve', 'start']);
    for (const name of Object.keys(commands)) expect(usage()).toContain(`pts ${name}`);
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(pkg.bin).toEqual({ pts: 'bin/pts.js' });
    expect(pkg.scripts.start).toMatch(/^node (--[\w=-]+ )*bin\/pts\.js dev$/); // node flags allowed
  });
});
