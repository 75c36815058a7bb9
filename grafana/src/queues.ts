/** Queues drill-down: Bull/BullMQ backlog per state, oldest waiting job, workers, paused flag. */
import { ALERT_WINDOW, QUEUE_WAITING_STATES, THRESHOLDS as T, UIDS } from './constants.js';
import { I, INSTANCE_VARIABLE, type DashboardSpec } from './common.js';

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
      title: 'Backlog',
      panels: [
        {
          title: 'Oldest waiting job age',
          w: 12,
          unit: 's',
          description: `Age of the oldest job waiting in each queue. Above ${T.queueOldestAgeSeconds} s (dashed line, the alert threshold) nothing is consuming the queue; no series means nothing waits.`,
          queries: [{ expr: `max by (prefix, queue) (silentwatch_queue_oldest_waiting_job_age_seconds{${Q}})`, legend: '{{prefix}}:{{queue}}' }],
          min: 0,
          thresholds: [{ value: T.queueOldestAgeSeconds, color: 'red' }],
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
