/**
 * Mounts: does each configured path — after following symlinks — lead to a mount point of the expected
 * type (from <procfs>/self/mountinfo), and does it answer a `stat` + `readdir` within a time-out? Both the
 * symlink resolution and the probe run in a child process (probe-child.ts): a hung NFS call then blocks
 * only that child, which is killed at the time-out, never the exporter's event loop or libuv threadpool.
 * A child stuck in uninterruptible sleep (D state) cannot be killed; the per-path single-instance guard
 * then refuses to start another one beside it — and one left by an earlier exporter process is found in
 * /proc at the first scrape (stuck-probes.ts) — and the path is reported unresponsive until it is gone.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { duration, stringList } from '../../lib/config-values.js';
import { defineCollector } from '../types.js';
import { info, present, probeDuration, responsive } from './metrics.js';
import { findMount, fstypeMatches, nfsMode, normalizeMountPath, parseMountinfo } from './parse-mountinfo.js';
import { runProbeChild, type ChildOptions } from './probe-child.js';
import { findStuckProbes, stillStuck, type StuckProbe } from './stuck-probes.js';

/** What one scrape learnt about one path. */
interface PathState {
  /** The real path (host view) the configured one resolves to; undefined when that is not known. */
  readonly real: string | undefined;
  /** Why the path does not resolve (ENOENT: it does not exist). */
  readonly resolveError?: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly why?: string;
}

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
    const mountinfo = join(ctx.paths.procfs, 'self', 'mountinfo');
    const childOptions = (signal: AbortSignal): ChildOptions => ({ mountinfo, rootfs: ctx.paths.rootfs, timeoutMs, signal });
    /** When the last probe child that failed or timed out was started (it may still be alive, stuck). */
    const hungSince = new Map<string, number>();
    const lastError = new Map<string, string>();
    /** Last known resolution of each configured path (a hung probe may not print one). */
    const resolved = new Map<string, string>();
    /** Probe children of an earlier exporter process still alive, found at the first scrape. */
    let foreign: Map<string, StuckProbe> | undefined;
    const probePath = (path: string): string => (ctx.paths.rootfs === '/' ? path : join(ctx.paths.rootfs, path));

    /** The resolution when no probe child can run: the cached one, else a resolve-only child, else unknown. */
    async function resolveOnly(path: string, signal: AbortSignal): Promise<Pick<PathState, 'real' | 'resolveError'>> {
      const cached = resolved.get(path);
      if (cached !== undefined) return { real: cached };
      const r = await runProbeChild('resolve', path, childOptions(signal));
      if ((r.kind === 'done' || r.kind === 'timeout') && r.resolution) {
        if (r.resolution.real === null) return { real: undefined, resolveError: r.resolution.code };
        resolved.set(path, r.resolution.real);
        return { real: r.resolution.real };
      }
      return { real: undefined, resolveError: 'could not be resolved in time' };
    }

    async function check(path: string, signal: AbortSignal): Promise<PathState> {
      const earlier = foreign?.get(path);
      if (earlier !== undefined) {
        if (await stillStuck(ctx.paths.procfs, earlier)) {
          const seconds = Math.max(0, (Date.now() - earlier.startedMs) / 1000);
          const why = `a probe started by an earlier exporter process (pid ${earlier.pid}) is still stuck after ${seconds.toFixed(0)}s; not starting another`;
          return { ...(await resolveOnly(path, signal)), ok: false, seconds, why };
        }
        foreign?.delete(path);
      }
      const startedWall = Date.now();
      const r = await runProbeChild('probe', path, childOptions(signal));
      if (r.kind === 'busy') {
        const seconds = (Date.now() - (hungSince.get(path) ?? startedWall)) / 1000;
        const why = `previous probe still alive after ${seconds.toFixed(1)}s (uninterruptible sleep?); not starting another`;
        return { ...(await resolveOnly(path, signal)), ok: false, seconds, why };
      }
      if (r.kind === 'error') {
        hungSince.set(path, startedWall);
        return { ...(await resolveOnly(path, signal)), ok: false, seconds: (Date.now() - startedWall) / 1000, why: r.message };
      }
      if (r.resolution?.real === null) {
        resolved.delete(path);
        return { real: undefined, resolveError: r.resolution.code, ok: false, seconds: 0 };
      }
      if (r.resolution) resolved.set(path, r.resolution.real);
      const where = r.resolution ? { real: r.resolution.real } : await resolveOnly(path, signal);
      if (r.kind === 'timeout') {
        // The child may outlive this call (killed but stuck in the kernel): remember when it started.
        hungSince.set(path, startedWall);
        return { ...where, ok: false, seconds: timeoutMs / 1000, why: `no answer within ${timeoutMs} ms` };
      }
      hungSince.delete(path);
      if (!r.result) return { ...where, ok: false, seconds: (Date.now() - startedWall) / 1000, why: 'the probe printed no result' };
      return r.result.ok ? { ...where, ok: true, seconds: r.result.seconds } : { ...where, ok: false, seconds: r.result.seconds, why: r.result.code };
    }

    const status = (path: string): string => {
      const real = resolved.get(path);
      const err = lastError.get(path) ?? 'ok';
      return real !== undefined && real !== path ? `${err} (symlink to ${real})` : err;
    };

    return {
      async collect(sink, run) {
        const text = await readFile(mountinfo, { encoding: 'utf8', signal: run.signal });
        const entries = parseMountinfo(text);
        if (entries.length === 0) throw new Error(`no mounts parsed from ${mountinfo}`);
        // Before this process starts any probe: whatever probe child is alive now is an earlier process's.
        foreign ??= await findStuckProbes(ctx.paths.procfs).catch(() => new Map<string, StuckProbe>());
        await Promise.all(
          paths.map(async (configured) => {
            const path = normalizeMountPath(configured);
            const st = await check(path, run.signal);
            const mount = st.real === undefined ? undefined : findMount(entries, probePath(st.real));
            sink.set(present, { path }, mount !== undefined && fstypeMatches(mount.fstype, expected) ? 1 : 0);
            if (st.real !== undefined) sink.set(info, { path, mount_point: st.real, fstype: mount?.fstype ?? '', mode: mount ? nfsMode(mount) : '' }, 1);
            if (!mount) {
              if (st.real === undefined) lastError.set(path, `cannot resolve: ${st.resolveError ?? 'unknown'}`);
              else lastError.set(path, st.real === path ? 'not mounted' : `not mounted: resolves to ${st.real}, which is not a mount point`);
              return;
            }
            sink.set(responsive, { path }, st.ok ? 1 : 0);
            sink.set(probeDuration, { path }, st.seconds);
            if (st.ok) lastError.delete(path);
            else {
              lastError.set(path, st.why ?? 'failed');
              ctx.log.debug({ path, why: st.why }, 'mount probe failed');
            }
          }),
        );
      },
      describe: () => {
        const d: Record<string, string> = { 'probe time-out': `${timeoutMs} ms` };
        for (const p of paths) d[normalizeMountPath(p)] = status(normalizeMountPath(p));
        return d;
      },
    };
  },
});
