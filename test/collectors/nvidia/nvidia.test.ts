/**
 * The nvidia collector through the real exporter process, with a fake nvidia-smi (a shell script that
 * prints written fixtures by argv and logs each call): normal, exited PIDs, non-zero exit, garbage, a
 * hang the time-out must kill, a wedge that outlives the kill (no second nvidia-smi may start beside it),
 * absent binary, and the "no host PID namespace" warning. One-shot mode (`mode=once`); the default loop
 * mode is covered by loop.test.ts and loop-samples.test.ts.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLIND_MESSAGE } from '../../../src/collectors/nvidia/index.js';
import { removeDir, waitFor } from '../../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
import { FAKE_NVIDIA_SMI, fakeNvidiaSmiDir, NVIDIA_FIXTURES, pidAlive } from '../../helpers/nvidia.js';

const FIXTURES = NVIDIA_FIXTURES;
const FAKE = FAKE_NVIDIA_SMI;
const MiB = 1024 * 1024;
const started: RunningExporter[] = [];
const dirs: string[] = [];
const wedgePids: number[] = [];

/** A state dir for the fake, with the GPU and process fixtures to print. */
function fakeDir(gpu: string, apps: string): string {
  const d = fakeNvidiaSmiDir(gpu, { fixture: apps });
  dirs.push(d);
  return d;
}
const calls = (d: string): string[] => (existsSync(join(d, 'calls.log')) ? readFileSync(join(d, 'calls.log'), 'utf8').split('\n').filter(Boolean) : []);
const clearModes = (d: string): void => {
  for (const k of ['gpu', 'apps']) for (const m of ['hang', 'wedge', 'exit', 'stderr']) rmSync(join(d, `${k}.${m}`), { force: true });
};
const alive = pidAlive;

async function exporterFor(d: string, extra: string[] = []): Promise<RunningExporter> {
  const e = await startExporter(
    // An empty procfs: the fixture PIDs must not resolve to whatever real process has that number here.
    // One-shot mode: these cases count nvidia-smi runs per scrape (loop mode: loop.test.ts).
    ['--no-collector.host', `--collector.nvidia.binary=${FAKE}`, '--collector.nvidia.mode=once', '--collector.timeout=2s', `--path.procfs=${join(d, 'proc')}`, '--docker.host=unix:///nonexistent/docker.sock', ...extra],
    { FAKE_NVIDIA_SMI_DIR: d },
  );
  started.push(e);
  return e;
}

