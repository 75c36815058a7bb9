/** doctor checks about queues. */
import { type Check, RUNBOOK, values, valueFor } from '../check-helpers.js';

/** Queues with work waiting and nobody to do it: the dead-ML-worker case. */
export const stuckQueues: Check = (input, out) => {
  const waiting = values(input.samples, 'silentwatch_queue_jobs').filter((v) => v.labels.state === 'waiting' || v.labels.state === 'wait');
  if (waiting.length === 0 && values(input.samples, 'silentwatch_queue_workers').length === 0) return out.skip('no queue data (queues collector inactive: no Redis found)');
  for (const w of waiting.filter((x) => x.value > 0)) {
    const q = { prefix: w.labels.prefix ?? '', queue: w.labels.queue ?? '' };
    const workers = valueFor(input.samples, 'silentwatch_queue_workers', q);
    const active = valueFor(input.samples, 'silentwatch_queue_jobs', { ...q, state: 'active' }) ?? 0;
    const age = valueFor(input.samples, 'silentwatch_queue_oldest_waiting_job_age_seconds', q);
    if (workers === 0 || (active === 0 && (age ?? 0) > 900)) {
      out.add({
        check: 'stuck-queue',
        severity: workers === 0 ? 'critical' : 'warning',
        title: `queue ${q.prefix}:${q.queue} has ${w.value} waiting job(s) and ${workers === 0 ? 'no worker connected' : 'nothing active'}`,
        evidence: [`waiting ${w.value}, active ${active}, workers ${workers ?? 'unknown'}`, ...(age !== undefined ? [`oldest waiting job ${Math.round(age)} s old`] : [])],
        fix: 'Check the worker (Immich: immich_machine_learning / immich_server logs for SIGKILL or fetch failed); restart it; confirm with `redis-cli LLEN ' + `${q.prefix}:${q.queue}:wait\` (Immich's prefix is immich_bull, not bull).`,
        runbook: `${RUNBOOK}${workers === 0 ? 'QueueNoWorkers' : 'QueueStalled'}.md`,
      });
    }
  }
};
