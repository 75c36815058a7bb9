/**
 * Containers: memory usage, working set, limit, peak, pressure and the kernel's OOM counters of every container
 * cgroup and of every Kubernetes pod cgroup, plus Docker's own view (state, health, restarts, OOMKilled, start
 * time, OOM exits).
 *
 * Containers are discovered by walking the cgroup memory hierarchy under --path.sysfs (cgroup-walk.ts) and
 * recognising container cgroups by their path (Docker cgroupfs/systemd drivers, Kubernetes pods, podman, LXC).
 * The hot path is file reads only (kernel-files.ts, cgroup-memory.ts). Names come from Docker when it knows
 * the container (docker-enrich.ts, kept current from its event stream), else, on a Kubernetes node, from the
 * kubelet's log layout (src/lib/identity/kubelet-logs.ts). A slow or absent Docker never holds back the cgroup
 * metrics: its part is bounded well below the collector's time-out and reported through
 * silentwatch_collector_success.
 */
import { join } from 'node:path';
import { errorMessage, withTimeout } from '../../lib/async.js';
import type { ContainerRef } from '../../lib/identity/parse-proc-cgroup.js';
import { identityLabels, kubeletFor, type IdentityLabels } from '../../lib/identity/process-identity.js';
import type { SampleSink } from '../../metrics.js';
import { defineCollector } from '../types.js';
import { CgroupMemoryReader } from './cgroup-memory.js';
import { findContainerCgroups, findHierarchy, type Hierarchy } from './cgroup-walk.js';
import { ACTIVE_STATES, DockerEnrichment } from './docker-enrich.js';
import { KernelFileReader, type Denied } from './kernel-files.js';
import * as m from './metrics.js';
import { containersOptions } from './options.js';
import { MEMORY_EVENTS, podOomKills, type ContainerMemory } from './parse-memory.js';

/** Metric definitions other modules (doctor, status page) name metrics by; all of them live in metrics.ts. */
export { healthMetric, oomKilledFlag, oomKills, restarts, stateMetric } from './metrics.js';

function emitCgroup(sink: SampleSink, labels: IdentityLabels, mem: ContainerMemory): void {
  if (mem.usage !== undefined) sink.set(m.usageBytes, labels, mem.usage);
  if (mem.workingSet !== undefined) sink.set(m.workingSetBytes, labels, mem.workingSet);
  if (mem.rss !== undefined) sink.set(m.rssBytes, labels, mem.rss);
  if (mem.cache !== undefined) sink.set(m.cacheBytes, labels, mem.cache);
  if (mem.limit) {
    sink.set(m.limited, labels, mem.limit.limited ? 1 : 0);
    if (mem.limit.limited) sink.set(m.limitBytes, labels, mem.limit.bytes);
  }
  if (mem.peak !== undefined) sink.set(m.peakBytes, labels, mem.peak);
  if (mem.oomKills !== undefined) sink.set(m.oomKills, labels, mem.oomKills);
  if (mem.oomEvents !== undefined) sink.set(m.oomEvents, labels, mem.oomEvents);
  if (mem.oomGroupKills !== undefined) sink.set(m.oomGroupKills, labels, mem.oomGroupKills);
  if (mem.oomGroup !== undefined) sink.set(m.oomGroup, labels, mem.oomGroup ? 1 : 0);
  for (const event of MEMORY_EVENTS) {
    const v = mem.events?.[event];
    if (v !== undefined) sink.set(m.memoryEvents, { ...labels, event }, v);
  }
  if (mem.pressure?.some !== undefined) sink.set(m.pressureWaiting, labels, mem.pressure.some);
  if (mem.pressure?.full !== undefined) sink.set(m.pressureStalled, labels, mem.pressure.full);
}