afterAll(async () => {
  for (const pid of wedgePids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await Promise.all(started.map((e) => e.stop()));
  for (const d of dirs) removeDir(d);
});

describe('nvidia collector through the exporter with a fake nvidia-smi', () => {
  let d: string;
  let exp: RunningExporter;
  beforeAll(async () => {
    d = fakeDir('gpu-4x-a100.csv', 'apps-4x-a100.csv');
    mkdirSync(join(d, 'proc'));
    exp = await exporterFor(d);
  });

  it('normal: per-GPU, per-process and unattributed series; success 1', async () => {
    const m = await exp.metrics();
    expect(m.value('silentwatch_collector_enabled', { collector: 'nvidia' })).toBe(1);
    expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(1);
    expect(m.get('silentwatch_gpu_info')).toHaveLength(4);
    expect(m.value('silentwatch_gpu_memory_used_bytes', { gpu: '0', vendor: 'nvidia' })).toBe(71245 * MiB);
    expect(m.value('silentwatch_gpu_memory_free_bytes', { gpu: '1' })).toBe(81393 * MiB);
    expect(m.value('silentwatch_gpu_utilization_ratio', { gpu: '2' })).toBeCloseTo(0.55);
    const procs = m.get('silentwatch_gpu_process_memory_bytes');
    expect(procs.map((p) => p.labels.pid).sort()).toEqual(['41021', '41388', '50211', '60117', '60118']);
    expect(m.get('silentwatch_gpu_process_memory_bytes', { pid: '41021' })[0]?.labels).toEqual({
      vendor: 'nvidia',
      driver: 'nvidia',
      gpu: '0',
      uuid: 'GPU-1a9e4c1d-0b7f-4e55-8a13-2f6c9d0e7a10',
      device: '',
      region: 'vram',
      pid: '41021',
      process: 'llama-server',
      container: '',
      id: '',
      image: '',
      compose_project: '',
      compose_service: '',
      pod: '',
      namespace: '',
    });
    expect(m.value('silentwatch_gpu_memory_unattributed_bytes', { gpu: '0' })).toBe(435 * MiB);
    // Exactly the two queries we ask for, each with noheader,nounits.
    const c = calls(d);
    expect(c.some((l) => l.includes('--query-gpu=index,uuid,name,driver_version,memory.total,memory.used,memory.free,utilization.gpu --format=csv,noheader,nounits'))).toBe(true);
    expect(c.some((l) => l.includes('--query-compute-apps=gpu_uuid,pid,process_name,used_memory --format=csv,noheader,nounits'))).toBe(true);
  });

  it('series of exited processes disappear on the next scrape', async () => {
    writeFileSync(join(d, 'apps.csv'), readFileSync(join(FIXTURES, 'apps-4x-a100.csv'), 'utf8').split('\n').filter((l) => !l.includes(', 41388, ')).join('\n'));
    const m = await exp.metrics();
    expect(m.get('silentwatch_gpu_process_memory_bytes', { pid: '41388' })).toEqual([]);
    expect(m.get('silentwatch_gpu_process_memory_bytes')).toHaveLength(4);
    expect(m.value('silentwatch_gpu_memory_unattributed_bytes', { gpu: '0' })).toBe((435 + 5600) * MiB);
  });

  it('non-zero exit (driver down): success 0, no GPU series, one clear log line', async () => {
    writeFileSync(join(d, 'gpu.exit'), '9');
    writeFileSync(join(d, 'gpu.stderr'), "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n");
    try {
      const m = await exp.metrics();
      expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(0);
      expect(m.get('silentwatch_gpu_memory_used_bytes')).toEqual([]);
      const warn = exp.logs().filter((l) => l.msg === 'collector failed' && l.collector === 'nvidia');
      expect(String(warn.at(-1)?.cause)).toMatch(/exited with code 9: NVIDIA-SMI has failed because it couldn't communicate/);
    } finally {
      clearModes(d);
    }
  });

  it('garbage output: success 0 with the reason, never a 0 or NaN value', async () => {
    copyFileSync(join(FIXTURES, 'gpu-binary-garbage.bin'), join(d, 'gpu.csv'));
    try {
      let text = await exp.scrape();
      expect(text).not.toMatch(/NaN/);
      let m = await exp.metrics();
      expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(0);
      expect(m.get('silentwatch_gpu_info')).toEqual([]);
      // Half garbage: the good GPU line is served, success 0 says the rest was not.
      copyFileSync(join(FIXTURES, 'gpu-fell-off-bus.txt'), join(d, 'gpu.csv'));
      text = await exp.scrape();
      expect(text).not.toMatch(/NaN/);
      m = await exp.metrics();
      expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(0);
      expect(m.get('silentwatch_gpu_info').map((s) => s.labels.gpu)).toEqual(['0', '2']);
      expect(m.get('silentwatch_gpu_memory_used_bytes').map((s) => s.labels.gpu)).toEqual(['0']);
      const cause = String(exp.logs().filter((l) => l.msg === 'collector failed' && l.collector === 'nvidia').at(-1)?.cause);
      expect(cause).toMatch(/^partial data: nvidia-smi --query-gpu: skipped a line with 1 of 8 fields: "Unable to determine the device handle.*GPU 2 memory.total: \[GPU is lost\].* \(\+2 more\)$/);
    } finally {
      copyFileSync(join(FIXTURES, 'gpu-4x-a100.csv'), join(d, 'gpu.csv'));
    }
    expect((await exp.metrics()).value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(1);
  });

  it('compute-apps failing alone: GPU series kept, success 0', async () => {
    writeFileSync(join(d, 'apps.exit'), '3');
    try {
      const m = await exp.metrics();
      expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(0);
      expect(m.get('silentwatch_gpu_info')).toHaveLength(4);
      expect(m.get('silentwatch_gpu_process_memory_bytes')).toEqual([]);
      expect(m.get('silentwatch_gpu_memory_unattributed_bytes')).toEqual([]);
    } finally {
      clearModes(d);
    }
  });

  it('hang: the scrape answers within the time-out, the hung nvidia-smi is killed, concurrent scrapes start no second one', async () => {
    writeFileSync(join(d, 'gpu.hang'), '');
    try {
      const before = calls(d).length;
      const t0 = Date.now();
      const [a, b] = await Promise.all([exp.metrics(), exp.metrics()]);
      const took = Date.now() - t0;
      expect(took).toBeLessThan(8_000); // 2 s collector time-out, generous margin for a busy machine
      for (const m of [a, b]) {
        expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(0);
        expect(m.get('silentwatch_gpu_info')).toEqual([]);
      }
      const mine = calls(d).slice(before);
      expect(mine).toHaveLength(1);
      const pid = Number(mine[0]?.split(' ')[0]);
      await waitFor(() => !alive(pid), 'the hung fake nvidia-smi to be killed', 5_000);
      const warn = exp.logs().filter((l) => l.msg === 'collector failed' && l.collector === 'nvidia');
      expect(String(warn.at(-1)?.cause)).toMatch(/timed out/);
    } finally {
      clearModes(d);
    }
    expect((await exp.metrics()).value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(1);
  });

  it('wedge: while a killed nvidia-smi still has not exited, the next scrape starts no other one', async () => {
    writeFileSync(join(d, 'gpu.wedge'), '');
    try {
      const before = calls(d).length;
      let m = await exp.metrics();
      expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(0);
      const wedged = Number(await waitFor(() => existsSync(join(d, 'wedge.pid')) && readFileSync(join(d, 'wedge.pid'), 'utf8').trim(), 'wedge pid'));
      wedgePids.push(wedged);
      expect(alive(wedged)).toBe(true);
      m = await exp.metrics();
      expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(0);
      expect(calls(d).slice(before)).toHaveLength(1);
      const warn = exp.logs().filter((l) => l.msg === 'collector failed' && l.collector === 'nvidia');
      expect(String(warn.at(-1)?.cause)).toMatch(/previous run still in progress/);
      // The wedge clears: the next scrape runs nvidia-smi again and succeeds.
      clearModes(d);
      process.kill(wedged, 'SIGKILL');
      await waitFor(async () => (await exp.metrics()).value('silentwatch_collector_success', { collector: 'nvidia' }) === 1, 'recovery after the wedge', 10_000, 200);
      expect(calls(d).length).toBeGreaterThan(before + 1);
    } finally {
      clearModes(d);
    }
  });
});

describe('nvidia collector detection and the host PID namespace', () => {
  it('absent nvidia-smi: disabled by auto-detection, one info line, no error spam', async () => {
    const d = fakeDir('gpu-t4-seed002.csv', 'apps-empty.csv');
    mkdirSync(join(d, 'proc'));
    const e = await startExporter(['--no-collector.host', `--collector.nvidia.binary=${join(d, 'no-such-nvidia-smi')}`], {});
    started.push(e);
    for (let i = 0; i < 3; i++) {
      const m = await e.metrics();
      expect(m.value('silentwatch_collector_enabled', { collector: 'nvidia' })).toBe(0);
      expect(m.get('silentwatch_collector_success', { collector: 'nvidia' })).toEqual([]);
    }
    const mine = e.logs().filter((l) => l.collector === 'nvidia');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ msg: 'collector inactive', level: 'info' });
    expect(String(mine[0]?.reason)).toMatch(/no-such-nvidia-smi not found/);
    expect(calls(d)).toEqual([]);
  });

  it('no host PID namespace: empty process list with VRAM in use is said on the landing page and logged once', async () => {
    const d = fakeDir('gpu-t4-seed002.csv', 'apps-empty.csv');
    // A procfs where pid 1 is a container's process and our own PID namespace differs from pid 1's.
    const proc = join(d, 'proc');
    mkdirSync(join(proc, '1', 'ns'), { recursive: true });
    mkdirSync(join(proc, 'self', 'ns'), { recursive: true });
    writeFileSync(join(proc, '1', 'cgroup'), `0::/system.slice/docker-${'f'.repeat(64)}.scope\n`);
    symlinkSync('pid:[4026532201]', join(proc, '1', 'ns', 'pid'));
    symlinkSync('pid:[4026532999]', join(proc, 'self', 'ns', 'pid'));
    const e = await exporterFor(d);
    const m = await e.metrics();
    await e.scrape();
    expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(1);
    expect(m.get('silentwatch_gpu_process_memory_bytes')).toEqual([]);
    expect(m.value('silentwatch_gpu_memory_unattributed_bytes', { gpu: '0' })).toBe(12571 * MiB);
    const blind = e.logs().filter((l) => l.msg === BLIND_MESSAGE);
    expect(blind).toHaveLength(1);
    expect(blind[0]?.level).toBe('warn');
    expect(String(blind[0]?.reason)).toMatch(/PID namespace pid:\[4026532999\] differs/);
    const page = await (await fetch(`${e.url}/`)).text();
    expect(page).toContain(BLIND_MESSAGE);
  });
});
