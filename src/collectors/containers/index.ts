/**
 * Containers: memory usage, working set, limit and the kernel's OOM-kill counter of every container cgroup,
 * plus Docker's own view (state, health, restarts, OOMKilled, start time).
 *
 * Containers are discovered by walking the cgroup memory hierarchy under --path.sysfs (v1 memory controller
 * on legacy and hybrid hosts, the unified hierarchy on v2) and recognising container cgroups by their path
 * (Docker cgroupfs/systemd drivers, Kubernetes pods, podman, LXC). The hot path is file reads only. Docker,
 * when reachable, only enriches: one shared container list per scrape, and `inspect` (read-only) only for
 * containers whose State/Status changed since it was last inspected. A slow or absent Docker never holds
 * back the cgroup metrics: its part is bounded well below the collector's time-out and reported through
 * silentwatch_collector_success.
 */
import { close, open, read, type Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { bool, enablement, integer } from '../../lib/config-values.js';
import { errnoCode, isPermissionDenied } from '../../lib/errno.js';
import type { DockerContainerInfo } from '../../lib/identity/docker-index.js';
import { containerFromCgroupPath, type ContainerRef } from '../../lib/identity/parse-proc-cgroup.js';
import { IDENTITY_LABELS, identityLabels, type IdentityLabels } from '../../lib/identity/process-identity.js';
import { defineMetric, type SampleSink } from '../../metrics.js';
import { defineCollector } from '../types.js';
import { CONTAINER_STATES, HEALTH_STATUSES, containerState, healthStatus, inspectFacts, maxUptimeSeconds, statusWithoutTime, type InspectFacts } from './parse-docker.js';
import { MEMORY_FILES, memoryFromV1, memoryFromV2, type ContainerMemory, type MemoryFiles } from './parse-memory.js';

const usageBytes = defineMetric({
  name: 'silentwatch_container_memory_usage_bytes',
  type: 'gauge',
  help: 'Memory charged to the container cgroup, page cache included (v1 memory.usage_in_bytes, v2 memory.current), in bytes.',
  labels: IDENTITY_LABELS,
});
const workingSetBytes = defineMetric({
  name: 'silentwatch_container_memory_working_set_bytes',
  type: 'gauge',
  help: 'Container memory usage minus inactive page cache (what docker stats and cAdvisor show, and what the OOM killer weighs), in bytes.',
  labels: IDENTITY_LABELS,
});
const rssBytes = defineMetric({
  name: 'silentwatch_container_memory_rss_bytes',
  type: 'gauge',
  help: 'Anonymous memory of the container (v1 total_rss, v2 anon), in bytes.',
  labels: IDENTITY_LABELS,
});
const cacheBytes = defineMetric({
  name: 'silentwatch_container_memory_cache_bytes',
  type: 'gauge',
  help: 'Page cache charged to the container (v1 total_cache, v2 file), in bytes.',
  labels: IDENTITY_LABELS,
});
const limitBytes = defineMetric({
  name: 'silentwatch_container_memory_limit_bytes',
  type: 'gauge',
  help: 'Memory limit of the container cgroup, in bytes. Only present for containers that have a limit.',
  labels: IDENTITY_LABELS,
});
const limited = defineMetric({
  name: 'silentwatch_container_memory_limited',
  type: 'gauge',
  help: 'Whether the container has a memory limit (1) or none (0, usage can grow until the host runs out).',
  labels: IDENTITY_LABELS,
});
export const oomKills = defineMetric({
  name: 'silentwatch_container_oom_kills_total',
  type: 'counter',
  help: "Processes inside the container killed by the kernel's OOM killer (the cgroup's own oom_kill counter), even when the container keeps running.",
  labels: IDENTITY_LABELS,
});
const oomEvents = defineMetric({
  name: 'silentwatch_container_oom_events_total',
  type: 'counter',
  help: 'Times the container cgroup ran out of memory and invoked the OOM killer (cgroup v2 memory.events oom; not available on cgroup v1).',
  labels: IDENTITY_LABELS,
});
export const stateMetric = defineMetric({
  name: 'silentwatch_container_state',
  type: 'gauge',
  help: "Docker's state of the container: 1 for the current state, 0 for the others.",
  labels: [...IDENTITY_LABELS, 'state'],
});
export const healthMetric = defineMetric({
  name: 'silentwatch_container_health_status',
  type: 'gauge',
  help: "Docker's health-check status of the container: 1 for the current status (none = no HEALTHCHECK), 0 for the others.",
  labels: [...IDENTITY_LABELS, 'status'],
});
export const restarts = defineMetric({
  name: 'silentwatch_container_restarts_total',
  type: 'counter',
  help: "Times Docker's restart policy restarted the container (RestartCount).",
  labels: IDENTITY_LABELS,
});
export const oomKilledFlag = defineMetric({
  name: 'silentwatch_container_oom_killed',
  type: 'gauge',
  help: "Docker's OOMKilled flag of the container's last exit (1/0). Stays 0 when only a child process was OOM-killed: see silentwatch_container_oom_kills_total.",
  labels: IDENTITY_LABELS,
});
const startedTime = defineMetric({
  name: 'silentwatch_container_started_time_seconds',
  type: 'gauge',
  help: 'When the container was last started, in Unix seconds (absent if it never started).',
  labels: IDENTITY_LABELS,
});
const cgroupsDiscovered = defineMetric({
  name: 'silentwatch_container_cgroups',
  type: 'gauge',
  help: 'Container cgroups found in the cgroup memory hierarchy in this scrape, by cgroup version.',
  labels: ['cgroup_version'],
});

/** Deepest cgroup level looked at below the root (kubepods/burstable/pod<uid>/<id> is 4). */
const MAX_DEPTH = 8;
/** Most concurrent `inspect` requests. */
const INSPECT_CONCURRENCY = 8;

interface Hierarchy {
  readonly root: string;
  readonly version: 1 | 2;
}

interface FoundCgroup {
  readonly dir: string;
  readonly ref: ContainerRef;
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Paths the scrape was not allowed to read, as "path: CODE". A vanished cgroup (ENOENT, ENODEV) is skipped
 * silently, but a permission error hides containers that are there, so it marks the scrape partial.
 */
type Denied = string[];
function noteDenied(denied: Denied, path: string, e: unknown): void {
  if (isPermissionDenied(e)) denied.push(`${path}: ${errnoCode(e) as string}`);
}

async function readText(path: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (e) {
    if (signal.aborted) throw e;
    return undefined;
  }
}

/** Where container memory is accounted: the v1 memory controller if mounted (legacy and hybrid), else v2. */
async function findHierarchy(sysfs: string, signal: AbortSignal): Promise<Hierarchy | undefined> {
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
 */
async function findContainerCgroups(root: string, signal: AbortSignal, maxDirs: number, denied: Denied = []): Promise<{ found: FoundCgroup[]; truncated: boolean }> {
  const found: FoundCgroup[] = [];
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
        if (++visited > maxDirs) return { found, truncated: true };
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
        next.push({ dir, rel });
      }
    }
    level = next;
  }
  return { found, truncated: false };
}

