/**
 * Inputs for property tests of parsers: arbitrary text, and mutations of real recorded fixtures
 * (truncation, byte flips, dropped/duplicated/shuffled lines, inserted garbage) — the shapes real
 * files take when a process exits mid-read or a driver prints something new.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';

/** Runs per parser; the issue asks for at least 10,000 generated inputs each. */
export const FUZZ_RUNS = 10_000;

export function fixtureTexts(dir: URL): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((f) => f.isFile() && !f.name.endsWith('.md'))
    .map((f) => readFileSync(new URL(f.name, dir), 'latin1'));
}

const garbage = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('\0', '\uFFFD', '\uD800', ' ', '\t', ':', ',', ', ', '[N/A]', '-1', 'NaN', 'Infinity', '1e309', '99999999999999999999', '\r', '\n\n'),
);

export function mutatedFixture(fixtures: readonly string[]): fc.Arbitrary<string> {
  const base = fc.constantFrom(...fixtures);
  return fc.oneof(
    // truncated anywhere
    base.chain((t) => fc.nat({ max: t.length }).map((n) => t.slice(0, n))),
    // a character flipped / inserted / deleted
    base.chain((t) =>
      fc.tuple(fc.nat({ max: Math.max(0, t.length - 1) }), garbage, fc.constantFrom('replace', 'insert', 'delete')).map(([i, g, op]) =>
        op === 'replace' ? t.slice(0, i) + g + t.slice(i + 1) : op === 'insert' ? t.slice(0, i) + g + t.slice(i) : t.slice(0, i) + t.slice(i + 1),
      ),
    ),
    // lines dropped, duplicated or shuffled
    base.chain((t) => {
      const lines = t.split('\n');
      return fc.shuffledSubarray(lines, { minLength: 0, maxLength: lines.length }).chain((sub) => fc.boolean().map((dup) => (dup ? [...sub, ...sub] : sub).join('\n')));
    }),
    fc.string({ maxLength: 500 }),
    fc.string({ unit: 'binary', maxLength: 500 }),
  );
}

/** Every number a parser returns must be a finite, non-negative value. */
export function allFiniteNonNegative(values: Iterable<number>): boolean {
  for (const v of values) if (!Number.isFinite(v) || v < 0) return false;
  return true;
}
