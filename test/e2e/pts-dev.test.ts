// Issue 3: `pts dev` (= npm start) on a fresh data folder: embedded PostgreSQL, anvil, the
// venue, the demo traders, ingester and API in one command; the API answers at the URL it
// prints and margin transitions appear within a minute; Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/devnet/anvil.js';

async function query(url: string, q: string): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
  return response.json();
}

describe('pts dev', () => {
  it('runs the whole system from nothing; margin transitions appear within a minute', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pts-dev-'));
    chmodSync(dataDir, 0o755); // as root, embedded PostgreSQL runs as the postgres user
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PTS_DATA_DIR: dataDir, PORT: String(port), PTS_LOG_FORMAT: 'json' };
    delete env.DATABASE_URL;
    // A process group of its own, as a terminal gives a command: Ctrl-C signals all of it.
    const child = spawn(process.execPath, ['bin/pts.js', 'dev'], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let log = '';
    child.stderr.on('data', (chunk) => (log += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 120_000;
      while (!/pts dev is running/.test(log)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`pts dev did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const url = /"graphql":"([^"]+)"/.exec(log)![1]!;
      expect(url).toBe(`http://localhost:${port}/graphql`);
      const started = Date.now();
      let transitions: any[] = [];
      let result: any;
      while (transitions.length === 0 && Date.now() - started < 60_000) {
        await new Promise((r) => setTimeout(r, 1000));
        result = await query(url, '{ transitions(first: 5) { edges { node { from to blockNumber account { owner } } } } }');
        transitions = result.data?.transitions.edges ?? [];
      }
      if (transitions.length === 0) throw new Error(`no margin transition within a minute; last answer ${JSON.stringify(result).slice(0, 1000)}; pts dev log:\n${log.slice(-6000)}`);
      const markets = await query(url, '{ markets { id kind } }');
      expect(markets.data.markets.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(['ETH-PERP', 'BTC-PERP', 'ETH-C-2000-1H']));
      // Ctrl-C: SIGINT to the whole group, embedded PostgreSQL included, which goes at once.
      const rpcUrl = /"rpcUrl":"([^"]+)"/.exec(log)![1]!;
      process.kill(-child.pid!, 'SIGINT');
      const code = await exited;
      if (code !== 0) throw new Error(`pts dev exited ${code}:\n${log.slice(-3000)}`);
      expect(log).toMatch(/shutting down/);
      expect(log).not.toMatch(/Unhandled|uncaught/i);
      await expect(fetch(rpcUrl, { method: 'POST' })).rejects.toThrow(); // anvil is gone too
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
