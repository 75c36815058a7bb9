/** Thresholds of the alerts (and dashboards and doctor checks) about container memory and OOM kills. */
import { type ThresholdDef } from './schema.js';

export const CONTAINER_THRESHOLDS = {
  container_oom_window: { default: '10m', kind: 'duration', help: 'ContainerOOMKillInside / HostOOMKill: fire while the kernel counter increased within this window.' },
  container_memory_near_limit_ratio: { default: 0.9, kind: 'number', help: 'ContainerMemoryNearLimit: working set / limit above this.' },
  container_memory_near_limit_for: { default: '10m', kind: 'duration', help: 'ContainerMemoryNearLimit: for how long.' },
  container_without_limit_for: { default: '1h', kind: 'duration', help: 'ContainerWithoutMemoryLimit: for how long a running container has had no limit.' },
  container_unhealthy_for: { default: '5m', kind: 'duration', help: 'ContainerUnhealthy: for how long Docker reports `unhealthy`.' },
} as const satisfies Record<string, ThresholdDef>;
