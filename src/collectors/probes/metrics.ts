/** Metric definitions of the probes collector (shared with doctor). */
import { defineMetric } from '../../metrics.js';

export const success = defineMetric({
  name: 'silentwatch_probe_success',
  type: 'gauge',
  help: 'Whether the HTTP probe got the expected status and body within its time-out (1) or not (0).',
  labels: ['group', 'target', 'role'],
});

export const probeDuration = defineMetric({
  name: 'silentwatch_probe_duration_seconds',
  type: 'gauge',
  help: 'How long the HTTP probe took until its answer, its failure or its time-out, in seconds.',
  labels: ['group', 'target', 'role'],
});

export const statusCode = defineMetric({
  name: 'silentwatch_probe_http_status_code',
  type: 'gauge',
  help: 'HTTP status code that arrived in the answer, even when its body then stalled, broke off or was wrong; 0 when no status line arrived (refused, reset, DNS failure, time-out before the headers).',
  labels: ['group', 'target', 'role'],
});
