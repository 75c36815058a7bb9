/**
 * The mounts collector in the real exporter against real mounts made here (root needed): a tmpfs for
 * "present and responsive", an absent path, symlinks (to the live tmpfs, to a plain directory, to nowhere,
 * to the hung mount), and a real FUSE filesystem that never answers (the test opens
 * /dev/fuse, mounts it with `fd=N` and never reads it, so every stat of it blocks in the kernel in
 * fuse_get_req, D state, like a dead NFS server). Over 100 scrapes /metrics keeps answering within the
 * collector time-out, at most one probe child per path is ever alive, and no child process, fd or thread leaks.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, sleep, tempDir, waitFor } from '../../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
import type { ParsedExposition } from '../../helpers/metrics-text.js';
import { mountSwallowingFuse, type SwallowingFuse } from '../../helpers/fuse-swallow.js';

const canMount = ((): string | undefined => {
  if (process.getuid?.() !== 0) return 'mounting needs root';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  return undefined;
})();

/** PIDs whose parent is `ppid`, with their command lines. */
function children(ppid: number): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== ppid) continue;
      out.push({ pid: Number(name), cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}
const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const threadCount = (pid: number): number => Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

describe.skipIf(canMount !== undefined)(`mounts collector against real mounts${canMount ? ` (skipped: ${canMount})` : ''}`, () => {
  let dir: string;
  let tmpfs: string;
  let fuse: string;
  let absent: string;
  /** Symlinks: to the live tmpfs (through a symlinked parent directory too), to a plain directory, to nothing, to the hung mount. */
  let linkLive: string;
  let linkPlain: string;
  let linkDangling: string;
  let linkHung: string;
  let fuseFd: number | undefined;
  let exporter: RunningExporter;

  beforeAll(async () => {
    dir = tempDir('mounts');
    tmpfs = join(dir, 'photo library');
    fuse = join(dir, 'nfs-gone');
    absent = join(dir, 'not-mounted');
    for (const d of [tmpfs, fuse, absent]) mkdirSync(d);
    // /srv/photos -> /mnt/nas style: a directory of links (itself reached through a symlink) and the links in it.
    mkdirSync(join(dir, 'links'));
    symlinkSync(join(dir, 'links'), join(dir, 'links-alias'));
    symlinkSync(tmpfs, join(dir, 'links', 'photos'));
    symlinkSync('../not-mounted', join(dir, 'links', 'plain'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'links', 'dangling'));
    symlinkSync('../nfs-gone', join(dir, 'links', 'hung'));
    linkLive = join(dir, 'links-alias', 'photos');
    linkPlain = join(dir, 'links', 'plain');
    linkDangling = join(dir, 'links', 'dangling');
    linkHung = join(dir, 'links', 'hung');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'silentwatch-test', tmpfs]);
    fuseFd = openSync('/dev/fuse', 'r+');
    const r = spawnSync('mount', ['-i', '-t', 'fuse.silentwatch-hang', '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', 'silentwatch-hang', fuse], {
      stdio: ['ignore', 'pipe', 'pipe', fuseFd],
    });
    if (r.status !== 0) throw new Error(`FUSE mount failed: ${r.stderr.toString()}`);
    exporter = await startExporter([
      `--collector.mounts.paths=${tmpfs},${fuse},${absent},${linkLive},${linkPlain},${linkDangling},${linkHung}`,
      '--collector.mounts.expected-fstypes=tmpfs,fuse.*',
      '--collector.mounts.probe-timeout=500ms',
      '--collector.mounts.timeout=2s',
    ]);
  });

  afterAll(async () => {
    await exporter?.stop();
    // Closing /dev/fuse aborts the connection: anything still blocked on it returns ENOTCONN.
    if (fuseFd !== undefined) closeSync(fuseFd);
    for (const p of [fuse, tmpfs]) if (p) spawnSync('umount', ['-l', p]);
    if (dir) removeDir(dir);
  });

  it('a tmpfs is present and responsive, an absent path is not present, the hung FUSE mount is present', async () => {
    // Under CPU contention starting the probe process can take a while: allow a few scrapes.
    const m = await waitFor(async () => {
      const x = await exporter.metrics();
      return x.value('silentwatch_mount_responsive', { path: tmpfs }) === 1 ? x : undefined;
    }, 'tmpfs probe to succeed', 30_000, 200);
    expect(m.value('silentwatch_collector_success', { collector: 'mounts' })).toBe(1);
    expect(m.value('silentwatch_mount_present', { path: tmpfs })).toBe(1);
    expect(m.value('silentwatch_mount_info', { path: tmpfs, fstype: 'tmpfs', mode: '' })).toBe(1);
    expect(m.value('silentwatch_mount_probe_duration_seconds', { path: tmpfs })).toBeLessThan(0.5);
    expect(m.value('silentwatch_mount_present', { path: absent })).toBe(0);
    expect(m.get('silentwatch_mount_responsive', { path: absent })).toEqual([]);
    expect(m.value('silentwatch_mount_info', { path: absent, mount_point: absent, fstype: '', mode: '' })).toBe(1);
    expect(m.value('silentwatch_mount_present', { path: fuse })).toBe(1);
    expect(m.value('silentwatch_mount_info', { path: fuse, fstype: 'fuse.silentwatch-hang', mode: '' })).toBe(1);
    expect(m.value('silentwatch_mount_responsive', { path: fuse })).toBe(0);
    expect(m.value('silentwatch_mount_probe_duration_seconds', { path: fuse })).toBe(0.5);
  });

  it('symlinks are followed: reported under the configured path, checked at the real mount point', async () => {
    const m = await waitFor(async () => {
      const x = await exporter.metrics();
      return x.value('silentwatch_mount_responsive', { path: linkLive }) === 1 ? x : undefined;
    }, 'symlinked tmpfs probe to succeed', 30_000, 200);
    // A symlink (through a symlinked directory) to the live tmpfs: present and responsive, nothing to alert on.
    expect(m.value('silentwatch_mount_present', { path: linkLive })).toBe(1);
    expect(m.value('silentwatch_mount_info', { path: linkLive, mount_point: tmpfs, fstype: 'tmpfs', mode: '' })).toBe(1);
    // A symlink to a directory that is not a mount point still reads missing.
    expect(m.value('silentwatch_mount_present', { path: linkPlain })).toBe(0);
    expect(m.value('silentwatch_mount_info', { path: linkPlain, mount_point: absent, fstype: '' })).toBe(1);
    expect(m.get('silentwatch_mount_responsive', { path: linkPlain })).toEqual([]);
    // A symlink to nothing: missing, and no resolution to show.
    expect(m.value('silentwatch_mount_present', { path: linkDangling })).toBe(0);
    expect(m.get('silentwatch_mount_info', { path: linkDangling })).toEqual([]);
    // A symlink to the hung mount: present (the resolution never touches the hung mount) but unresponsive.
    expect(m.value('silentwatch_mount_present', { path: linkHung })).toBe(1);
    expect(m.value('silentwatch_mount_info', { path: linkHung, mount_point: fuse, fstype: 'fuse.silentwatch-hang' })).toBe(1);
    expect(m.value('silentwatch_mount_responsive', { path: linkHung })).toBe(0);
    // The landing page shows each resolution beside the path's state.
    const page = await (await fetch(`${exporter.url}/`)).text();
    expect(page).toContain(`symlink to ${tmpfs}`);
    expect(page).toContain(`resolves to ${absent}, which is not a mount point`);
    expect(page).toContain('cannot resolve: ENOENT');
  });

  // 30 scrapes here (each waits out the 500 ms probe time-out of a killable hang); the 100-scrape leak check of
  // a probe that never returns (the unkillable D-state kind) is the fault-matrix row in test/reliability/mounts.test.ts.
  it('30 scrapes with a mount that never answers: /metrics always answers in time, one probe child per path at most, nothing leaks', async () => {
    const pid = exporter.daemon.child.pid!;
    await exporter.scrape(); // warm-up
    await waitFor(() => children(pid).length === 0, 'probe children of the warm-up to exit', 10_000);
    const fdsBefore = fdCount(pid);
    const threadsBefore = threadCount(pid);

    let maxPerPath = 0;
    let maxTotal = 0;
    let sawHungChild = false;
    const sampler = setInterval(() => {
      const kids = children(pid);
      maxTotal = Math.max(maxTotal, kids.length);
      for (const p of [tmpfs, fuse, absent, linkLive, linkPlain, linkDangling, linkHung]) maxPerPath = Math.max(maxPerPath, kids.filter((k) => k.cmdline.endsWith(` ${p}`) || k.cmdline.endsWith(` ${p} `)).length);
      if (kids.some((k) => k.cmdline.includes(fuse))) sawHungChild = true;
    }, 50);
    const durations: number[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        const m = await exporter.metrics();
        durations.push((performance.now() - started) / 1000);
        expect(m.value('silentwatch_mount_responsive', { path: fuse })).toBe(0);
        expect(m.value('silentwatch_mount_present', { path: fuse })).toBe(1);
        expect(m.value('silentwatch_mount_present', { path: absent })).toBe(0);
      }
    } finally {
      clearInterval(sampler);
    }
    // Collector time-out 2 s; generous margin for a loaded machine, but far below "hung forever".
    expect(Math.max(...durations)).toBeLessThan(4);
    expect(sawHungChild).toBe(true);
    expect(maxPerPath).toBeLessThanOrEqual(1);
    expect(maxTotal).toBeLessThanOrEqual(7);
    // Every killed probe child is reaped: none left over once the last one's time-out passed.
    await waitFor(() => children(pid).length === 0, 'all probe children to be gone', 10_000);
    expect(fdCount(pid)).toBeLessThanOrEqual(fdsBefore + 4);
    expect(threadCount(pid)).toBeLessThanOrEqual(threadsBefore + 2);
    // No probe process anywhere is still stuck on the FUSE mount (the exporter names the path in its flags).
    const stuck = readdirSync('/proc').filter((n) => /^\d+$/.test(n) && n !== String(pid)).filter((n) => {
      try {
        return readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(fuse);
      } catch {
        return false;
      }
    });
    expect(stuck).toEqual([]);
  }, 400_000);

  it('a FUSE connection that breaks (ENOTCONN) stays unresponsive; once unmounted the path is no longer present', async () => {
    closeSync(fuseFd!);
    fuseFd = undefined;
    await sleep(100);
    let m = await exporter.metrics();
    expect(m.value('silentwatch_mount_responsive', { path: fuse })).toBe(0);
    expect(m.value('silentwatch_mount_probe_duration_seconds', { path: fuse })).toBeLessThan(0.5);
    execFileSync('umount', ['-l', fuse]);
    m = await exporter.metrics();
    expect(m.value('silentwatch_mount_present', { path: fuse })).toBe(0);
    expect(m.get('silentwatch_mount_responsive', { path: fuse })).toEqual([]);
  });
});

