/**
 * Fault matrix, /sys, /proc and DRM (containers, host and drm collectors): fake sysfs/procfs trees in temp dirs
 * (test/helpers/cgroups.ts, test/helpers/drm.ts) read by the real exporter through --path.sysfs / --path.procfs,
 * one exporter per case, all cases run concurrently. Case names are the rows of docs/reliability.md.
 *
 * Churn: cgroups and processes appear whole (built aside, then renamed in, as the kernel creates a cgroup's files
 * or a /proc/<pid> folder at once) and go away either whole (renamed out) or file by file (a harsher view than the
 * kernel gives: a scrape may see a cgroup with half its files, or a process with its fd link but no fdinfo).
 *
 * Permissions: root ignores chmod 000, so the permission cases run the exporter as nobody (`unprivileged()`) and
 * make their trees world-readable (`shareDir`).
 */
import { accessSync, chmodSync, constants, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupV2Root, V2_DOCKER_FILES } from '../helpers/cgroups.js';
import { backgroundLoop, type BackgroundLoop } from '../helpers/background-loop.js';
import { removeDir, shareDir, tempDir, unprivileged, type RunAs } from '../helpers/daemon.js';
import { FakeHost, fdinfo } from '../helpers/drm.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { collectorSuccess, describeReport, runFault } from '../helpers/faults.js';
import type { ParsedExposition } from '../helpers/metrics-text.js';

const TIMEOUT_MS = 1000;
const MiB = 1024 * 1024;
const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

/**
 * A temp dir removed at the end of the file, readable by an unprivileged exporter. In memory (/dev/shm) where there
 * is one, like the real sysfs and procfs, so the churn's thousands of creates and removes never wait on a disk
 * journal; os.tmpdir() otherwise.
 */
