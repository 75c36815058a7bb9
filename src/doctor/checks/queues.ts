/** doctor checks about queues: the same cases the queue alerts page on, from one look at the metrics. */
import { queueBacklog, queueJobs, queueOldest, queueOldestActive, queuePaused, queueWorkers } from '../../collectors/queues/metrics.js';
import { type Check, RUNBOOK, thresholdsOf, values, valueFor } from '../check-helpers.js';

/**
 * Queues whose work stopped: jobs and no worker (a dead or killed worker), a job active for too long (a
 * processor that never returns), or jobs waiting with nothing active. A paused queue is left alone.
 * Progress counters need two looks in time, so "nothing completes" is left to the QueueNotProgressing alert.
 */
export const stuckQueues: Check = (input, out) => {
  const queues = values(input.samples, queueJobs).filter((v) => v.labels.state === 'active');
  if (queues.length === 0 && values(input.samples, queueWorkers).length === 0) return out.skip('no queue data (queues collector inactive: no Redis found)');
  const { queue_active_job_max_age_seconds: activeMaxAge, queue_stalled_oldest_age_seconds: stalledAge } = thresholdsOf(input);
  for (const a of queues) {
    const q = { prefix: a.labels.prefix ?? '', queue: a.labels.queue ?? '', ...(a.labels.redis !== undefined ? { redis: a.labels.redis } : {}) };
    if (valueFor(input.samples, queuePaused, q) === 1) continue;
    const state = (s: string): number => valueFor(input.samples, queueJobs, { ...q, state: s }) ?? 0;
    const backlog = valueFor(input.samples, queueBacklog, q) ?? state('waiting') + state('paused') + state('prioritized');
    const active = a.value;
    const workers = valueFor(input.samples, queueWorkers, q);
    const age = valueFor(input.samples, queueOldest, q);
    const activeAge = valueFor(input.samples, queueOldestActive, q);
    const name = `${q.prefix}:${q.queue}${q.redis ? ` (${q.redis})` : ''}`;
    const confirm = `redis-cli LLEN ${q.prefix}:${q.queue}:wait, ZCARD ${q.prefix}:${q.queue}:prioritized, LINDEX ${q.prefix}:${q.queue}:active -1 (Immich's prefix is immich_bull, not bull)`;
    const evidence = [`backlog ${backlog}, active ${active}, workers ${workers ?? 'unknown'}`, ...(age !== undefined ? [`oldest waiting job ${Math.round(age)} s old`] : []), ...(activeAge !== undefined ? [`job active for ${Math.round(activeAge)} s`] : [])];
    if (workers === 0 && backlog + active > 0) {
      out.add({
        check: 'stuck-queue',
        severity: 'critical',
        title: `queue ${name} has ${backlog + active} job(s) and no worker connected`,
        evidence,
        fix: `Check the worker (Immich: immich_server / immich_microservices logs for SIGKILL or fetch failed); restart it; confirm with \`${confirm}\`.`,
        runbook: `${RUNBOOK}QueueNoWorkers.md`,
      });
    } else if (activeAge !== undefined && activeAge > activeMaxAge) {
      out.add({
        check: 'stuck-queue',
        severity: 'warning',
        title: `a job of queue ${name} has been active for ${Math.round(activeAge / 60)} min: its processor probably never returns`,
        evidence,
        fix: `Restart the worker holding it and look for a hung call to the ML backend; confirm with \`${confirm}\` and HGET of the job's processedOn.`,
        runbook: `${RUNBOOK}QueueActiveJobStuck.md`,
      });
    } else if (backlog > 0 && active === 0 && (age ?? 0) > stalledAge) {
      out.add({
        check: 'stuck-queue',
        severity: 'warning',
        title: `queue ${name} has ${backlog} waiting job(s) and nothing active`,
        evidence,
        fix: `Check the worker (Immich: immich_server / immich_microservices logs); restart it; confirm with \`${confirm}\`.`,
        runbook: `${RUNBOOK}QueueStalled.md`,
      });
    }
  }
};
