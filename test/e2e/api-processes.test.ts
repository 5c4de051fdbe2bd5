// `pts serve` with PTS_API_PROCESSES=2: two API processes share PORT and both answer, one
// that dies is replaced, and SIGTERM to the primary drains them all and exits 0.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/devnet/anvil.js';
import { createTestDatabase } from '../support/database.js';
import { commitLedger, ledger, raw } from '../integration/graphql/server-support.js';

/** The pids of `pid`'s children running bin/pts.js (the API processes). */
function apiProcesses(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('pts.js');
    } catch {
      return false;
    }
  });
}

async function until(what: string, predicate: () => boolean, log: () => string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; pts serve log:\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('pts serve with PTS_API_PROCESSES=2', () => {
  it('runs two API processes on one port, replaces one that dies, and drains them all on SIGTERM', async () => {
    const db = await createTestDatabase();
    await commitLedger(db.pool, ledger());
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, PORT: String(port), PTS_API_PROCESSES: '2', PTS_LOG_FORMAT: 'json' };
    const child = spawn(process.execPath, ['bin/pts.js', 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (chunk) => (log += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const ready = () => log.match(/"message":"GraphQL API ready"/g)?.length ?? 0;
    try {
      await until('two API processes', () => ready() >= 2, () => log);
      expect(apiProcesses(child.pid!)).toHaveLength(2);
      const meta = async () => {
        // A new connection each time, so that both processes take some.
        const result = await raw(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify({ query: '{ meta { blockNumber } }' }),
        });
        expect(result.status).toBe(200);
        return result.body.data.meta.blockNumber;
      };
      const blocks = await Promise.all(Array.from({ length: 8 }, meta));
      expect(new Set(blocks).size).toBe(1);

      const [victim] = apiProcesses(child.pid!);
      process.kill(victim!, 'SIGKILL');
      await until('a replacement', () => /an API process exited; starting another/.test(log) && ready() >= 3, () => log);
      expect(apiProcesses(child.pid!)).toHaveLength(2);
      expect(apiProcesses(child.pid!)).not.toContain(victim);
      await meta();

      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`pts serve exited ${code}:\n${log.slice(-3000)}`);
      expect(log.match(/asked by the primary process/g)).toHaveLength(2);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.drop();
    }
  }, 180_000);

  it('on the embedded PostgreSQL: the API processes use the primary\'s server, which owns the data folder', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pts-api-processes-'));
    chmodSync(dataDir, 0o755); // as root, embedded PostgreSQL runs as the postgres user
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PTS_DATA_DIR: dataDir, PORT: String(port), PTS_API_PROCESSES: '2', PTS_LOG_FORMAT: 'json' };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['bin/pts.js', 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (chunk) => (log += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await until('two API processes', () => (log.match(/"message":"GraphQL API ready"/g)?.length ?? 0) >= 2, () => log);
      const result = await raw(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ markets { id } }' }),
      });
      expect([result.status, result.body]).toEqual([200, { data: { markets: [] } }]);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(log).not.toMatch(/"level":"(warn|error)"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
