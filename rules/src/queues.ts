/** Alert rules rendered into rules/queues.yml. */
import { queueBacklog, queueEvents, queueJobs, queueOldest, queueOldestActive, queuePaused, queueWorkers } from '../../src/collectors/queues/metrics.js';
import { type GroupDef, ON_INSTANCE } from './define.js';

/** One queue: the exporter, the Redis database, the prefix and the name. */
const QQ = `${ON_INSTANCE}, redis, prefix, queue`;
const notPaused = `unless on(${QQ}) ${queuePaused.name} == 1`;

export const queuesGroup: GroupDef = {
  file: 'queues',
  name: 'silentwatch.queues',
  alerts: [
    {
      alert: 'QueueNotProgressing',
      severity: 'critical',
      expr: (t) =>
        `${queueBacklog.name} > 0\n` +
        `and on(${QQ}) sum by(${QQ}) (increase(${queueEvents.name}{event=~"completed|failed"}[${t.queue_no_progress_window}])) == 0\n` +
        notPaused,
      for: 'queue_no_progress_for',
      summary: 'Queue {{ $labels.queue }} has stopped doing work: jobs wait, none finishes.',
      description:
        '{{ $value | humanize }} jobs wait in queue {{ $labels.prefix }}:{{ $labels.queue }} ({{ $labels.redis }}) on {{ $labels.instance }} and not one job completed or failed in the last %WINDOW%. ' +
        'Whatever the cause (a hung processor, a dead worker, a lost Redis connection), work has stopped although every container may look healthy.',
      explain: 'backlog > 0 and no job completed or failed (BullMQ event stream) within the window, not paused',
      thresholds: ['queue_no_progress_window', 'queue_no_progress_for'],
    },
    {
      alert: 'QueueActiveJobStuck',
      severity: 'warning',
      expr: (t) => `${queueOldestActive.name} > ${t.queue_active_job_max_age_seconds}`,
      for: 'queue_active_job_for',
      summary: 'A job of queue {{ $labels.queue }} has been running for {{ $value | humanizeDuration }}.',
      description:
        'The longest-running active job of queue {{ $labels.prefix }}:{{ $labels.queue }} ({{ $labels.redis }}) on {{ $labels.instance }} started {{ $value | humanizeDuration }} ago. ' +
        'Its processor probably never returns (a hung call to the ML backend), or its worker died holding it.',
      explain: 'a job active for longer than the threshold (from its processedOn)',
      thresholds: ['queue_active_job_max_age_seconds', 'queue_active_job_for'],
    },
    {
      alert: 'QueueNoWorkers',
      severity: 'critical',
      expr: () =>
        `(${queueBacklog.name} + on(${QQ}) ${queueJobs.name}{state="active"}) > 0\n` + `and on(${QQ}) ${queueWorkers.name} == 0\n` + notPaused,
      for: 'queue_no_workers_for',
      summary: 'Queue {{ $labels.queue }} has jobs and no worker.',
      description:
        '{{ $value | humanize }} jobs wait in queue {{ $labels.prefix }}:{{ $labels.queue }} ({{ $labels.redis }}) on {{ $labels.instance }} and no worker is connected to it (jobs left active by a worker that died count too).',
      explain: 'jobs waiting or active and no worker connected, not paused',
      thresholds: ['queue_no_workers_for'],
    },
    {
      alert: 'QueueStalled',
      severity: 'warning',
      expr: (t) =>
        `${queueOldest.name} > ${t.queue_stalled_oldest_age_seconds}\n` +
        `and on(${QQ}) ${queueBacklog.name} > 0\n` +
        `and on(${QQ}) ${queueJobs.name}{state="active"} == 0\n` +
        notPaused,
      for: 'queue_stalled_for',
      summary: 'Queue {{ $labels.queue }} is stalled: jobs wait, none is processed.',
      description:
        'Queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} has jobs waiting, no active job, and its oldest waiting job has waited {{ $value | humanizeDuration }}. ' +
        'The workers (e.g. immich-server/microservices calling the ML backend) are not taking work although every container may look healthy.',
      explain: 'jobs waiting, none active, oldest waiting job older than the threshold, not paused (works for Bull 3/4 too, which has no event stream)',
      thresholds: ['queue_stalled_oldest_age_seconds', 'queue_stalled_for'],
    },
    {
      alert: 'QueueFailedJobsRising',
      severity: 'warning',
      expr: (t) =>
        `sum by(${QQ}) (increase(${queueEvents.name}{event="failed"}[${t.queue_failed_window}])) > ${t.queue_failed_increase}\n` +
        `or (max without(state) (delta(${queueJobs.name}{state="failed"}[${t.queue_failed_window}])) > ${t.queue_failed_increase}\n` +
        `  unless on(${QQ}) ${queueEvents.name})`,
      summary: 'Failed jobs are piling up in queue {{ $labels.queue }}.',
      description: `About {{ $value | humanize }} jobs of queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} failed in the last %WINDOW%.`,
      explain: 'more than N jobs failed within the window (event stream; the failed set for Bull)',
      thresholds: ['queue_failed_increase', 'queue_failed_window'],
    },
    {
      alert: 'QueuePausedLong',
      severity: 'warning',
      expr: () => `${queuePaused.name} == 1`,
      for: 'queue_paused_for',
      summary: 'Queue {{ $labels.queue }} has been paused for a long time.',
      description: 'Queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} has been paused for a long time: no job in it will run until it is resumed.',
      explain: 'queue paused',
      thresholds: ['queue_paused_for'],
    },
  ],
};
