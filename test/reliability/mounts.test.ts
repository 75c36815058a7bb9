/**
 * Fault matrix, mounts: a tmpfs at the watched path, then a FUSE filesystem mounted over it that answers the
 * kernel's INIT and never anything else (test/helpers/fuse-swallow.ts): every stat of the path blocks in the
 * kernel, and the probe child, once SIGKILLed, stays in D state like one on a dead hard NFS mount. Stopping
 * the FUSE server aborts the connection and the unmount shows the tmpfs again: the fault clears without an
 * exporter restart. Mounting needs root and /dev/fuse.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { describeReport, runFault } from '../helpers/faults.js';
import { mountSwallowingFuse, type SwallowingFuse } from '../helpers/fuse-swallow.js';

const skip = ((): string | undefined => {
  if (process.getuid?.() !== 0) return 'mounting needs root';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  return undefined;
})();

const PROBE_TIMEOUT_MS = 200;
const TIMEOUT_MS = 500;

describe.skipIf(skip)(`fault matrix: mounts${skip ? ` (skipped: ${skip})` : ''}`, { timeout: 120_000 }, () => {
  let dir: string | undefined;
  let path = '';
  let fuse: SwallowingFuse | undefined;
  let exporter: RunningExporter | undefined;
  afterAll(async () => {
    await exporter?.stop();
    await fuse?.stop();
    if (path) spawnSync('umount', ['-l', path]);
    if (dir) removeDir(dir);
  });

  it('mounts: a probe that never returns', async () => {
    dir = tempDir('mounts-fault');
    path = join(dir, 'photo library');
    mkdirSync(path);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'silentwatch-test', path]);
    const e = await startExporter([
      `--collector.mounts.paths=${path}`,
      `--collector.mounts.probe-timeout=${PROBE_TIMEOUT_MS}ms`,
      `--collector.mounts.timeout=${TIMEOUT_MS}ms`,
      '--no-collector.nvidia',
      // Docker may be absent here (the containers collector then reports partial data): watch the host collector.
      '--no-collector.containers',
      '--no-collector.queues',
      '--no-collector.llamaswap',
    ]);
    exporter = e;
    const rep = await runFault({
      exporter: e,
      collector: 'mounts',
      timeoutMs: TIMEOUT_MS,
      // the mounts collector reports a hung path in its own series and stays successful itself
      expectSuccess: 1,
      healthy: (m) => m.value('silentwatch_mount_responsive', { path }) === 1,
      faulty: (m) => m.value('silentwatch_mount_present', { path }) === 1 && m.value('silentwatch_mount_responsive', { path }) === 0,
      check: (m) => {
        expect(m.value('silentwatch_mount_info', { path, mount_point: path, fstype: 'fuse.silentwatch-swallow', mode: '' })).toBe(1);
        // never longer than the probe time-out for a new probe; a still-hung earlier one reports its age
        expect(m.value('silentwatch_mount_probe_duration_seconds', { path })).toBeGreaterThan(0);
      },
      inject: async () => {
        fuse = await mountSwallowingFuse(path);
      },
      clear: async () => {
        await fuse?.stop();
        fuse = undefined;
      },
    });
    console.log(describeReport('mounts: a probe that never returns', rep));
    expect(rep.maxScrapeMs).toBeLessThan(TIMEOUT_MS + 1500);
  });
});
