/** Alert rules rendered into rules/containers.yml. */
import { type GroupDef, WHO, ON_INSTANCE } from './define.js';

export const containersGroup: GroupDef = {
  file: 'containers',
  name: 'silentwatch.containers',
  alerts: [
    {
      alert: 'ContainerOOMKillInside',
      severity: 'warning',
      expr: (t) => `increase(silentwatch_container_oom_kills_total[${t.container_oom_window}]) > 0`,
      summary: 'A process inside container {{ $labels.container }} was OOM-killed.',
      description:
        `The kernel OOM-killed a process inside container ${WHO}{{ with $labels.image }} (image {{ . }}){{ end }} on {{ $labels.instance }} in the last %WINDOW% (counter increase ≈ {{ $value | humanize }}). ` +
        'Docker may still show the container running and healthy with OOMKilled=false and 0 restarts: the killed process was a child (e.g. a gunicorn worker), not PID 1, and the work it was doing has stopped.',
      explain: 'kernel oom_kill counter of the container cgroup increased',
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
        'If ContainerOOMKillInside fires too, it names the container; otherwise the victim was outside the watched containers.',
      explain: 'host /proc/vmstat oom_kill increased',
      thresholds: ['container_oom_window'],
    },
  ],
};
