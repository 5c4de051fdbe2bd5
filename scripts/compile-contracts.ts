// Compiles contracts/*.sol with solc-js and writes src/chain/artifacts.ts.
//   npx tsx scripts/compile-contracts.ts           (write)
//   npx tsx scripts/compile-contracts.ts --check   (exit 1 if the committed file is stale)
// The functions are exported so test/unit/chain/venue-abi.test.ts can compare the
// committed artifacts with a fresh compile.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// solc-js is CommonJS without type declarations; this is the slice we use.
interface Solc {
  compile(input: string): string;
  version(): string;
}
const solc = createRequire(import.meta.url)('solc') as Solc;

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const CONTRACTS_DIR = join(ROOT, 'contracts');
export const ARTIFACTS_FILE = join(ROOT, 'src/chain/artifacts.ts');
export const COMPILE_COMMAND = 'npx tsx scripts/compile-contracts.ts';

// 'cancun' runs on anvil's default hardfork (and on every current chain); pinned so a
// newer solc default cannot silently change the bytecode.
const EVM_VERSION = 'cancun';
const OPTIMIZER_RUNS = 200;

export interface AbiParam { name: string; type: string; indexed?: boolean; internalType?: string; components?: AbiParam[] }
export interface AbiEntry { type: string; name?: string; inputs?: AbiParam[]; outputs?: AbiParam[]; stateMutability?: string; anonymous?: boolean }
export interface CompiledContract { name: string; abi: AbiEntry[]; bytecode: `0x${string}` }

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: AbiEntry[]; evm: { bytecode: { object: string } } }>>;
}

/** Compiles every contracts/*.sol; contracts come back sorted by name. */
export function compileContracts(dir: string = CONTRACTS_DIR): CompiledContract[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sol')).sort();
  const sources = Object.fromEntries(
    files.map((f) => [`contracts/${f}`, { content: readFileSync(join(dir, f), 'utf8') }]),
  );
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
      evmVersion: EVM_VERSION,
      // No CBOR metadata trailer: the bytecode then depends on the code, not on
      // comments or whitespace, so the staleness check flags real changes only.
      metadata: { appendCBOR: false },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);

  const compiled: CompiledContract[] = [];
  for (const unit of Object.values(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(unit)) {
      compiled.push({ name, abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` });
    }
  }
  return compiled.sort((a, b) => a.name.localeCompare(b.name));
}

/** The text of src/chain/artifacts.ts: a pure function of the compile output. */
export function renderArtifacts(contracts: CompiledContract[]): string {
  const header = [
    '// GENERATED FILE, DO NOT EDIT.',
    `// Written by \`${COMPILE_COMMAND}\` from contracts/*.sol`,
    `// (solc ${solc.version()}, optimizer ${OPTIMIZER_RUNS} runs, evm ${EVM_VERSION}).`,
    '// test/unit/chain/venue-abi.test.ts fails when it is stale.',
  ].join('\n');
  const blocks = contracts.map((c) => [
    `export const ${c.name}Artifact = {`,
    `  abi: ${JSON.stringify(c.abi, null, 2).replace(/\n/g, '\n  ')} as const,`,
    `  bytecode: '${c.bytecode}' as const,`,
    '};',
  ].join('\n'));
  return `${header}\n\n${blocks.join('\n\n')}\n`;
}

function main(): void {
  const text = renderArtifacts(compileContracts());
  if (process.argv.includes('--check')) {
    const current = readFileSync(ARTIFACTS_FILE, 'utf8');
    if (current !== text) {
      console.error(`src/chain/artifacts.ts is stale: run \`${COMPILE_COMMAND}\``);
      process.exit(1);
    }
    console.log('src/chain/artifacts.ts is up to date');
    return;
  }
  writeFileSync(ARTIFACTS_FILE, text);
  console.log(`wrote ${ARTIFACTS_FILE}`);
}

// Run only as a script, not when imported by a test.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
