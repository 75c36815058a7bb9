/**
 * Mounts: is each configured path a mount point of the expected type (from <procfs>/self/mountinfo), and
 * does it answer a `stat` + `readdir` within a time-out? The probe runs in a child process (this Node
 * binary with a tiny script) through runCommand: a hung NFS call then blocks only that child, which is
 * killed at the time-out, never the exporter's event loop or libuv threadpool. A child stuck in
 * uninterruptible sleep (D state) cannot be killed; the per-path single-instance guard then refuses to
 * start another one beside it, and the path is reported unresponsive until that child is gone.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { duration, stringList } from '../../lib/config-values.js';
import { runCommand, SubprocessError } from '../../lib/subprocess.js';
import { defineMetric } from '../../metrics.js';
import { defineCollector } from '../types.js';
import { findMount, fstypeMatches, nfsMode, normalizeMountPath, parseMountinfo } from './parse-mountinfo.js';
import { parseProbeResult } from './parse-probe-result.js';

const present = defineMetric({
  name: 'silentwatch_mount_present',
  type: 'gauge',
  help: 'Whether the configured path is a mount point of an expected filesystem type (1) or not mounted / of another type (0).',
  labels: ['path'],
});
const responsive = defineMetric({
  name: 'silentwatch_mount_responsive',
  type: 'gauge',
  help: 'Whether stat and readdir of the mount point completed within the probe time-out (1) or failed, hung or are still hung from an earlier probe (0). Only for paths where something is mounted.',
  labels: ['path'],
});
const probeDuration = defineMetric({
  name: 'silentwatch_mount_probe_duration_seconds',
  type: 'gauge',
  help: 'How long stat and readdir of the mount point took, in seconds: the time-out when it hung, or how long a still-hung earlier probe has been running.',
  labels: ['path'],
});
const info = defineMetric({
  name: 'silentwatch_mount_info',
  type: 'gauge',
  help: 'Filesystem mounted at the configured path (=1); mode is hard or soft for NFS, empty otherwise.',
  labels: ['path', 'fstype', 'mode'],
});

/** Runs in the child: stat, then open the directory and read one entry (a huge directory is not listed). */
const PROBE_SCRIPT = `
const fs = require('fs');
const p = process.argv[process.argv.length - 1];
const t0 = process.hrtime.bigint();
const done = (e) => {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify(e ? { ok: false, code: String(e.code || 'ERROR'), seconds } : { ok: true, seconds }));
};
fs.stat(p, (e) => {
  if (e) return done(e);
  fs.opendir(p, (e2, d) => {
    if (e2) return done(e2);
    d.read((e3) => d.close(() => done(e3)));
  });
});
`;

export const DEFAULT_EXPECTED_FSTYPES = ['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', '9p', 'virtiofs', 'fuse', 'fuse.*'];

export const mountsCollector = defineCollector({
  name: 'mounts',
  description: 'Presence, type and responsiveness (stat + readdir in a killable child process) of configured mount points such as NFS media libraries.',
  defaultEnabled: 'auto',
  options: z.object({
    paths: stringList()
      .pipe(z.array(z.string().refine((p) => isAbsolute(p), 'expected absolute paths such as /mnt/photos')))
      .prefault([])
      .describe('Mount points to watch, as the host sees them (comma-separated or a YAML list), e.g. /mnt/photos,/srv/media.'),
    expected_fstypes: stringList()
      .prefault(DEFAULT_EXPECTED_FSTYPES)
      .describe(`Filesystem types that count as present; "prefix.*" matches e.g. fuse.sshfs, "*" any type (default ${DEFAULT_EXPECTED_FSTYPES.join(',')}).`),
    probe_timeout: duration()
      .prefault('3s')
      .describe('Time-out of one stat + readdir probe (includes starting the probe process; kept below the collector time-out).'),
  }),
  metrics: [present, responsive, probeDuration, info],
  detect(ctx) {
    const n = ctx.options.paths.length;
    return Promise.resolve(n > 0 ? { present: true, reason: `${n} path(s) configured` } : { present: false, reason: 'no paths configured (--collector.mounts.paths)' });
  },
  create(ctx) {
    const { paths, expected_fstypes: expected } = ctx.options;
    // Never past the collector's own time-out: leave it room to write the samples.
    const timeoutMs = Math.max(100, Math.min(ctx.options.probe_timeout * 1000, ctx.timeoutSeconds * 1000 - 250));
    /** When the last probe child that failed or timed out was started (it may still be alive, stuck). */
    const hungSince = new Map<string, number>();
    const lastError = new Map<string, string>();
    const probePath = (path: string): string => (ctx.paths.rootfs === '/' ? path : join(ctx.paths.rootfs, path));

    async function probe(path: string, signal: AbortSignal): Promise<{ ok: boolean; seconds: number; why?: string }> {
      const started = performance.now();
      const startedWall = Date.now();
      try {
        const res = await runCommand(process.execPath, ['-e', PROBE_SCRIPT, '--', probePath(path)], {
          timeoutMs,
          signal,
          maxOutputBytes: 4096,
          // No NODE_OPTIONS or other inherited settings in the probe child.
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
          singleInstanceKey: `mounts:${path}`,
        });
        hungSince.delete(path);
        const r = parseProbeResult(res.stdout);
        return r.ok ? { ok: true, seconds: r.seconds } : { ok: false, seconds: r.seconds, why: r.code };
      } catch (e) {
        if (e instanceof SubprocessError && e.kind === 'busy') {
          const since = hungSince.get(path) ?? startedWall;
          const seconds = (Date.now() - since) / 1000;
          return { ok: false, seconds, why: `previous probe still alive after ${seconds.toFixed(1)}s (uninterruptible sleep?); not starting another` };
        }
        // The child may outlive this call (killed but stuck in the kernel): remember when it started.
        hungSince.set(path, startedWall);
        if (e instanceof SubprocessError && e.kind === 'timeout') return { ok: false, seconds: timeoutMs / 1000, why: `no answer within ${timeoutMs} ms` };
        return { ok: false, seconds: (performance.now() - started) / 1000, why: e instanceof Error ? e.message : String(e) };
      }
    }

    return {
      async collect(sink, run) {
        const text = await readFile(join(ctx.paths.procfs, 'self', 'mountinfo'), { encoding: 'utf8', signal: run.signal });
        const entries = parseMountinfo(text);
        if (entries.length === 0) throw new Error(`no mounts parsed from ${join(ctx.paths.procfs, 'self', 'mountinfo')}`);
        await Promise.all(
          paths.map(async (configured) => {
            const path = normalizeMountPath(configured);
            const mount = findMount(entries, probePath(path));
            const ok = mount !== undefined && fstypeMatches(mount.fstype, expected);
            sink.set(present, { path }, ok ? 1 : 0);
            if (!mount) {
              lastError.set(path, 'not mounted');
              return;
            }
            sink.set(info, { path, fstype: mount.fstype, mode: nfsMode(mount) }, 1);
            const r = await probe(path, run.signal);
            sink.set(responsive, { path }, r.ok ? 1 : 0);
            sink.set(probeDuration, { path }, r.seconds);
            if (r.ok) lastError.delete(path);
            else {
              lastError.set(path, r.why ?? 'failed');
              ctx.log.debug({ path, why: r.why }, 'mount probe failed');
            }
          }),
        );
      },
      describe: () => {
        const d: Record<string, string> = { 'probe time-out': `${timeoutMs} ms` };
        for (const p of paths) d[normalizeMountPath(p)] = lastError.get(normalizeMountPath(p)) ?? 'ok';
        return d;
      },
    };
  },
});
