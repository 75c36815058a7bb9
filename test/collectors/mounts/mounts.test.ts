/**
 * The mounts collector in the real exporter against real mounts made here (root needed): a tmpfs for
 * "present and responsive", an absent path, and a real FUSE filesystem that never answers (the test opens
 * /dev/fuse, mounts it with `fd=N` and never reads it, so every stat of it blocks in the kernel in
 * fuse_get_req, D state, like a dead NFS server). Over 100 scrapes /metrics keeps answering within the
 * collector time-out, at most one probe child per path is ever alive, and no child process, fd or thread leaks.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, sleep, tempDir, waitFor } from '../../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
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
  let fuseFd: number | undefined;
  let exporter: RunningExporter;

  beforeAll(async () => {
    dir = tempDir('mounts');
    tmpfs = join(dir, 'photo library');
    fuse = join(dir, 'nfs-gone');
    absent = join(dir, 'not-mounted');
    for (const d of [tmpfs, fuse, absent]) mkdirSync(d);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'silentwatch-test', tmpfs]);
    fuseFd = openSync('/dev/fuse', 'r+');
    const r = spawnSync('mount', ['-i', '-t', 'fuse.silentwatch-hang', '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', 'silentwatch-hang', fuse], {
      stdio: ['ignore', 'pipe', 'pipe', fuseFd],
    });
    if (r.status !== 0) throw new Error(`FUSE mount failed: ${r.stderr.toString()}`);
    exporter = await startExporter([
      `--collector.mounts.paths=${tmpfs},${fuse},${absent}`,
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
    expect(m.get('silentwatch_mount_info', { path: absent })).toEqual([]);
    expect(m.value('silentwatch_mount_present', { path: fuse })).toBe(1);
    expect(m.value('silentwatch_mount_info', { path: fuse, fstype: 'fuse.silentwatch-hang', mode: '' })).toBe(1);
    expect(m.value('silentwatch_mount_responsive', { path: fuse })).toBe(0);
    expect(m.value('silentwatch_mount_probe_duration_seconds', { path: fuse })).toBe(0.5);
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
      for (const p of [tmpfs, fuse, absent]) maxPerPath = Math.max(maxPerPath, kids.filter((k) => k.cmdline.endsWith(` ${p}`) || k.cmdline.endsWith(` ${p} `)).length);
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
    expect(maxTotal).toBeLessThanOrEqual(2);
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

describe.skipIf(canMount !== undefined)(`a probe child that cannot be killed${canMount ? ` (skipped: ${canMount})` : ''}`, () => {
  let dir: string;
  let mnt: string;
  let fuse: SwallowingFuse | undefined;
  let exporter: RunningExporter;

  beforeAll(async () => {
    dir = tempDir('mounts-dstate');
    mnt = join(dir, 'dead-hard-nfs');
    mkdirSync(mnt);
    fuse = await mountSwallowingFuse(mnt);
    exporter = await startExporter([`--collector.mounts.paths=${mnt}`, '--collector.mounts.probe-timeout=500ms', '--collector.mounts.timeout=2s']);
  });
  afterAll(async () => {
    await exporter?.stop();
    await fuse?.stop();
    if (dir) removeDir(dir);
  });

  it('stays the only probe of its path while stuck in D state, reported unresponsive with a growing duration; released, probing resumes', async () => {
    const pid = exporter.daemon.child.pid!;
    let m = await exporter.metrics();
    expect(m.value('silentwatch_mount_present', { path: mnt })).toBe(1);
    expect(m.value('silentwatch_mount_responsive', { path: mnt })).toBe(0);
    // The SIGKILLed child is still there: its main thread is gone (a zombie leader with an empty cmdline,
    // so it is found by its parent only: this exporter probes nothing else), but the thread that called
    // stat sits in uninterruptible sleep, waiting for the FUSE answer.
    await sleep(1000);
    const kids = children(pid);
    expect(kids).toHaveLength(1);
    const stuck = kids[0]!;
    const threadStates = readdirSync(`/proc/${stuck.pid}/task`).map((tid) => readFileSync(`/proc/${stuck.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[0]);
    expect(threadStates).toContain('D');
    expect(fuse!.daemon.output()).toMatch(/swallowed opcode/);

    let lastDuration = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      m = await exporter.metrics();
      expect((performance.now() - started) / 1000).toBeLessThan(4);
      expect(m.value('silentwatch_mount_responsive', { path: mnt })).toBe(0);
      const d = m.value('silentwatch_mount_probe_duration_seconds', { path: mnt }) ?? 0;
      expect(d).toBeGreaterThanOrEqual(lastDuration);
      lastDuration = d;
      // Never a second probe beside the stuck one.
      expect(children(pid).map((k) => k.pid)).toEqual([stuck.pid]);
    }
    expect(lastDuration).toBeGreaterThan(1);

    // The server goes away: the connection aborts, the stuck child finally exits, the guard is released.
    await fuse!.daemon.stop(1000);
    await waitFor(() => children(pid).length === 0, 'the stuck child to exit', 10_000);
    m = await exporter.metrics();
    expect(m.value('silentwatch_mount_responsive', { path: mnt })).toBe(0);
    expect(m.value('silentwatch_mount_probe_duration_seconds', { path: mnt })).toBeLessThan(0.5);
  }, 120_000);
});
