/**
 * Kubernetes names without the Kubernetes API and without Docker: the kubelet's log layout on the node.
 *
 * The kubelet (pkg/kubelet/kuberuntime/helpers.go BuildPodLogsDirectory, buildContainerLogsPath;
 * pkg/kubelet/kuberuntime/kuberuntime_container.go logSymlink) writes, whatever the runtime (containerd, CRI-O):
 *   /var/log/pods/<namespace>_<pod>_<pod-uid>/<container>/<restart-count>.log
 *   /var/log/containers/<pod>_<namespace>_<container>-<container-id>.log   (symlinks, name truncated to 255 bytes)
 * Pod names, namespaces (DNS-1123) and container names (DNS-1123 labels) never contain `_`, so the names split
 * unambiguously. Only directory listings are read (readdir, never a log's content, never a symlink followed):
 * what log shippers already rely on, read-only, and present on every kubelet node.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface PodName {
  readonly namespace: string;
  readonly pod: string;
  readonly uid: string;
}

export interface ContainerName {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** Full 64-hex container id. */
  readonly id: string;
}

const DNS = '[a-z0-9]([-a-z0-9.]*[a-z0-9])?';
const UID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const POD_DIR = new RegExp(`^(${DNS})_(${DNS})_(${UID})$`);
const CONTAINER_LINK = new RegExp(`^(${DNS})_(${DNS})_(${DNS})-([0-9a-f]{64})\\.log$`);

/** `<namespace>_<pod>_<uid>` (a /var/log/pods entry); undefined for anything else (the pre-1.14 `<uid>` layout too). */
export function parsePodLogDir(name: string): PodName | undefined {
  const m = POD_DIR.exec(name);
  return m ? { namespace: m[1] as string, pod: m[3] as string, uid: m[5] as string } : undefined;
}

/** `<pod>_<namespace>_<container>-<id>.log` (a /var/log/containers entry); undefined when malformed or truncated. */
export function parseContainerLogLink(name: string): ContainerName | undefined {
  const m = CONTAINER_LINK.exec(name);
  return m ? { pod: m[1] as string, namespace: m[3] as string, container: m[5] as string, id: m[7] as string } : undefined;
}

export interface KubeletSnapshot {
  readonly podsByUid: ReadonlyMap<string, PodName>;
  readonly containersById: ReadonlyMap<string, ContainerName>;
}

const EMPTY: KubeletSnapshot = { podsByUid: new Map(), containersById: new Map() };

/**
 * The kubelet log directories under --path.rootfs, re-listed at most every `ttlMs`, and at once (at most every
 * `minGapMs`) when asked about a pod or container it does not know yet, so a new pod is named at its first scrape.
 * A node without them (a Docker host) costs two failed readdirs per `ttlMs`.
 */
export class KubeletLogIndex {
  private snap: KubeletSnapshot = EMPTY;
  private at = -Infinity;
  private inFlight: Promise<KubeletSnapshot> | undefined;
  /** Asked-for keys the last refresh did not find either (cleared by each refresh). */
  private stillUnknown = new Set<string>();

  constructor(
    private readonly rootfs: string,
    private readonly ttlMs = 30_000,
    private readonly minGapMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  get podsDir(): string {
    return join(this.rootfs, 'var', 'log', 'pods');
  }

  get containersDir(): string {
    return join(this.rootfs, 'var', 'log', 'containers');
  }

  /**
   * The current snapshot, refreshed when stale, or when one of `wanted` (pod uids or container ids) is missing and
   * was not already missing after the last refresh (a pod sandbox never has a log: it must not cost a re-list per
   * scrape).
   */
  async snapshot(wanted: { podUids?: Iterable<string>; containerIds?: Iterable<string> } = {}): Promise<KubeletSnapshot> {
    const unknown = [...(wanted.podUids ?? [])].filter((u) => !this.snap.podsByUid.has(u)).concat([...(wanted.containerIds ?? [])].filter((id) => !this.snap.containersById.has(id)));
    const age = this.now() - this.at;
    const news = age >= this.minGapMs && unknown.some((k) => !this.stillUnknown.has(k));
    if (age < this.ttlMs && !news) return this.snap;
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    const snap = await this.inFlight;
    for (const k of unknown) if (!snap.podsByUid.has(k) && !snap.containersById.has(k)) this.stillUnknown.add(k);
    return snap;
  }

  private async load(): Promise<KubeletSnapshot> {
    const [podDirs, links] = await Promise.all([readdir(this.podsDir).catch(() => [] as string[]), readdir(this.containersDir).catch(() => [] as string[])]);
    const podsByUid = new Map<string, PodName>();
    for (const d of podDirs) {
      const p = parsePodLogDir(d);
      if (p) podsByUid.set(p.uid, p);
    }
    const containersById = new Map<string, ContainerName>();
    for (const l of links) {
      const c = parseContainerLogLink(l);
      if (c) containersById.set(c.id, c);
    }
    this.snap = { podsByUid, containersById };
    this.at = this.now();
    this.stillUnknown = new Set();
    return this.snap;
  }
}

/**
 * Names of a Kubernetes container from the kubelet snapshot: by container id, else only its pod by uid (the pod
 * sandbox, or a container whose symlink name was truncated: its container name stays its short id).
 */
export function kubeletNames(snap: KubeletSnapshot, id: string, podUid: string | undefined): { namespace: string; pod: string; container?: string } | undefined {
  const c = snap.containersById.get(id);
  if (c) return { namespace: c.namespace, pod: c.pod, container: c.container };
  const p = podUid === undefined ? undefined : snap.podsByUid.get(podUid);
  if (!p) return undefined;
  return { namespace: p.namespace, pod: p.pod };
}
