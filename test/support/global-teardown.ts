// Jest globalTeardown: drops this run's databases (they matter on a shared server) and
// stops the embedded server started by global-setup.ts.
import { rm } from 'node:fs/promises';
import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__PTS_TEST_SERVER__;
  if (!state) return;
  globalThis.__PTS_TEST_SERVER__ = undefined;
  try {
    if (!state.embedded) {
      const serverUrl = new URL(state.serverUrl);
      serverUrl.pathname = '/postgres';
      const admin = new pg.Client({ connectionString: serverUrl.toString() });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ datname: string }>(
          `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
          [state.template, `pts\\_test\\_${state.runId}\\_%`],
        );
        for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
  } finally {
    await state.embedded?.stop();
    if (state.tempDir) await rm(state.tempDir, { recursive: true, force: true });
  }
}
