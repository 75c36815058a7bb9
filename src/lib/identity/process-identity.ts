/**
 * PID -> container identity: reads /proc/<pid>/cgroup (under --path.procfs), finds the container or pod,
 * and names it through Docker's list when the socket is reachable. Used by every per-process collector so
 * the identity labels are the same everywhere.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DockerContainerInfo, DockerIndex } from './docker-index.js';
import { containerFromCgroupPath, parseProcCgroup, shortId, type ContainerRef } from './parse-proc-cgroup.js';

/** Label names every per-process or per-container series carries, in this order. */
export const IDENTITY_LABELS = ['container', 'id', 'image', 'compose_project', 'compose_service', 'pod', 'namespace'] as const;
export type IdentityLabel = (typeof IDENTITY_LABELS)[number];
export type IdentityLabels = Record<IdentityLabel, string>;

export const EMPTY_IDENTITY: Readonly<IdentityLabels> = Object.freeze({
  container: '',
  id: '',
  image: '',
  compose_project: '',
  compose_service: '',
  pod: '',
  namespace: '',
});

/** Identity labels for a container reference, named from Docker's metadata when known. Pure. */
export function identityLabels(ref: ContainerRef | undefined, docker?: DockerContainerInfo): IdentityLabels {
  if (!ref) return { ...EMPTY_IDENTITY };
  const l = docker?.labels ?? {};
  const k8sName = l['io.kubernetes.container.name'];
  return {
    container: k8sName ?? (docker?.name || shortId(ref)),
    id: shortId(ref),
    image: docker?.image ?? '',
    compose_project: l['com.docker.compose.project'] ?? '',
    compose_service: l['com.docker.compose.service'] ?? '',
    pod: l['io.kubernetes.pod.name'] ?? '',
    namespace: l['io.kubernetes.pod.namespace'] ?? '',
  };
}

export interface ProcessInfo {
  readonly pid: number;
  /** Short command name from /proc/<pid>/comm ('' if it vanished). */
  readonly comm: string;
  readonly container: ContainerRef | undefined;
  readonly labels: IdentityLabels;
}

export class ProcessIdentity {
  constructor(
    private readonly procfs: string,
    private readonly docker: DockerIndex | undefined,
  ) {}

  /** Resolves several PIDs with one Docker list. A PID that exited resolves to host identity with comm ''. */
  async resolve(pids: readonly number[]): Promise<Map<number, ProcessInfo>> {
    const containers = pids.length > 0 ? await this.docker?.containersIfReachable() : undefined;
    const out = new Map<number, ProcessInfo>();
    await Promise.all(
      pids.map(async (pid) => {
        const [cgroup, comm] = await Promise.all([
          readFile(join(this.procfs, String(pid), 'cgroup'), 'utf8').catch(() => ''),
          readFile(join(this.procfs, String(pid), 'comm'), 'utf8').catch(() => ''),
        ]);
        const ref = containerOf(cgroup);
        out.set(pid, { pid, comm: comm.trim(), container: ref, labels: identityLabels(ref, ref && containers?.get(ref.id)) });
      }),
    );
    return out;
  }
}

/** The innermost container any hierarchy of a /proc/<pid>/cgroup file points at. Pure. */
export function containerOf(procCgroupText: string): ContainerRef | undefined {
  for (const e of parseProcCgroup(procCgroupText)) {
    const ref = containerFromCgroupPath(e.path);
    if (ref) return ref;
  }
  return undefined;
}
