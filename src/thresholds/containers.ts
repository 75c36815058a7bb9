/** Thresholds of the alerts (and dashboards and doctor checks) about container memory and OOM kills. */
import { type ThresholdDef } from './schema.js';

export const CONTAINER_THRESHOLDS = {
  container_oom_window: { default: '10m', kind: 'duration', help: 'ContainerOOMKillInside / ContainerOOMKilledRestarted / HostOOMKill: fire while an OOM counter rose within this window.' },
  container_memory_near_limit_ratio: { default: 0.9, kind: 'number', help: 'ContainerMemoryNearLimit: working set / limit above this.' },
  container_memory_near_limit_for: { default: '10m', kind: 'duration', help: 'ContainerMemoryNearLimit: for how long.' },
  container_without_limit_for: { default: '1h', kind: 'duration', help: 'ContainerWithoutMemoryLimit: for how long a running container has had no limit.' },
  container_memory_pressure_ratio: {
    default: 0.1,
    kind: 'number',
    help: 'ContainerMemoryPressure: share of time (0–1) all tasks of a limited container were stalled on memory (PSI full) above this.',
  },
  container_memory_pressure_for: { default: '15m', kind: 'duration', help: 'ContainerMemoryPressure: for how long.' },
  container_unhealthy_for: { default: '5m', kind: 'duration', help: 'ContainerUnhealthy: for how long Docker reports `unhealthy`.' },
} as const satisfies Record<string, ThresholdDef>;
