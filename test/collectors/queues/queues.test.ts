/**
 * The queues collector against a real redis-server and the real libraries (bullmq 6, bullmq 5, bull 4):
 * metrics equal each library's own getJobCounts() in every state, v5 pause semantics, oldest waiting age,
 * worker connections, bad keys and vanished queues, and 200 queues counted in one round trip (measured on
 * the wire by a counting TCP proxy and in Redis' own INFO commandstats).
 */
import { Redis } from 'ioredis';
import * as mq5 from 'bullmq5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/daemon.js';
import { bullmqQueues, connectionOf, populateBull, populateBullMQ, type Closer } from '../../helpers/queues.js';
import { countingProxy, harnessPool } from './collector-harness.js';

let redis: RunningRedis;
let admin: Redis;
const closers: Closer[] = [];
const pool = harnessPool();
const make = pool.make;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.port, '127.0.0.1');
});
afterAll(async () => {
  await pool.closeAll();
  for (const c of closers.reverse()) await c();
  admin?.disconnect();
  await redis?.stop();
});

const STATES_MQ6 = ['active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children'];

describe('jobs in every state equal the library getJobCounts()', () => {
  it.each([
    ['bullmq6', 'mq6'],
    ['bullmq5', 'mq5'],
  ] as const)('%s', async (lib, prefix) => {
    const p = await populateBullMQ(lib, connectionOf(redis.port), prefix, 'media');
    closers.push(p.close);
    const own = await p.counts();
    // Every state the library has is non-trivially populated, so equality means something.
    expect(own).toMatchObject({ completed: 3, failed: 2, active: 1, waiting: 5, delayed: 2, prioritized: 2, 'waiting-children': 1 });
    if (lib === 'bullmq5') expect(own.paused).toBe(0);
    else expect(Object.keys(own).sort()).toEqual(STATES_MQ6);

    const s = await make({ redis_url: redis.url, prefixes: prefix }).scrape();
    expect(s.degraded).toBeUndefined();
    expect(s.problems).toEqual([]);
    for (const [state, n] of Object.entries(own)) expect(s.value('silentwatch_queue_jobs', { prefix, queue: 'media', state }), state).toBe(n);
    // `paused` is reported for every version (0 here: v6 never fills the paused list).
    expect(s.value('silentwatch_queue_jobs', { prefix, queue: 'media', state: 'paused' })).toBe(0);
    expect(s.series('silentwatch_queue_jobs', { prefix, queue: 'media' })).toHaveLength(8);
    expect(s.value('silentwatch_queue_paused', { prefix, queue: 'media' })).toBe(0);
    expect(s.value('silentwatch_queue_workers', { prefix, queue: 'media' })).toBe(await p.workersCount());
    expect(await p.workersCount()).toBe(1);
    const info = s.series('silentwatch_queue_info', { prefix, queue: 'media' });
    expect(info).toHaveLength(1);
    expect(info[0]?.labels.library).toBe('bullmq');
    expect(info[0]?.labels.version).toMatch(lib === 'bullmq6' ? /^6\./ : /^5\./);
  });

  it('bull 4 (Bull v3 layout)', async () => {
    const p = await populateBull(connectionOf(redis.port), 'b4', 'media');
    closers.push(p.close);
    const own = await p.counts();
    expect(own).toMatchObject({ completed: 3, failed: 2, active: 1, waiting: 4, delayed: 2, paused: 0 });
    const s = await make({ redis_url: redis.url, prefixes: 'b4' }).scrape();
    expect(s.degraded).toBeUndefined();
    for (const [state, n] of Object.entries(own)) expect(s.value('silentwatch_queue_jobs', { prefix: 'b4', queue: 'media', state }), state).toBe(n);
    expect(s.series('silentwatch_queue_jobs', { prefix: 'b4', queue: 'media' }).map((x) => x.labels.state).sort()).toEqual(Object.keys(own).sort());
    expect(s.series('silentwatch_queue_info', { prefix: 'b4' })[0]?.labels.library).toBe('bull');
    expect(s.value('silentwatch_queue_workers', { prefix: 'b4', queue: 'media' })).toBe(await p.workersCount());
    expect(await p.workersCount()).toBeGreaterThanOrEqual(1);
  });
});

