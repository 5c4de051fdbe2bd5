// Issue 3: `pts dev` (= npm start) on a fresh data folder: embedded PostgreSQL, anvil, the
// venue, the demo traders, ingester and API in one command; the API answers at the URL it
// prints and margin transitions appear within a minute, the risk page at /; Ctrl-C stops everything.
// Issue 14: a second `pts dev` on the folder refuses and leaves the first alone (item 11);
// Ctrl-C drains without a warning, the embedded PostgreSQL in a process group of its own
// and stopped last (item 12); a killed `pts dev` leaves no PostgreSQL behind (item 9).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/devnet/anvil.js';

async function query(url: string, q: string): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
  return response.json();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pts {
  child: ChildProcess;
  log(): string;
  exited: Promise<number | null>;
}

/** `pts dev` in a process group of its own, as a terminal gives a command: Ctrl-C signals all of it. */
function ptsDev(dataDir: string, port: number): Pts {
  const env: NodeJS.ProcessEnv = { ...process.env, PTS_DATA_DIR: dataDir, PORT: String(port), PTS_LOG_FORMAT: 'json' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['bin/pts.js', 'dev'], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  child.stderr!.on('data', (chunk) => (log += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, log: () => log, exited };
}

async function untilRunning(pts: Pts): Promise<string> {
  const deadline = Date.now() + 120_000;
  while (!/pts dev is running/.test(pts.log())) {
    if (Date.now() > deadline || pts.child.exitCode !== null) throw new Error(`pts dev did not start:\n${pts.log()}`);
    await sleep(200);
  }
  return /"graphql":"([^"]+)"/.exec(pts.log())![1]!;
}

/** Lines logged from the shutdown on, as parsed JSON. */
const shutdownLines = (log: string) => log.slice(log.indexOf('"message":"shutting down"')).trim().split('\n').slice(1).map((l) => JSON.parse(l));

/** The postmaster serving dataDir (from its postmaster.pid), if any. */
function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, 'postgres', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

/** Live processes whose command line names dataDir (a postmaster and its backends). */
function processesOf(dataDir: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(join(dataDir, 'postgres'));
    } catch {
      return false;
    }
  }).map(Number);
}

/** /proc/<pid>/stat: "pid (comm) state ppid pgrp ...". */
function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