/** Largest cgroup memory file we expect (v1 memory.stat is ~1.5 KiB); a bigger one is read whole instead. */
const READ_BUFFER_BYTES = 16 * 1024;

const openP = (path: string): Promise<number> => new Promise((res, rej) => open(path, 'r', (e, fd) => (e ? rej(e) : res(fd))));
const closeQuietly = (fd: number): void => close(fd, () => undefined);
/** One pread at offset 0: kernfs regenerates a seq_file's content when it is read again from the start. */
const preadP = (fd: number, buf: Buffer): Promise<number> => new Promise((res, rej) => read(fd, buf, 0, buf.length, 0, (e, n) => (e ? rej(e) : res(n))));

/**
 * Reads small kernel files, keeping up to `maxOpen` of them open between scrapes so that a scrape costs one
 * pread per file (1 thread-pool hop instead of the 5 of readFile). Files not read in a scrape are closed at
 * its end (sweep), so a removed container's cgroup is let go within one scrape; a read error on a kept
 * descriptor (ENODEV once the cgroup is removed) closes it and retries once with a fresh open.
 */
class KernelFileReader {
  private readonly fds = new Map<string, { fd: number; generation: number }>();
  private generation = 0;

  constructor(private readonly maxOpen: number) {}

  async read(path: string, signal: AbortSignal, denied: Denied): Promise<string | undefined> {
    signal.throwIfAborted();
    const buf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const kept = this.fds.get(path);
    if (kept) {
      try {
        const n = await preadP(kept.fd, buf);
        kept.generation = this.generation;
        return n < buf.length ? buf.toString('utf8', 0, n) : await readText(path, signal);
      } catch {
        this.fds.delete(path);
        closeQuietly(kept.fd);
      }
    }
    let fd: number;
    try {
      fd = await openP(path);
    } catch (e) {
      noteDenied(denied, path, e);
      return undefined;
    }
    try {
      const n = await preadP(fd, buf);
      const text = n < buf.length ? buf.toString('utf8', 0, n) : await readText(path, signal);
      if (this.fds.size < this.maxOpen && !this.fds.has(path)) {
        this.fds.set(path, { fd, generation: this.generation });
        return text;
      }
      closeQuietly(fd);
      return text;
    } catch {
      closeQuietly(fd);
      return undefined;
    }
  }

