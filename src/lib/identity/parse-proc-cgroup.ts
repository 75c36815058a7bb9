/**
 * Pure parsing of /proc/<pid>/cgroup and of cgroup paths into container identities.
 * One implementation shared by the containers, NVIDIA and DRM collectors, so a GPU process and its
 * container's memory carry the same labels and join in one PromQL expression.
 */

export interface CgroupEntry {
  /** 0 for the cgroup v2 unified hierarchy. */
  readonly hierarchyId: number;
  /** Empty for v2; e.g. ['memory'] or ['cpu', 'cpuacct'] for v1. */
  readonly controllers: readonly string[];
  readonly path: string;
}

/** Parses `hierarchy-ID:controller-list:cgroup-path` lines; malformed lines are skipped. */
export function parseProcCgroup(text: string): CgroupEntry[] {
  const out: CgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const id = line.slice(0, first);
    const path = line.slice(second + 1);
    if (!/^\d+$/.test(id) || !path.startsWith('/')) continue;
    const ctrl = line.slice(first + 1, second);
    out.push({ hierarchyId: Number(id), controllers: ctrl === '' ? [] : ctrl.split(','), path });
  }
  return out;
}

export interface MemoryCgroup {
  readonly version: 1 | 2;
  readonly path: string;
}

/** The cgroup that accounts a process's memory: the v1 memory controller if mounted, else the v2 unified one. */
export function memoryCgroupOf(entries: readonly CgroupEntry[]): MemoryCgroup | undefined {
  const v1 = entries.find((e) => e.hierarchyId !== 0 && e.controllers.includes('memory'));
  if (v1) return { version: 1, path: v1.path };
  const v2 = entries.find((e) => e.hierarchyId === 0 && e.controllers.length === 0);
  return v2 ? { version: 2, path: v2.path } : undefined;
}

export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o' | 'podman' | 'lxc' | 'cri';

export interface ContainerRef {
  readonly runtime: ContainerRuntime;
  /** Full container id (64 hex) or, for LXC, the container name. */
  readonly id: string;
  /** Kubernetes pod UID (dashed form) when the cgroup is under kubepods. */
  readonly podUid?: string;
  /** Kubernetes QoS class from the cgroup path: guaranteed, burstable or besteffort. */
  readonly qos?: 'guaranteed' | 'burstable' | 'besteffort';
}

const HEX64 = '[0-9a-f]{64}';
/** A pod's cgroup: `pod<uid>` (cgroupfs driver) or `kubepods-<qos>-pod<uid_with_underscores>.slice` (systemd driver). */
const POD_SEGMENT = /^(?:kubepods-(?:burstable-|besteffort-)?)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

/** The pod UID (dashed form) when this cgroup path segment is a Kubernetes pod's cgroup. */
export function podUidOfSegment(seg: string): string | undefined {
  const m = POD_SEGMENT.exec(seg);
  return m ? (m[1] as string).replace(/_/g, '-') : undefined;
}
const SCOPE_PATTERNS: ReadonlyArray<readonly [RegExp, ContainerRuntime]> = [
  [new RegExp(`^docker-(${HEX64})\\.scope$`), 'docker'],
  [new RegExp(`^cri-containerd-(${HEX64})\\.scope$`), 'containerd'],
  [new RegExp(`^crio-(${HEX64})\\.scope$`), 'cri-o'],
  // CRI-O with the cgroupfs manager: <pod cgroup>/crio-<id> (cri-o internal/config/cgmgr/cgroupfs.go)
  [new RegExp(`^crio-(${HEX64})$`), 'cri-o'],
  [new RegExp(`^libpod-(${HEX64})\\.scope$`), 'podman'],
  // containerd with the systemd driver on some distributions: "...slice:cri-containerd:<id>"
  [new RegExp(`^[^:]+:cri-containerd:(${HEX64})$`), 'containerd'],
];

/**
 * Finds the innermost container in a cgroup path. Recognises Docker (cgroupfs `/docker/<id>` and systemd
 * `docker-<id>.scope`), Kubernetes pods (cgroupfs and systemd drivers, containerd/CRI-O/dockershim),
 * podman (`libpod-<id>.scope`) and LXC. Returns undefined for host processes and unknown layouts.
 */
export function containerFromCgroupPath(path: string): ContainerRef | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  let found: { runtime: ContainerRuntime; id: string } | undefined;
  let podUid: string | undefined;
  let qos: ContainerRef['qos'];
  let underKubepods = false;
  const bareId = new RegExp(`^${HEX64}$`);
  segments.forEach((seg, i) => {
    if (seg === 'kubepods' || seg.startsWith('kubepods')) {
      underKubepods = true;
      const q = /^kubepods[-.](?:slice$)?(?:kubepods-)?(burstable|besteffort)/.exec(seg) ?? /^(burstable|besteffort)$/.exec(seg);
      if (q) qos = q[1] as 'burstable' | 'besteffort';
    }
    if (underKubepods && (seg === 'burstable' || seg === 'besteffort')) qos = seg;
    podUid = podUidOfSegment(seg) ?? podUid;
    for (const [re, runtime] of SCOPE_PATTERNS) {
      const m = re.exec(seg);
      if (m) found = { runtime, id: m[1] as string };
    }
    if (bareId.test(seg)) {
      const parent = segments[i - 1] ?? '';
      if (parent === 'docker') found = { runtime: 'docker', id: seg };
      else if (podUid !== undefined) found = { runtime: 'cri', id: seg };
    }
    const lxc = /^lxc\.payload\.(.+)$/.exec(seg);
    if (lxc) found = { runtime: 'lxc', id: lxc[1] as string };
    else if (segments[i - 1] === 'lxc' && i === 1) found = { runtime: 'lxc', id: seg };
  });
  if (!found) return undefined;
  if (podUid !== undefined && qos === undefined) qos = 'guaranteed';
  return { ...found, ...(podUid !== undefined ? { podUid, qos } : {}) };
}

/** The 12-character short id Docker shows; LXC names are kept whole. */
export function shortId(ref: ContainerRef): string {
  return /^[0-9a-f]{64}$/.test(ref.id) ? ref.id.slice(0, 12) : ref.id;
}
