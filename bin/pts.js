#!/usr/bin/env node
// The pts command. It runs the TypeScript sources directly through tsx, so a clone
// needs no build step; `npm run build` still produces dist/ for type-checked packaging.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