describe('pts dev', () => {
  let dataDir: string;
  const running: Pts[] = [];
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pts-dev-'));
    chmodSync(dataDir, 0o755); // as root, embedded PostgreSQL runs as the postgres user
  });
  const killAll = async () => {
    for (const pts of running) {
      if (pts.child.exitCode === null && pts.child.signalCode === null) process.kill(-pts.child.pid!, 'SIGKILL');
      await pts.exited;
    }
    const deadline = Date.now() + 60_000;
    while (processesOf(dataDir).length > 0 && Date.now() < deadline) await sleep(100);
  };
  afterAll(async () => {
    await killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the whole system from nothing; a second one on the folder refuses; Ctrl-C stops everything without a warning', async () => {
    const port = await freePort();
    const pts = ptsDev(dataDir, port);
    running.push(pts);
    const url = await untilRunning(pts);
    expect(url).toBe(`http://localhost:${port}/graphql`);
    const transitionsQuery = '{ transitions(first: 5) { edges { node { from to blockNumber account { owner } } } } }';
    const started = Date.now();
    let transitions: any[] = [];
    let result: any;
    while (transitions.length === 0 && Date.now() - started < 60_000) {
      await sleep(1000);
      result = await query(url, transitionsQuery);
      transitions = result.data?.transitions.edges ?? [];
    }
    if (transitions.length === 0) throw new Error(`no margin transition within a minute; last answer ${JSON.stringify(result).slice(0, 1000)}; pts dev log:\n${pts.log().slice(-6000)}`);
    const markets = await query(url, '{ markets { id kind } }');
    expect(markets.data.markets.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(['ETH-PERP', 'BTC-PERP', 'ETH-C-2000-1H']));
    // The risk page is at / (PTS_RISK_PAGE's pts dev default), and the log says where.
    const riskPage = await fetch(new URL('/', url), { headers: { accept: 'text/html' } });
    expect(riskPage.status).toBe(200);
    expect(await riskPage.text()).toContain('<script type="module" src="/graphql/assets/risk-page/app.js"></script>');
    expect(pts.log()).toContain(`"riskPage":"http://localhost:${port}/"`);

    // The embedded PostgreSQL is out of the terminal's process group (Ctrl-C reaches pts only).
    const postmaster = postmasterPid(dataDir)!;
    expect(processGroup(postmaster)).not.toBe(processGroup(pts.child.pid!));

    // A second `pts dev` on the same folder refuses, naming it and the pid that holds it, and touches nothing.
    const before = (await query(url, '{ meta { blockNumber } }')).data.meta.blockNumber;
    const second = ptsDev(dataDir, await freePort());
    running.push(second);
    expect(await second.exited).toBe(2);
    expect(second.log()).toContain(`the embedded PostgreSQL data folder ${join(dataDir, 'postgres')} is in use by pts process ${pts.child.pid}`);
    expect(second.log()).toMatch(/another PTS_DATA_DIR, or a PostgreSQL server in DATABASE_URL/);
    expect(second.log()).not.toMatch(/database ready|pts dev is running/);
    // The first keeps serving with its history: the same oldest transitions, the chain moving on, no reorg.
    while ((await query(url, '{ meta { blockNumber } }')).data.meta.blockNumber < before + 2) await sleep(500);
    expect((await query(url, transitionsQuery)).data.transitions.edges.slice(0, transitions.length)).toEqual(transitions);
    expect(pts.log()).not.toMatch(/reorg/i);
    expect(postmasterPid(dataDir)).toBe(postmaster);

    // Ctrl-C: SIGINT to the whole group. pts drains, then stops PostgreSQL: not one warning.
    const rpcUrl = /"rpcUrl":"([^"]+)"/.exec(pts.log())![1]!;
    process.kill(-pts.child.pid!, 'SIGINT');
    const code = await pts.exited;
    if (code !== 0) throw new Error(`pts dev exited ${code}:\n${pts.log().slice(-3000)}`);
    expect(pts.log()).toMatch(/shutting down/);
    expect(shutdownLines(pts.log()).filter((l) => l.level !== 'info')).toEqual([]);
    expect(pts.log()).not.toMatch(/Unhandled|uncaught/i);
    await expect(fetch(rpcUrl, { method: 'POST' })).rejects.toThrow(); // anvil is gone too
    expect(processesOf(dataDir)).toEqual([]); // and PostgreSQL
    expect(postmasterPid(dataDir)).toBeUndefined();
  }, 300_000);

  it('killed outright, leaves no PostgreSQL behind, and the next start works', async () => {
    await killAll(); // whatever a failed test above left running
    const killed = ptsDev(dataDir, await freePort());
    running.push(killed);
    await untilRunning(killed);
    const postmaster = postmasterPid(dataDir)!;
    expect(processesOf(dataDir)).toContain(postmaster);
    process.kill(killed.child.pid!, 'SIGKILL'); // pts alone: no handler of it runs
    await killed.exited;
    const deadline = Date.now() + 60_000;
    while (processesOf(dataDir).length > 0) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL outlived the killed pts dev: ${processesOf(dataDir)}`);
      await sleep(100);
    }

    const next = ptsDev(dataDir, await freePort());
    running.push(next);
    await untilRunning(next);
    expect(next.log()).not.toMatch(/in use by pts process/);
    process.kill(-next.child.pid!, 'SIGINT');
    expect(await next.exited).toBe(0);
    expect(processesOf(dataDir)).toEqual([]);
  }, 300_000);
});
