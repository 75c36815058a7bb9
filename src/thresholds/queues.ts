/** Thresholds of the alerts (and dashboards and doctor checks) about Bull/BullMQ queues. */
import { type ThresholdDef } from './schema.js';

export const QUEUE_THRESHOLDS = {
  queue_no_progress_window: { default: '15m', kind: 'duration', help: 'QueueNotProgressing: no job completed or failed within this window while jobs wait.' },
  queue_no_progress_for: { default: '5m', kind: 'duration', help: 'QueueNotProgressing: for how long.' },
  queue_active_job_max_age_seconds: {
    default: 1800,
    kind: 'number',
    help: 'QueueActiveJobStuck: a job active for longer than this (seconds). Raise it when a queue legitimately runs longer jobs (long video transcodes).',
  },
  queue_active_job_for: { default: '1m', kind: 'duration', help: 'QueueActiveJobStuck: for how long.' },
  queue_stalled_oldest_age_seconds: { default: 900, kind: 'number', help: 'QueueStalled: oldest waiting job older than this (seconds) while nothing is active.' },
  queue_stalled_for: { default: '5m', kind: 'duration', help: 'QueueStalled: for how long.' },
  queue_no_workers_for: { default: '2m', kind: 'duration', help: 'QueueNoWorkers: jobs waiting or active and no worker connected for this long.' },
  queue_failed_increase: { default: 10, kind: 'number', help: 'QueueFailedJobsRising: more than this many jobs failed within queue_failed_window.' },
  queue_failed_window: { default: '30m', kind: 'duration', help: 'QueueFailedJobsRising: the window.' },
  queue_paused_for: { default: '1h', kind: 'duration', help: 'QueuePausedLong: paused for this long.' },
} as const satisfies Record<string, ThresholdDef>;
