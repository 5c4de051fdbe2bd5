// Issue 17, item 3: @pts/client as a partner gets it. The workspace package is packed (which
// builds it) and the tarball installed into a fresh project outside this repository: only
// the client's own three dependencies come with it; a strict tsc (every strictness flag,
// library declarations checked; node16, bundler and node10 resolution) accepts the example
// and a CommonJS program; plain node runs them against a live API on a real chain: a query
// and a subscription, each position's own mark, and a typed one-line error when the API is
// down or the runtime has no WebSocket.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccountDocument, createPtsClient, TransitionsDocument } from '../../packages/client/src/index.js';
import type { PtsServer } from '../../src/graphql/server.js';
import { startDevnet, TRADERS, type Devnet, type FollowingIngester } from '../support/devnet.js';
import { sleep, startTestServer } from '../integration/graphql/server-support.js';

const [ALICE, BOB] = TRADERS as [`0x${string}`, `0x${string}`];
const API_KEY = 'partner-key';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');

/** The versions this repository tests with, so that npm finds them in its cache. */
const versionOf = (name: string) => (JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

// Under `npm test`, npm hands its scripts this repository's location and package
// (npm_config_prefix, npm_config_local_prefix, npm_package_*, ...): an npm started with them
// would install into this repository instead of the temp project. Its other settings
// (registry, cache, certificates) stay.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^npm_(config_(prefix|local_prefix|workspaces?|include_workspace_root)$|package_|lifecycle_|command$)/i.test(name)),
);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: { ...cleanEnv, ...env }, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}):\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

const npmInstall = (dir: string, ...specs: string[]) => ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs], dir);

async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

interface Packed {
  filename: string;
  size: number;
  files: { path: string }[];
}

/** A partner's strict settings; the variants change only how modules resolve. */
const STRICT = {
  target: 'ES2022',
  lib: ['ES2022'],
  types: ['node'],
  strict: true,
  exactOptionalPropertyTypes: true,
  noPropertyAccessFromIndexSignature: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
};
const TSCONFIGS = {
  'tsconfig.json': { module: 'node16', moduleResolution: 'node16', outDir: 'out' },
  'tsconfig.bundler.json': { module: 'preserve', moduleResolution: 'bundler', noEmit: true },
  'tsconfig.node10.json': { module: 'commonjs', moduleResolution: 'node10', noEmit: true },
};

// A CommonJS partner (compiled from .cts to require() calls): a query, then a subscription
// on a runtime without a WebSocket and without the `ws` package.
const CHECK_CTS = `import { BlockCommittedDocument, createPtsClient, MarketsDocument, PtsError } from '@pts/client';

const pts = createPtsClient({ url: process.env['PTS_API_URL'] ?? '', apiKey: process.env['PTS_API_KEY'] });
void pts.request(MarketsDocument).then(({ markets }) => {
  console.log(\`markets: \${markets.map((m) => \`\${m.id} \${m.kind} value \${m.value ?? '-'}\`).join(', ')}\`);
  pts.subscribe(BlockCommittedDocument, {}, () => console.log('a block'), {
    onError: (error) => {
      console.log(\`\${error.name} (a PtsError: \${error instanceof PtsError}): \${error.message}\`);
      void pts.close();
    },
  });
});
`;

