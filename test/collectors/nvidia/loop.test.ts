/**
 * Loop mode (the default) through the real exporter: two long-lived fake nvidia-smi in `-lms` mode, the
 * scrapes read their newest samples. Steady state starts no process; processes appear and vanish with the
 * samples; a loop that dies or hangs is reported, killed and started again; closing the exporter leaves no
 * nvidia-smi behind.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, waitFor } from '../../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
import { clearFakeNvidiaModes, FAKE_NVIDIA_SMI, fakeNvidiaCalls, fakeNvidiaSmiDir, NVIDIA_FIXTURES, pidAlive } from '../../helpers/nvidia.js';

const MiB = 1024 * 1024;
const INTERVAL_MS = 200;
const alive = pidAlive;
const pidsOf = (calls: string[]): number[] => calls.map((l) => Number(l.split(' ')[0]));
const success = async (e: RunningExporter): Promise<number | undefined> => (await e.metrics()).value('silentwatch_collector_success', { collector: 'nvidia' });
const lastCause = (e: RunningExporter): string => String(e.logs().filter((l) => l.msg === 'collector failed' && l.collector === 'nvidia').at(-1)?.cause);

describe('nvidia collector, loop mode, through the exporter', { timeout: 60_000 }, () => {
  let d: string;
  let exp: RunningExporter;
  let stopped = false;
  beforeAll(async () => {
    d = fakeNvidiaSmiDir('gpu-4x-a100.csv', { fixture: 'apps-4x-a100.csv' }, 'nvidia-loop');
    mkdirSync(join(d, 'proc'));
    exp = await startExporter(
      ['--no-collector.host', `--collector.nvidia.binary=${FAKE_NVIDIA_SMI}`, `--collector.nvidia.loop-interval=${INTERVAL_MS}ms`, '--collector.timeout=2s', `--path.procfs=${join(d, 'proc')}`, '--docker.host=unix:///nonexistent/docker.sock'],
      { FAKE_NVIDIA_SMI_DIR: d },
    );
  });
  afterAll(async () => {
    if (!stopped) await exp.stop();
    removeDir(d);
  });

  it('steady state: the same series as one-shot runs, and no process started per scrape', async () => {
    let m = await exp.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'nvidia' }), lastCause(exp)).toBe(1);
    expect(m.get('silentwatch_gpu_info')).toHaveLength(4);
    expect(m.value('silentwatch_gpu_memory_used_bytes', { gpu: '0' })).toBe(71245 * MiB);
    expect(m.get('silentwatch_gpu_process_memory_bytes').map((p) => p.labels.pid).sort()).toEqual(['41021', '41388', '50211', '60117', '60118']);
    expect(m.value('silentwatch_gpu_memory_unattributed_bytes', { gpu: '0' })).toBe(435 * MiB);
    const calls = fakeNvidiaCalls(d);
    expect(calls).toHaveLength(2);
    expect(calls.every((l) => l.endsWith(`--format=csv,noheader,nounits -lms ${INTERVAL_MS}`))).toBe(true);
    for (let i = 0; i < 20; i++) m = await exp.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(1);
    expect(fakeNvidiaCalls(d)).toEqual(calls);
    const page = await (await fetch(`${exp.url}/`)).text();
    expect(page).toMatch(/nvidia-smi starts[^0-9]*2\b/);
  });

  it('a process that vanishes is gone within two samples, one that appears is listed; an empty list is an idle GPU', async () => {
    copyFileSync(join(NVIDIA_FIXTURES, 'apps-empty.csv'), join(d, 'apps.csv'));
    await waitFor(async () => (await exp.metrics()).get('silentwatch_gpu_process_memory_bytes').length === 0, 'process series to vanish', 5_000, 50);
    let m = await exp.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(1);
    expect(m.value('silentwatch_gpu_memory_unattributed_bytes', { gpu: '0' })).toBe(71245 * MiB);
    copyFileSync(join(NVIDIA_FIXTURES, 'apps-4x-a100.csv'), join(d, 'apps.csv'));
    await waitFor(async () => (await exp.metrics()).get('silentwatch_gpu_process_memory_bytes').length === 5, 'process series to come back', 5_000, 50);
    m = await exp.metrics();
    expect(m.value('silentwatch_gpu_memory_unattributed_bytes', { gpu: '0' })).toBe(435 * MiB);
    expect(fakeNvidiaCalls(d)).toHaveLength(2);
  });

  it('the GPU loop dies: success 0 with its exit code and stderr, started again once it can run', async () => {
    writeFileSync(join(d, 'gpu.stderr'), 'Unable to determine the device handle for GPU0000:41:00.0: Unknown Error\n');
    writeFileSync(join(d, 'gpu.exit'), '15');
    try {
      await waitFor(async () => (await success(exp)) === 0, 'failure to show', 5_000, 50);
      expect(lastCause(exp)).toMatch(/exited with code 15: Unable to determine the device handle/);
      expect((await exp.metrics()).get('silentwatch_gpu_info')).toEqual([]);
    } finally {
      clearFakeNvidiaModes(d);
    }
    await waitFor(async () => (await success(exp)) === 1, 'recovery', 5_000, 50);
  });

  it('the GPU loop hangs: killed with its process group, the scrape fails within the time-out, a new one starts', async () => {
    const before = fakeNvidiaCalls(d);
    const gpuPid = pidsOf(before.filter((l) => l.includes('--query-gpu'))).at(-1) as number;
    writeFileSync(join(d, 'gpu.hang'), '');
    try {
      const t0 = Date.now();
      await waitFor(async () => (await success(exp)) === 0, 'hang to be noticed', 10_000, 100);
      expect(Date.now() - t0).toBeLessThan(8_000);
      expect(lastCause(exp)).toMatch(/no sample for \d+ ms \(hung in the driver\?\): killed/);
      await waitFor(() => !alive(gpuPid), 'the hung nvidia-smi to be killed', 5_000);
    } finally {
      clearFakeNvidiaModes(d);
    }
    await waitFor(async () => (await success(exp)) === 1, 'recovery', 8_000, 100);
    // Bounded: a handful of starts while it hung (at most one per scrape), not a pile.
    const started = fakeNvidiaCalls(d).length - before.length;
    expect(started).toBeGreaterThanOrEqual(2);
    expect(started).toBeLessThan(20);
  });

  it('the process loop dies alone: GPU series kept, success 0, restarted', async () => {
    writeFileSync(join(d, 'apps.exit'), '3');
    try {
      await waitFor(async () => (await success(exp)) === 0, 'failure to show', 5_000, 50);
      const m = await exp.metrics();
      expect(m.get('silentwatch_gpu_info')).toHaveLength(4);
      expect(m.get('silentwatch_gpu_memory_unattributed_bytes')).toEqual([]);
      expect(lastCause(exp)).toMatch(/per-process list unavailable: .*exited with code 3/);
    } finally {
      clearFakeNvidiaModes(d);
    }
    await waitFor(async () => (await success(exp)) === 1, 'recovery', 5_000, 50);
  });

  it('stopping the exporter leaves no nvidia-smi running', async () => {
    const pids = pidsOf(fakeNvidiaCalls(d));
    await exp.stop();
    stopped = true;
    await waitFor(() => pids.every((p) => !alive(p)), 'every fake nvidia-smi to be gone', 5_000);
  });
});
