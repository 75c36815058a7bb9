/**
 * Finding container cgroups: where memory is accounted (v1 memory controller or the v2 unified hierarchy)
 * and a breadth-first walk that recognises container cgroups by their path.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { containerFromCgroupPath, podUidOfSegment, type ContainerRef } from '../../lib/identity/parse-proc-cgroup.js';
import { noteDenied, readText, type Denied } from './kernel-files.js';

/** Deepest cgroup level looked at below the root (kubepods/burstable/pod<uid>/<id> is 4). */
const MAX_DEPTH = 8;

export interface Hierarchy {
  readonly root: string;
  readonly version: 1 | 2;
}

export interface FoundCgroup {
  readonly dir: string;
  readonly ref: ContainerRef;
}

/** A Kubernetes pod's own cgroup (the parent of its containers' cgroups). */
export interface FoundPod {
  readonly dir: string;
  readonly uid: string;
}

export interface Walked {
  readonly found: FoundCgroup[];
  readonly pods: FoundPod[];
  readonly truncated: boolean;
}

/** Where container memory is accounted: the v1 memory controller if mounted (legacy and hybrid), else v2. */
export async function findHierarchy(sysfs: string, signal: AbortSignal): Promise<Hierarchy | undefined> {
  const base = join(sysfs, 'fs', 'cgroup');
  if ((await readText(join(base, 'memory', 'memory.stat'), signal)) !== undefined) return { root: join(base, 'memory'), version: 1 };
  for (const root of [base, join(base, 'unified')]) {
    const controllers = await readText(join(root, 'cgroup.controllers'), signal);
    if (controllers?.split(/\s+/).includes('memory')) return { root, version: 2 };
  }
  return undefined;
}

/**
 * Breadth-first walk of the hierarchy, one readdir per directory, all directories of a level at once.
 * Stops descending at a container cgroup (its children are the container's own business) and at maxDirs.
 * Kubernetes pod cgroups met on the way are returned too (their counters outlive their containers).
 */
export async function findContainerCgroups(root: string, signal: AbortSignal, maxDirs: number, denied: Denied = []): Promise<Walked> {
  const found: FoundCgroup[] = [];
  const pods: FoundPod[] = [];
  const seen = new Set<string>();
  let level: Array<{ dir: string; rel: string }> = [{ dir: root, rel: '' }];
  let visited = 0;
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
    signal.throwIfAborted();
    const lists = await Promise.all(
      level.map((d) =>
        readdir(d.dir, { withFileTypes: true }).catch((e: unknown): Dirent[] => {
          noteDenied(denied, d.dir, e);
          return [];
        }),
      ),
    );
    const next: Array<{ dir: string; rel: string }> = [];
    for (const [i, entries] of lists.entries()) {
      const parent = level[i] as { dir: string; rel: string };
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        if (++visited > maxDirs) return { found, pods, truncated: true };
        const rel = `${parent.rel}/${e.name}`;
        const dir = join(parent.dir, e.name);
        const ref = containerFromCgroupPath(rel);
        if (ref) {
          if (!seen.has(ref.id)) {
            seen.add(ref.id);
            found.push({ dir, ref });
          }
          continue;
        }
        const podUid = podUidOfSegment(e.name);
        if (podUid !== undefined) pods.push({ dir, uid: podUid });
        next.push({ dir, rel });
      }
    }
    level = next;
  }
  return { found, pods, truncated: false };
}
