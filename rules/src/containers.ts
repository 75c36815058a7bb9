/** Alert rules rendered into rules/containers.yml. */
import { type GroupDef, WHO, ON_INSTANCE } from './define.js';

/**
 * How far back a series counts as already known. A series the exporter served within this before the window (an
 * exporter restart, Docker briefly unreachable, a missed scrape) is not new; only one never seen is.
 */
const SEEN_WITHIN = '1h';

/**
 * A kernel OOM counter rose within the window w, whatever the series' age: increase() over the window, or, for a
 * series that first appeared within it, its first value when already above 0 (a process killed before its
 * container's first scrape: increase() ignores a series' first sample, so it would stay 0 forever). A series is
 * new when it has no sample in the SEEN_WITHIN before the window (matched on `key`, which stays the same when a
 * name changes), and only on an exporter that was already being scraped then: on a first deployment, kills
 * from before it are history, not news. A counter reset (the container's cgroup recreated) is what increase()
 * already handles. The value is the increase, or the new series' count.
 */
export function oomRose(series: string, key: string, w: string): string {
  const name = series.replace(/\{.*$/, '');
  const isNew = `${series} > 0 unless on(${ON_INSTANCE}, ${key}) present_over_time(${name}[${SEEN_WITHIN}] offset ${w})`;
  return `(increase(${series}[${w}]) > 0 or ((${isNew}) and on(${ON_INSTANCE}) present_over_time(silentwatch_build_info[${SEEN_WITHIN}] offset ${w})))`;
}

export const containersGroup: GroupDef = {
  file: 'containers',
  name: 'silentwatch.containers',
  alerts: [
    {
      alert: 'ContainerOOMKillInside',
      severity: 'warning',
      expr: (t) =>
        `${oomRose('silentwatch_container_oom_kills_total', 'id', t.container_oom_window)} unless on(${ON_INSTANCE}, id) ${oomRose('silentwatch_container_oom_exits_total', 'id', t.container_oom_window)}`,
      summary: 'A process inside container {{ $labels.container }} was OOM-killed; the container kept running.',
      description:
        `The kernel OOM-killed a process inside container ${WHO}{{ with $labels.pod }} (pod {{ $labels.namespace }}/{{ . }}){{ end }}{{ with $labels.image }} (image {{ . }}){{ end }} on {{ $labels.instance }} in the last %WINDOW% ({{ $value | humanize }} kill(s)), and the container kept running. ` +
        'Docker or Kubernetes may still show it running and healthy with OOMKilled=false and 0 restarts: the killed process was a child (e.g. a gunicorn worker), not the main process, and the work it was doing has stopped.',
      explain: "kernel oom_kill counter of a running container's cgroup rose (also when its first sample is already above 0)",
      thresholds: ['container_oom_window'],
    },
    {
      alert: 'ContainerOOMKilledRestarted',
      severity: 'warning',
      expr: (t) => {
        const w = t.container_oom_window;
        const docker = oomRose('silentwatch_container_oom_exits_total', 'id', w);
        const pod = `${oomRose('silentwatch_pod_oom_kills_total', 'pod_uid', w)} unless on(${ON_INSTANCE}, namespace, pod) ${oomRose('silentwatch_container_oom_kills_total{pod!=""}', 'id', w)}`;
        return `${docker} or (${pod})`;
      },
      summary: '{{ with $labels.container }}Container {{ . }}{{ else }}A container of pod {{ $labels.namespace }}/{{ $labels.pod }}{{ end }} was OOM-killed as a whole and restarted.',
      description:
        `The kernel OOM-killed the main process of ${WHO}{{ with $labels.container }}{{ with $labels.pod }} (pod {{ $labels.namespace }}/{{ . }}){{ end }}{{ end }} on {{ $labels.instance }} in the last %WINDOW% ({{ $value | humanize }} time(s)): the container died and was restarted (restart policy, or the kubelet) or left exited, with a fresh cgroup whose own OOM counter starts again at 0. ` +
        'Whatever it was doing when it died was lost; if it keeps happening it is a crash loop (kubectl describe pod: Last State OOMKilled; docker inspect: State.OOMKilled).',
      explain:
        'a container was OOM-killed as a whole: Docker reported `oom` then `die` (exit 137), or a Kubernetes pod cgroup counted a kill that no running container of the pod counted (the container was replaced)',
      thresholds: ['container_oom_window'],
    },
    {
      alert: 'ContainerMemoryNearLimit',
      severity: 'warning',
      expr: (t) => `silentwatch_container_memory_working_set_bytes / (silentwatch_container_memory_limit_bytes > 0) > ${t.container_memory_near_limit_ratio}`,
      for: 'container_memory_near_limit_for',
      summary: 'Container {{ $labels.container }} is at {{ $value | humanizePercentage }} of its memory limit.',
      description:
        `The working set of container ${WHO} on {{ $labels.instance }} is {{ $value | humanizePercentage }} of its memory limit. ` +
        'The next allocation peak (a model load, a large batch) will OOM-kill a process inside it.',
      explain: 'working set / memory limit, only for containers that have a limit',
      thresholds: ['container_memory_near_limit_ratio', 'container_memory_near_limit_for'],
    },
    {
      alert: 'ContainerWithoutMemoryLimit',
      severity: 'info',
      expr: () => `silentwatch_container_memory_limited == 0 and on(${ON_INSTANCE}, id) silentwatch_container_state{state="running"} == 1`,
      for: 'container_without_limit_for',
      summary: 'Container {{ $labels.container }} runs without a memory limit.',
      description:
        `Container ${WHO}{{ with $labels.image }} (image {{ . }}){{ end }} on {{ $labels.instance }} has no memory limit: when it grows, the host OOM killer picks a victim anywhere on the host, not inside this container.`,
      explain: 'a running container has no memory limit',
      thresholds: ['container_without_limit_for'],
    },
    {
      alert: 'ContainerMemoryPressure',
      severity: 'warning',
      expr: (t) =>
        `rate(silentwatch_container_memory_pressure_stalled_seconds_total[5m]) > ${t.container_memory_pressure_ratio} and on(${ON_INSTANCE}, id) silentwatch_container_memory_limited == 1`,
      for: 'container_memory_pressure_for',
      summary: 'Container {{ $labels.container }} is stalled on memory {{ $value | humanizePercentage }} of the time.',
      description:
        `All running processes of container ${WHO}{{ with $labels.pod }} (pod {{ $labels.namespace }}/{{ . }}){{ end }} on {{ $labels.instance }} have been stalled waiting for memory {{ $value | humanizePercentage }} of the time (memory.pressure "full"), for a while. ` +
        'It is reclaiming its own page cache at its limit: the work slows to a crawl before the OOM killer steps in, and nothing else reports it.',
      explain: 'share of time all tasks of a limited container were stalled on memory (cgroup v2 PSI `full`)',
      thresholds: ['container_memory_pressure_ratio', 'container_memory_pressure_for'],
    },
    {
      alert: 'ContainerUnhealthy',
      severity: 'warning',
      expr: () => 'silentwatch_container_health_status{status="unhealthy"} == 1',
      for: 'container_unhealthy_for',
      summary: 'Container {{ $labels.container }} is unhealthy.',
      description: `Docker's health check has reported container ${WHO}{{ with $labels.image }} (image {{ . }}){{ end }} on {{ $labels.instance }} unhealthy for a while; Docker does not restart unhealthy containers by itself.`,
      explain: 'Docker health status `unhealthy`',
      thresholds: ['container_unhealthy_for'],
    },
    {
      alert: 'HostOOMKill',
      severity: 'warning',
      expr: (t) => `increase(silentwatch_host_oom_kills_total[${t.container_oom_window}]) > 0`,
      summary: 'The kernel OOM killer ran on {{ $labels.instance }}.',
      description:
        `The kernel OOM-killed a process on {{ $labels.instance }} in the last %WINDOW% (any cgroup; counter increase ≈ {{ $value | humanize }}). ` +
        'If ContainerOOMKillInside or ContainerOOMKilledRestarted fires too, it names the container; otherwise the victim was outside the watched containers.',
      explain: 'host /proc/vmstat oom_kill increased',
      thresholds: ['container_oom_window'],
    },
  ],
};
