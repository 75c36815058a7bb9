/** Alert rules rendered into rules/queues.yml. */
import { type GroupDef, Q } from './define.js';

export const queuesGroup: GroupDef = {
  file: 'queues',
  name: 'silentwatch.queues',
  alerts: [
    {
      alert: 'QueueStalled',
      severity: 'warning',
      expr: (t) =>
        `silentwatch_queue_oldest_waiting_job_age_seconds > ${t.queue_stalled_oldest_age_seconds}\n` +
        `and on(${Q}) silentwatch_queue_jobs{state="waiting"} > 0\n` +
        `and on(${Q}) silentwatch_queue_jobs{state="active"} == 0\n` +
        `unless on(${Q}) silentwatch_queue_paused == 1`,
      for: 'queue_stalled_for',
      summary: 'Queue {{ $labels.queue }} is stalled: jobs wait, none is processed.',
      description:
        'Queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} has jobs waiting, no active job, and its oldest waiting job has waited {{ $value | humanizeDuration }}. ' +
        'The workers (e.g. immich-server/microservices calling the ML backend) are not taking work although every container may look healthy.',
      explain: 'waiting > 0, active == 0, oldest waiting job older than the threshold, not paused',
      thresholds: ['queue_stalled_oldest_age_seconds', 'queue_stalled_for'],
    },
    {
      alert: 'QueueNoWorkers',
      severity: 'warning',
      expr: () =>
        `silentwatch_queue_jobs{state="waiting"} > 0\nand on(${Q}) silentwatch_queue_workers == 0\nunless on(${Q}) silentwatch_queue_paused == 1`,
      for: 'queue_no_workers_for',
      summary: 'Queue {{ $labels.queue }} has waiting jobs and no worker.',
      description: '{{ $value | humanize }} jobs wait in queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} and no worker is connected to it.',
      explain: 'waiting > 0 and workers == 0, not paused',
      thresholds: ['queue_no_workers_for'],
    },
    {
      alert: 'QueueFailedJobsRising',
      severity: 'warning',
      expr: (t) => `delta(silentwatch_queue_jobs{state="failed"}[${t.queue_failed_window}]) > ${t.queue_failed_increase}`,
      summary: 'Failed jobs are piling up in queue {{ $labels.queue }}.',
      description: `The failed set of queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} grew by about {{ $value | humanize }} jobs in the last %WINDOW%.`,
      explain: 'failed jobs grew by more than N within the window',
      thresholds: ['queue_failed_increase', 'queue_failed_window'],
    },
    {
      alert: 'QueuePausedLong',
      severity: 'warning',
      expr: () => 'silentwatch_queue_paused == 1',
      for: 'queue_paused_for',
      summary: 'Queue {{ $labels.queue }} has been paused for a long time.',
      description: 'Queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} has been paused for a long time: no job in it will run until it is resumed.',
      explain: 'queue paused',
      thresholds: ['queue_paused_for'],
    },
  ],
};