/** The comm (process name) of a live process, or undefined once it is gone. */
const commOf = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
};

describe.skipIf(canMount !== undefined)(`a probe child that cannot be killed${canMount ? ` (skipped: ${canMount})` : ''}`, () => {
  const PROBE_TIMEOUT_S = 0.5;
  let dir: string;
  let mnt: string;
  let fuse: SwallowingFuse | undefined;
  let exporter: RunningExporter | undefined;
  const start = (): Promise<RunningExporter> =>
    startExporter([`--collector.mounts.paths=${mnt}`, '--collector.mounts.expected-fstypes=tmpfs,fuse.*', `--collector.mounts.probe-timeout=${PROBE_TIMEOUT_S * 1000}ms`, '--collector.mounts.timeout=2s']);
  /**
   * Scrapes, asserting the time: the mounts collector never takes longer than the probe time-out (plus what
   * starting the probe process and writing samples cost on a loaded machine), the scrape never longer than
   * the collector time-out. The first scrape of a fresh exporter also starts every other collector.
   */
  const timedMetrics = async (e: RunningExporter): Promise<{ m: ParsedExposition; seconds: number }> => {
    const started = performance.now();
    const m = await e.metrics();
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeLessThan(2 + 1);
    expect(m.value('silentwatch_collector_duration_seconds', { collector: 'mounts' })).toBeLessThan(PROBE_TIMEOUT_S + 0.25);
    return { m, seconds };
  };

  beforeAll(async () => {
    dir = tempDir('mounts-dstate');
    mnt = join(dir, 'dead-hard-nfs');
    mkdirSync(mnt);
    // The library underneath: once the hung mount is gone the path answers again, without a restart.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'silentwatch-test', mnt]);
    fuse = await mountSwallowingFuse(mnt);
    exporter = await start();
  });
  afterAll(async () => {
    await exporter?.stop();
    await fuse?.stop();
    if (mnt) spawnSync('umount', ['-l', mnt]);
    if (dir) removeDir(dir);
  });

  it('stays the only probe of its path while stuck in D state, across an exporter restart; released, probing resumes without a restart', async () => {
    const first = exporter!;
    const pid = first.daemon.child.pid!;
    let { m } = await timedMetrics(first);
    expect(m.value('silentwatch_mount_present', { path: mnt })).toBe(1);
    expect(m.value('silentwatch_mount_responsive', { path: mnt })).toBe(0);
    // The SIGKILLed child is still there: the main thread that called stat sits in uninterruptible sleep,
    // waiting for the FUSE answer, and keeps the probe's name.
    await sleep(1000);
    const kids = children(pid);
    expect(kids).toHaveLength(1);
    const stuck = kids[0]!;
    const threadStates = readdirSync(`/proc/${stuck.pid}/task`).map((tid) => readFileSync(`/proc/${stuck.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[0]);
    expect(threadStates).toContain('D');
    expect(commOf(stuck.pid)).toBe('sw-mount-probe');
    expect(fuse!.daemon.output()).toMatch(/swallowed opcode/);

    let lastDuration = 0;
    for (let i = 0; i < 10; i++) {
      ({ m } = await timedMetrics(first));
      expect(m.value('silentwatch_mount_responsive', { path: mnt })).toBe(0);
      const d = m.value('silentwatch_mount_probe_duration_seconds', { path: mnt }) ?? 0;
      expect(d).toBeGreaterThanOrEqual(lastDuration);
      lastDuration = d;
      // Never a second probe beside the stuck one.
      expect(children(pid).map((k) => k.pid)).toEqual([stuck.pid]);
    }
    expect(lastDuration).toBeGreaterThan(1);

    // The exporter restarts; its stuck probe outlives it.
    await first.stop();
    exporter = undefined;
    expect(commOf(stuck.pid)).toBe('sw-mount-probe');
    const second = await start();
    exporter = second;
    const pid2 = second.daemon.child.pid!;
    for (let i = 0; i < 5; i++) {
      ({ m } = await timedMetrics(second));
      expect(m.value('silentwatch_mount_present', { path: mnt })).toBe(1);
      expect(m.value('silentwatch_mount_responsive', { path: mnt })).toBe(0);
      // The age of the stuck probe, not a fresh time-out: it started before this exporter did.
      expect(m.value('silentwatch_mount_probe_duration_seconds', { path: mnt })).toBeGreaterThan(lastDuration);
      // The new process found the old probe and started none of its own beside it.
      expect(children(pid2)).toEqual([]);
      expect(commOf(stuck.pid)).toBe('sw-mount-probe');
    }
    const page = await (await fetch(`${second.url}/`)).text();
    expect(page).toContain(`earlier exporter process (pid ${stuck.pid})`);

    // The server goes away: the connection aborts, the stuck probe finally exits, the tmpfs underneath shows
    // again, and the running exporter probes it and finds it answering.
    await fuse!.stop();
    fuse = undefined;
    await waitFor(() => commOf(stuck.pid) === undefined, 'the stuck probe to exit', 10_000);
    m = await waitFor(async () => {
      const x = (await timedMetrics(second)).m;
      return x.value('silentwatch_mount_responsive', { path: mnt }) === 1 ? x : undefined;
    }, 'the path to answer again', 15_000, 200);
    expect(m.value('silentwatch_mount_present', { path: mnt })).toBe(1);
    expect(m.value('silentwatch_mount_info', { path: mnt, mount_point: mnt, fstype: 'tmpfs', mode: '' })).toBe(1);
    expect(m.value('silentwatch_mount_probe_duration_seconds', { path: mnt })).toBeLessThan(PROBE_TIMEOUT_S);
  }, 120_000);
});
