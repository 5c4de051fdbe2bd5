// Issue 2, "Done when": the ledger and risk modules have no I/O imports. Every import of
// src/ledger and src/risk is relative, stays inside src/fixed, src/ledger and src/risk, or is
// decimal.js; and the ledger itself never converts an amount to a float (SPEC 1: only option
// pricing, in src/risk, may).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PURE = ['src/fixed', 'src/ledger', 'src/risk'];

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(dir, file));
}

function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]/g, /^\s*import\s+['"]([^'"]+)['"]/gm, /\brequire\s*\(\s*['"]([^'"]+)['"]/g];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!);
  return found;
}

describe('purity of the ledger and risk modules', () => {
  const files = [...sources('src/ledger'), ...sources('src/risk'), ...sources('src/fixed')];

  it('finds the modules', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files)('%s imports only src/fixed, src/ledger, src/risk and decimal.js', (file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const specifier of specifiers(text)) {
      if (specifier === 'decimal.js') continue;
      expect(specifier.startsWith('.') ? specifier : `non-relative import ${specifier}`).toMatch(/^\./);
      const target = path.relative(root, path.resolve(path.dirname(path.join(root, file)), specifier));
      expect(PURE.some((dir) => target.startsWith(dir + path.sep)) ? target : `${file} imports ${target}`).toBe(target);
    }
    // No ambient I/O either.
    expect(text).not.toMatch(/\b(process\.|console\.|fetch\(|globalThis\.|Date\.now\(|new Date\(|setTimeout\(|setInterval\()/);
  });

  it.each(sources('src/ledger'))('%s never turns an amount into a float', (file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    expect(text).not.toMatch(/\b(toFloat|fromFloat|parseFloat|Number\(|toNumber\(|Math\.(?!floor\(now \/ interval\)))/);
  });
});
