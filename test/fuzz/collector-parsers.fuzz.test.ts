/**
 * Every collector parser on ≥10,000 generated inputs (mutations of its own recorded fixtures, arbitrary
 * text and bytes): it returns a value or throws a deliberate, explained Error — never a crash
 * (TypeError/RangeError) — and every number it returns is finite and non-negative, so nothing it
 * reads can turn into NaN, Infinity or a negative gauge in the exposition.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectFacts, maxUptimeSeconds, parseDockerTime } from '../../src/collectors/containers/parse-docker.js';
import { parseFlatKeyed, parseMemoryLimit, parseSingleValue } from '../../src/collectors/containers/parse-memory.js';
import { parseDrmFdinfo } from '../../src/collectors/drm/parse-fdinfo.js';
import { parseActivityPage, parseLegacyMetrics } from '../../src/collectors/llamaswap/parse-activity.js';
import { parseModelList, parseRunning, parseVersion } from '../../src/collectors/llamaswap/parse-api.js';
import { parseGoDuration, parseRequestLogLine } from '../../src/collectors/llamaswap/parse-log.js';
import { parseMountinfo } from '../../src/collectors/mounts/parse-mountinfo.js';
import { parseProbeResult } from '../../src/collectors/mounts/parse-probe-result.js';
import { parseComputeApps, parseGpuQuery } from '../../src/collectors/nvidia/parse-nvidia-smi.js';
import { parseBackendList, parseCompactTargets } from '../../src/collectors/probes/parse-targets.js';
import { clientNames } from '../../src/collectors/queues/parse-client-list.js';
import { queuesFromKeys } from '../../src/collectors/queues/parse-keys.js';
import { fixtureTexts, FUZZ_RUNS, mutatedFixture } from './arbitraries.js';

const fixtures = (dir: string): string[] => fixtureTexts(new URL(`../fixtures/${dir}/`, import.meta.url)).filter((t) => t.length < 200_000);

/** Every number reachable in a parser's result (maps, sets, arrays, objects). */
function numbersIn(v: unknown, out: number[] = [], depth = 0): number[] {
  if (depth > 8 || v === null || v === undefined) return out;
  if (typeof v === 'number') out.push(v);
  else if (v instanceof Map) {
    for (const [k, x] of v) {
      numbersIn(k, out, depth + 1);
      numbersIn(x, out, depth + 1);
    }
  }
  else if (v instanceof Set || Array.isArray(v)) for (const x of v) numbersIn(x, out, depth + 1);
  else if (typeof v === 'object') for (const x of Object.values(v)) numbersIn(x, out, depth + 1);
  return out;
}

/** Runs the parser: a deliberate Error with a message is a clear error; a crash or a bad number fails. */
function check(parse: (text: string) => unknown): (text: string) => void {
  return (text) => {
    let result: unknown;
    try {
      result = parse(text);
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      expect(e).not.toBeInstanceOf(TypeError);
      expect(e).not.toBeInstanceOf(RangeError);
      expect((e as Error).message.length).toBeGreaterThan(0);
      return;
    }
    for (const n of numbersIn(result)) {
      expect(Number.isFinite(n), `non-finite number ${n}`).toBe(true);
      expect(n, 'negative number').toBeGreaterThanOrEqual(0);
    }
  };
}

const cases: ReadonlyArray<readonly [string, string, (text: string) => unknown]> = [
  ['containers', 'memory.stat / memory.events (parseFlatKeyed)', parseFlatKeyed],
  ['containers', 'memory.current / usage (parseSingleValue)', parseSingleValue],
  ['containers', 'memory.max / limit (parseMemoryLimit)', parseMemoryLimit],
  ['containers', 'docker inspect (inspectFacts)', (t) => inspectFacts((() => { try { return JSON.parse(t) as unknown; } catch { return t; } })())],
  ['containers', 'docker status and time (maxUptimeSeconds, parseDockerTime)', (t) => [maxUptimeSeconds(t), parseDockerTime(t)]],
  ['drm', 'fdinfo (parseDrmFdinfo)', parseDrmFdinfo],
  ['nvidia', 'nvidia-smi --query-gpu (parseGpuQuery)', (t) => [parseGpuQuery(t), parseGpuQuery(t, { header: true })]],
  ['nvidia', 'nvidia-smi --query-compute-apps (parseComputeApps)', (t) => [parseComputeApps(t), parseComputeApps(t, { header: true })]],
  ['llamaswap', '/api/metrics/activity (parseActivityPage)', parseActivityPage],
  ['llamaswap', '/api/metrics (parseLegacyMetrics)', parseLegacyMetrics],
  ['llamaswap', '/api/version, /running, /v1/models', (t) => [parseVersion(t), parseRunning(t), parseModelList(t)]],
  ['llamaswap', 'request log lines (parseRequestLogLine, parseGoDuration)', (t) => t.split('\n').map((l) => [parseRequestLogLine(l), parseGoDuration(l)])],
  ['mounts', 'mountinfo (parseMountinfo)', parseMountinfo],
  ['mounts', 'probe child output (parseProbeResult)', parseProbeResult],
  ['queues', 'CLIENT LIST (clientNames) and key names (queuesFromKeys)', (t) => [clientNames(t), queuesFromKeys(t.split('\n'))]],
];

describe('fuzzed collector parsers', () => {
  for (const [dir, name, parse] of cases) {
    it(`${name} (${FUZZ_RUNS} inputs)`, () => {
      fc.assert(fc.property(mutatedFixture(fixtures(dir)), check(parse)), { numRuns: FUZZ_RUNS });
    });
  }
  it(`probe target lists (parseBackendList, parseCompactTargets) (${FUZZ_RUNS} inputs)`, () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), check((t) => [parseBackendList(t), parseCompactTargets(t)])), { numRuns: FUZZ_RUNS });
  });
});
