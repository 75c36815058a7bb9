/** Queues drill-down: Bull/BullMQ backlog per state, oldest waiting job, workers, paused flag. */
import { ALERT_WINDOW, QUEUE_WAITING_STATES, T, UIDS } from './constants.js';
import { I, INSTANCE_VARIABLE, type DashboardSpec } from './common.js';
import { queueBacklog, queueEvents, queueEventsLost, queueOldestActive } from '../../src/collectors/queues/metrics.js';
import { QUEUE_THRESHOLDS } from '../../src/thresholds/queues.js';

const ACTIVE_MAX_AGE = QUEUE_THRESHOLDS.queue_active_job_max_age_seconds.default;

const Q = `${I}, queue=~"$queue"`;

export const queues: DashboardSpec = {
  uid: UIDS.queues,
  title: 'silentwatch / Queues',
  description: 'Bull/BullMQ queues in Redis (Immich: prefix immich_bull): backlog per state, age of the oldest waiting job, workers connected, paused queues.',
  variables: [
    INSTANCE_VARIABLE,
    {
      name: 'queue',
      label: 'Queue',
      description: 'Queue name(s) (without the Redis key prefix).',
      query: 'label_values(silentwatch_queue_jobs{instance=~"$instance"}, queue)',
    },
  ],
  rows: [
    {
      title: 'Progress',
      panels: [
        {
          title: 'Throughput (jobs finished per minute)',
          w: 12,
          unit: 'short',
          description:
            "Jobs completed and failed per minute, counted from BullMQ's event stream (works with removeOnComplete). Flat at 0 while the backlog is above 0: work has stopped (QueueNotProgressing). Bull 3/4 keeps no event stream: no series for its queues.",
          queries: [{ expr: `sum by (prefix, queue, event) (rate(${queueEvents.name}{${Q}, event=~"completed|failed"}[5m])) * 60`, legend: '{{prefix}}:{{queue}} {{event}}' }],
          min: 0,
        },
        {
          title: 'Oldest active job',
          w: 12,
          unit: 's',
          description: `How long the longest-running active job has been running. Above ${ACTIVE_MAX_AGE} s (dashed line, the QueueActiveJobStuck threshold) its processor probably never returns, or its worker died holding it.`,
          queries: [{ expr: `max by (prefix, queue) (${queueOldestActive.name}{${Q}})`, legend: '{{prefix}}:{{queue}}' }],
          min: 0,
          thresholds: [{ value: ACTIVE_MAX_AGE, color: 'red' }],
        },
        {
          title: 'Backlog (ready to run)',
          w: 12,
          unit: 'short',
          description: 'Jobs ready to run that no worker has taken: waiting + paused + prioritized + delayed jobs whose time has come.',
          queries: [{ expr: `sum by (prefix, queue) (${queueBacklog.name}{${Q}})`, legend: '{{prefix}}:{{queue}}' }],
          min: 0,
        },
        {
          title: 'Events lost to trimming',
          w: 12,
          unit: 'short',
          description: "Events BullMQ trimmed from a queue's stream before silentwatch read them, over the last hour. Above 0: throughput reads low; scrape more often or raise the queue's streams.events.maxLen.",
          queries: [{ expr: `sum by (prefix, queue) (increase(${queueEventsLost.name}{${Q}}[1h]))`, legend: '{{prefix}}:{{queue}}' }],
          min: 0,
        },
      ],
    },
    {
      title: 'Backlog',
      panels: [
        {
          title: 'Oldest waiting job age',
          w: 12,
          unit: 's',
          description: `Age of the oldest job waiting in each queue. Above ${T.queue_stalled_oldest_age_seconds} s (dashed line, the alert threshold) nothing is consuming the queue; no series means nothing waits.`,
          queries: [{ expr: `max by (prefix, queue) (silentwatch_queue_oldest_waiting_job_age_seconds{${Q}})`, legend: '{{prefix}}:{{queue}}' }],
          min: 0,
          thresholds: [{ value: T.queue_stalled_oldest_age_seconds, color: 'red' }],
        },
        {
          title: 'Waiting jobs',
          w: 12,
          unit: 'short',
          description: `Jobs waiting for a worker (states ${QUEUE_WAITING_STATES}) per queue.`,
          queries: [{ expr: `sum by (prefix, queue) (silentwatch_queue_jobs{${Q}, state=~"${QUEUE_WAITING_STATES}"})`, legend: '{{prefix}}:{{queue}}' }],
          min: 0,
        },
        {
          title: 'Jobs by state',
          w: 12,
          unit: 'short',
          description: 'Jobs per queue and state (wait, active, delayed, prioritized, failed, completed, …). Active stuck at 0 with waiting jobs means no worker is processing.',
          queries: [{ expr: `sum by (queue, state) (silentwatch_queue_jobs{${Q}})`, legend: '{{queue}} {{state}}' }],
          min: 0,
        },
        {
          title: 'Backlog growth',
          w: 12,
          unit: 'short',
          description: `Change of the waiting backlog over the last ${ALERT_WINDOW}: positive for a long time means the queue fills faster than it drains.`,
          queries: [{ expr: `sum by (prefix, queue) (delta(silentwatch_queue_jobs{${Q}, state=~"${QUEUE_WAITING_STATES}"}[${ALERT_WINDOW}]))`, legend: '{{prefix}}:{{queue}}' }],
        },
      ],
    },
    {
      title: 'Consumers',
      panels: [
        {
          title: 'Workers connected',
          w: 12,
          unit: 'short',
          description: 'Worker connections per queue (Redis CLIENT LIST names). 0 with waiting jobs: the consumer container is up but its worker is gone.',
          queries: [{ expr: `sum by (prefix, queue) (silentwatch_queue_workers{${Q}})`, legend: '{{prefix}}:{{queue}}' }],
          min: 0,
          thresholds: [{ value: 0, color: 'red' }, { value: 1, color: 'green' }],
        },
        {
          title: 'Failed jobs',
          w: 6,
          unit: 'short',
          description: 'Jobs in the failed set per queue; a rise means jobs are being processed but failing.',
          queries: [{ expr: `sum by (prefix, queue) (silentwatch_queue_jobs{${Q}, state="failed"})`, legend: '{{prefix}}:{{queue}}' }],
          min: 0,
        },
        {
          title: 'Paused queues',
          kind: 'stat',
          w: 6,
          unit: 'short',
          description: 'Whether each queue is paused (YES): a paused queue accepts jobs but never runs them.',
          queries: [{ expr: `max by (prefix, queue) (silentwatch_queue_paused{${Q}})`, legend: '{{queue}}' }],
          mapping: 'noyes',
          thresholds: [{ value: 1, color: 'red' }],
        },
      ],
    },
  ],
};
