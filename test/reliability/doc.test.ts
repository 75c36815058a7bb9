/**
 * docs/reliability.md cannot drift from the fault matrix: every case name in test/reliability/*.test.ts
 * ("dependency: fault") is a row of the table (dependency | fault), and every row is a case.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = join(ROOT, 'test', 'reliability');
/** Files whose cases are not matrix rows: this file. */
const NOT_ROWS = new Set(['doc.test.ts']);

/** Case names from it('…') and from it(`prefix: ${name}`) over a FAULTS table of ['name', mode] pairs. */
export function caseNames(source: string): string[] {
  const names = [...source.matchAll(/\bit\(\s*'([^']+)'/g)].map((m) => m[1] as string);
  const faults = [...source.matchAll(/\[\s*'([^']+)',\s*'[a-z-]+'\s*\]/g)].map((m) => m[1] as string);
  for (const m of source.matchAll(/\bit\(\s*`([^`]*)\$\{name\}([^`]*)`/g)) for (const f of faults) names.push(`${m[1]}${f}${m[2]}`);
  return names;
}

function tableRows(md: string): string[] {
  return md
    .split('\n')
    .filter((l) => /^\| [^-]/.test(l) && !l.startsWith('| dependency |'))
    .map((l) => l.split('|').map((c) => c.trim()))
    .map((c) => `${c[1]}: ${c[2]}`);
}

describe('docs/reliability.md', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.test.ts') && !NOT_ROWS.has(f));
  const cases = files.flatMap((f) => caseNames(readFileSync(join(DIR, f), 'utf8')));
  const rows = tableRows(readFileSync(join(ROOT, 'docs', 'reliability.md'), 'utf8'));

  it('finds the cases and the rows', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(cases.length).toBeGreaterThanOrEqual(25);
    expect(new Set(cases).size).toBe(cases.length);
  });

  it('has one row per case, and one case per row', () => {
    expect([...rows].sort()).toEqual([...cases].sort());
  });
});