describe('pause semantics', () => {
  it('a BullMQ v5 paused queue reports its backlog (paused state, paused=1, age from the paused list)', async () => {
    const past = Date.now() - 120_000;
    const { queues, close } = await bullmqQueues('bullmq5', connectionOf(redis.port), 'p5', ['smartSearch'], 0);
    closers.push(close);
    const q = queues[0] as mq5.Queue;
    await q.addBulk([1, 2, 3].map((i) => ({ name: 'j', data: { i }, opts: { timestamp: past + i * 1000 } })));
    await q.pause();
    expect(await admin.llen('p5:smartSearch:wait')).toBe(0); // v5 RENAMEd wait -> paused
    const own = await q.getJobCounts();
    expect(own).toMatchObject({ waiting: 0, paused: 3 });
    const s = await make({ redis_url: redis.url, prefixes: 'p5' }).scrape();
    const l = { prefix: 'p5', queue: 'smartSearch' };
    expect(s.value('silentwatch_queue_paused', l)).toBe(1);
    expect(s.value('silentwatch_queue_jobs', { ...l, state: 'paused' })).toBe(3);
    expect(s.value('silentwatch_queue_jobs', { ...l, state: 'waiting' })).toBe(0);
    const age = s.value('silentwatch_queue_oldest_waiting_job_age_seconds', l) ?? -1;
    expect(Math.abs(age - (Date.now() - (past + 1000)) / 1000)).toBeLessThan(1);
  });

  it('a BullMQ v6 paused queue keeps jobs in waiting; paused=1; waiting+paused is the same backlog', async () => {
    const { queues, close } = await bullmqQueues('bullmq6', connectionOf(redis.port), 'p6', ['smartSearch'], 3);
    closers.push(close);
    await queues[0]!.pause();
    const s = await make({ redis_url: redis.url, prefixes: 'p6' }).scrape();
    const l = { prefix: 'p6', queue: 'smartSearch' };
    expect(s.value('silentwatch_queue_paused', l)).toBe(1);
    expect(s.value('silentwatch_queue_jobs', { ...l, state: 'waiting' })).toBe((await queues[0]!.getJobCounts()).waiting);
    expect((s.value('silentwatch_queue_jobs', { ...l, state: 'waiting' }) ?? 0) + (s.value('silentwatch_queue_jobs', { ...l, state: 'paused' }) ?? 0)).toBe(3);
  });
});

describe('oldest waiting job', () => {
  it('age within 1 s of a job enqueued N s ago; absent when nothing waits; follows the queue as it drains', async () => {
    const n = 300;
    const { queues, close } = await bullmqQueues('bullmq6', connectionOf(redis.port), 'age', ['ocr', 'idle'], 0);
    closers.push(close);
    const ocr = queues[0]!;
    const t0 = Date.now() - n * 1000;
    await ocr.add('first', {}, { timestamp: t0 });
    await ocr.add('second', {}, { timestamp: t0 + 200_000 });
    const h = make({ redis_url: redis.url, prefixes: 'age' });
    let s = await h.scrape();
    expect(Math.abs((s.value('silentwatch_queue_oldest_waiting_job_age_seconds', { prefix: 'age', queue: 'ocr' }) ?? -1) - (Date.now() - t0) / 1000)).toBeLessThan(1);
    expect(s.value('silentwatch_queue_oldest_waiting_job_age_seconds', { prefix: 'age', queue: 'idle' })).toBeUndefined();
    // The oldest job leaves the wait list (here: removed) -> the next one is reported.
    const first = (await ocr.getWaiting()).find((j) => j.name === 'first');
    await first!.remove();
    s = await h.scrape();
    expect(Math.abs((s.value('silentwatch_queue_oldest_waiting_job_age_seconds', { prefix: 'age', queue: 'ocr' }) ?? -1) - (Date.now() - t0 - 200_000) / 1000)).toBeLessThan(1);
  });
});

