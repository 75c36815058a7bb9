/** The doctor's llama-swap check as a pure function over one collection's samples (the real metric definitions). */
import { describe, expect, it } from 'vitest';
import { info, modelState, oldestInFlight, up } from '../../src/collectors/llamaswap/metrics.js';
import { diagnose, type DoctorInput } from '../../src/doctor/findings.js';
import type { Sample } from '../../src/metrics.js';

const sample = (def: Sample['def'], labels: Record<string, string>, value: number): Sample => ({ def, labels, value });
const input = (samples: Sample[]): DoctorInput => ({ samples, containers: [], mounts: [], hostPidNamespace: true, collectors: [] });
const llamaswap = (samples: Sample[]) => diagnose(input(samples)).findings.filter((f) => f.check === 'llamaswap');

describe('doctor: llama-swap', () => {
  it('unreachable server: critical, with the down runbook', () => {
    const f = llamaswap([sample(up, { server: 'gpu' }, 0)]);
    expect(f.map((x) => [x.severity, x.title, x.runbook])).toEqual([['critical', 'llama-swap gpu does not answer GET /health', 'docs/runbooks/LlamaSwapDown.md']]);
  });

  it('a request in flight past the shipped threshold, a model starting, an old version', () => {
    const f = llamaswap([
      sample(up, { server: 'gpu' }, 1),
      sample(info, { server: 'gpu', version: 'v217', source: 'metrics', live: 'events' }, 1),
      sample(oldestInFlight, { server: 'gpu', model: 'qwen3-8b' }, 900),
      sample(oldestInFlight, { server: 'gpu', model: 'bge-m3' }, 30),
      sample(modelState, { server: 'gpu', model: 'qwen3-30b', state: 'starting' }, 1),
      sample(modelState, { server: 'gpu', model: 'qwen3-8b', state: 'starting' }, 0),
    ]);
    expect(f.map((x) => [x.severity, x.title])).toEqual([
      ['warning', 'a request to qwen3-8b on llama-swap gpu has been in flight for 900 s'],
      ['info', 'model qwen3-30b on llama-swap gpu is starting'],
      ['info', 'llama-swap gpu is v217: some alerts cannot see everything on it'],
    ]);
    expect(f[0]?.evidence[0]).toContain('alert threshold 600 s');
  });

  it('a healthy current server has no findings; no data is a skip', () => {
    expect(llamaswap([sample(up, { server: 'gpu' }, 1), sample(info, { server: 'gpu', version: 'v250', source: 'activity', live: 'events' }, 1), sample(oldestInFlight, { server: 'gpu', model: 'm' }, 12)])).toEqual([]);
    expect(diagnose(input([])).skipped.find((s) => s.check === 'llamaswap')?.reason).toMatch(/no llama-swap data/);
  });
});
