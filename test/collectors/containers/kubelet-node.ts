/**
 * Kubelet node layouts from test/fixtures/identity/kubelet-nodes/*.txt, made real on disk: the cgroup tree
 * under <sysfs>/fs/cgroup (v1: the memory controller at <sysfs>/fs/cgroup/memory), the kubelet's
 * /var/log/pods and /var/log/containers under <rootfs>, and /proc/<pid>/{cgroup,comm} under <procfs>.
 *
 * Manifest lines: `version 1|2`; `pod <cgroup> <oom_kill>`; `container <cgroup> <ns/pod/container | sandbox>`;
 * `dir <cgroup>` (a cgroup that is no container, e.g. conmon's); `log <path under /var/log/pods>`;
 * `link <name> -> <target>` (a /var/log/containers symlink); `proc <pid> <comm> <cgroup lines joined by |>`.
 */
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { podUidOfSegment } from '../../../src/lib/identity/parse-proc-cgroup.js';
import { tempDir } from '../../helpers/daemon.js';
import { CONTAINER_FIXTURES, V2_DOCKER_FILES } from '../../helpers/cgroups.js';

export const KUBELET_NODES = ['containerd-systemd-v2', 'containerd-cgroupfs-v1', 'crio-systemd-v1', 'crio-cgroupfs-v2'] as const;
export type KubeletNode = (typeof KUBELET_NODES)[number];

export interface NodeContainer {
  readonly cgroup: string;
  readonly id: string;
  /** Expected names, undefined for a pod sandbox. */
  readonly names?: { readonly namespace: string; readonly pod: string; readonly container: string };
}

export interface NodeLayout {
  readonly version: 1 | 2;
  readonly pods: ReadonlyArray<{ readonly cgroup: string; readonly uid: string; readonly oomKills: number }>;
  readonly containers: readonly NodeContainer[];
  readonly procs: ReadonlyArray<{ readonly pid: number; readonly comm: string; readonly cgroup: string }>;
  readonly dirs: readonly string[];
  readonly logs: readonly string[];
  readonly links: ReadonlyArray<{ readonly name: string; readonly target: string }>;
}

export function readNode(node: KubeletNode): NodeLayout {
  const text = readFileSync(new URL(`../../fixtures/identity/kubelet-nodes/${node}.txt`, import.meta.url), 'utf8');
  const out = { version: 2 as 1 | 2, pods: [] as NodeLayout['pods'][number][], containers: [] as NodeContainer[], procs: [] as NodeLayout['procs'][number][], dirs: [] as string[], logs: [] as string[], links: [] as NodeLayout['links'][number][] };
  for (const line of text.split('\n')) {
    const [kind, a = '', b = '', ...rest] = line.split(' ');
    if (kind === 'version') out.version = a === '1' ? 1 : 2;
    else if (kind === 'pod') out.pods.push({ cgroup: a, uid: podUidOfSegment(a.split('/').at(-1) as string) as string, oomKills: Number(b) });
    else if (kind === 'container') {
      const id = /([0-9a-f]{64})(?:\.scope)?$/.exec(a)?.[1] as string;
      const [namespace = '', pod = '', container = ''] = b.split('/');
      out.containers.push({ cgroup: a, id, ...(b === 'sandbox' ? {} : { names: { namespace, pod, container } }) });
    } else if (kind === 'dir') out.dirs.push(a);
    else if (kind === 'log') out.logs.push(a);
    else if (kind === 'link') out.links.push({ name: a, target: rest[0] as string });
    else if (kind === 'proc') out.procs.push({ pid: Number(a), comm: b, cgroup: (rest[0] as string).split('|').join('\n') + '\n' });
  }
  return out;
}

/** Container cgroup files per cgroup version (fixture names under test/fixtures/containers/). */
const CONTAINER_FILES: Record<1 | 2, Record<string, string>> = {
  1: {
    'memory.usage_in_bytes': 'v1-docker-limited-after-oom.memory.usage_in_bytes',
    'memory.limit_in_bytes': 'v1-docker-limited-after-oom.memory.limit_in_bytes',
    'memory.stat': 'v1-docker-limited-after-oom.memory.stat',
    'memory.oom_control': 'v1-docker-limited-after-oom.memory.oom_control',
    'memory.max_usage_in_bytes': 'v1-docker-limited-after-oom.memory.max_usage_in_bytes',
    'memory.failcnt': 'v1-docker-limited-after-oom.memory.failcnt',
  },
  2: {
    ...V2_DOCKER_FILES,
    'memory.peak': 'v2-systemd-docker.memory.peak',
    'memory.pressure': 'psi-kernel-6.18.memory.pressure',
    'memory.oom.group': 'v2-kubelet-1.28.memory.oom.group',
  },
};

export interface MaterialisedNode {
  readonly dir: string;
  readonly sysfs: string;
  readonly rootfs: string;
  readonly procfs: string;
  readonly layout: NodeLayout;
  /** The cgroup root directory (v1: the memory controller's). */
  readonly cgroupRoot: string;
}

export function materialiseNode(node: KubeletNode): MaterialisedNode {
  const layout = readNode(node);
  const dir = tempDir(`kubelet-${node}`);
  const sysfs = join(dir, 'sys');
  const rootfs = join(dir, 'root');
  const procfs = join(dir, 'proc');
  const base = join(sysfs, 'fs', 'cgroup');
  const cgroupRoot = layout.version === 1 ? join(base, 'memory') : base;
  mkdirSync(cgroupRoot, { recursive: true });
  if (layout.version === 1) cpSync(new URL('v1-docker-unlimited.memory.stat', CONTAINER_FIXTURES), join(cgroupRoot, 'memory.stat'));
  else writeFileSync(join(cgroupRoot, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  for (const p of layout.pods) {
    mkdirSync(join(cgroupRoot, p.cgroup), { recursive: true });
    const events =
      layout.version === 1
        ? `oom_kill_disable 0\nunder_oom 0\noom_kill ${p.oomKills}\n`
        : `low 0\nhigh 0\nmax ${p.oomKills * 3}\noom ${p.oomKills}\noom_kill ${p.oomKills}\noom_group_kill ${p.oomKills}\n`;
    writeFileSync(join(cgroupRoot, p.cgroup, layout.version === 1 ? 'memory.oom_control' : 'memory.events'), events);
  }
  for (const c of layout.containers) {
    mkdirSync(join(cgroupRoot, c.cgroup), { recursive: true });
    for (const [name, from] of Object.entries(CONTAINER_FILES[layout.version])) cpSync(new URL(from, CONTAINER_FIXTURES), join(cgroupRoot, c.cgroup, name));
  }
  for (const d of layout.dirs) mkdirSync(join(cgroupRoot, d), { recursive: true });
  for (const l of layout.logs) {
    mkdirSync(dirname(join(rootfs, 'var/log/pods', l)), { recursive: true });
    writeFileSync(join(rootfs, 'var/log/pods', l), '');
  }
  mkdirSync(join(rootfs, 'var/log/containers'), { recursive: true });
  for (const l of layout.links) symlinkSync(l.target, join(rootfs, 'var/log/containers', l.name));
  for (const p of layout.procs) {
    mkdirSync(join(procfs, String(p.pid)), { recursive: true });
    writeFileSync(join(procfs, String(p.pid), 'cgroup'), p.cgroup);
    writeFileSync(join(procfs, String(p.pid), 'comm'), `${p.comm}\n`);
  }
  return { dir, sysfs, rootfs, procfs, layout, cgroupRoot };
}