describe('robustness', () => {
  it('a key of the wrong type skips that queue with a reason; the others are served', async () => {
    const { close } = await bullmqQueues('bullmq6', connectionOf(redis.port), 'bad', ['good', 'broken'], 2);
    closers.push(close);
    await admin.del('bad:broken:failed');
    await admin.set('bad:broken:failed', 'not a zset');
    const s = await make({ redis_url: redis.url, prefixes: 'bad' }).scrape();
    expect(s.degraded).toMatch(/bad:broken:failed ZCARD: WRONGTYPE/);
    expect(s.value('silentwatch_queue_jobs', { prefix: 'bad', queue: 'good', state: 'waiting' })).toBe(2);
    expect(s.series('silentwatch_queue_jobs', { prefix: 'bad', queue: 'broken' })).toHaveLength(0);
  });

  it('a queue deleted between scrapes disappears without an error', async () => {
    const { queues, close } = await bullmqQueues('bullmq6', connectionOf(redis.port), 'gone', ['stays', 'goes'], 2);
    closers.push(close);
    const h = make({ redis_url: redis.url, prefixes: 'gone' });
    expect((await h.scrape()).value('silentwatch_queue_jobs', { prefix: 'gone', queue: 'goes', state: 'waiting' })).toBe(2);
    await queues[1]!.obliterate({ force: true });
    const s = await h.scrape();
    expect(s.degraded).toBeUndefined();
    expect(s.series('silentwatch_queue_jobs', { prefix: 'gone', queue: 'goes' })).toHaveLength(0);
    expect(s.value('silentwatch_queue_jobs', { prefix: 'gone', queue: 'stays', state: 'waiting' })).toBe(2);
  });

  it('Redis too slow (CLIENT PAUSE): a clear time-out within the budget, then recovery', async () => {
    const { close } = await bullmqQueues('bullmq6', connectionOf(redis.port), 'slow', ['ocr'], 1);
    closers.push(close);
    const h = make({ redis_url: redis.url, prefixes: 'slow' }, 1);
    expect((await h.scrape()).value('silentwatch_queue_jobs', { prefix: 'slow', queue: 'ocr', state: 'waiting' })).toBe(1);
    await admin.call('CLIENT', 'PAUSE', '2500', 'ALL');
    const t = performance.now();
    await expect(h.scrape()).rejects.toThrow(/Command timed out|aborted|timed out/);
    expect(performance.now() - t).toBeLessThan(2000);
    const back = await waitFor(async () => (await h.scrape().catch(() => undefined))?.value('silentwatch_queue_jobs', { prefix: 'slow', queue: 'ocr', state: 'waiting' }), 'recovery after the pause', 10_000, 200);
    expect(back).toBe(1);
  });

  it('include/exclude patterns and prefixes select queues', async () => {
    const { close } = await bullmqQueues('bullmq6', connectionOf(redis.port), 'sel', ['alpha', 'beta', 'gamma'], 1);
    closers.push(close);
    const s = await make({ redis_url: redis.url, prefixes: ['sel'], queues_include: ['alpha|beta'], queues_exclude: 'beta' }).scrape();
    expect(new Set(s.series('silentwatch_queue_info').map((x) => x.labels.queue))).toEqual(new Set(['alpha']));
  });
});

/** The read-only ACL documented in docs/collectors/queues.md, verbatim. */
const READ_ONLY_ACL = '-@all +@read +ping +info +select +client|setname +client|list';

