#!/usr/bin/env -S node --max-semi-space-size=64
// The pts command. It runs the TypeScript sources directly through tsx, so a clone
// needs no build step; `npm run build` still produces dist/ for type-checked packaging.
// --max-semi-space-size=64: the ledger and the API allocate many short-lived bigints and
// objects; a larger young generation cut the ingester's CPU by ~20% on bench/ingest and
// raised bench/api's request rate by 20-30%, for ~70 MB more RSS. It must be given to node
// on its command line (it sizes the heap at start), hence the shebang and npm start.
// NODE_ENV defaults to production: graphql-js otherwise checks every instanceof against
// copies of itself from other realms (its development mode), which cost bench/api's
// account query ~25% of its request rate. Set NODE_ENV=development to get the checks back.
import { register } from 'tsx/esm/api';

process.env.NODE_ENV ??= 'production';
register();
await import('../src/cli/main.ts');
