/**
 * Bull and BullMQ queues in Redis: jobs per queue and state, the backlog, paused flag, age of the oldest
 * waiting and of the longest-active job, connected workers, and progress counters from BullMQ's event
 * stream, for every queue under every prefix (Immich's `immich_bull` with zero config), in one or several
 * Redis databases (told apart by the `redis` label).
 *
 * Files: options.ts (options, connections), discovery.ts (which keys are queues), pipeline.ts (one Redis:
 * the scrape's single round trip), events.ts (the event-stream reader), metrics.ts (metric definitions),
 * parse-*.ts and labels.ts (pure parsing).
 */
import { errorMessage, raceSignal } from '../../lib/async.js';
import type { SampleSink } from '../../metrics.js';
import { defineCollector, type CollectorContext } from '../types.js';
import { QUEUE_METRICS } from './metrics.js';
import { clientOptions, newRedis, options, targetUrls, tcpReachable, where, type Options } from './options.js';
import { compilePatterns } from './parse-keys.js';
import { RedisTarget } from './pipeline.js';

export { clientOptions, tcpReachable } from './options.js';

class QueuesCollector {
  readonly targets: RedisTarget[];

  constructor(ctx: CollectorContext<Options>) {
    const filter = { prefixes: ctx.options.prefixes, include: compilePatterns(ctx.options.queues_include), exclude: compilePatterns(ctx.options.queues_exclude) };
    this.targets = targetUrls(ctx.options).map((url) => new RedisTarget(url, ctx.options, filter, ctx.timeoutSeconds, ctx.log));
  }

  /** Every Redis in parallel; one that fails leaves the others served (success 0 with its reason), all failing is a failure. */
  async collect(sink: SampleSink, signal: AbortSignal): Promise<void> {
    if (this.targets.length === 1) return (this.targets[0] as RedisTarget).collect(sink, signal);
    const settled = await Promise.allSettled(this.targets.map((t) => t.collect(sink, signal)));
    const failed = settled.flatMap((s) => (s.status === 'rejected' ? [errorMessage(s.reason)] : []));
    if (failed.length === this.targets.length) throw new Error(failed.join('; '));
    if (failed.length > 0) sink.degraded(failed.join('; '));
  }

  describe(): Record<string, string> {
    if (this.targets.length === 1) return (this.targets[0] as RedisTarget).describe();
    const out: Record<string, string> = {};
    for (const t of this.targets) for (const [k, v] of Object.entries(t.describe())) out[`${t.label} ${k}`] = v;
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.close()));
  }
}

export const queuesCollector = defineCollector({
  name: 'queues',
  description: 'Bull/BullMQ queues in Redis (Immich first): jobs per state, backlog, oldest waiting and active job ages, workers, progress counters from the event stream.',
  defaultEnabled: 'auto',
  options,
  metrics: QUEUE_METRICS,
  async detect(ctx) {
    const url = ctx.options.redis_url;
    const target = clientOptions(url, ctx.options, Math.min(ctx.timeoutSeconds, 2));
    if (target.host !== undefined && target.port !== undefined) {
      // Nothing listening (the zero-config case on most hosts): say so without loading a Redis client.
      const tcp = await tcpReachable(target.host, target.port, 1500);
      if (!tcp.ok) return { present: false, reason: `no Redis at ${where(url, ctx.options)}: ${tcp.why}` };
    }
    const c = newRedis(
      clientOptions(url, ctx.options, Math.min(ctx.timeoutSeconds, 2), { enableOfflineQueue: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectionName: 'silentwatch-detect' }),
    );
    c.on('error', () => undefined);
    try {
      const pong = await raceSignal(c.ping(), AbortSignal.timeout(1500));
      return { present: pong === 'PONG', reason: `Redis answers at ${where(url, ctx.options)}` };
    } catch (e) {
      const msg = errorMessage(e);
      // A Redis that refuses our credentials is still a Redis: turn on and report the failure on every scrape.
      if (/NOAUTH|WRONGPASS|NOPERM|invalid password/i.test(msg)) return { present: true, reason: `Redis at ${where(url, ctx.options)} refuses our credentials: ${msg}` };
      return { present: false, reason: `no Redis at ${where(url, ctx.options)}: ${msg}` };
    } finally {
      c.disconnect();
    }
  },
  create(ctx) {
    const q = new QueuesCollector(ctx);
    return {
      collect: (sink, run) => q.collect(sink, run.signal),
      describe: () => q.describe(),
      close: () => q.close(),
    };
  },
});
