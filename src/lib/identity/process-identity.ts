/**
 * PID -> container identity: reads /proc/<pid>/cgroup (under --path.procfs), finds the container or pod,
 * and names it through Docker's list when the socket is reachable, or, on a Kubernetes node (containerd,
 * CRI-O), through the kubelet's log layout (kubelet-logs.ts). Used by every per-process collector and by the
 * containers collector, so the identity labels are the same everywhere.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DockerContainerInfo, DockerIndex } from './docker-index.js';
import { kubeletNames, type KubeletLogIndex, type KubeletSnapshot } from './kubelet-logs.js';
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

/**
 * Identity labels for a container reference, named from Docker's metadata when known, else (a Kubernetes
 * container under containerd or CRI-O) from the kubelet's log layout. Pure.
 */
export function identityLabels(ref: ContainerRef | undefined, docker?: DockerContainerInfo, kubelet?: KubeletSnapshot): IdentityLabels {
  if (!ref) return { ...EMPTY_IDENTITY };
  const l = docker?.labels ?? {};
  const kube = !docker && kubelet && ref.podUid !== undefined ? kubeletNames(kubelet, ref.id, ref.podUid) : undefined;
  return {
    container: l['io.kubernetes.container.name'] ?? (docker?.name || kube?.container || shortId(ref)),
    id: shortId(ref),
    image: docker?.image ?? '',
    compose_project: l['com.docker.compose.project'] ?? '',
    compose_service: l['com.docker.compose.service'] ?? '',
    pod: l['io.kubernetes.pod.name'] ?? kube?.pod ?? '',
    namespace: l['io.kubernetes.pod.namespace'] ?? kube?.namespace ?? '',
  };
}

/** The kubelet snapshot that names these refs, when any of them is a Kubernetes container; never rejects. */
export async function kubeletFor(kubelet: KubeletLogIndex | undefined, refs: Iterable<ContainerRef | undefined>): Promise<KubeletSnapshot | undefined> {
  if (!kubelet) return undefined;
  const podUids: string[] = [];
  const containerIds: string[] = [];
  for (const r of refs) {
    if (r?.podUid === undefined) continue;
    podUids.push(r.podUid);
    containerIds.push(r.id);
  }
  if (podUids.length === 0) return undefined;
  return kubelet.snapshot({ podUids, containerIds }).catch(() => undefined);
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
    /** Names Kubernetes containers when Docker does not know them (containerd, CRI-O). */
    readonly kubelet?: KubeletLogIndex,
  ) {}

  /** Resolves several PIDs with one Docker list. A PID that exited resolves to host identity with comm ''. */
  async resolve(pids: readonly number[]): Promise<Map<number, ProcessInfo>> {
    const containers = pids.length > 0 ? await this.docker?.containersIfReachable() : undefined;
    const read = await Promise.all(
      pids.map(async (pid) => {
        const [cgroup, comm] = await Promise.all([
          readFile(join(this.procfs, String(pid), 'cgroup'), 'utf8').catch(() => ''),
          readFile(join(this.procfs, String(pid), 'comm'), 'utf8').catch(() => ''),
        ]);
        return { pid, comm: comm.trim(), ref: containerOf(cgroup) };
      }),
    );
    const kube = await kubeletFor(
      this.kubelet,
      read.filter((r) => r.ref && !containers?.has(r.ref.id)).map((r) => r.ref),
    );
    const out = new Map<number, ProcessInfo>();
    for (const { pid, comm, ref } of read) out.set(pid, { pid, comm, container: ref, labels: identityLabels(ref, ref && containers?.get(ref.id), kube) });
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
