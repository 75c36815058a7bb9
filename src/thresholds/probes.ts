/** Thresholds of the alerts (and dashboards and doctor checks) about HTTP probes and mounts. */
import { type ThresholdDef } from './schema.js';

export const PROBE_THRESHOLDS = {
  probe_backend_down_for: { default: '5m', kind: 'duration', help: 'MlBackendDown: one target of a group failing for this long.' },
  probe_all_down_for: { default: '2m', kind: 'duration', help: 'MlBackendsAllDown and MlBalancerDown: every target of a group, or its balancer, failing for this long.' },
  mount_missing_for: { default: '2m', kind: 'duration', help: 'MountMissing: for how long.' },
  mount_unresponsive_for: { default: '2m', kind: 'duration', help: 'MountUnresponsive: for how long.' },
} as const satisfies Record<string, ThresholdDef>;
