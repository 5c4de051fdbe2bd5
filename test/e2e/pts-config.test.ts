// Issue 14 item 14: the real `pts` command checks its whole configuration before it starts
// anything; what the user must fix exits 2 with one line naming it, never a stack.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { variables } from '../../src/config/index.js';
import { createTestDatabase } from '../support/database.js';

async function pts(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const full: NodeJS.ProcessEnv = { ...process.env, PTS_LOG_FORMAT: 'json', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete full[k];
  const child = spawn(process.execPath, ['bin/pts.js', ...args], { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

describe('pts configuration and usage errors', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pts-config-'));
    chmodSync(dataDir, 0o755);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  // Would anything start, it would be the embedded PostgreSQL under this folder: DATABASE_URL unset.
  const noDatabase = () => ({ DATABASE_URL: undefined, PTS_DATA_DIR: dataDir });

  it('pts help lists every variable with its default; pts bogus names the command and exits 2', async () => {
    const help = await pts(['help'], {});
    expect(help.code).toBe(0);
    for (const v of variables) expect(help.stdout).toContain(v.name);
    expect(help.stdout).toContain('[default: 4000]');

    const bogus = await pts(['bogus'], {});
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/^pts: unknown command: bogus\n\nusage: pts <command>/);
  });

  it.each([
    [{ PORT: '70000' }, 'pts: PORT must be an integer from 0 to 65535, got "70000"'],
    [{ PTS_LOG_FORMAT: 'text' }, 'pts: PTS_LOG_FORMAT must be one of json, pretty, got "text"'],
    [{ PTS_INTROSPECTION: 'enabled' }, 'pts: PTS_INTROSPECTION must be one of true, false, 1, 0, yes, no (any case), got "enabled"'],
  ])('%j exits 2 with one line naming the variable, having started nothing', async (env, message) => {
    const result = await pts(['serve'], { ...noDatabase(), ...env });
    expect([result.code, result.stderr]).toEqual([2, `${message}\n`]);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it.each(['start', 'ingest'])('pts %s without the chain settings exits 2 before the database or the API start', async (command) => {
    const result = await pts([command], { ...noDatabase(), PTS_RPC_URL: undefined, PTS_VENUE_ADDRESSES: undefined });
    expect([result.code, result.stderr]).toEqual([2, 'pts: PTS_RPC_URL is not set: give the JSON-RPC URL of the chain to follow\n']);
    const noVenue = await pts([command], { ...noDatabase(), PTS_RPC_URL: 'http://127.0.0.1:1', PTS_VENUE_ADDRESSES: undefined });
    expect(noVenue.code).toBe(2);
    expect(noVenue.stderr).toMatch(/^pts: PTS_VENUE_ADDRESSES is not set/);
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
  });

  it('a data folder embedded PostgreSQL cannot use exits 2 with one line saying what to do, no stack', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'pts-config-foreign-'));
    try {
      chmodSync(folder, 0o755);
      mkdirSync(join(folder, 'postgres'));
      writeFileSync(join(folder, 'postgres', 'notes.txt'), 'not a database');
      const result = await pts(['migrate'], { DATABASE_URL: undefined, PTS_DATA_DIR: folder });
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toEqual([expect.objectContaining({
        level: 'error',
        message: `${join(folder, 'postgres')} exists but is not a PostgreSQL data directory; move it away or pick another PTS_DATA_DIR`,
      })]);
      expect(lines[0].stack).toBeUndefined();
      expect(readdirSync(join(folder, 'postgres'))).toEqual(['notes.txt']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('warns once about PTS_API_KEY, which the server does not read, and accepts PTS_INTROSPECTION=1', async () => {
    const db = await createTestDatabase();
    try {
      const result = await pts(['migrate'], { DATABASE_URL: db.url, PTS_API_KEY: 'secret', PTS_INTROSPECTION: '1' });
      expect(result.code).toBe(0);
      const lines = result.stderr.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
        'PTS_API_KEY is read only by examples/partner-client.ts, not by pts: ignored; did you mean PTS_API_KEYS?',
      ]);
    } finally {
      await db.drop();
    }
  });
});