describe('the client package, packed and installed as a partner would', () => {
  let net: Devnet;
  let following: FollowingIngester;
  let server: PtsServer;
  let dir: string;
  let packed: Packed;
  let installed: string[];
  let typechecks: Record<string, Run>;
  let setup: number;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pts-client-partner-'));
    const packing = (async () => {
      // `npm pack` runs the package's prepack, which builds it.
      const [result] = JSON.parse(await ok('npm', ['pack', '-w', '@pts/client', '--pack-destination', dir, '--json'], REPO)) as Packed[];
      packed = result!;
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'partner', private: true, type: 'module' }));
      await npmInstall(dir, `./${packed.filename}`);
      const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
      installed = Object.keys(lock.packages).filter(Boolean).map((path) => path.replace(/^node_modules\//, '')).sort();
      // What the partner adds to compile a Node program with tsc.
      await npmInstall(dir, `@types/node@${versionOf('@types/node')}`);
      copyFileSync(join(REPO, 'examples/partner-client.ts'), join(dir, 'partner-client.ts'));
      writeFileSync(join(dir, 'check.cts'), CHECK_CTS);
      for (const [name, options] of Object.entries(TSCONFIGS)) {
        writeFileSync(join(dir, name), JSON.stringify({ compilerOptions: { ...STRICT, ...options }, files: ['partner-client.ts', 'check.cts'] }));
      }
      const names = Object.keys(TSCONFIGS);
      const results = await Promise.all(names.map((name) => run(process.execPath, [TSC, '-p', name], dir)));
      typechecks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
    })();

    net = await startDevnet();
    following = net.follow();
    server = await startTestServer(net.db.url, { apiKeys: [API_KEY], rateLimitPerSecond: 1000 });
    const c = net.venue.call;
    const expiry = Math.floor(Date.now() / 1000) + 30 * 86400; // anvil's clock starts at the machine's
    await net.venue.send([
      c.listPerpetual('ETH-PERP', 'ETH', { imf: '0.1', mmf: '0.05', fundingInterval: 3600, maxFundingRate: '0.01' }),
      c.listOption('ETH-2000-C', 'ETH', 'CALL', 2000, expiry, { imf: '0.1', mmf: '0.05' }),
      c.price('ETH', 2000),
      c.volatility('ETH-2000-C', '0.8'),
      c.depositFor(ALICE, 0, 300),
      c.depositFor(BOB, 0, 5000),
    ]);
    // Alice: long 1 ETH-PERP at 2000 and long 1 call bought at 150.
    setup = (
      await net.venue.send([
        c.trade('ETH-PERP', { trader: ALICE, sub: 0 }, { trader: BOB, sub: 0 }, 1, 2000),
        c.trade('ETH-2000-C', { trader: ALICE, sub: 0 }, { trader: BOB, sub: 0 }, 1, 150),
      ])
    ).blockNumber;
    await following.reached(setup);
    await packing;
  }, 240_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await server?.stop();
    await net?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships built JavaScript (ESM and CommonJS), declarations and the manifest, nothing else', () => {
    const paths = packed.files.map((f) => f.path).sort();
    expect(paths).toEqual(expect.arrayContaining([
      'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json', 'dist/persisted-documents.json',
    ]));
    expect(paths.filter((path) => !/^dist\/(esm|cjs)\/.+\.(js|d\.ts)$/.test(path))).toEqual(
      ['README.md', 'dist/cjs/package.json', 'dist/persisted-documents.json', 'package.json'],
    );
    const manifest = JSON.parse(readFileSync(join(dir, 'node_modules/@pts/client/package.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(manifest['dependencies'] as object).sort()).toEqual(['@graphql-typed-document-node/core', 'graphql', 'graphql-ws']);
  });

  it('installs with only its own dependencies: graphql, graphql-ws and the typed-document core', () => {
    expect(installed).toEqual(['@graphql-typed-document-node/core', '@pts/client', 'graphql', 'graphql-ws']);
  });

  it('type-checks under strict settings with node16, bundler and node10 module resolution', () => {
    for (const [name, result] of Object.entries(typechecks)) {
      expect({ name, ...result }).toEqual({ name, code: 0, stdout: '', stderr: '' });
    }
  });

  it('runs from CommonJS: a query, and a subscription without any WebSocket ends in a typed error naming ws', async () => {
    const api = createPtsClient({ url: server.url, apiKey: API_KEY });
    const { account } = await api.request(AccountDocument, { owner: ALICE });
    const call = account!.positions.find((p) => p.market.id === 'ETH-2000-C')!;
    // Node 22 has a global WebSocket unless told otherwise; Node 20 has none.
    const result = await run(process.execPath, ['--no-experimental-websocket', 'out/check.cjs'], dir, { PTS_API_URL: server.url, PTS_API_KEY: API_KEY });
    const wsUrl = server.url.replace(/^http/, 'ws');
    expect(result).toEqual({
      code: 0,
      stdout:
        `markets: ETH-2000-C CALL value ${call.value}, ETH-PERP PERPETUAL value 2000\n` +
        `PtsTransportError (a PtsError: true): pts API unreachable at ${wsUrl}: this runtime has no WebSocket: install the \`ws\` package (Node 20) or pass webSocketImpl\n`,
      stderr: '',
    });
  });

  it("runs the example with plain node: each position's own mark, then the account's next margin change", async () => {
    await npmInstall(dir, `ws@${versionOf('ws')}`); // what a partner on Node 20 adds for subscriptions
    const api = createPtsClient({ url: server.url, apiKey: API_KEY });
    const { account } = await api.request(AccountDocument, { owner: ALICE });
    const perp = account!.positions.find((p) => p.market.id === 'ETH-PERP')!;
    const call = account!.positions.find((p) => p.market.id === 'ETH-2000-C')!;
    expect(call.value).not.toBe(call.markPrice); // the option's mark is its value, not the index

    const child = spawn(process.execPath, ['out/partner-client.js', ALICE, '0', '--events', '1'], {
      cwd: dir,
      env: { ...cleanEnv, PTS_API_URL: server.url, PTS_API_KEY: API_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await until(() => output.includes('watching'), `the example to subscribe (${output})`);
    expect(output).toContain(`${ALICE}:0 at block ${setup}: HEALTHY\n`);
    expect(output).toContain(`  ETH-PERP         size 1  entry 2000  mark ${perp.value}  uPnL ${perp.unrealizedPnl}  `);
    expect(output).toContain(`  ETH-2000-C       size 1  entry 150  mark ${call.value}  index ${call.markPrice}  uPnL ${call.unrealizedPnl}  `);

    await until(() => server.hub.subscriberCount === 1, 'the example subscriber');
    const drop = await net.venue.send([net.venue.call.price('ETH', 1800)]);
    expect(await exited).toBe(0);
    const { transitions } = await api.request(TransitionsDocument, { fromBlock: drop.blockNumber, toBlock: drop.blockNumber });
    const t = transitions.edges[0]!.node;
    expect(t.from).toBe('HEALTHY');
    expect(output).toContain(
      `block ${drop.blockNumber}: ${ALICE}:0 HEALTHY -> ${t.to} ` +
        `(equity ${t.equity}, initial margin ${t.initialMargin}, maintenance margin ${t.maintenanceMargin})\n`,
    );
  });

  it('turns an unreachable API into PtsTransportError: one line, no stack', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/graphql`;
    const result = await run(process.execPath, ['out/partner-client.js'], dir, { PTS_API_URL: url });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      new RegExp(`^PtsTransportError: pts API unreachable at ${url.replace(/\./g, '\\.')}: connect ECONNREFUSED [^\\n]+ \\(is the API running\\? PTS_API_URL says where\\)\\n$`),
    );
  });
});
