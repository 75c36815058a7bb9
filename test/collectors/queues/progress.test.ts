/**
 * Every way a queue's work can stop, with real BullMQ 6/5 and Bull 4 workers on one real redis-server: the
 * progress counters (exact with removeOnComplete), a processor that never returns, a worker SIGKILLed
 * mid-job, a prioritized backlog and due delayed jobs with no worker, a paused queue, a trimmed event
 * stream, a Redis full of foreign keys, two databases in one exporter, colliding queue names.
 */
import { Redis } from 'ioredis';
import * as mq6 from 'bullmq';
import * as mq5 from 'bullmq5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../helpers/daemon.js';
import { startRedis, type RunningRedis } from '../../helpers/redis.js';
import { connectionOf, hungBullQueue, hungWorker, workerProcess, type Closer } from '../../helpers/queues.js';
import { harnessPool } from './collector-harness.js';

let redis: RunningRedis;
let admin: Redis;
const closers: Closer[] = [];
const pool = harnessPool();
const make = pool.make;
const conn = () => connectionOf(redis.port);

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.port, '127.0.0.1');
});
afterAll(async () => {
  await pool.closeAll();
  // A hung processor never settles: close everything in parallel, each bounded.
  const bounded = async (c: Closer, i: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([c().catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(() => (console.error(`closer ${i} did not finish in 5 s`), r()), 5000)))]);
    clearTimeout(timer);
  };
  await Promise.all(closers.map(bounded));
  admin?.disconnect();
  await redis?.stop();
});

const MQ = { bullmq6: mq6 as unknown as typeof mq5, bullmq5: mq5 };

