/** Metric definitions of the containers collector: one place for names, HELP texts and label sets. */
import { IDENTITY_LABELS } from '../../lib/identity/process-identity.js';
import { defineMetric } from '../../metrics.js';

export const usageBytes = defineMetric({
  name: 'silentwatch_container_memory_usage_bytes',
  type: 'gauge',
  help: 'Memory charged to the container cgroup, page cache included (v1 memory.usage_in_bytes, v2 memory.current), in bytes.',
  labels: IDENTITY_LABELS,
});
export const workingSetBytes = defineMetric({
  name: 'silentwatch_container_memory_working_set_bytes',
  type: 'gauge',
  help: 'Container memory usage minus inactive page cache (what docker stats and cAdvisor show, and what the OOM killer weighs), in bytes.',
  labels: IDENTITY_LABELS,
});
export const rssBytes = defineMetric({
  name: 'silentwatch_container_memory_rss_bytes',
  type: 'gauge',
  help: 'Anonymous memory of the container (v1 total_rss, v2 anon), in bytes.',
  labels: IDENTITY_LABELS,
});
export const cacheBytes = defineMetric({
  name: 'silentwatch_container_memory_cache_bytes',
  type: 'gauge',
  help: 'Page cache charged to the container (v1 total_cache, v2 file), in bytes.',
  labels: IDENTITY_LABELS,
});
export const limitBytes = defineMetric({
  name: 'silentwatch_container_memory_limit_bytes',
  type: 'gauge',
  help: 'Memory limit of the container cgroup, in bytes. Only present for containers that have a limit.',
  labels: IDENTITY_LABELS,
});
export const limited = defineMetric({
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
export const oomEvents = defineMetric({
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
export const startedTime = defineMetric({
  name: 'silentwatch_container_started_time_seconds',
  type: 'gauge',
  help: 'When the container was last started, in Unix seconds (absent if it never started).',
  labels: IDENTITY_LABELS,
});
export const cgroupsDiscovered = defineMetric({
  name: 'silentwatch_container_cgroups',
  type: 'gauge',
  help: 'Container cgroups found in the cgroup memory hierarchy in this scrape, by cgroup version.',
  labels: ['cgroup_version'],
});

export const oomGroupKills = defineMetric({
  name: 'silentwatch_container_oom_group_kills_total',
  type: 'counter',
  help: 'Times the OOM killer killed the whole container cgroup as a unit because memory.oom.group is set (cgroup v2 memory.events oom_group_kill, Linux ≥ 5.17).',
  labels: IDENTITY_LABELS,
});
export const memoryEvents = defineMetric({
  name: 'silentwatch_container_memory_events_total',
  type: 'counter',
  help: 'cgroup memory events by kind: low (reclaimed below memory.low), high (throttled over memory.high), max (usage hit the limit; v1 memory.failcnt). cgroup v2 memory.events unless noted.',
  labels: [...IDENTITY_LABELS, 'event'],
});
export const peakBytes = defineMetric({
  name: 'silentwatch_container_memory_peak_bytes',
  type: 'gauge',
  help: 'Highest memory usage of the container cgroup since it was created (v2 memory.peak, Linux ≥ 5.19; v1 memory.max_usage_in_bytes), in bytes.',
  labels: IDENTITY_LABELS,
});
export const pressureWaiting = defineMetric({
  name: 'silentwatch_container_memory_pressure_waiting_seconds_total',
  type: 'counter',
  help: 'Time at least one task of the container was stalled waiting for memory (cgroup v2 memory.pressure "some" total), in seconds.',
  labels: IDENTITY_LABELS,
});
export const pressureStalled = defineMetric({
  name: 'silentwatch_container_memory_pressure_stalled_seconds_total',
  type: 'counter',
  help: 'Time all non-idle tasks of the container were stalled on memory at once (cgroup v2 memory.pressure "full" total), in seconds.',
  labels: IDENTITY_LABELS,
});
export const oomGroup = defineMetric({
  name: 'silentwatch_container_memory_oom_group',
  type: 'gauge',
  help: 'cgroup v2 memory.oom.group of the container: 1 = an OOM kills every process of the container (the kubelet sets it since Kubernetes 1.28), 0 = only the chosen process.',
  labels: IDENTITY_LABELS,
});
export const oomExits = defineMetric({
  name: 'silentwatch_container_oom_exits_total',
  type: 'counter',
  help: "Times the container's main process was OOM-killed and the container died (Docker event `oom` then `die` with exit code 137), seen by this exporter since it started. Its restart gets a fresh cgroup whose own oom_kills counter starts at 0; this one still counts.",
  labels: IDENTITY_LABELS,
});
export const podOomKills = defineMetric({
  name: 'silentwatch_pod_oom_kills_total',
  type: 'counter',
  help: "Processes OOM-killed in a Kubernetes pod's cgroup. On cgroup v2 it counts every container of the pod, including containers since killed and replaced; on v1 only kills at the pod's own limit.",
  labels: ['namespace', 'pod', 'pod_uid'],
});

/** Every metric of the collector, in the order docs/metrics.md lists them. */
export const CONTAINER_METRICS = [
  usageBytes,
  workingSetBytes,
  rssBytes,
  cacheBytes,
  limitBytes,
  limited,
  peakBytes,
  oomKills,
  oomEvents,
  oomGroupKills,
  oomGroup,
  memoryEvents,
  pressureWaiting,
  pressureStalled,
  podOomKills,
  stateMetric,
  healthMetric,
  restarts,
  oomKilledFlag,
  oomExits,
  startedTime,
  cgroupsDiscovered,
];
