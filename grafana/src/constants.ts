import { ALL_ALERTS } from '../../rules/src/index.js';

/**
 * Thresholds shared by the dashboards and the alert rules (rules/). Keep them equal to the rule files:
 * a red line on a panel that does not match the alert that pages is worse than no line.
 */
export const THRESHOLDS = {
  /** GPU free VRAM ratio below which the GPU is considered starved (free / total). */
  gpuFreeRatio: 0.1,
  /** Container working set / memory limit ratio above which a container is "near its limit". */
  memoryNearLimitRatio: 0.9,
  /** Age in seconds of the oldest waiting job above which a queue is considered stalled. */
  queueOldestAgeSeconds: 900,
  /** llama-swap 5xx share of requests per model above which the model is considered failing. */
  llamaswap5xxRatio: 0.2,
} as const;

/**
 * Alert names of silentwatch's rules (every alert of rules/, not only the Silentwatch* self-monitoring ones), as a
 * PromQL regex on ALERTS{alertname}: taken from the rules' own definitions so the two cannot drift.
 */
export const ALERTNAME_REGEX = ALL_ALERTS.map((a) => a.alert).join('|');

/**
 * Values of silentwatch_queue_jobs{state} that count as "waiting for a worker" (waiting and prioritized; v5 moves
 * waiting jobs to paused while paused). The exporter's state is `waiting` (docs/metrics.md), not Redis' `wait` key.
 */
export const QUEUE_WAITING_STATES = 'waiting|prioritized|paused';

/** Window for the rates/ratios that mirror alert rules (the alert rules use the same). */
export const ALERT_WINDOW = '15m';

/** Stable dashboard UIDs: links, bookmarks and provisioning depend on them; never change them. */
export const UIDS = {
  overview: 'silentwatch-overview',
  containers: 'silentwatch-containers',
  queues: 'silentwatch-queues',
  gpus: 'silentwatch-gpus',
  llamaswap: 'silentwatch-llamaswap',
} as const;

export const TAGS = ['silentwatch'];