describe('progress counters from the event stream', () => {
  it.each(['bullmq6', 'bullmq5'] as const)('%s, removeOnComplete: completed equals the jobs processed, exactly; failures and retries-exhausted too', async (lib) => {
    const M = MQ[lib];
    const prefix = `drain-${lib}`;
    const queue = new M.Queue('thumbnailGeneration', { connection: conn(), prefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
    closers.push(() => queue.close());
    await queue.add('warm', {});
    const h = make({ redis_url: redis.url, prefixes: prefix });
    const first = await h.scrape();
    // Counters start at 0 at exporter start, whatever the stream already holds.
    expect(first.value('silentwatch_queue_events_total', { queue: 'thumbnailGeneration', event: 'added' })).toBe(0);
    expect(first.value('silentwatch_queue_backlog_jobs', { queue: 'thumbnailGeneration' })).toBe(1);

    await queue.addBulk([...Array.from({ length: 40 }, (_, i) => ({ name: 'ok', data: { i } })), ...[1, 2, 3].map((i) => ({ name: 'bad', data: { i }, opts: { attempts: 2 } }))]);
    const worker = new M.Worker('thumbnailGeneration', async (job) => {
      if (job.name === 'bad') throw new Error('planned failure');
    }, { connection: conn(), prefix, concurrency: 4 });
    closers.push(() => worker.close());
    await waitFor(async () => Object.values(await queue.getJobCounts('waiting', 'active', 'delayed')).every((n) => n === 0), 'drained', 20_000);
    const s = await h.scrape();
    expect(s.degraded).toBeUndefined();
    const ev = (event: string): number | undefined => s.value('silentwatch_queue_events_total', { queue: 'thumbnailGeneration', event });
    expect(ev('completed')).toBe(41); // 40 + the warm-up job
    expect(ev('failed')).toBe(3);
    expect(ev('retries-exhausted')).toBe(3);
    expect(ev('added')).toBe(43);
    expect(ev('active')).toBe(47); // 41 + 3 jobs x 2 attempts
    expect(s.value('silentwatch_queue_events_lost_total', { queue: 'thumbnailGeneration' })).toBe(0);
    // the sets stay empty: nothing but the stream shows that work was done
    expect(s.value('silentwatch_queue_jobs', { queue: 'thumbnailGeneration', state: 'completed' })).toBe(0);
    expect(s.value('silentwatch_queue_backlog_jobs', { queue: 'thumbnailGeneration' })).toBe(0);
    // bounded per scrape: a later scrape reads nothing twice
    expect((await h.scrape()).value('silentwatch_queue_events_total', { queue: 'thumbnailGeneration', event: 'completed' })).toBe(41);
    await worker.close();
  });

  it("a stream trimmed by BullMQ's own maxLen past the last id read: the lost events are counted exactly", async () => {
    const prefix = 'trim';
    const queue = new mq6.Queue('ocr', { connection: conn(), prefix, streams: { events: { maxLen: 10 } } });
    closers.push(() => queue.close());
    await queue.add('first', {});
    const h = make({ redis_url: redis.url, prefixes: prefix, events_per_scrape: 100 });
    await h.scrape();
    const info = async (): Promise<{ added: number; length: number }> => {
      const a = (await admin.call('XINFO', 'STREAM', `${prefix}:ocr:events`)) as unknown[];
      const m = new Map<unknown, unknown>();
      for (let i = 0; i < a.length; i += 2) m.set(a[i], a[i + 1]);
      return { added: m.get('entries-added') as number, length: m.get('length') as number };
    };
    const before = await info();
    // BullMQ trims with XADD MAXLEN ~ 10: whole stream nodes (100 entries) go at once.
    for (let i = 0; i < 6; i++) await queue.addBulk(Array.from({ length: 100 }, (_, j) => ({ name: 'job', data: { i, j } })));
    const after = await info();
    expect(after.length).toBeLessThan(after.added - before.added); // it was trimmed past what the exporter read
    const s = await h.scrape();
    // Lost: every entry added since the exporter's last id that is no longer in the stream.
    const lost = after.added - after.length - (before.added - before.length) - before.length;
    expect(lost).toBeGreaterThan(0);
    expect(s.value('silentwatch_queue_events_lost_total', { queue: 'ocr' })).toBe(lost);
    // what was still there was read (at most 100 per scrape), and the rest on the next scrapes
    let added = s.value('silentwatch_queue_events_total', { queue: 'ocr', event: 'added' }) as number;
    for (let i = 0; i < 5 && added + lost / 2 < 600; i++) added = (await h.scrape()).value('silentwatch_queue_events_total', { queue: 'ocr', event: 'added' }) as number;
    // each job writes two entries (added, waiting): the readable half of what remained
    expect(added).toBe(600 - lost / 2 - (lost % 2 === 0 ? 0 : 0.5));
  });
});

describe('work stopped, whatever the shape', () => {
  it('a processor that never returns: active job age grows, nothing completes, the worker still connected', async () => {
    const prefix = 'hung';
    const queue = new mq6.Queue('smartSearch', { connection: conn(), prefix });
    closers.push(() => queue.close());
    await queue.addBulk(Array.from({ length: 21 }, (_, i) => ({ name: 'clip', data: { i } })));
    closers.push(hungWorker('bullmq6', conn(), prefix, 'smartSearch'));
    await waitFor(async () => (await queue.getJobCounts('active')).active === 1, 'one active job');
    const h = make({ redis_url: redis.url, prefixes: prefix });
    const a = await h.scrape();
    await sleep(1500);
    const b = await h.scrape();
    const age = (s: typeof a): number | undefined => s.value('silentwatch_queue_oldest_active_job_age_seconds', { queue: 'smartSearch' });
    expect(age(b)).toBeGreaterThanOrEqual(1.4);
    expect((age(b) as number) - (age(a) as number)).toBeGreaterThanOrEqual(1.4);
    expect(b.value('silentwatch_queue_backlog_jobs', { queue: 'smartSearch' })).toBe(20);
    expect(b.value('silentwatch_queue_workers', { queue: 'smartSearch' })).toBe(1);
    expect(b.value('silentwatch_queue_events_total', { queue: 'smartSearch', event: 'completed' })).toBe(0);
  });

  it('a worker SIGKILLed mid-job: its job stays active with an ever older start, no worker is left', async () => {
    const prefix = 'killed';
    const queue = new mq5.Queue('faceDetection', { connection: conn(), prefix });
    closers.push(() => queue.close());
    await queue.addBulk(Array.from({ length: 11 }, (_, i) => ({ name: 'face', data: { i } })));
    const w = await workerProcess('bullmq5', conn(), prefix, 'faceDetection');
    closers.push(() => w.kill());
    const h = make({ redis_url: redis.url, prefixes: prefix });
    expect((await h.scrape()).value('silentwatch_queue_workers', { queue: 'faceDetection' })).toBe(1);
    await w.kill();
    await sleep(2500); // past its 2 s lock
    const s = await h.scrape();
    expect(s.value('silentwatch_queue_workers', { queue: 'faceDetection' })).toBe(0);
    expect(s.value('silentwatch_queue_jobs', { queue: 'faceDetection', state: 'active' })).toBe(1);
    expect(s.value('silentwatch_queue_backlog_jobs', { queue: 'faceDetection' })).toBe(10);
    expect(s.value('silentwatch_queue_oldest_active_job_age_seconds', { queue: 'faceDetection' })).toBeGreaterThanOrEqual(2.4);
  });

  it('a prioritized backlog with no worker: waiting 0, backlog 30, the oldest waiting age covers prioritized jobs', async () => {
    const prefix = 'prio';
    const queue = new mq6.Queue('thumbnailGeneration', { connection: conn(), prefix });
    closers.push(() => queue.close());
    await queue.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'thumb', data: { i }, opts: { priority: 1 + (i % 3) } })));
    await sleep(1100);
    const s = await make({ redis_url: redis.url, prefixes: prefix }).scrape();
    expect(s.value('silentwatch_queue_jobs', { queue: 'thumbnailGeneration', state: 'waiting' })).toBe(0);
    expect(s.value('silentwatch_queue_jobs', { queue: 'thumbnailGeneration', state: 'prioritized' })).toBe(30);
    expect(s.value('silentwatch_queue_backlog_jobs', { queue: 'thumbnailGeneration' })).toBe(30);
    expect(s.value('silentwatch_queue_workers', { queue: 'thumbnailGeneration' })).toBe(0);
    expect(s.value('silentwatch_queue_oldest_waiting_job_age_seconds', { queue: 'thumbnailGeneration' })).toBeGreaterThanOrEqual(1);
  });

  it('delayed jobs already due with no worker (only a worker promotes them): counted in the backlog; future ones not', async () => {
    const prefix = 'due';
    const queue = new mq6.Queue('backgroundTask', { connection: conn(), prefix });
    closers.push(() => queue.close());
    await queue.addBulk([...Array.from({ length: 5 }, () => ({ name: 'soon', data: {}, opts: { delay: 100 } })), { name: 'later', data: {}, opts: { delay: 3_600_000 } }]);
    await sleep(300);
    const s = await make({ redis_url: redis.url, prefixes: prefix }).scrape();
    expect(s.value('silentwatch_queue_jobs', { queue: 'backgroundTask', state: 'delayed' })).toBe(6);
    expect(s.value('silentwatch_queue_backlog_jobs', { queue: 'backgroundTask' })).toBe(5);
  });

  it('a paused queue: paused 1, its backlog still counted (the rules leave it alone)', async () => {
    const prefix = 'paused';
    const queue = new mq6.Queue('library', { connection: conn(), prefix });
    closers.push(() => queue.close());
    await queue.addBulk(Array.from({ length: 7 }, (_, i) => ({ name: 'scan', data: { i } })));
    await queue.pause();
    const s = await make({ redis_url: redis.url, prefixes: prefix }).scrape();
    expect(s.value('silentwatch_queue_paused', { queue: 'library' })).toBe(1);
    expect(s.value('silentwatch_queue_backlog_jobs', { queue: 'library' })).toBe(7);
  });
});

