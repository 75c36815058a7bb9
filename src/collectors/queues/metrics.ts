/** The metric families of the queues collector (one definition each, used by the collector, rules, doctor and docs). */
import { defineMetric } from '../../metrics.js';
import { COUNTED_EVENTS } from './events.js';

/** Every queue series carries `redis` (which Redis/database, see the `redis_urls` option), `prefix` and `queue`. */
export const QUEUE_LABELS = ['redis', 'prefix', 'queue'] as const;

export const queueJobs = defineMetric({
  name: 'silentwatch_queue_jobs',
  type: 'gauge',
  help: "Jobs in a Bull/BullMQ queue per state, as the library's own getJobCounts() counts them (waiting, active, delayed, prioritized, waiting-children, paused, completed, failed; Bull has no prioritized/waiting-children).",
  labels: [...QUEUE_LABELS, 'state'],
});
export const queueBacklog = defineMetric({
  name: 'silentwatch_queue_backlog_jobs',
  type: 'gauge',
  help: 'Jobs ready to run that no worker has taken yet: waiting + paused + prioritized + delayed jobs whose time has come. Jobs still delayed into the future and parents waiting for their children are not counted.',
  labels: QUEUE_LABELS,
});
export const queuePaused = defineMetric({
  name: 'silentwatch_queue_paused',
  type: 'gauge',
  help: 'Whether the queue is paused globally (1) or not (0).',
  labels: QUEUE_LABELS,
});
export const queueOldest = defineMetric({
  name: 'silentwatch_queue_oldest_waiting_job_age_seconds',
  type: 'gauge',
  help: 'Age of the oldest job waiting to run, from its enqueue timestamp, in seconds: the next job of the wait list, of the paused list and of the prioritized set (the next one by priority). Absent when nothing waits.',
  labels: QUEUE_LABELS,
});
export const queueOldestActive = defineMetric({
  name: 'silentwatch_queue_oldest_active_job_age_seconds',
  type: 'gauge',
  help: "How long the longest-running active job has been running, from its processedOn timestamp, in seconds. Absent when no job is active. Grows without bound when a processor never returns or its worker died holding it.",
  labels: QUEUE_LABELS,
});
export const queueWorkers = defineMetric({
  name: 'silentwatch_queue_workers',
  type: 'gauge',
  help: "Worker connections of the queue in Redis CLIENT LIST (named <prefix>:<base64(queue)>, as the library's getWorkers() counts them).",
  labels: QUEUE_LABELS,
});
export const queueEvents = defineMetric({
  name: 'silentwatch_queue_events_total',
  type: 'counter',
  help: `Job events BullMQ wrote to the queue's event stream since the exporter started, per event (${COUNTED_EVENTS.join(', ')}). Counts work done even with removeOnComplete. BullMQ only; Bull 3/4 keeps no event stream.`,
  labels: [...QUEUE_LABELS, 'event'],
});
export const queueEventsLost = defineMetric({
  name: 'silentwatch_queue_events_lost_total',
  type: 'counter',
  help: "Events of the queue's event stream that were trimmed away before the exporter read them (the stream is capped; scrape more often or raise the queue's streams.events.maxLen).",
  labels: QUEUE_LABELS,
});
export const queueInfo = defineMetric({
  name: 'silentwatch_queue_info',
  type: 'gauge',
  help: "A discovered queue (=1): library bull or bullmq, the library version BullMQ records in the queue's meta key ('' when unknown), and the queue's name as stored in Redis when the queue label had to be changed to stay distinct.",
  labels: [...QUEUE_LABELS, 'library', 'version', 'name'],
});
export const queuesDiscovered = defineMetric({
  name: 'silentwatch_queue_discovered_queues',
  type: 'gauge',
  help: 'Queues found by discovery in this Redis (after the prefixes and include/exclude options, before the max_queues cap).',
  labels: ['redis'],
});
export const queuesCapped = defineMetric({
  name: 'silentwatch_queue_discovery_capped',
  type: 'gauge',
  help: 'Whether discovery found more queues than max_queues (1: the extra ones are not watched; raise max_queues or narrow prefixes/queues_include).',
  labels: ['redis'],
});

export const QUEUE_METRICS = [queueJobs, queueBacklog, queuePaused, queueOldest, queueOldestActive, queueWorkers, queueEvents, queueEventsLost, queueInfo, queuesDiscovered, queuesCapped];
