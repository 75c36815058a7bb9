/** Property tests of the foundation's parsers on ≥10,000 generated inputs each: never a throw, never a wrong kind of number. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oomKillsFromVmstat, parseVmstat } from '../../src/collectors/host/parse-vmstat.js';
import { parseDuration, parseListenAddress } from '../../src/lib/config-values.js';
import { containerFromCgroupPath, memoryCgroupOf, parseProcCgroup } from '../../src/lib/identity/parse-proc-cgroup.js';
import { containerOf } from '../../src/lib/identity/process-identity.js';
import { allFiniteNonNegative, fixtureTexts, FUZZ_RUNS, mutatedFixture } from './arbitraries.js';

const fixtures = (name: string): string[] => fixtureTexts(new URL(`../fixtures/${name}/`, import.meta.url));

describe('fuzzed parsers', () => {
  it(`parseVmstat / oomKillsFromVmstat (${FUZZ_RUNS} inputs)`, () => {
    fc.assert(
      fc.property(mutatedFixture(fixtures('host')), (text) => {
        const m = parseVmstat(text);
        expect(allFiniteNonNegative(m.values())).toBe(true);
        const k = oomKillsFromVmstat(text);
        expect(k === undefined || (Number.isSafeInteger(k) && k >= 0)).toBe(true);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`parseProcCgroup / containerOf (${FUZZ_RUNS} inputs)`, () => {
    fc.assert(
      fc.property(mutatedFixture(fixtures('identity')), (text) => {
        const entries = parseProcCgroup(text);
        for (const e of entries) {
          expect(Number.isInteger(e.hierarchyId) && e.hierarchyId >= 0).toBe(true);
          expect(e.path.startsWith('/')).toBe(true);
        }
        memoryCgroupOf(entries);
        const ref = containerOf(text);
        if (ref) expect(ref.id.length).toBeGreaterThan(0);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`containerFromCgroupPath on arbitrary paths (${FUZZ_RUNS} inputs)`, () => {
    const seg = fc.oneof(fc.constantFrom('docker', 'kubepods', 'kubepods.slice', 'system.slice', 'lxc', 'burstable', 'machine.slice'), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), fc.string({ maxLength: 80 }));
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 8 }), (segs) => {
        const ref = containerFromCgroupPath(`/${segs.join('/')}`);
        if (ref && ref.runtime !== 'lxc') expect(ref.id).toMatch(/^[0-9a-f]{64}$/);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`parseDuration and parseListenAddress (${FUZZ_RUNS} inputs)`, () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (s) => {
        const d = parseDuration(s);
        expect(d === undefined || (Number.isFinite(d) && d >= 0)).toBe(true);
        const a = parseListenAddress(s);
        expect(a === undefined || (Number.isInteger(a.port) && a.port >= 0 && a.port <= 65535)).toBe(true);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
