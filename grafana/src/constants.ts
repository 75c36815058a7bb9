import { ALL_ALERTS } from '../../rules/src/index.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../src/thresholds/index.js';

/**
 * The thresholds the dashboards draw, the very values the alert rules render (src/thresholds/): a red line on a
 * panel that does not match the alert that pages is worse than no line. test/golden/agreement.test.ts reads the
 * generated dashboards and rules and proves they agree.
 */
export const T: Thresholds = DEFAULT_THRESHOLDS;

/** A ratio threshold as the percentage the panel descriptions print (0.2 → "20"). */
export const pct = (ratio: number): string => String(Math.round(ratio * 1000) / 10);

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

/** Window of the rates on panels that have no alert of their own (an alert's panel uses that alert's window threshold). */
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