describe('discovery and labels', () => {
  it('5,000 foreign keys shaped like queue keys make zero phantom queues; the cap is reported', async () => {
    await admin.select(3);
    const pipe = admin.pipeline();
    for (let i = 0; i < 5000; i++) pipe.set(`app:user${i}:id`, String(i));
    for (let i = 0; i < 200; i++) pipe.set(`session:s${i}:meta`, 'x');
    for (let i = 0; i < 200; i++) pipe.hset(`cache:c${i}:meta`, { owner: 'app' });
    await pipe.exec();
    await admin.select(0);
    const real = ['a', 'b', 'c'].map((n) => new mq6.Queue(n, { connection: { ...conn(), db: 3 }, prefix: 'bull' }));
    closers.push(async () => void (await Promise.all(real.map((q) => q.close()))));
    await Promise.all(real.map((q) => q.add('x', {})));
    const h = make({ redis_url: `${redis.url}/3` });
    const s = await h.scrape();
    expect(s.degraded).toBeUndefined();
    expect(s.series('silentwatch_queue_info').map((x) => x.labels.queue).sort()).toEqual(['a', 'b', 'c']);
    expect(s.value('silentwatch_queue_discovered_queues', {})).toBe(3);
    expect(h.instance.describe?.().discovery).toMatch(/5400 look-alike key sets that are not queues left out/);
    const capped = await make({ redis_url: `${redis.url}/3`, max_queues: 2 }).scrape();
    expect(capped.series('silentwatch_queue_info')).toHaveLength(2);
    expect(capped.value('silentwatch_queue_discovery_capped', {})).toBe(1);
    expect(s.value('silentwatch_queue_discovery_capped', {})).toBe(0);
  });

  it('two databases in one exporter (BullMQ in db 0, a hung Bull 4 queue in db 2), told apart by the redis label', async () => {
    closers.push(await hungBullQueue({ ...conn(), db: 2 }, 'bull4', 'ocr', 4));
    const m = new mq6.Queue('ocr', { connection: conn(), prefix: 'bull4' });
    closers.push(() => m.close());
    await m.add('x', {});
    const h = make({ redis_url: redis.url, redis_urls: `${redis.url}/2`, prefixes: 'bull4' });
    await h.scrape();
    await sleep(1100);
    const s = await h.scrape();
    expect(s.degraded).toBeUndefined();
    const info = s.series('silentwatch_queue_info', { queue: 'ocr' }).map((x) => [x.labels.redis, x.labels.library]);
    expect(info.sort()).toEqual([
      [`127.0.0.1:${redis.port}/0`, 'bullmq'],
      [`127.0.0.1:${redis.port}/2`, 'bull'],
    ]);
    const db2 = { redis: `127.0.0.1:${redis.port}/2`, queue: 'ocr' };
    expect(s.value('silentwatch_queue_oldest_active_job_age_seconds', db2)).toBeGreaterThanOrEqual(1);
    expect(s.value('silentwatch_queue_backlog_jobs', db2)).toBe(4);
    // Bull 4 keeps no event stream: no progress counters for it
    expect(s.series('silentwatch_queue_events_total', db2)).toEqual([]);
  });

  it('queue names that collide once cleaned stay two distinct queues; the collector succeeds', async () => {
    const names = ['scan\tjob', 'scan job'];
    const qs = names.map((n) => new mq6.Queue(n, { connection: conn(), prefix: 'collide' }));
    closers.push(async () => void (await Promise.all(qs.map((q) => q.close()))));
    await qs[0]?.addBulk([{ name: 'x', data: {} }]);
    await qs[1]?.addBulk([1, 2].map(() => ({ name: 'x', data: {} })));
    const s = await make({ redis_url: redis.url, prefixes: 'collide' }).scrape();
    expect(s.problems).toEqual([]);
    expect(s.degraded).toBeUndefined();
    const info = s.series('silentwatch_queue_info');
    expect(info).toHaveLength(2);
    expect(new Set(info.map((x) => x.labels.queue)).size).toBe(2);
    expect(info.map((x) => x.labels.name).sort()).toEqual(names.map((n) => JSON.stringify(n)).sort());
    expect(s.series('silentwatch_queue_backlog_jobs').map((x) => x.value).sort()).toEqual([1, 2]);
  });
});
