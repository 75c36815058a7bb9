/**
 * Whether the exporter sees the host's PID namespace. Per-process GPU figures (nvidia-smi's host PIDs,
 * /proc/<pid>/fdinfo) are only attributable to containers from there; without it they come back empty.
 * Shared by the nvidia collector and the doctor.
 */
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostPaths } from '../host-paths.js';
import { containerOf } from './process-identity.js';

/**
 * Why the exporter cannot see host PIDs, or undefined when it seems to: its PID namespace differs from
 * that of <procfs>/1, or <procfs>/1 is itself a container's process.
 */
export async function hostPidBlindness(paths: HostPaths): Promise<string | undefined> {
  const [self, init, cgroup] = await Promise.all([
    readlink(join(paths.procfs, 'self', 'ns', 'pid')).catch(() => undefined),
    readlink(join(paths.procfs, '1', 'ns', 'pid')).catch(() => undefined),
    readFile(join(paths.procfs, '1', 'cgroup'), 'utf8').catch(() => ''),
  ]);
  if (self !== undefined && init !== undefined && self !== init) return `PID namespace ${self} differs from that of ${paths.procfs}/1 (${init})`;
  const ref = containerOf(cgroup);
  if (ref) return `${paths.procfs}/1 is a process of container ${ref.id.slice(0, 12)}`;
  return undefined;
}
