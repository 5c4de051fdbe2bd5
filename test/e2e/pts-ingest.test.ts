// `pts ingest` stops on SIGINT/SIGTERM whatever it is waiting for: here an RPC node that
// never answers, which it retries with backoff until the signal.
import { spawn } from 'node:child_process';
import { freePort } from '../../src/devnet/anvil.js';
import { createTestDatabase } from '../support/database.js';

describe('pts ingest', () => {
  it('stops at once on SIGINT while the RPC node is unreachable', async () => {
    const db = await createTestDatabase();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: db.url,
      PTS_RPC_URL: `http://127.0.0.1:${await freePort()}`, // nothing listens there
      PTS_VENUE_ADDRESSES: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
      PTS_LOG_FORMAT: 'json',
    };
    const child = spawn(process.execPath, ['bin/pts.js', 'ingest'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (chunk) => (log += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!/RPC unavailable; retrying with backoff/.test(log)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no RPC outage reported:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // A few retries in, each waiting longer than the one before.
      await new Promise((r) => setTimeout(r, 2000));
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 10_000))]);
      if (code !== 0) throw new Error(`pts ingest ${code === 'running' ? 'still runs 10 s after SIGINT' : `exited ${code}`}:\n${log.slice(-3000)}`);
      expect(log).toMatch(/shutting down/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.drop();
    }
  }, 60_000);
});
