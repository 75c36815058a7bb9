/**
 * Probe children left stuck in the kernel (D state) by an earlier exporter process: a SIGKILLed probe on a
 * dead hard NFS mount outlives the exporter that started it, so after a restart the new process's own
 * single-instance guard knows nothing of it. Found by their name in /proc/<pid>/comm (which reading never
 * blocks, unlike /proc/<pid>/cmdline of an unrelated process whose memory map is locked by a stuck page
 * fault); only then is the cmdline of that probe read, for the path it was started for.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROBE_COMM, PROBE_MARKER } from './probe-child.js';

export interface StuckProbe {
  readonly pid: number;
  /** The configured (normalized) path the probe was started for. */
  readonly path: string;
  /** When it started, as Date.now() milliseconds. */
  readonly startedMs: number;
}

/** Linux reports process start times in clock ticks of USER_HZ, 100 on every architecture it runs on. */
const USER_HZ = 100;

/** Pure: the path a probe child's NUL-separated cmdline was started for, or undefined when it is not one. */
export function probePathFromCmdline(cmdline: string): string | undefined {
  const argv = cmdline.split('\0');
  if (argv[argv.length - 1] === '') argv.pop();
  const i = argv.lastIndexOf(PROBE_MARKER);
  if (i < 0 || argv.length !== i + 5 || argv[i + 1] !== 'probe') return undefined;
  return argv[i + 4];
}

/** Pure: process start (field 22 of /proc/<pid>/stat, in ticks since boot) as wall-clock milliseconds. */
export function startedMsFromStat(stat: string, uptimeSeconds: number, nowMs: number): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  if (!Number.isFinite(ticks)) return undefined;
  return nowMs - (uptimeSeconds - ticks / USER_HZ) * 1000;
}

async function inspect(procfs: string, pid: number, nowMs: number, uptime: number): Promise<StuckProbe | undefined> {
  const dir = join(procfs, String(pid));
  try {
    if ((await readFile(join(dir, 'comm'), 'utf8')).trim() !== PROBE_COMM) return undefined;
    const path = probePathFromCmdline(await readFile(join(dir, 'cmdline'), 'utf8'));
    const startedMs = startedMsFromStat(await readFile(join(dir, 'stat'), 'utf8'), uptime, nowMs);
    return path === undefined || startedMs === undefined ? undefined : { pid, path, startedMs };
  } catch {
    return undefined; // gone while we looked, or not ours to read
  }
}

async function uptimeSeconds(procfs: string): Promise<number> {
  return Number((await readFile(join(procfs, 'uptime'), 'utf8')).split(' ')[0]);
}

/**
 * Every live probe child in `procfs`, by the path it probes. Run before this process starts any probe of
 * its own, so whatever it finds was started by an earlier exporter process (or another one beside it).
 */
export async function findStuckProbes(procfs: string): Promise<Map<string, StuckProbe>> {
  const out = new Map<string, StuckProbe>();
  const uptime = await uptimeSeconds(procfs);
  const now = Date.now();
  const pids = (await readdir(procfs)).filter((n) => /^\d+$/.test(n)).map(Number);
  for (const p of await Promise.all(pids.map((pid) => inspect(procfs, pid, now, uptime)))) if (p) out.set(p.path, p);
  return out;
}

/** Whether a probe found earlier is still there (same pid, still a probe child for the same path). */
export async function stillStuck(procfs: string, p: StuckProbe): Promise<boolean> {
  const again = await inspect(procfs, p.pid, Date.now(), await uptimeSeconds(procfs).catch(() => 0));
  return again !== undefined && again.path === p.path;
}
