// npm run build (also on `npm install` in this repository, via its postinstall, and on npm pack
// and npm publish, via prepack):
// dist/esm (ESM) and dist/cjs (CommonJS), each with its declarations, and the
// persisted-document manifest, from a clean dist.
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const path = (relative) => fileURLToPath(new URL(relative, root));

rmSync(path('dist'), { recursive: true, force: true });
for (const project of ['tsconfig.json', 'tsconfig.cjs.json']) {
  const run = spawnSync(process.execPath, [tsc, '-p', path(project), '--noEmit', 'false'], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
// Node reads dist/cjs/*.js as CommonJS only with this beside them (the package is "type": "module").
writeFileSync(path('dist/cjs/package.json'), '{ "type": "commonjs" }\n');
copyFileSync(path('src/generated/persisted-documents.json'), path('dist/persisted-documents.json'));