  /** Ends a scrape: closes what it did not read. */
  sweep(): void {
    for (const [path, kept] of this.fds) {
      if (kept.generation !== this.generation) {
        this.fds.delete(path);
        closeQuietly(kept.fd);
      }
    }
    this.generation++;
  }

  get open(): number {
    return this.fds.size;
  }

  closeAll(): void {
    for (const { fd } of this.fds.values()) closeQuietly(fd);
    this.fds.clear();
  }
}

/** The four memory files of one cgroup; undefined when none could be read (the cgroup went away). */
async function readMemory(reader: KernelFileReader, dir: string, version: 1 | 2, signal: AbortSignal, denied: Denied): Promise<ContainerMemory | undefined> {
  const names = MEMORY_FILES[version];
  const [usage, limit, stat, events] = await Promise.all([
    reader.read(join(dir, names.usage), signal, denied),
    reader.read(join(dir, names.limit), signal, denied),
    reader.read(join(dir, names.stat), signal, denied),
    reader.read(join(dir, names.events), signal, denied),
  ]);
  if (usage === undefined && limit === undefined && stat === undefined && events === undefined) return undefined;
  const files: MemoryFiles = { usage, limit, stat, events };
  return version === 1 ? memoryFromV1(files) : memoryFromV2(files);
}

/** Runs fn over items with at most `limit` in flight. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${(ms / 1000).toFixed(1)}s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const ACTIVE_STATES = new Set(['running', 'paused', 'restarting']);

interface InspectCacheEntry {
  /** State + Status (without its relative time) at the inspect; a change triggers a new inspect. */
  key: string;
  facts: InspectFacts | undefined;
  /** Inspected again after this (ms), whatever happens: a restart hidden within Status' rounding is caught late, never missed. */
  refreshAt: number;
}

/** Re-inspect every container at least this often, spread by a random share of it so it never comes all at once. */
const INSPECT_MAX_AGE_MS = 5 * 60_000;

const inspectKey = (c: DockerContainerInfo): string => `${c.state}|${statusWithoutTime(c.status)}`;

/** Whether the cached inspect no longer describes the listed container. */
function inspectStale(c: DockerContainerInfo, cached: InspectCacheEntry | undefined, now: number): boolean {
  if (!cached || cached.key !== inspectKey(c) || now >= cached.refreshAt) return true;
  // up for less time than since the start we know of: restarted in between
  const upAtMost = maxUptimeSeconds(c.status);
  const started = cached.facts?.startedAt;
  return upAtMost !== undefined && started !== undefined && upAtMost + 5 < now / 1000 - started;
}