const MEM = ((): string | undefined => {
  try {
    accessSync('/dev/shm', constants.W_OK | constants.X_OK);
    return statSync('/dev/shm').isDirectory() ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
})();
function scratch(prefix: string): string {
  const dir = MEM ? mkdtempSync(join(MEM, `silentwatch-${prefix}-`)) : tempDir(prefix);
  closers.push(async () => removeDir(dir));
  shareDir(dir);
  return dir;
}

/** Every collector that is not part of these cases off; the ones named in `args` forced on. */
async function exporter(args: string[], runAs: RunAs = {}): Promise<RunningExporter> {
  const e = await startExporter(
    ['--collector.timeout=1s', '--no-collector.nvidia', '--no-collector.queues', '--no-collector.llamaswap', '--no-collector.probes', '--no-collector.mounts', ...args],
    {},
    runAs,
  );
  closers.push(() => e.stop());
  return e;
}

/**
 * Short-lived directories (cgroups, /proc/<pid> folders), one more every ~2 ms: create(i) makes one and returns
 * where; with more than 4 alive the oldest goes, whole (renamed out to `aside`, as rmdir of a cgroup or a process
 * exit) when i is even, file by file (the harsher view) when odd. The rest go when the loop stops.
 */
function dirChurn(create: (i: number) => string, aside: string): BackgroundLoop {
  const live: Array<{ i: number; dir: string }> = [];
  const remove = ({ i, dir }: { i: number; dir: string }): void => {
    if (i % 2 === 0) {
      const gone = join(aside, `gone-${i}`);
      renameSync(dir, gone);
      rmSync(gone, { recursive: true });
    } else {
      rmSync(dir, { recursive: true });
    }
  };
  const loop = backgroundLoop(
    (i) => {
      live.push({ i, dir: create(i) });
      if (live.length > 4) remove(live.shift() as { i: number; dir: string });
    },
    {
      everyMs: 2,
      cleanup: () => {
        for (const l of live.splice(0)) remove(l);
      },
    },
  );
  closers.push(() => loop.stop());
  return loop;
}

/** Every sample of the families with this prefix is a finite, non-negative number. */
function allFinite(m: ParsedExposition, prefix: string): void {
  for (const s of m.samples.filter((x) => x.name.startsWith(prefix))) {
    expect(Number.isFinite(s.value) && s.value >= 0, `${s.name}${JSON.stringify(s.labels)} = ${s.value}`).toBe(true);
  }
}

// The containers of the cgroup cases: the fixture is a limited systemd-driver Docker container (6 GiB, oom_kill 4).
const STEADY = 'a'.repeat(64);
const PODMAN = 'b'.repeat(64);
const USAGE = 1513844736;
const short = (id: string): { id: string } => ({ id: id.slice(0, 12) });
/** The fixture's values for one container, exactly. */
function servedExactly(m: ParsedExposition, id: string): void {
  expect(m.value('silentwatch_container_memory_usage_bytes', short(id)), `usage of ${id.slice(0, 12)}`).toBe(USAGE);
  expect(m.value('silentwatch_container_memory_limit_bytes', short(id))).toBe(6 * 1024 * MiB);
  expect(m.value('silentwatch_container_oom_kills_total', short(id))).toBe(4);
}
const served = (m: ParsedExposition, id: string): boolean => m.get('silentwatch_container_memory_usage_bytes', short(id)).length > 0;
const CONTAINERS = ['--collector.containers', '--collector.containers.docker=false', '--no-collector.drm'];

// The DRM cases: one Intel iGPU, a steady client (pid 100) and the victim of the fault.
const IGPU = '0000:00:02.0';
const RESIDENT = 6044 * 1024;
const drmInfo = (client: number): string => fdinfo('i915', IGPU, client, { 'drm-total-system0': '8 MiB', 'drm-resident-system0': '6044 KiB' }, { render: 2_000_000_000 });
function drmHost(root: string): FakeHost {
  const host = new FakeHost(root);
  host.card(0, IGPU, '0x8086', 'i915');
  host.process(100, 'immich-ml');
  host.fd(100, 0, '/dev/null');
  host.fd(100, 5, '/dev/dri/renderD128', drmInfo(1));
  return host;
}
const gpuMemory = (m: ParsedExposition, pid: number): number | undefined => m.value('silentwatch_gpu_process_memory_bytes', { pid: String(pid), region: 'system0' });
const visibleRatio = (m: ParsedExposition): number | undefined => m.value('silentwatch_gpu_drm_processes_visible_ratio');
const DRM = (host: FakeHost): string[] => [`--path.procfs=${host.proc}`, `--path.sysfs=${host.sys}`, '--collector.drm', '--no-collector.containers'];

describe.concurrent('fault matrix: /sys, /proc and DRM (containers, host, drm)', { timeout: 120_000 }, () => {
  it('/sys: cgroup removed mid-read', async () => {
    const sysfs = scratch('sysfs-churn');
    const put = cgroupV2Root(sysfs);
    put(`system.slice/docker-${STEADY}.scope`, V2_DOCKER_FILES);
    const slice = join(sysfs, 'fs', 'cgroup', 'system.slice');
    const aside = join(sysfs, 'aside');
    const putAside = cgroupV2Root(aside);
    const asideRoot = join(aside, 'fs', 'cgroup');
    // distinct in the 12 characters of the short id, which is what labels the series
    const id = (i: number): string => `c${i.toString(16).padStart(11, '0')}${'c'.repeat(52)}`;
    // 4 to 5 short-lived containers at a time, one created and one removed every ~2 ms.
    const loop = dirChurn((i) => {
      putAside(`new-${i}`, V2_DOCKER_FILES);
      const dir = join(slice, `docker-${id(i)}.scope`);
      renameSync(join(asideRoot, `new-${i}`), dir);
      return dir;
    }, asideRoot);
    const e = await exporter([`--path.sysfs=${sysfs}`, ...CONTAINERS]);
    let withChurn = 0;
    let halfGone = 0;
    const rep = await runFault({
      exporter: e,
      collector: 'containers',
      timeoutMs: TIMEOUT_MS,
      expectSuccess: 1,
      // The collector keeps each container's 4 files open between scrapes (open-files) and lets a vanished one's go
      // at the end of the next scrape: between the two snapshots the open fds vary by 4 per short-lived container
      // live at that moment. Not keeping a removed cgroup's files would grow by 4 per churned cgroup (hundreds).
      slack: { fds: 12 },
      // back to the steady container alone once the churn has stopped
      healthy: (m) => served(m, STEADY) && m.value('silentwatch_container_cgroups', { cgroup_version: '2' }) === 1,
      inject: () => loop.start(),
      clear: () => loop.stop(),
      check(m) {
        // A cgroup that vanished between the walk and the reads is skipped, not an error, and never a wrong number.
        expect(collectorSuccess(m, 'containers'), String(e.logs().findLast((l) => l.msg === 'collector failed')?.cause)).toBe(1);
        allFinite(m, 'silentwatch_container_');
        servedExactly(m, STEADY);
        const churned = m.get('silentwatch_container_memory_usage_bytes').filter((s) => s.labels.id !== STEADY.slice(0, 12));
        if (churned.length > 0) withChurn++;
        // caught half-removed: some of its files read, others already gone
        if (churned.some((s) => m.get('silentwatch_container_oom_kills_total', { id: s.labels.id as string }).length === 0)) halfGone++;
      },
    });
    console.log(describeReport('/sys: cgroup removed mid-read', rep) + `; ${loop.cycles} cgroups created and removed, ${withChurn} scrapes served short-lived ones, ${halfGone} caught one half-removed`);
    expect(rep.expectedSuccessScrapes).toBe(rep.scrapes);
    expect(loop.cycles).toBeGreaterThan(100);
    // the race was really run: short-lived containers were found and read in some scrapes
    expect(withChurn).toBeGreaterThan(0);
  });

  it('/sys: permission denied', async () => {
    // Why success 0: a cgroup that vanished mid-read is skipped silently (the container is gone), but a cgroup
    // the exporter may not read is a container that is there and whose memory and OOM kills would silently
    // disappear with success 1 (the behaviour before this case). The collector now reports the scrape partial
    // ("permission denied on N cgroup path(s) … EACCES") and keeps serving what it can read.
    // The fault is on a directory of the walk (system.slice): a chmod on the container's own directory or files
    // does not reach an exporter that already holds the files open (open-files keeps them between scrapes, and
    // permissions are checked at open); a container first opened unreadable is covered in
    // test/collectors/containers/containers.test.ts.
    const sysfs = scratch('sysfs-denied');
    const put = cgroupV2Root(sysfs);
    put(`system.slice/docker-${STEADY}.scope`, V2_DOCKER_FILES);
    put(`machine.slice/libpod-${PODMAN}.scope`, V2_DOCKER_FILES);
    const slice = join(sysfs, 'fs', 'cgroup', 'system.slice');
    const e = await exporter([`--path.sysfs=${sysfs}`, ...CONTAINERS], unprivileged());
    const rep = await runFault({
      exporter: e,
      collector: 'containers',
      timeoutMs: TIMEOUT_MS,
      healthy: (m) => served(m, STEADY) && served(m, PODMAN),
      inject: async () => chmodSync(slice, 0o000),
      clear: async () => chmodSync(slice, 0o755),
      check(m) {
        // the podman container outside the unreadable slice is still served, the hidden one is absent
        servedExactly(m, PODMAN);
        expect(served(m, STEADY)).toBe(false);
        expect(m.value('silentwatch_container_cgroups', { cgroup_version: '2' })).toBe(1);
      },
    });
    console.log(describeReport('/sys: permission denied', rep));
    expect(rep.cause).toContain('partial data: permission denied on 1 cgroup path(s)');
    expect(rep.cause).toContain(`${slice}: EACCES`);
  });

  it('/proc: permission denied', async () => {
    // Two readers of procfs: host reads <procfs>/vmstat for the host-wide OOM kill counter, one file with no
    // fallback, so EACCES fails the collector (success 0, the cause names the file). drm reads every process's
    // /proc/<pid>/fd: another user's is refused to a non-root exporter, which is the documented partial view
    // (drm stays 1, skips that process, silentwatch_gpu_drm_processes_visible_ratio < 1 says so).
    const host = drmHost(scratch('proc-denied'));
    host.process(200, 'ffmpeg');
    host.fd(200, 3, '/dev/dri/renderD128', drmInfo(2));
    const vmstat = join(host.proc, 'vmstat');
    const fdDir = join(host.proc, '200', 'fd');
    const e = await exporter(DRM(host), unprivileged());
    const rep = await runFault({
      exporter: e,
      collector: 'host',
      timeoutMs: TIMEOUT_MS,
      healthy: (m) => m.value('silentwatch_host_oom_kills_total') === 0 && visibleRatio(m) === 1 && gpuMemory(m, 200) === RESIDENT,
      async inject() {
        chmodSync(vmstat, 0o000);
        chmodSync(fdDir, 0o000);
      },
      async clear() {
        chmodSync(vmstat, 0o644);
        chmodSync(fdDir, 0o755);
      },
      check(m) {
        expect(m.get('silentwatch_host_oom_kills_total')).toHaveLength(0);
        expect(collectorSuccess(m, 'drm')).toBe(1);
        expect(gpuMemory(m, 100)).toBe(RESIDENT);
        expect(gpuMemory(m, 200)).toBeUndefined();
        expect(visibleRatio(m)).toBe(0.5);
      },
    });
    console.log(describeReport('/proc: permission denied', rep));
    expect(rep.cause).toMatch(/EACCES/);
    expect(rep.cause).toContain(vmstat);
  });

  it('drm: process exits mid-read', async () => {
    const host = drmHost(scratch('drm-churn'));
    const aside = new FakeHost(scratch('drm-aside'));
    // 4 to 5 short-lived DRM clients (their own client ids) at a time, one started and one exiting every ~2 ms.
    const loop = dirChurn((i) => {
      const pid = 1000 + i;
      aside.process(pid, 'worker');
      aside.fd(pid, 0, '/dev/null');
      aside.fd(pid, 4, '/dev/dri/renderD128', drmInfo(pid));
      const dir = join(host.proc, String(pid));
      renameSync(join(aside.proc, String(pid)), dir);
      return dir;
    }, aside.proc);
    const e = await exporter(DRM(host));
    let withChurn = 0;
    const rep = await runFault({
      exporter: e,
      collector: 'drm',
      timeoutMs: TIMEOUT_MS,
      expectSuccess: 1,
      healthy: (m) => gpuMemory(m, 100) === RESIDENT && m.value('silentwatch_gpu_drm_clients', { device: IGPU }) === 1,
      inject: () => loop.start(),
      clear: () => loop.stop(),
      check(m) {
        expect(collectorSuccess(m, 'drm')).toBe(1);
        allFinite(m, 'silentwatch_gpu_');
        expect(gpuMemory(m, 100)).toBe(RESIDENT);
        expect(m.value('silentwatch_gpu_process_engine_busy_seconds_total', { pid: '100', engine: 'render' })).toBe(2);
        // an exiting process is not an invisible one
        expect(visibleRatio(m)).toBe(1);
        const clients = m.value('silentwatch_gpu_drm_clients', { device: IGPU }) as number;
        expect(clients).toBeGreaterThanOrEqual(1);
        // device totals are the sum over the clients served in the same scrape
        expect(m.value('silentwatch_gpu_drm_memory_resident_bytes', { device: IGPU, region: 'system0' })).toBe(clients * RESIDENT);
        if (clients > 1) withChurn++;
      },
    });
    console.log(describeReport('drm: process exits mid-read', rep) + `; ${loop.cycles} processes started and exited, ${withChurn} scrapes served short-lived ones`);
    expect(rep.expectedSuccessScrapes).toBe(rep.scrapes);
    expect(loop.cycles).toBeGreaterThan(100);
    expect(withChurn).toBeGreaterThan(0);
  });

  it('drm: fdinfo permission denied', async () => {
    // The fd folder of the process can be listed but the fdinfo of its DRM fd is refused (a process the exporter
    // may not inspect, e.g. an LSM policy): the client is skipped like an invisible process, not guessed: drm
    // stays 1 with the other clients served, and the process counts as not visible in
    // silentwatch_gpu_drm_processes_visible_ratio (before this case it still read 1), the landing page says so.
    const host = drmHost(scratch('drm-fdinfo'));
    host.process(200, 'ffmpeg');
    host.fd(200, 3, '/dev/dri/renderD128', drmInfo(2));
    const info = join(host.proc, '200', 'fdinfo', '3');
    const e = await exporter(DRM(host), unprivileged());
    const rep = await runFault({
      exporter: e,
      collector: 'drm',
      timeoutMs: TIMEOUT_MS,
      expectSuccess: 1,
      faulty: (m) => gpuMemory(m, 200) === undefined && visibleRatio(m) === 0.5,
      healthy: (m) => gpuMemory(m, 200) === RESIDENT && visibleRatio(m) === 1,
      inject: async () => chmodSync(info, 0o000),
      async clear() {
        // still under the fault: the landing page says what the exporter could not see
        const page = await (await fetch(`${e.url}/`)).text();
        expect(page).toContain('processes: can see 1 of 2 processes');
        expect(page).toContain('unreadable fdinfo: 1');
        chmodSync(info, 0o644);
      },
      check(m) {
        expect(gpuMemory(m, 100)).toBe(RESIDENT);
        expect(m.get('silentwatch_gpu_process_engine_busy_seconds_total', { pid: '200' })).toHaveLength(0);
        expect(m.value('silentwatch_gpu_drm_clients', { device: IGPU })).toBe(1);
        expect(m.value('silentwatch_gpu_drm_memory_resident_bytes', { device: IGPU, region: 'system0' })).toBe(RESIDENT);
      },
    });
    console.log(describeReport('drm: fdinfo permission denied', rep));
    expect(rep.expectedSuccessScrapes).toBe(rep.scrapes);
    expect(rep.cause).toBe('');
  });
});
