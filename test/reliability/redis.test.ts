/**
 * Fault matrix, Redis (queues collector): one real redis-server per disruptive fault, one real exporter
 * each, all cases run concurrently. Case names are the rows of docs/reliability.md.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { describeReport, runFault, waitSuccess } from '../helpers/faults.js';
import { leakDelta, snapshot } from '../helpers/leaks.js';
import { bullmqQueues, connectionOf, type Closer } from '../helpers/queues.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';

const TIMEOUT_MS = 300;
const closers: Closer[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

async function redisServer(opts: { password?: string; extraArgs?: readonly string[] } = {}): Promise<RunningRedis> {
  const r = await startRedis(opts);
  closers.push(() => r.stop());
  return r;
}

/** A test-side client (never the exporter's), closed at the end of the file. */
function client(r: RunningRedis, opts: { username?: string; password?: string } = {}): Redis {
  const c = new Redis({ host: '127.0.0.1', port: r.port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 200, ...opts });
  c.on('error', () => undefined);
  closers.push(async () => void c.disconnect());
  return c;
}

/** Two BullMQ queues with 3 waiting jobs each under prefix "bull". */
async function queues(r: RunningRedis, password?: string): Promise<void> {
  const q = await bullmqQueues('bullmq5', connectionOf(r.port, password), 'bull', ['resize', 'encode'], 3);
  closers.push(q.close);
}

/** The exporter with the queues collector forced on, host as the other active collector, the rest off. */
async function exporter(url: string, extra: string[] = []): Promise<RunningExporter> {
  const e = await startExporter([
    '--collector.timeout=1s',
    `--collector.queues.timeout=${TIMEOUT_MS}ms`,
    '--collector.queues',
    '--collector.queues.discovery-interval=1s',
    '--no-collector.nvidia',
    '--no-collector.containers',
    '--no-collector.llamaswap',
    ...extra,
  ], { SILENTWATCH_COLLECTOR_QUEUES_REDIS_URL: url });
  closers.push(async () => void (await e.stop()));
  return e;
}

