/** Containers drill-down: memory against the limit, pressure, kernel OOM kills that Docker does not report, state, health, restarts. */
import { T, pct, UIDS } from './constants.js';
import { I, INSTANCE_VARIABLE, type DashboardSpec } from './common.js';

const C = `${I}, container=~"$container"`;

export const containers: DashboardSpec = {
  uid: UIDS.containers,
  title: 'silentwatch / Containers',
  description: 'Per container (Docker, or Kubernetes pods under containerd and CRI-O): memory against the limit, memory pressure, kernel OOM kills inside running containers (invisible to Docker), whole-container OOM kills and restarts, state and health.',
  variables: [
    INSTANCE_VARIABLE,
    {
      name: 'container',
      label: 'Container',
      description: 'Container name(s).',
      query: 'label_values(silentwatch_container_memory_usage_bytes{instance=~"$instance"}, container)',
    },
  ],
  annotations: [
    {
      name: 'OOM kills',
      expr: `changes(silentwatch_container_oom_kills_total{${C}}[2m]) > 0`,
      color: 'red',
      title: 'OOM kill in {{container}}',
    },
    {
      name: 'Container restarts',
      expr: `changes(silentwatch_container_restarts_total{${C}}[2m]) > 0`,
      color: 'orange',
      title: 'Restart of {{container}}',
    },
  ],
  rows: [
    {
      title: 'Memory',
      panels: [
        {
          title: 'Memory working set / limit',
          w: 12,
          unit: 'percentunit',
          description: `Working set (usage minus inactive file cache: what the OOM killer looks at) divided by the memory limit, for containers with a limit. Dashed line at ${pct(T.container_memory_near_limit_ratio)}%, the alert threshold.`,
          queries: [{ expr: `max by (container) (silentwatch_container_memory_working_set_bytes{${C}} / silentwatch_container_memory_limit_bytes{${C}})`, legend: '{{container}}' }],
          min: 0,
          thresholds: [{ value: T.container_memory_near_limit_ratio, color: 'red' }],
        },
        {
          title: 'Memory working set',
          w: 12,
          unit: 'bytes',
          description: 'Working set per container (usage minus inactive file cache), comparable with `docker stats`.',
          queries: [{ expr: `sum by (container) (silentwatch_container_memory_working_set_bytes{${C}})`, legend: '{{container}}' }],
          min: 0,
        },
        {
          title: 'Memory limit',
          w: 8,
          unit: 'bytes',
          description: 'Memory limit per container; containers without a limit have no series here (see "Containers without a limit").',
          queries: [{ expr: `max by (container) (silentwatch_container_memory_limit_bytes{${C}})`, legend: '{{container}}' }],
          min: 0,
        },
        {
          title: 'RSS and page cache',
          w: 8,
          unit: 'bytes',
          description: 'Anonymous memory (RSS) and page cache per container: RSS growth is a leak, cache is reclaimable.',
          queries: [
            { expr: `sum by (container) (silentwatch_container_memory_rss_bytes{${C}})`, legend: '{{container}} rss' },
            { expr: `sum by (container) (silentwatch_container_memory_cache_bytes{${C}})`, legend: '{{container}} cache' },
          ],
          min: 0,
        },
        {
          title: 'Memory pressure (all tasks stalled)',
          w: 8,
          unit: 'percentunit',
          description: `Share of time all tasks of the container were stalled waiting for memory (cgroup v2 memory.pressure "full"; no data on cgroup v1). Dashed line at ${pct(T.container_memory_pressure_ratio)}%: ContainerMemoryPressure fires when a limited container stays above it.`,
          queries: [{ expr: `max by (container) (rate(silentwatch_container_memory_pressure_stalled_seconds_total{${C}}[$__rate_interval]))`, legend: '{{container}}' }],
          min: 0,
          thresholds: [{ value: T.container_memory_pressure_ratio, color: 'red' }],
        },
        {
          title: 'Peak usage / limit',
          w: 8,
          unit: 'percentunit',
          description: 'Highest usage since the container (its cgroup) started, against its limit (v2 memory.peak, v1 memory.max_usage_in_bytes): how close the last peak came to an OOM kill.',
          queries: [{ expr: `max by (container) (silentwatch_container_memory_peak_bytes{${C}} / silentwatch_container_memory_limit_bytes{${C}})`, legend: '{{container}}' }],
          min: 0,
        },
        {
          title: 'Containers without a limit',
          kind: 'table',
          w: 8,
          unit: 'bytes',
          description: 'Containers running with no memory limit, with their current usage: one of them can push the whole host into OOM.',
          queries: [{ expr: `max by (container, compose_service) (silentwatch_container_memory_usage_bytes{${C}}) and on (container, compose_service) max by (container, compose_service) (silentwatch_container_memory_limited{${C}}) == 0`, instant: true }],
          noValue: 'every container has a limit',
        },
      ],
    },
    {
      title: 'OOM kills',
      panels: [
        {
          title: 'Kernel OOM kills',
          w: 12,
          unit: 'short',
          description: 'Processes killed by the kernel OOM killer inside each container cgroup per interval (cgroup memory.events oom_kill). A container can stay Running with OOMKilled=false while its worker is killed: this is the only place it shows.',
          queries: [{ expr: `sum by (container) (increase(silentwatch_container_oom_kills_total{${C}}[$__rate_interval]))`, legend: '{{container}}' }],
          min: 0,
          thresholds: [{ value: 1, color: 'red' }],
        },
        {
          title: 'Memory limit hits (OOM events)',
          w: 6,
          unit: 'short',
          description: 'Times each container cgroup hit its memory limit and the OOM killer was invoked, per interval (cgroup oom events).',
          queries: [{ expr: `sum by (container) (increase(silentwatch_container_oom_events_total{${C}}[$__rate_interval]))`, legend: '{{container}}' }],
          min: 0,
        },
        {
          title: 'Killed as a whole (OOM exits and pod kills)',
          w: 12,
          unit: 'short',
          description: "Containers whose main process was OOM-killed, so the container died and was restarted with a fresh cgroup (Docker: oom then die 137), and OOM kills counted by Kubernetes pod cgroups (which outlive the pod's containers), per interval.",
          queries: [
            { expr: `sum by (container) (increase(silentwatch_container_oom_exits_total{${C}}[$__rate_interval]))`, legend: '{{container}} exited' },
            { expr: `sum by (namespace, pod) (increase(silentwatch_pod_oom_kills_total{${I}}[$__rate_interval]))`, legend: 'pod {{namespace}}/{{pod}}' },
          ],
          min: 0,
          thresholds: [{ value: 1, color: 'red' }],
        },
        {
          title: 'Docker OOMKilled flag',
          kind: 'stat',
          w: 6,
          unit: 'short',
          description: "Docker's State.OOMKilled: YES only when the container's main process was killed. NO here with kernel OOM kills on the left is the silent case.",
          queries: [{ expr: `max by (container) (silentwatch_container_oom_killed{${C}})`, legend: '{{container}}' }],
          mapping: 'noyes',
          thresholds: [{ value: 1, color: 'red' }],
        },
      ],
    },
    {
      title: 'State, health and restarts',
      panels: [
        {
          title: 'State and health',
          kind: 'table',
          w: 12,
          unit: 'short',
          description: 'Current Docker state (running, exited, restarting, …) and health-check status of each container.',
          queries: [
            { expr: `max by (container, state) (silentwatch_container_state{${C}}) == 1`, instant: true },
            { expr: `max by (container, status) (silentwatch_container_health_status{${C}}) == 1`, instant: true },
          ],
        },
        {
          title: 'Restarts',
          w: 6,
          unit: 'short',
          description: 'Container restarts per interval (Docker RestartCount): a crash loop that a restart policy hides.',
          queries: [{ expr: `sum by (container) (increase(silentwatch_container_restarts_total{${C}}[$__rate_interval]))`, legend: '{{container}}' }],
          min: 0,
        },
        {
          title: 'Uptime',
          kind: 'bargauge',
          w: 6,
          unit: 's',
          description: 'Time since each container last started: a short uptime on a container that should be long-lived means it was restarted or recreated.',
          queries: [{ expr: `time() - max by (container) (silentwatch_container_started_time_seconds{${C}})`, legend: '{{container}}', instant: true }],
          min: 0,
        },
      ],
    },
  ],
};
