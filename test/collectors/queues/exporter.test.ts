/**
 * The real exporter process (dist/cli.js) with the queues collector against a real redis-server:
 * Immich's layout found with zero queue configuration, Redis killed and restarted under a running
 * exporter, a wrong password reported without leaking it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
import { waitFor } from '../../helpers/daemon.js';
import { startRedis, type RunningRedis } from '../../helpers/redis.js';
import { bullmqQueues, connectionOf, IMMICH_PREFIX, IMMICH_QUEUES, type Closer } from '../../helpers/queues.js';
import { parseExposition } from '../../helpers/metrics-text.js';

const closers: Closer[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

/** /metrics must answer 200 whatever Redis does; returns the parsed body. */
async function scrape200(e: RunningExporter): Promise<ReturnType<typeof parseExposition>> {
  const res = await fetch(`${e.url}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

describe('Immich layout, zero queue configuration', () => {
  let redis: RunningRedis;
  let exporter: RunningExporter;
  beforeAll(async () => {
    redis = await startRedis();
    closers.push(() => redis.stop());
    // Immich pins bullmq ^5 and prefix immich_bull; a few jobs in smartSearch, none elsewhere.
    const { queues, close } = await bullmqQueues('bullmq5', connectionOf(redis.port), IMMICH_PREFIX, IMMICH_QUEUES, 0);
    closers.push(close);
    const smart = queues[IMMICH_QUEUES.indexOf('smartSearch')]!;
    await smart.addBulk([1, 2, 3, 4, 5].map((i) => ({ name: 'smart-search', data: { id: i }, opts: { timestamp: Date.now() - 600_000 } })));
    // Only where Redis is: the one thing a user must say when Redis is not on localhost:6379.
    exporter = await startExporter([], { SILENTWATCH_COLLECTOR_QUEUES_REDIS_URL: redis.url });
    closers.push(async () => void (await exporter.stop()));
  });

  it('auto-enables, discovers all 18 queues and reports the smartSearch backlog with no worker', async () => {
    const m = await exporter.metrics();
    expect(m.value('silentwatch_collector_enabled', { collector: 'queues' })).toBe(1);
    expect(m.value('silentwatch_collector_success', { collector: 'queues' })).toBe(1);
    const found = new Set(m.get('silentwatch_queue_info', { prefix: IMMICH_PREFIX }).map((s) => s.labels.queue));
    expect(found).toEqual(new Set(IMMICH_QUEUES));
    expect(m.value('silentwatch_queue_jobs', { prefix: IMMICH_PREFIX, queue: 'smartSearch', state: 'waiting' })).toBe(5);
    expect(m.value('silentwatch_queue_jobs', { prefix: IMMICH_PREFIX, queue: 'ocr', state: 'waiting' })).toBe(0);
    expect(m.value('silentwatch_queue_workers', { prefix: IMMICH_PREFIX, queue: 'smartSearch' })).toBe(0);
    expect(m.value('silentwatch_queue_oldest_waiting_job_age_seconds', { prefix: IMMICH_PREFIX, queue: 'smartSearch' })).toBeGreaterThan(599);
    expect(m.get('silentwatch_queue_oldest_waiting_job_age_seconds', { prefix: IMMICH_PREFIX, queue: 'ocr' })).toHaveLength(0);
  });

  it('Redis killed: 200 with success 0; restarted: success 1 again without restarting the exporter', async () => {
    await redis.kill();
    const down = await scrape200(exporter);
    expect(down.value('silentwatch_collector_success', { collector: 'queues' })).toBe(0);
    expect(down.get('silentwatch_queue_jobs')).toHaveLength(0);
    expect(down.value('silentwatch_collector_success', { collector: 'host' })).toBe(1);
    const failed = exporter.logs().find((l) => l.msg === 'collector failed' && l.collector === 'queues');
    expect(String(failed?.cause)).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:\d+\/?( unavailable)?: \S/);

    await redis.restart(); // an empty Redis (no persistence): the queues are gone, the collector is back
    const { close } = await bullmqQueues('bullmq5', connectionOf(redis.port), IMMICH_PREFIX, ['smartSearch'], 2);
    closers.push(close);
    const back = await waitFor(async () => {
      const m = await scrape200(exporter);
      return m.value('silentwatch_collector_success', { collector: 'queues' }) === 1 && m.get('silentwatch_queue_info').length > 0 ? m : undefined;
    }, 'queues collector to recover', 20_000, 250);
    expect(back.value('silentwatch_queue_jobs', { prefix: IMMICH_PREFIX, queue: 'smartSearch', state: 'waiting' })).toBe(2);
    expect(exporter.daemon.exited()).toBe(false);
  });
});

describe('wrong password', () => {
  const SECRET = 'right-s3cret-Pw';
  const WRONG = 'wr0ng-Guess-xyz';
  let exporter: RunningExporter;
  beforeAll(async () => {
    const redis = await startRedis({ password: SECRET });
    closers.push(() => redis.stop());
    exporter = await startExporter([`--collector.queues.redis-url=redis://:${WRONG}@127.0.0.1:${redis.port}/0`]);
    closers.push(async () => void (await exporter.stop()));
  });

  it('answers 200 with success 0, logs a clear line, and never shows the password', async () => {
    const m = await scrape200(exporter);
    expect(m.value('silentwatch_collector_enabled', { collector: 'queues' })).toBe(1);
    expect(m.value('silentwatch_collector_success', { collector: 'queues' })).toBe(0);
    const line = await waitFor(() => exporter.logs().find((l) => l.msg === 'collector failed' && l.collector === 'queues'), 'failure log line');
    expect(String(line.cause)).toMatch(/WRONGPASS|NOAUTH|invalid username-password/);
    expect(String(line.cause)).toMatch(/redis:\/\/:?\*\*\*@127\.0\.0\.1/);
    const landing = await (await fetch(exporter.url)).text();
    for (const text of [exporter.daemon.output(), landing, await exporter.scrape()]) {
      expect(text).not.toContain(WRONG);
      expect(text).not.toContain(encodeURIComponent(WRONG));
    }
  });
});