describe('read-only Redis ACL', () => {
  it('works under the documented read-only ACL user, which cannot write', async () => {
    const { close } = await bullmqQueues('bullmq6', connectionOf(redis.port), 'acl', ['ocr'], 2);
    closers.push(close);
    await admin.call('ACL', 'SETUSER', 'silentwatch', 'on', '>ro-pass', '~*', 'resetchannels', ...READ_ONLY_ACL.split(' '));
    const s = await make({ redis_url: 'redis://silentwatch:ro-pass@127.0.0.1:' + redis.port, prefixes: 'acl' }).scrape();
    expect(s.degraded).toBeUndefined();
    expect(s.value('silentwatch_queue_jobs', { prefix: 'acl', queue: 'ocr', state: 'waiting' })).toBe(2);
    expect(s.value('silentwatch_queue_workers', { prefix: 'acl', queue: 'ocr' })).toBe(0);
    expect(s.series('silentwatch_queue_oldest_waiting_job_age_seconds', { prefix: 'acl' })).toHaveLength(1);
    const ro = new Redis({ port: redis.port, host: '127.0.0.1', username: 'silentwatch', password: 'ro-pass' });
    closers.push(async () => ro.disconnect());
    await expect(ro.del('acl:ocr:wait')).rejects.toThrow(/NOPERM/);
    await expect(ro.eval('return 1', 0)).rejects.toThrow(/NOPERM/);
  });

  it('without +client|list: counts are served, workers left out, success 0 with the reason', async () => {
    await admin.call('ACL', 'SETUSER', 'noclient', 'on', '>nc-pass', '~*', 'resetchannels', ...READ_ONLY_ACL.replace(' +client|list', '').split(' '));
    const s = await make({ redis_url: 'redis://noclient:nc-pass@127.0.0.1:' + redis.port, prefixes: 'acl' }).scrape();
    expect(s.degraded).toMatch(/CLIENT LIST failed \(NOPERM.*allow \+client\|list or set workers=false/);
    expect(s.value('silentwatch_queue_jobs', { prefix: 'acl', queue: 'ocr', state: 'waiting' })).toBe(2);
    expect(s.series('silentwatch_queue_workers')).toHaveLength(0);
    const off = await make({ redis_url: 'redis://noclient:nc-pass@127.0.0.1:' + redis.port, prefixes: 'acl', workers: false }).scrape();
    expect(off.degraded).toBeUndefined();
  });
});

describe('cost', () => {
  it('200 queues are counted in ONE round trip per scrape (TCP turns and INFO commandstats)', async () => {
    // A Redis of its own: the blocked workers of the other tests renew locks and poll in the background.
    const quiet = await startRedis();
    closers.push(() => quiet.stop());
    const quietAdmin = new Redis(quiet.port, '127.0.0.1');
    closers.push(async () => quietAdmin.disconnect());
    const names = Array.from({ length: 200 }, (_, i) => `q${String(i).padStart(3, '0')}`);
    const { close } = await bullmqQueues('bullmq6', connectionOf(quiet.port), 'many', names, 3);
    closers.push(close);
    const proxy = await countingProxy(quiet.port);
    closers.push(() => proxy.close());
    const h = make({ redis_url: `redis://127.0.0.1:${proxy.port}`, prefixes: 'many' });
    // Warm-up: connection, discovery, and the first read of every queue's oldest job timestamp.
    const first = await h.scrape();
    expect(first.series('silentwatch_queue_info')).toHaveLength(200);

    const statsBefore = await commandstats(quietAdmin);
    const turnsBefore = proxy.turns();
    const s = await h.scrape();
    const turns = proxy.turns() - turnsBefore;
    const statsAfter = await commandstats(quietAdmin);
    const delta = (cmd: string): number => (statsAfter.get(cmd) ?? 0) - (statsBefore.get(cmd) ?? 0);

    expect(turns).toBe(1);
    expect(s.series('silentwatch_queue_jobs', { prefix: 'many', state: 'waiting' }).every((x) => x.value === 3)).toBe(true);
    expect(s.series('silentwatch_queue_oldest_waiting_job_age_seconds')).toHaveLength(200);
    // Exactly the planned commands per queue: 3 LLEN, 5 ZCARD, 1 ZCOUNT, 2 LRANGE, 1 LINDEX, 1 ZRANGE, 1 EXISTS,
    // 1 HGET (paused flag; the next job's enqueue time is cached), 1 XRANGE; one CLIENT LIST; no SCAN, KEYS, EVAL.
    expect(delta('llen')).toBe(600);
    expect(delta('zcard')).toBe(1000);
    expect(delta('zcount')).toBe(200);
    expect(delta('lrange')).toBe(400);
    expect(delta('lindex')).toBe(200);
    expect(delta('zrange')).toBe(200);
    expect(delta('exists')).toBe(200);
    expect(delta('hget')).toBe(200);
    expect(delta('xrange')).toBe(200);
    expect(delta('client|list')).toBe(1);
    for (const c of ['scan', 'keys', 'eval', 'evalsha', 'xinfo|stream']) expect(delta(c)).toBe(0);
    expect(h.instance.describe?.()['last scrape']).toBe(`1 round trip(s), ${1 + 200 * 16} commands`);
  });
});

/** calls per command from INFO commandstats (`cmdstat_llen:calls=3,…`; subcommands as `client|list`). */
async function commandstats(r: Redis): Promise<Map<string, number>> {
  const text = await r.info('commandstats');
  const m = new Map<string, number>();
  for (const [, cmd, calls] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) m.set(cmd as string, Number(calls));
  return m;
}
