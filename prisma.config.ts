// Prisma CLI configuration. The TypeScript query compiler and the pg driver adapter
// need no native engine download (shared/ENVIRONMENT.md); the CLI still wants
// DATABASE_URL set even to generate, so a placeholder fills in when it is absent.
//
// Commands that reach a database (migrate status/deploy/diff, db pull, ...) use
// DATABASE_URL when it is set and otherwise, like pts itself, the embedded PostgreSQL
// under PTS_DATA_DIR (default ./.pts), started for the command (refused while a pts
// process owns it: stop that one, or set DATABASE_URL to its server). The CLI loads this file with jiti, which resolves the
// project's './x.js' specifiers to the .ts sources.
import path from 'node:path';
import { defineConfig } from 'prisma/config';

const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
process.env.DATABASE_URL ??= 'postgresql://localhost:5432/pts';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  async adapter() {
    const { createAdapter } = await import('./src/db/adapter.js');
    if (databaseUrl) return createAdapter(databaseUrl);
    const { startEmbeddedPostgres } = await import('./src/db/embedded.js');
    // Stopped when the CLI process exits (see src/db/embedded.ts).
    const embedded = await startEmbeddedPostgres({
      dataDir: path.resolve(process.env.PTS_DATA_DIR?.trim() || '.pts', 'postgres'),
    });
    return createAdapter(embedded.url);
  },
});
