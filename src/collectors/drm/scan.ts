/**
 * Finds the open DRM file descriptors of every visible process and reads their fdinfo, with bounded
 * concurrency and a cap on the number of fds looked at, all asynchronous (a wedged procfs must not block
 * the event loop). Pure of Prometheus: the collector turns the result into samples.
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { devMajor, isDrmNodePath, parseDrmFdinfo, type DrmClientStats } from './parse-fdinfo.js';
import { errnoCode, isPermissionDenied } from '../../lib/errno.js';
import type { ScanMemory } from './scan-memory.js';

const DRM_MAJOR = 226;

export interface DrmFd {
  readonly pid: number;
  readonly fd: number;
  /** Link target, e.g. /dev/dri/renderD128. */
  readonly node: string;
  readonly stats: DrmClientStats;
}

export interface ScanResult {
  readonly fds: DrmFd[];
  /** Numeric /proc entries seen. */
  readonly processes: number;
  /** Processes whose fd folder, or the fdinfo of one of their DRM fds, could not be read (permission denied: not root, no CAP_SYS_PTRACE). */
  readonly deniedProcesses: number;
  /** Processes that exited between the listing and the read. */
  readonly vanishedProcesses: number;
  /** fd links looked at. */
  readonly fdsScanned: number;
  /** DRM fds whose fdinfo could not be read or was not DRM fdinfo. */
  readonly unreadableFdinfo: number;
  /** Values skipped by the parser (malformed lines, unknown units). */
  readonly skippedValues: number;
  /** True when maxFds stopped the walk early. */
  readonly truncated: boolean;
  /** Processes not looked at: remembered without DRM files, revisit not due (see scan-memory.ts). */
  readonly skippedProcesses: number;
}

export interface ScanOptions {
  readonly concurrency: number;
  readonly maxFds: number;
  readonly signal?: AbortSignal;
  /** Remembered between scans: skips the fds already known not to be DRM (see scan-memory.ts). */
  readonly memory?: ScanMemory;
}

/** Paths that are never DRM devices: skip the stat() for the common ones. */
const NOT_DRM = /^\/dev\/(?:null|zero|full|u?random|tty.*|pts\/.*|ptmx|console|shm\/.*|kmsg|fuse|net\/tun|kvm|nvidia.*|dri\/by-path.*)$/;

/** Runs `fn` over `items` with at most `limit` in flight. */
async function forEachLimit<T>(items: readonly T[], limit: number, signal: AbortSignal | undefined, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function scanDrmFds(procfs: string, opts: ScanOptions): Promise<ScanResult> {
  const { signal } = opts;
  const entries = await readdir(procfs);
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number);
  const fds: DrmFd[] = [];
  let denied = 0;
  /** Processes whose fd folder was listed but a DRM fdinfo was refused: their GPU figures are missing too. */
  const deniedFdinfo = new Set<number>();
  let vanished = 0;
  let scanned = 0;
  let unreadable = 0;
  let skippedValues = 0;
  let truncated = false;
  let skipped = 0;
  const memory = opts.memory;
  memory?.begin();

  /** `remembered`: known from an earlier scan, not looked at now (see scan-memory.ts). */
  const candidates: Array<{ pid: number; fd: number; node: string; remembered?: boolean }> = [];
  await forEachLimit(pids, opts.concurrency, signal, async (pid) => {
    if (truncated) return;
    if (memory?.skip(pid)) {
      skipped++;
      return;
    }
    const fdDir = join(procfs, String(pid), 'fd');
    let names: string[];
    try {
      names = await readdir(fdDir);
    } catch (e) {
      if (isPermissionDenied(e)) denied++;
      else vanished++; // ENOENT/ESRCH: exited; ENOTDIR and others: not a process folder we can use
      return;
    }
    const plan = memory ? memory.plan(pid, names) : { check: names, drm: [] };
    const check = plan.check;
    const drm = [...plan.drm];
    for (const d of plan.drm) candidates.push({ pid, fd: d.fd, node: d.node, remembered: true });
    for (const name of check) {
      if (scanned >= opts.maxFds) {
        truncated = true;
        return;
      }
      scanned++;
      let link: string;
      try {
        link = await readlink(join(fdDir, name));
      } catch {
        continue; // closed meanwhile, or not a link
      }
      if (!link.startsWith('/dev/')) continue;
      if (isDrmNodePath(link)) {
        candidates.push({ pid, fd: Number(name), node: link });
        drm.push({ fd: Number(name), node: link });
      } else if (!NOT_DRM.test(link)) {
        // An unusual node name (a container's own /dev, a udev rename): trust the device number when the
        // fd can be stat'ed from here. A failing stat means "not shown to be DRM" and the fd is skipped.
        try {
          const st = await stat(join(fdDir, name));
          if (st.isCharacterDevice() && devMajor(st.rdev) === DRM_MAJOR) {
            candidates.push({ pid, fd: Number(name), node: link });
            drm.push({ fd: Number(name), node: link });
          }
        } catch {
          // gone or not reachable
        }
      }
    }
    memory?.looked(pid, names, drm);
  });
  memory?.prune(new Set(pids));

  await forEachLimit(candidates, opts.concurrency, signal, async (c) => {
    let text: string;
    try {
      text = await readFile(join(procfs, String(c.pid), 'fdinfo', String(c.fd)), { encoding: 'utf8', signal });
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ABORT_ERR') throw e;
      if (c.remembered) memory?.forget(c.pid);
      if (code !== 'ENOENT' && code !== 'ESRCH') unreadable++; // ENOENT: closed or exited meanwhile
      if (isPermissionDenied(e)) deniedFdinfo.add(c.pid);
      return;
    }
    const stats = parseDrmFdinfo(text);
    if (!stats && c.remembered) {
      memory?.forget(c.pid); // the number now names another file: not a DRM fd, not an error
      return;
    }
    if (!stats) {
      unreadable++;
      return;
    }
    skippedValues += stats.skipped;
    fds.push({ pid: c.pid, fd: c.fd, node: c.node, stats });
  });
  signal?.throwIfAborted();

  return {
    fds,
    processes: pids.length,
    deniedProcesses: denied + deniedFdinfo.size,
    vanishedProcesses: vanished,
    fdsScanned: scanned,
    unreadableFdinfo: unreadable,
    skippedValues,
    truncated,
    skippedProcesses: skipped,
  };
}

/** The bare walk the benchmark compares against: readdir + readlink of every fd, nothing else. */
export async function bareFdWalk(procfs: string, concurrency: number): Promise<number> {
  const pids = (await readdir(procfs)).filter((e) => /^\d+$/.test(e));
  let links = 0;
  await forEachLimit(pids, concurrency, undefined, async (pid) => {
    const dir = join(procfs, pid, 'fd');
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) {
      await readlink(join(dir, n)).then(
        () => links++,
        () => undefined,
      );
    }
  });
  return links;
}
