#!/usr/bin/env node
// Runs a TypeScript file of this repository (benchmarks, scripts): node bin/run-ts.js <file> [args]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { register } from 'tsx/esm/api';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bin/run-ts.js <file.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(file), ...args];
register();
await import(pathToFileURL(resolve(file)).href);