export const containersCollector = defineCollector({
  name: 'containers',
  description: 'Container memory, limits and kernel OOM kills from the cgroup tree; Docker state, health and restarts.',
  defaultEnabled: 'auto',
  options: z.object({
    docker: enablement()
      .prefault('auto')
      .describe(
        'Enrich containers from the Docker API (names, image, compose labels, state, health, restarts, OOMKilled): true, false, or auto (use it when reachable; report a failure only when Docker containers exist in the cgroup tree but the API does not answer).',
      ),
    include_stopped: bool()
      .prefault('true')
      .describe('Also export Docker state, restarts and OOMKilled for containers that are not running (exited, created, dead).'),
    open_files: integer(0, 100_000)
      .prefault('512')
      .describe(
        'Cgroup memory files kept open between scrapes (4 per container) so a scrape costs one read per file; 0 opens and closes every file each scrape. Keep it well below the process file-descriptor limit.',
      ),
    max_cgroups: integer(10, 1_000_000)
      .prefault('20000')
      .describe('Most cgroup directories walked per scrape when looking for containers; beyond it the scrape is reported partial.'),
  }),
  metrics: [usageBytes, workingSetBytes, rssBytes, cacheBytes, limitBytes, limited, oomKills, oomEvents, stateMetric, healthMetric, restarts, oomKilledFlag, startedTime, cgroupsDiscovered],

  async detect(ctx) {
    try {
      const signal = AbortSignal.timeout(Math.max(500, ctx.timeoutSeconds * 800));
      const h = await findHierarchy(ctx.paths.sysfs, signal);
      if (h) {
        const { found } = await findContainerCgroups(h.root, signal, ctx.options.max_cgroups);
        if (found.length > 0) return { present: true, reason: `${found.length} container cgroup(s) under ${h.root} (cgroup v${h.version})` };
      }
      if (ctx.options.docker !== false) {
        const list = await withTimeout(ctx.shared.dockerIndex.containers(), Math.max(500, ctx.timeoutSeconds * 500), 'Docker API').catch(() => undefined);
        if (list) return { present: true, reason: `Docker API reachable (${list.size} containers)` };
      }
      return {
        present: false,
        reason: h ? `no container cgroups under ${h.root} and the Docker API is not reachable` : `no cgroup memory hierarchy under ${join(ctx.paths.sysfs, 'fs', 'cgroup')}`,
      };
    } catch (e) {
      return { present: false, reason: `detection failed: ${errorMessage(e)}` };
    }
  },

  create(ctx) {
    const opts = ctx.options;
    let hierarchy: Hierarchy | undefined;
    const inspectCache = new Map<string, InspectCacheEntry>();
    const reader = new KernelFileReader(opts.open_files);
    let inspects = 0;
    const notes: Record<string, string> = { cgroups: 'not read yet', docker: opts.docker === false ? 'disabled' : 'not asked yet' };
    /** Docker's part gets at most this share of the collector time-out, so the cgroup part is always served. */
    const dockerBudgetMs = Math.max(200, ctx.timeoutSeconds * 1000 * 0.6);

    async function dockerPart(signal: AbortSignal): Promise<{ list?: Map<string, DockerContainerInfo>; error?: string }> {
      if (opts.docker === false) return {};
      const deadline = AbortSignal.any([signal, AbortSignal.timeout(dockerBudgetMs)]);
      let list: Map<string, DockerContainerInfo>;
      try {
        list = await withTimeout(ctx.shared.dockerIndex.containers(), dockerBudgetMs, 'Docker API');
      } catch (e) {
        return { error: `Docker API: ${errorMessage(e)}` };
      }
      // inspect (read-only) only what changed since the last inspect; forget what is gone
      for (const id of inspectCache.keys()) if (!list.has(id)) inspectCache.delete(id);
      const wanted = [...list.values()].filter((c) => opts.include_stopped || ACTIVE_STATES.has(c.state));
      const now = Date.now();
      const stale = wanted.filter((c) => inspectStale(c, inspectCache.get(c.id), now));
      const failures: string[] = [];
      await eachLimited(stale, INSPECT_CONCURRENCY, async (c) => {
        if (deadline.aborted) return;
        try {
          inspects++;
          const body: unknown = await ctx.shared.docker().getContainer(c.id).inspect({ abortSignal: deadline });
          inspectCache.set(c.id, { key: inspectKey(c), facts: inspectFacts(body), refreshAt: Date.now() + INSPECT_MAX_AGE_MS * (1 + Math.random()) });
        } catch (e) {
          const status = (e as { statusCode?: unknown }).statusCode;
          if (status === 404) inspectCache.delete(c.id); // removed since the list: skipped silently
          else failures.push(deadline.aborted ? 'time budget exhausted' : errorMessage(e));
        }
      });
      if (failures.length > 0) return { list, error: `Docker inspect failed for ${failures.length} container(s): ${failures[0] as string}` };
      return { list };
    }

    function emitCgroup(sink: SampleSink, labels: IdentityLabels, m: ContainerMemory): void {
      if (m.usage !== undefined) sink.set(usageBytes, labels, m.usage);
      if (m.workingSet !== undefined) sink.set(workingSetBytes, labels, m.workingSet);
      if (m.rss !== undefined) sink.set(rssBytes, labels, m.rss);
      if (m.cache !== undefined) sink.set(cacheBytes, labels, m.cache);
      if (m.limit) {
        sink.set(limited, labels, m.limit.limited ? 1 : 0);
        if (m.limit.limited) sink.set(limitBytes, labels, m.limit.bytes);
      }
      if (m.oomKills !== undefined) sink.set(oomKills, labels, m.oomKills);
      if (m.oomEvents !== undefined) sink.set(oomEvents, labels, m.oomEvents);
    }

    function emitDocker(sink: SampleSink, info: DockerContainerInfo): void {
      const labels = identityLabels({ runtime: 'docker', id: info.id }, info);
      const st = containerState(info.state);
      for (const s of CONTAINER_STATES) sink.set(stateMetric, { ...labels, state: s }, s === st ? 1 : 0);
      const facts = inspectCache.get(info.id)?.facts;
      const health = healthStatus(info.status, facts?.health);
      for (const h of HEALTH_STATUSES) sink.set(healthMetric, { ...labels, status: h }, h === health ? 1 : 0);
      if (facts) {
        sink.set(restarts, labels, facts.restartCount);
        sink.set(oomKilledFlag, labels, facts.oomKilled ? 1 : 0);
        if (facts.startedAt !== undefined) sink.set(startedTime, labels, facts.startedAt);
      }
    }

    return {
      async collect(sink, run) {
        const docker = dockerPart(run.signal);
        hierarchy ??= await findHierarchy(ctx.paths.sysfs, run.signal);
        const h = hierarchy;
        let cgroups: Array<{ ref: ContainerRef; memory: ContainerMemory }> = [];
        let truncated = false;
        const denied: Denied = [];
        if (h) {
          const walked = await findContainerCgroups(h.root, run.signal, opts.max_cgroups, denied);
          truncated = walked.truncated;
          const read = await Promise.all(walked.found.map(async (f) => ({ ref: f.ref, memory: await readMemory(reader, f.dir, h.version, run.signal, denied) })));
          reader.sweep();
          cgroups = read.filter((r): r is { ref: ContainerRef; memory: ContainerMemory } => r.memory !== undefined);
          sink.set(cgroupsDiscovered, { cgroup_version: String(h.version) }, cgroups.length);
          notes.cgroups = `${cgroups.length} container cgroup(s) under ${h.root} (cgroup v${h.version})`;
        } else {
          notes.cgroups = `no cgroup memory hierarchy under ${join(ctx.paths.sysfs, 'fs', 'cgroup')}`;
        }

        const { list, error } = await docker;
        for (const c of cgroups) emitCgroup(sink, identityLabels(c.ref, list?.get(c.ref.id)), c.memory);
        if (list) {
          for (const info of list.values()) if (opts.include_stopped || ACTIVE_STATES.has(info.state)) emitDocker(sink, info);
        }

        if (opts.docker !== false) notes.docker = error ?? `${list?.size ?? 0} container(s) listed`;
        const dockerExpected = opts.docker === true || (list === undefined && cgroups.some((c) => c.ref.runtime === 'docker'));
        if (error && (list !== undefined || dockerExpected)) sink.degraded(`${error}; cgroup metrics served, Docker containers named by short id`);
        if (denied.length > 0) sink.degraded(`permission denied on ${denied.length} cgroup path(s), containers missing or incomplete (first: ${denied[0] as string})`);
        if (truncated) sink.degraded(`stopped walking the cgroup tree after ${opts.max_cgroups} directories (--collector.containers.max-cgroups)`);
        if (!h) {
          if (list === undefined) throw new Error(notes.cgroups);
          sink.degraded(notes.cgroups);
        }
      },
      describe: () => ({ ...notes, 'open cgroup files': String(reader.open), 'Docker inspects since start': String(inspects) }),
      close() {
        reader.closeAll();
      },
    };
  },
});
