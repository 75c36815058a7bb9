/**
 * From parsed nvidia-smi output to samples: per-GPU series, per-process series with identity labels, and
 * unattributed VRAM, on the written fixtures (seed 002 T4, 4 GPUs, MIG, WDDM).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nvidiaCollector, writeSamples } from '../../../src/collectors/nvidia/index.js';
import { parseComputeApps, parseGpuQuery } from '../../../src/collectors/nvidia/parse-nvidia-smi.js';
import { EMPTY_IDENTITY, type ProcessInfo } from '../../../src/lib/identity/process-identity.js';
import { SampleSink } from '../../../src/metrics.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/nvidia/${name}`, import.meta.url), 'utf8');
const MiB = 1024 * 1024;

function run(gpuFile: string, appsFile: string | undefined, infos = new Map<number, ProcessInfo>()) {
  const sink = new SampleSink(new Set(nvidiaCollector.metrics));
  const gpus = parseGpuQuery(fixture(gpuFile)).rows;
  const apps = appsFile === undefined ? undefined : parseComputeApps(fixture(appsFile)).rows;
  const res = writeSamples(sink, { gpus, apps, infos });
  expect(sink.problems).toEqual([]);
  const get = (name: string, match: Record<string, string> = {}) =>
    sink.samples.filter((s) => s.def.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
  return { sink, res, get };
}

describe('writeSamples', () => {
  it('seed 002: 10726 MiB pinned on immich-ml, attributed to its container; 2.2 GB free', () => {
    const immich: ProcessInfo = {
      pid: 2315841,
      comm: 'python3',
      container: { runtime: 'docker', id: 'a'.repeat(64) },
      labels: { ...EMPTY_IDENTITY, container: 'immich_machine_learning', id: 'aaaaaaaaaaaa', compose_project: 'immich', compose_service: 'immich-machine-learning' },
    };
    const { get, res } = run('gpu-t4-seed002.csv', 'apps-t4-seed002.csv', new Map([[2315841, immich]]));
    const g = { vendor: 'nvidia', gpu: '0', uuid: 'GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21' };
    expect(get('silentwatch_gpu_info')[0]?.labels).toEqual({ ...g, name: 'Tesla T4', driver_version: '535.183.01' });
    expect(get('silentwatch_gpu_memory_free_bytes', g)[0]?.value).toBe(2202 * MiB);
    expect(get('silentwatch_gpu_memory_total_bytes', g)[0]?.value).toBe(15360 * MiB);
    const procs = get('silentwatch_gpu_process_memory_bytes');
    expect(procs).toHaveLength(2);
    expect(procs[0]?.labels).toEqual({
      ...g,
      driver: 'nvidia',
      device: '',
      region: 'vram',
      pid: '2315841',
      process: 'python3',
      ...immich.labels,
    });
    expect(procs[0]?.value).toBe(10726 * MiB);
    // The ffmpeg PID is not resolvable here: host identity, name from nvidia-smi.
    expect(procs[1]?.labels).toMatchObject({ pid: '2318007', process: 'ffmpeg', container: '', compose_service: '' });
    // 12571 used − (10726 + 1581) listed = 264 MiB nobody listed holds
    expect(get('silentwatch_gpu_memory_unattributed_bytes', g)[0]?.value).toBe(264 * MiB);
    expect(res).toEqual({ processes: 2, usedBytes: 12571 * MiB, emptyListWhileUsed: false });
  });

  it('4 GPUs: processes go to their own GPU; an idle GPU has 0 listed and all of its used VRAM unattributed', () => {
    const { get } = run('gpu-4x-a100.csv', 'apps-4x-a100.csv');
    const un = (gpu: string) => get('silentwatch_gpu_memory_unattributed_bytes', { gpu })[0]?.value;
    expect(un('0')).toBe((71245 - 65210 - 5600) * MiB);
    expect(un('1')).toBe(4 * MiB);
    expect(un('2')).toBe((40131 - 40100) * MiB);
    expect(un('3')).toBe((19019 - 19000) * MiB);
    expect(get('silentwatch_gpu_process_memory_bytes', { gpu: '3' }).map((s) => s.labels.process)).toEqual(['worker, name with, commas', 'ffmpeg']);
    expect(get('silentwatch_gpu_utilization_ratio', { gpu: '3' })[0]?.value).toBe(1);
  });

  it('sentinels: skipped values leave no series at all (no 0, no NaN)', () => {
    const { get } = run('gpu-sentinels.csv', 'apps-empty.csv');
    expect(get('silentwatch_gpu_info')).toHaveLength(5);
    expect(get('silentwatch_gpu_memory_used_bytes').map((s) => s.labels.gpu)).toEqual(['0', '4']);
    expect(get('silentwatch_gpu_memory_total_bytes').map((s) => s.labels.gpu)).toEqual(['0', '3', '4']);
    expect(get('silentwatch_gpu_utilization_ratio').map((s) => s.labels.gpu)).toEqual(['3']);
    // unattributed only where used is known
    expect(get('silentwatch_gpu_memory_unattributed_bytes').map((s) => s.labels.gpu)).toEqual(['0', '4']);
  });

  it('MIG: processes attributed to the parent GPU; one pid on two instances is summed into one series', () => {
    const { get } = run('gpu-mig-h100.csv', 'apps-mig-h100.csv');
    const procs = get('silentwatch_gpu_process_memory_bytes');
    expect(procs.map((s) => [s.labels.pid, s.labels.gpu, s.value])).toEqual([
      ['21180', '0', 2296 * MiB],
      ['21198', '0', (7484 + 1024) * MiB],
    ]);
    expect(get('silentwatch_gpu_memory_unattributed_bytes')[0]?.value).toBe((11125 - 2296 - 7484 - 1024) * MiB);
    expect(get('silentwatch_gpu_utilization_ratio')).toEqual([]);
  });

  it('WDDM: per-process memory unknown → no process series and no unattributed (it would be a lie)', () => {
    const { get } = run('gpu-wddm-2080s.csv', 'apps-wddm-2080s.csv');
    expect(get('silentwatch_gpu_process_memory_bytes')).toEqual([]);
    expect(get('silentwatch_gpu_memory_unattributed_bytes')).toEqual([]);
    expect(get('silentwatch_gpu_memory_used_bytes')[0]?.value).toBe(1366 * MiB);
  });

  it('compute-apps failed: GPU series only; empty list with high use is flagged', () => {
    expect(run('gpu-t4-seed002.csv', undefined).get('silentwatch_gpu_memory_unattributed_bytes')).toEqual([]);
    const blind = run('gpu-t4-seed002.csv', 'apps-empty.csv');
    expect(blind.res.emptyListWhileUsed).toBe(true);
    expect(blind.get('silentwatch_gpu_memory_unattributed_bytes')[0]?.value).toBe(12571 * MiB);
  });

  it('a process whose gpu_uuid matches no GPU line keeps that uuid with gpu="" and is not counted against any GPU', () => {
    const sink = new SampleSink(new Set(nvidiaCollector.metrics));
    const gpus = parseGpuQuery('0, GPU-x, T, 1, 100, 60, 40, 0\n').rows;
    const apps = parseComputeApps('GPU-x, 5, p, 10\nMIG-1f2e3d4c-0000-5555-aaaa-0123456789ab, 6, q, 30\n').rows;
    writeSamples(sink, { gpus, apps, infos: new Map() });
    const procs = sink.samples.filter((s) => s.def.name === 'silentwatch_gpu_process_memory_bytes');
    expect(procs.map((s) => [s.labels.gpu, s.labels.uuid, s.value])).toEqual([
      ['0', 'GPU-x', 10 * MiB],
      ['', 'MIG-1f2e3d4c-0000-5555-aaaa-0123456789ab', 30 * MiB],
    ]);
    expect(sink.samples.find((s) => s.def.name === 'silentwatch_gpu_memory_unattributed_bytes')?.value).toBe(50 * MiB);
  });

  it('used below the listed sum (sampling skew) clamps unattributed at 0', () => {
    const sink = new SampleSink(new Set(nvidiaCollector.metrics));
    const gpus = parseGpuQuery('0, GPU-x, T, 1, 100, 10, 90, 0\n').rows;
    const apps = parseComputeApps('GPU-x, 5, p, 12\n').rows;
    writeSamples(sink, { gpus, apps, infos: new Map() });
    expect(sink.samples.find((s) => s.def.name === 'silentwatch_gpu_memory_unattributed_bytes')?.value).toBe(0);
  });
});
