/** Thresholds of the alerts (and dashboards and doctor checks) about Bull/BullMQ queues. */
import { type ThresholdDef } from './schema.js';

export const QUEUE_THRESHOLDS = {
  queue_stalled_oldest_age_seconds: { default: 900, kind: 'number', help: 'QueueStalled: oldest waiting job older than this (seconds) while nothing is active.' },
  queue_stalled_for: { default: '5m', kind: 'duration', help: 'QueueStalled: for how long.' },
  queue_no_workers_for: { default: '10m', kind: 'duration', help: 'QueueNoWorkers: jobs waiting and no worker connected for this long.' },
  queue_failed_increase: { default: 10, kind: 'number', help: 'QueueFailedJobsRising: failed jobs grew by more than this within queue_failed_window.' },
  queue_failed_window: { default: '30m', kind: 'duration', help: 'QueueFailedJobsRising: the window.' },
  queue_paused_for: { default: '1h', kind: 'duration', help: 'QueuePausedLong: paused for this long.' },
} as const satisfies Record<string, ThresholdDef>;
