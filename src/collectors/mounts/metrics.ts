/** Metric definitions of the mounts collector (shared with doctor). */
import { defineMetric } from '../../metrics.js';

export const present = defineMetric({
  name: 'silentwatch_mount_present',
  type: 'gauge',
  help: 'Whether the configured path, after following symlinks, is a mount point of an expected filesystem type (1) or not mounted, of another type or not there at all (0).',
  labels: ['path'],
});

export const responsive = defineMetric({
  name: 'silentwatch_mount_responsive',
  type: 'gauge',
  help: 'Whether stat and readdir of the mount point completed within the probe time-out (1) or failed, hung or are still hung from an earlier probe (0). Only for paths where something is mounted.',
  labels: ['path'],
});

export const probeDuration = defineMetric({
  name: 'silentwatch_mount_probe_duration_seconds',
  type: 'gauge',
  help: 'How long stat and readdir of the mount point took, in seconds: the time-out when it hung, or how long a still-hung earlier probe has been running.',
  labels: ['path'],
});

export const info = defineMetric({
  name: 'silentwatch_mount_info',
  type: 'gauge',
  help: 'Where the configured path leads (=1): mount_point is the real path after symlinks; fstype the filesystem mounted there, empty when nothing is; mode hard or soft for NFS, empty otherwise.',
  labels: ['path', 'mount_point', 'fstype', 'mode'],
});
