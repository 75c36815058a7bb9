/**
 * The drm collector through the real exporter process:
 * - against a fake procfs/sysfs tree built in a temp dir (fd symlinks to /dev/dri nodes that do not exist on
 *   this host, fdinfo files written from the kernel's format): dedupe of a client shared by fds and
 *   processes, a process that vanished, an unreadable fdinfo, engine counters stepping backwards;
 * - against the real /proc and /sys of this machine, which has no DRM device: quiet and healthy.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCommand, removeDir, startDaemon, tempDir, waitFor, type Daemon } from '../../helpers/daemon.js';
import { CLI, cleanEnv, REPO_ROOT, startExporter, type RunningExporter } from '../../helpers/exporter.js';
import { parseExposition } from '../../helpers/metrics-text.js';
import { FakeHost, fdinfo } from '../../helpers/drm.js';

const KiB = 1024;

const CONTAINER_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const IGPU = '0000:00:02.0';
const DGPU = '0000:0c:00.0';
const IDLE = '0000:03:00.0';

describe('drm collector on a fake procfs tree', () => {
  let dir: string;
  let host: FakeHost;
  let exporter: RunningExporter;

  beforeAll(async () => {
    dir = tempDir('silentwatch-drm-');
    host = new FakeHost(dir);
    host.card(0, IGPU, '0x8086', 'i915');
    host.card(1, DGPU, '0x1002', 'amdgpu');
    host.card(2, IDLE, '0x8086', 'xe');
    const igpuClient = (render: number) => fdinfo('i915', IGPU, 39, { 'drm-total-system0': '8 MiB', 'drm-resident-system0': '6044 KiB', 'drm-resident-stolen-system0': '0' }, { render, copy: 0 });

    // immich ML in a docker container: one i915 client open through two fds, and inherited by a forked worker.
    host.process(100, 'immich-ml', `0::/system.slice/docker-${CONTAINER_ID}.scope\n`);
    host.fd(100, 0, '/dev/null');
    host.fd(100, 1, 'socket:[4711]');
    host.fd(100, 5, '/dev/dri/renderD128', igpuClient(2_000_000_000));
    host.fd(100, 6, '/dev/dri/card0', igpuClient(2_000_000_000));
    host.process(101, 'immich-ml', `0::/system.slice/docker-${CONTAINER_ID}.scope\n`);
    host.fd(101, 5, '/dev/dri/renderD128', igpuClient(2_000_000_000));

    // ffmpeg on the AMD card with two clients, amdgpu's double memory form.
    host.process(200, 'ffmpeg');
    const amd = (client: number, vramKiB: number, gfxNs: number) =>
      fdinfo('amdgpu', DGPU, client, { 'drm-resident-vram': `${vramKiB} KiB`, 'drm-memory-vram': `${vramKiB} KiB`, 'drm-resident-gtt': '2 MiB', 'drm-memory-gtt': '2048 KiB' }, { gfx: gfxNs });
    host.fd(200, 3, '/dev/dri/renderD129', amd(57, 1000, 10_000_000_000));
    host.fd(200, 4, '/dev/dri/renderD129', amd(58, 500, 5_000_000_000));

    // A process that exited between the fd listing and the fdinfo read (its fdinfo is gone) ...
    host.process(300, 'gone');
    host.fd(300, 7, '/dev/dri/renderD128');
    // ... and one whose folder is empty (exited before the fd listing).
    mkdirSync(join(host.proc, '301'));
    // An unreadable fdinfo: a directory where the file should be.
    host.process(400, 'weird');
    host.fd(400, 4, '/dev/dri/renderD128');
    mkdirSync(join(host.proc, '400', 'fdinfo', '4'));
    // An unrelated process with only ordinary fds.
    host.process(500, 'bash');
    host.fd(500, 0, '/dev/pts/0');
    host.fd(500, 1, 'pipe:[99]');

    exporter = await startExporter([`--path.procfs=${host.proc}`, `--path.sysfs=${host.sys}`, '--no-collector.host']);
  });
  afterAll(async () => {
    await exporter?.stop();
    if (dir) removeDir(dir);
  });

  it('is detected from sysfs and succeeds', async () => {
    const m = await exporter.metrics();
    expect(m.value('silentwatch_collector_enabled', { collector: 'drm' })).toBe(1);
    expect(m.value('silentwatch_collector_success', { collector: 'drm' })).toBe(1);
  });

  it('reports per-process memory once per client, attributed to the lowest PID, with identity', async () => {
    const m = await exporter.metrics();
    const mem = m.get('silentwatch_gpu_process_memory_bytes');
    expect(new Set(mem.map((s) => s.labels.pid))).toEqual(new Set(['100', '200']));
    const sys0 = m.get('silentwatch_gpu_process_memory_bytes', { pid: '100', region: 'system0' });
    expect(sys0).toHaveLength(1);
    expect(sys0[0]?.value).toBe(6044 * KiB);
    expect(sys0[0]?.labels).toMatchObject({ vendor: 'intel', driver: 'i915', gpu: '', uuid: '', device: IGPU, process: 'immich-ml', id: CONTAINER_ID.slice(0, 12) });
    expect(m.value('silentwatch_gpu_process_memory_bytes', { pid: '100', region: 'stolen-system0' })).toBe(0);
    // amdgpu prints resident and the legacy alias: counted once; the two clients of pid 200 add up.
    expect(m.value('silentwatch_gpu_process_memory_bytes', { pid: '200', region: 'vram' })).toBe(1500 * KiB);
    expect(m.value('silentwatch_gpu_process_memory_bytes', { pid: '200', region: 'gtt' })).toBe(4 * 1024 * KiB);
    expect(m.get('silentwatch_gpu_process_memory_bytes', { pid: '200' })[0]?.labels).toMatchObject({ vendor: 'amd', driver: 'amdgpu', device: DGPU, process: 'ffmpeg', container: '' });
  });

  it('reports per-device clients (0 for an idle card) and resident totals', async () => {
    const m = await exporter.metrics();
    expect(m.value('silentwatch_gpu_drm_clients', { device: IGPU })).toBe(1);
    expect(m.value('silentwatch_gpu_drm_clients', { device: DGPU })).toBe(2);
    expect(m.value('silentwatch_gpu_drm_clients', { device: IDLE, vendor: 'intel', driver: 'xe' })).toBe(0);
    expect(m.value('silentwatch_gpu_drm_memory_resident_bytes', { device: DGPU, region: 'vram' })).toBe(1500 * KiB);
    expect(m.value('silentwatch_gpu_drm_memory_resident_bytes', { device: IGPU, region: 'system0' })).toBe(6044 * KiB);
    // 6 process folders can be read, 1 vanished (empty folder): all visible as root.
    expect(m.value('silentwatch_gpu_drm_processes_visible_ratio')).toBe(1);
  });

  it('keeps engine counters monotonic when a client value steps back or a client closes', async () => {
    let m = await exporter.metrics();
    expect(m.value('silentwatch_gpu_process_engine_busy_seconds_total', { pid: '100', engine: 'render' })).toBe(2);
    expect(m.value('silentwatch_gpu_process_engine_busy_seconds_total', { pid: '200', engine: 'gfx' })).toBe(15);

    // The i915 client's value drops (as when the kernel folds closed contexts); client 58 closes; 57 grows.
    const igpu = fdinfo('i915', IGPU, 39, { 'drm-resident-system0': '6044 KiB' }, { render: 1_500_000_000, copy: 0 });
    for (const [pid, fd] of [[100, 5], [100, 6], [101, 5]] as const) writeFileSync(join(host.proc, String(pid), 'fdinfo', String(fd)), igpu);
    host.closeFd(200, 4);
    writeFileSync(join(host.proc, '200', 'fdinfo', '3'), fdinfo('amdgpu', DGPU, 57, { 'drm-resident-vram': '1000 KiB' }, { gfx: 12_000_000_000 }));
    m = await exporter.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'drm' })).toBe(1);
    expect(m.value('silentwatch_gpu_process_engine_busy_seconds_total', { pid: '100', engine: 'render' })).toBe(2);
    expect(m.value('silentwatch_gpu_process_engine_busy_seconds_total', { pid: '200', engine: 'gfx' })).toBe(17);
    expect(m.value('silentwatch_gpu_drm_clients', { device: DGPU })).toBe(1);
    expect(m.value('silentwatch_gpu_process_memory_bytes', { pid: '200', region: 'vram' })).toBe(1000 * KiB);

    // The i915 client then moves on from its lower value: growth shows, nothing is counted twice.
    const later = fdinfo('i915', IGPU, 39, {}, { render: 2_500_000_000 });
    for (const [pid, fd] of [[100, 5], [100, 6], [101, 5]] as const) writeFileSync(join(host.proc, String(pid), 'fdinfo', String(fd)), later);
    m = await exporter.metrics();
    expect(m.value('silentwatch_gpu_process_engine_busy_seconds_total', { pid: '100', engine: 'render' })).toBe(2.5);
  });

  it('a process that exits drops its series', async () => {
    for (const pid of [100, 101]) rmSync(join(host.proc, String(pid)), { recursive: true });
    const m = await exporter.metrics();
    expect(m.get('silentwatch_gpu_process_memory_bytes', { pid: '100' })).toHaveLength(0);
    expect(m.get('silentwatch_gpu_process_engine_busy_seconds_total', { pid: '100' })).toHaveLength(0);
    expect(m.value('silentwatch_gpu_drm_clients', { device: IGPU })).toBe(0);
    expect(m.value('silentwatch_collector_success', { collector: 'drm' })).toBe(1);
  });

  it('the landing page says what it could see', async () => {
    const html = await (await fetch(exporter.url + '/')).text();
    expect(html).toContain('can see all');
    expect(html).toMatch(/unreadable fdinfo/);
  });
});

describe('drm collector on this machine (no DRM device)', () => {
  const hasDrm = existsSync('/sys/class/drm') && readdirSync('/sys/class/drm').some((n) => /^(card|renderD)\d+$/.test(n));
  let auto: RunningExporter;
  let forced: RunningExporter;
  beforeAll(async () => {
    [auto, forced] = await Promise.all([startExporter(['--no-collector.host']), startExporter(['--collector.drm', '--no-collector.host'])]);
  });
  afterAll(async () => {
    await Promise.all([auto?.stop(), forced?.stop()]);
  });

  it.skipIf(hasDrm)(`auto: not enabled, no series${hasDrm ? ' (skipped: this host has a DRM device)' : ''}`, async () => {
    const m = await auto.metrics();
    expect(m.value('silentwatch_collector_enabled', { collector: 'drm' })).toBe(0);
    expect(m.get('silentwatch_gpu_process_memory_bytes')).toHaveLength(0);
    expect(m.get('silentwatch_gpu_drm_clients')).toHaveLength(0);
  });

  it('forced on against the real /proc: success 1 and no per-process series', async () => {
    const m = await forced.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'drm' })).toBe(1);
    if (!hasDrm) {
      expect(m.get('silentwatch_gpu_process_memory_bytes')).toHaveLength(0);
      expect(m.get('silentwatch_gpu_process_engine_busy_seconds_total')).toHaveLength(0);
    }
    expect(m.value('silentwatch_gpu_drm_processes_visible_ratio')).toBe(1); // the tests run as root
  });
});

describe('drm collector limits on the real /proc', () => {
  it('max_fds stops the scan early and reports degraded data, keeping the samples', async () => {
    const e = await startExporter(['--collector.drm', '--collector.drm.max-fds=1', '--no-collector.host']);
    try {
      const m = await e.metrics();
      expect(m.value('silentwatch_collector_success', { collector: 'drm' })).toBe(0);
      expect(m.value('silentwatch_gpu_drm_processes_visible_ratio')).toBeGreaterThan(0);
      const html = await (await fetch(e.url + '/')).text();
      expect(html).toContain('stopped after 1 file descriptors');
    } finally {
      await e.stop();
    }
  });

  const canDrop = process.getuid?.() === 0 && hasCommand('setpriv');
  it.skipIf(!canDrop)(`unprivileged (uid 65534): healthy, says it sees only part of the system${canDrop ? '' : ' (skipped: needs root and setpriv)'}`, async () => {
    const daemon: Daemon = startDaemon('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, '--web.listen-address=127.0.0.1:0', '--collector.drm', '--no-collector.host'], {
      env: cleanEnv(),
      cwd: REPO_ROOT,
    });
    try {
      const port = await waitFor(
        () => {
          if (daemon.exited()) throw new Error(`exporter exited: ${daemon.output()}`);
          const line = daemon.output().split('\n').find((l) => l.startsWith('{') && l.includes('"listening"'));
          return line ? ((JSON.parse(line) as { port: number }).port) : undefined;
        },
        'unprivileged exporter to listen',
        20_000,
      );
      const m = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      expect(m.value('silentwatch_collector_success', { collector: 'drm' })).toBe(1);
      const ratio = m.value('silentwatch_gpu_drm_processes_visible_ratio') ?? -1;
      expect(ratio).toBeGreaterThan(0); // its own process at least
      expect(ratio).toBeLessThan(1); // root's processes are hidden from uid 65534
      const html = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      expect(html).toMatch(/can see \d+ of \d+ processes: not root/);
    } finally {
      await daemon.stop();
    }
  });
});