describe.concurrent('fault matrix: Redis (queues)', { timeout: 150_000 }, () => {
  it('redis: not running', async () => {
    const r = await redisServer();
    await queues(r);
    const e = await exporter(r.url);
    const rep = await runFault({ exporter: e, collector: 'queues', timeoutMs: TIMEOUT_MS, inject: () => r.kill(), clear: () => r.restart(), recoveryMs: 20_000 });
    console.log(describeReport('redis: not running', rep));
    expect(rep.cause).toMatch(/unavailable|ECONNREFUSED|connect/i);
  });

  it('redis: killed mid-scrape', async () => {
    const r = await redisServer({ extraArgs: ['--enable-debug-command', 'yes'] });
    await queues(r);
    const e = await exporter(r.url);
    const rep = await runFault({
      exporter: e,
      collector: 'queues',
      timeoutMs: TIMEOUT_MS,
      async inject() {
        // Hold Redis for 5 s so the next scrape's pipeline is in flight, then kill it under that scrape.
        const c = client(r);
        void c.call('debug', 'sleep', '5').catch(() => undefined);
        await sleep(100);
        const scrape = fetch(`${e.url}/metrics`);
        await sleep(150);
        await r.kill();
        expect((await scrape).status).toBe(200);
      },
      clear: () => r.restart(),
      recoveryMs: 20_000,
    });
    console.log(describeReport('redis: killed mid-scrape', rep));
  });

  it('redis: DEBUG SLEEP past the time-out', async () => {
    const r = await redisServer({ extraArgs: ['--enable-debug-command', 'yes'] });
    await queues(r);
    const e = await exporter(r.url);
    const c = client(r);
    let sleeping: Promise<unknown> = Promise.resolve();
    const rep = await runFault({
      exporter: e,
      collector: 'queues',
      timeoutMs: TIMEOUT_MS,
      // Long enough for the 100 scrapes under it (each bounded by the 240 ms command time-out); it clears by itself.
      inject: async () => {
        sleeping = c.call('debug', 'sleep', '50');
        await sleep(50);
      },
      clear: async () => void (await sleeping),
      recoveryMs: 20_000,
    });
    console.log(describeReport('redis: DEBUG SLEEP past the time-out', rep));
    expect(rep.cause).toMatch(/timed out|time-out|timeout/i);
  });

  it('redis: wrong password', async () => {
    const r = await redisServer({ password: 'right-one' });
    await queues(r, 'right-one');
    const e = await exporter(r.url);
    const admin = client(r, { password: 'right-one' });
    const rep = await runFault({
      exporter: e,
      collector: 'queues',
      timeoutMs: TIMEOUT_MS,
      async inject() {
        // The password is rotated under the exporter and its connection dropped: it must re-AUTH and fails.
        await admin.config('SET', 'requirepass', 'rotated');
        await admin.auth('rotated');
        await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      },
      async clear() {
        await admin.config('SET', 'requirepass', 'right-one');
      },
      recoveryMs: 20_000,
    });
    console.log(describeReport('redis: wrong password', rep));
    expect(rep.cause).toMatch(/WRONGPASS|invalid password|NOAUTH/i);
    expect(e.daemon.output()).not.toContain('right-one');
  });

  it('redis: ACL user denied a command the collector uses', async () => {
    const r = await redisServer();
    await queues(r);
    const admin = client(r);
    await admin.call('acl', 'setuser', 'silentwatch', 'on', '>pw', '~*', 'resetchannels', '-@all', '+@read', '+ping', '+info', '+select', '+client|setname', '+client|list');
    const e = await exporter(`redis://silentwatch:pw@127.0.0.1:${r.port}`);
    const rep = await runFault({
      exporter: e,
      collector: 'queues',
      timeoutMs: TIMEOUT_MS,
      inject: async () => void (await admin.call('acl', 'setuser', 'silentwatch', '-llen')),
      clear: async () => void (await admin.call('acl', 'setuser', 'silentwatch', '+llen')),
    });
    console.log(describeReport('redis: ACL user denied a command the collector uses', rep));
    expect(rep.cause).toMatch(/NOPERM/);
  });

  it('redis: read-only ACL user with exactly the documented permissions', async () => {
    const r = await redisServer();
    await queues(r);
    const admin = client(r);
    // The line the README and docs/collectors/queues.md document, read from them word for word.
    const documented = (f: string): string | undefined => readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8').match(/^ACL SETUSER silentwatch .*$/m)?.[0];
    const line = documented('README.md');
    expect(line).toBeDefined();
    expect(documented('docs/collectors/queues.md')).toBe(line);
    const [, ...args] = (line as string).split(' ');
    await admin.call('acl', ...args.map((a, i) => (i === 0 ? a.toLowerCase() : a)));
    const e = await exporter(`redis://silentwatch:CHANGE-ME@127.0.0.1:${r.port}`);
    const m = await waitSuccess(e, 'queues');
    expect(m.value('silentwatch_queue_jobs', { prefix: 'bull', queue: 'resize', state: 'waiting' })).toBe(3);
    expect(m.value('silentwatch_queue_workers', { prefix: 'bull', queue: 'encode' })).toBe(0);
    const ro = client(r, { username: 'silentwatch', password: 'CHANGE-ME' });
    await expect(ro.del('bull:resize:wait')).rejects.toThrow(/NOPERM/);
    await expect(ro.eval('return 1', 0)).rejects.toThrow(/NOPERM/);
    const before = await snapshot(e);
    for (let i = 0; i < 100; i++) expect((await e.metrics()).value('silentwatch_collector_success', { collector: 'queues' })).toBe(1);
    const d = leakDelta(before, await snapshot(e));
    expect([d.children, Math.min(d.fds, 3), Math.min(d.timers, 2)]).toEqual([0, d.fds, d.timers]);
    console.log(`[fault] redis: read-only ACL user: 100 scrapes success 1, leak ${JSON.stringify(d)}`);
  });

  it('redis: a key of an unexpected type where a queue key should be', async () => {
    const r = await redisServer();
    await queues(r);
    const admin = client(r);
    const e = await exporter(r.url);
    const rep = await runFault({
      exporter: e,
      collector: 'queues',
      timeoutMs: TIMEOUT_MS,
      async inject() {
        await admin.del('bull:resize:wait');
        await admin.set('bull:resize:wait', 'not a list');
      },
      // The other queue is still served while one is broken.
      scrapes: Number(process.env.FAULT_SCRAPES ?? 100),
      check: (m) => expect(m.value('silentwatch_queue_jobs', { prefix: 'bull', queue: 'encode', state: 'waiting' })).toBe(3),
      clear: async () => void (await admin.del('bull:resize:wait')),
    });
    console.log(describeReport('redis: a key of an unexpected type where a queue key should be', rep));
    expect(rep.cause).toMatch(/WRONGTYPE|type/i);
  });

  it('redis: 10k queues', async () => {
    const r = await redisServer();
    const admin = client(r);
    for (let base = 0; base < 10_000; base += 1000) {
      const p = admin.pipeline();
      for (let i = base; i < base + 1000; i++) p.hset(`bull:q${i}:meta`, 'opts.maxLenEvents', '10000', 'version', 'bullmq:5.0.0');
      await p.exec();
    }
    // 10k queues is ~120k commands per scrape: the queues collector gets 8 s of Prometheus' 10 s scrape time-out,
    // every other collector keeps its 1 s, and must still make it (the queues collector yields between chunks).
    const e = await exporter(r.url, ['--collector.timeout=1s', '--collector.queues.timeout=8s', '--collector.queues.discovery-interval=10m', '--collector.queues.max-queues=20000']);
    const m = await waitSuccess(e, 'queues', 60_000);
    expect(m.get('silentwatch_queue_info')).toHaveLength(10_000);
    const before = await snapshot(e);
    const times: number[] = [];
    const lags: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const s = await e.metrics();
      times.push(performance.now() - t0);
      expect(s.value('silentwatch_collector_success', { collector: 'queues' })).toBe(1);
      // One Node thread: ~120k replies are handled in slices, so the host collector's 1 s time-out still holds.
      expect(s.value('silentwatch_collector_success', { collector: 'host' })).toBe(1);
      // the exporter's own event-loop lag (prom-client's histogram since the previous scrape)
      lags.push(s.value('silentwatch_nodejs_eventloop_lag_max_seconds', {}) ?? NaN);
    }
    const d = leakDelta(before, await snapshot(e));
    expect(d.children).toBe(0);
    expect(d.fds).toBeLessThanOrEqual(3);
    const landing = await (await fetch(`${e.url}/`)).text();
    const cost = /last scrape: (\d+) round trip\(s\), (\d+) commands/.exec(landing);
    expect(cost?.[1]).toBe('1');
    times.sort((a, b) => a - b);
    expect(times.at(-1)).toBeLessThan(8000 + 1500);
    // no single turn of the event loop near the other collectors' 1 s (before the chunking: 1.0-1.4 s)
    expect(Math.max(...lags)).toBeLessThan(0.8);
    console.log(
      `[fault] redis: 10k queues: ${cost?.[1]} round trip, ${cost?.[2]} commands, scrape p50 ${Math.round(times[5] as number)} ms max ${Math.round(times.at(-1) as number)} ms, ` +
        `event-loop lag max ${Math.round(Math.max(...lags) * 1000)} ms, leak ${JSON.stringify(d)}`,
    );
  });
});