export const containersCollector = defineCollector({
  name: 'containers',
  description: 'Container and pod memory, limits, pressure and kernel OOM kills from the cgroup tree; Docker state, health, restarts and OOM exits.',
  defaultEnabled: 'auto',
  options: containersOptions,
  metrics: m.CONTAINER_METRICS,

  async detect(ctx) {
    try {
      const signal = AbortSignal.timeout(Math.max(500, ctx.timeoutSeconds * 800));
      const h = await findHierarchy(ctx.paths.sysfs, signal);
      if (h) {
        const { found } = await findContainerCgroups(h.root, signal, ctx.options.max_cgroups);
        if (found.length > 0) return { present: true, reason: `${found.length} container cgroup(s) under ${h.root} (cgroup v${h.version})` };
      }
      if (ctx.options.docker !== false) {
        const list = await withTimeout(ctx.shared.dockerIndex.containers(), Math.max(0.5, ctx.timeoutSeconds * 0.5), { what: 'Docker API' }).catch(() => undefined);
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
    let hierarchy: { h: Hierarchy; memory: CgroupMemoryReader } | undefined;
    const reader = new KernelFileReader(opts.open_files);
    const docker = new DockerEnrichment(ctx);
    const notes: Record<string, string> = { cgroups: 'not read yet', docker: opts.docker === false ? 'disabled' : 'not asked yet' };

    return {
      async collect(sink, run) {
        const dockerView = docker.view(run.signal);
        if (!hierarchy) {
          const h = await findHierarchy(ctx.paths.sysfs, run.signal);
          if (h) hierarchy = { h, memory: new CgroupMemoryReader(reader, h.version) };
        }
        let cgroups: Array<{ ref: ContainerRef; memory: ContainerMemory }> = [];
        let pods: Array<{ uid: string; oomKills: number | undefined }> = [];
        let truncated = false;
        const denied: Denied = [];
        if (hierarchy) {
          const { h, memory } = hierarchy;
          const walked = await findContainerCgroups(h.root, run.signal, opts.max_cgroups, denied);
          truncated = walked.truncated;
          const [read, podRead] = await Promise.all([
            Promise.all(walked.found.map(async (f) => ({ ref: f.ref, memory: await memory.read(f.dir, run.signal, denied) }))),
            Promise.all(walked.pods.map(async (p) => ({ uid: p.uid, oomKills: podOomKills(h.version, await memory.podEvents(p.dir, run.signal, denied)) }))),
          ]);
          reader.sweep();
          cgroups = read.filter((r): r is { ref: ContainerRef; memory: ContainerMemory } => r.memory !== undefined);
          pods = podRead;
          sink.set(m.cgroupsDiscovered, { cgroup_version: String(h.version) }, cgroups.length);
          notes.cgroups = `${cgroups.length} container cgroup(s)${pods.length > 0 ? ` in ${pods.length} pod(s)` : ''} under ${h.root} (cgroup v${h.version})`;
        } else {
          notes.cgroups = `no cgroup memory hierarchy under ${join(ctx.paths.sysfs, 'fs', 'cgroup')}`;
        }

        const { list, error } = await dockerView;
        // Kubernetes containers Docker does not know (containerd, CRI-O) are named from the kubelet's log layout
        const kube = await kubeletFor(ctx.shared.identity.kubelet, [
          ...cgroups.filter((c) => !list?.has(c.ref.id)).map((c) => c.ref),
          ...pods.map((p) => ({ runtime: 'cri' as const, id: p.uid, podUid: p.uid })),
        ]);
        for (const c of cgroups) emitCgroup(sink, identityLabels(c.ref, list?.get(c.ref.id), kube), c.memory);
        for (const p of pods) {
          if (p.oomKills === undefined) continue;
          const names = kube?.podsByUid.get(p.uid);
          sink.set(m.podOomKills, { namespace: names?.namespace ?? '', pod: names?.pod ?? '', pod_uid: p.uid }, p.oomKills);
        }
        if (list) {
          for (const info of list.values()) if (opts.include_stopped || ACTIVE_STATES.has(info.state)) docker.emit(sink, info);
        }

        if (opts.docker !== false) notes.docker = error ?? `${list?.size ?? 0} container(s) listed`;
        if (kube) notes.kubelet = `${kube.podsByUid.size} pod(s), ${kube.containersById.size} container(s) named from the kubelet's log directories`;
        const dockerExpected = opts.docker === true || (list === undefined && cgroups.some((c) => c.ref.runtime === 'docker'));
        if (error && (list !== undefined || dockerExpected)) sink.degraded(`${error}; cgroup metrics served, Docker containers named by short id`);
        if (denied.length > 0) sink.degraded(`permission denied on ${denied.length} cgroup path(s), containers missing or incomplete (first: ${denied[0] as string})`);
        if (truncated) sink.degraded(`stopped walking the cgroup tree after ${opts.max_cgroups} directories (--collector.containers.max-cgroups)`);
        if (!hierarchy) {
          if (list === undefined) throw new Error(notes.cgroups);
          sink.degraded(notes.cgroups);
        }
      },
      describe: () => ({ ...notes, 'open cgroup files': String(reader.open), ...docker.describe() }),
      close() {
        docker.close();
        reader.closeAll();
      },
    };
  },
});
