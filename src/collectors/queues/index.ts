/**
 * Bull and BullMQ queues in Redis: jobs per queue and state, paused flag, age of the oldest waiting job
 * and connected workers, for every queue under every prefix (Immich's `immich_bull` with zero config).
 *
 * Cost per scrape: ONE pipelined round trip carrying CLIENT LIST plus a fixed set of read-only commands
 * per queue (EXISTS, LLEN, ZCARD, HGET, LRANGE) and the timestamps of the oldest-waiting candidates seen
 * last time. A second round trip happens only for queues whose oldest waiting job changed since the last
 * scrape (its job hash must be read after its id is known). Discovery (SCAN, never KEYS) is cached and
 * refreshed in the background every `discovery_interval`.
 */
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import type { ChainableCommander, Redis, RedisOptions } from 'ioredis';
import { z } from 'zod';
import { bool, duration, stringList } from '../../lib/config-values.js';
import { redactUrl } from '../../lib/http.js';
import { defineMetric, type SampleSink } from '../../metrics.js';
import { defineCollector, type CollectorContext } from '../types.js';
import { clientNames, countWorkers } from './parse-client-list.js';
import { classify, compilePatterns, queuesFromKeys, refKey, scanPattern, selectQueue, type Classification, type QueueFilter, type QueueRef } from './parse-keys.js';
import { interpretCounts, jobKey, oldestAgeSeconds, parseTimestamp, QueueGone, queueCommands, type Command, type QueuePlan, type Reply } from './parse-counts.js';

/** Queues per pipeline chunk and per slice of reply handling between two turns of the event loop. */
const QUEUES_PER_CHUNK = 500;

/** Lets timers and I/O callbacks (the other collectors, their time-outs) run; stops here once the scrape is aborted. */
async function yieldToEventLoop(signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}

const queueJobs = defineMetric({
  name: 'silentwatch_queue_jobs',
  type: 'gauge',
  help: "Jobs in a Bull/BullMQ queue per state, as the library's own getJobCounts() counts them (waiting, active, delayed, prioritized, waiting-children, paused, completed, failed; Bull has no prioritized/waiting-children). The backlog is waiting + paused for every library version.",
  labels: ['prefix', 'queue', 'state'],
});
const queuePaused = defineMetric({
  name: 'silentwatch_queue_paused',
  type: 'gauge',
  help: 'Whether the queue is paused globally (1) or not (0).',
  labels: ['prefix', 'queue'],
});
const queueOldest = defineMetric({
  name: 'silentwatch_queue_oldest_waiting_job_age_seconds',
  type: 'gauge',
  help: "Age of the oldest job waiting to run (next in line in the wait list, or in the paused list of a paused queue), from its enqueue timestamp, in seconds. Absent when nothing waits. Prioritized and delayed jobs are not considered.",
  labels: ['prefix', 'queue'],
});
const queueWorkers = defineMetric({
  name: 'silentwatch_queue_workers',
  type: 'gauge',
  help: 'Worker connections of the queue in Redis CLIENT LIST (named <prefix>:<base64(queue)>, as the library\'s getWorkers() counts them).',
  labels: ['prefix', 'queue'],
});
const queueInfo = defineMetric({
  name: 'silentwatch_queue_info',
  type: 'gauge',
  help: "A discovered queue (=1): library bull or bullmq, and the library version BullMQ records in the queue's meta key ('' when unknown).",
  labels: ['prefix', 'queue', 'library', 'version'],
});

const DEFAULT_URL = 'redis://127.0.0.1:6379';

const redisUrl = () =>
  z.string().superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a URL such as redis://[:password@]host:6379[/db] or rediss://…' });
      return;
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') ctx.addIssue({ code: 'custom', message: `expected a redis:// or rediss:// URL, got ${u.protocol}//` });
    else if (u.pathname.length > 1 && !/^\/\d{1,2}$/.test(u.pathname)) ctx.addIssue({ code: 'custom', message: 'the path of the URL must be a database number such as /0' });
  });

const patternList = () =>
  stringList().superRefine((v, ctx) => {
    try {
      compilePatterns(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

const options = z.object({
  redis_url: redisUrl()
    .default(DEFAULT_URL)
    .describe('Redis holding the queues: redis://[user:password@]host:port[/db], rediss:// for TLS. The password is never logged or shown.'),
  prefixes: stringList().prefault([]).describe('Queue prefixes to watch (e.g. immich_bull,bull); empty = every prefix found.'),
  queues_include: patternList().prefault([]).describe('Only these queues (regular expressions, anchored, matched against the queue name); empty = all.'),
  queues_exclude: patternList().prefault([]).describe('Leave out these queues (regular expressions, anchored).'),
  discovery_interval: duration().prefault('60s').describe('How often queues are rediscovered with SCAN (in the background; scrapes use the cached list).'),
  workers: bool().prefault('true').describe('Count worker connections with CLIENT LIST (needs +client|list in a Redis ACL).'),
  sentinels: stringList()
    .prefault([])
    .describe('Redis Sentinel addresses (host:port,…). When set, the master named by sentinel_master is used; redis_url still gives password, db and TLS.'),
  sentinel_master: z.string().min(1).default('mymaster').describe('Master name to ask the sentinels for.'),
});

type Options = z.output<typeof options>;

/** ioredis options from ours, without ever putting the password anywhere but the client. */
export function clientOptions(o: Options, timeoutSeconds: number, extra: Partial<RedisOptions> = {}): RedisOptions {
  const u = new URL(o.redis_url);
  const budgetMs = Math.max(200, Math.floor(timeoutSeconds * 1000));
  const base: RedisOptions = {
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? { servername: u.hostname } : undefined,
    connectionName: 'silentwatch',
    lazyConnect: true,
    enableOfflineQueue: false,
    connectTimeout: Math.min(2000, budgetMs),
    commandTimeout: Math.max(100, Math.floor(budgetMs * 0.8)),
    maxRetriesPerRequest: 1,
    // Reconnect on its own, backing off to 2 s, for as long as the exporter runs.
    retryStrategy: (times) => Math.min(times * 100, 2000),
    ...extra,
  };
  if (o.sentinels.length > 0) {
    return {
      ...base,
      sentinels: o.sentinels.map((s) => {
        const i = s.lastIndexOf(':');
        return i > 0 ? { host: s.slice(0, i), port: Number(s.slice(i + 1)) } : { host: s, port: 26379 };
      }),
      name: o.sentinel_master,
      sentinelPassword: base.password,
    };
  }
  return { ...base, host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: u.port ? Number(u.port) : 6379 };
}

/**
 * ioredis costs ~15 MB of RSS once loaded; it is loaded on first use only, so an exporter on a host without
 * Redis (zero config: detection finds nothing listening) never pays for it.
 */
const requireCjs = createRequire(import.meta.url);
function newRedis(options: RedisOptions): Redis {
  const { Redis: RedisClient } = requireCjs('ioredis') as typeof import('ioredis');
  return new RedisClient(options);
}

/** Whether anything accepts a TCP connection at host:port, within timeoutMs (no Redis client needed to say no). */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<{ ok: boolean; why: string }> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean, why: string): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok, why });
    };
    const timer = setTimeout(() => done(false, `connect timed out after ${timeoutMs} ms`), timeoutMs);
    sock.once('connect', () => done(true, 'connected'));
    sock.once('error', (e: Error) => done(false, e.message));
  });
}

function where(o: Options): string {
  return o.sentinels.length > 0 ? `sentinel master ${o.sentinel_master} (${o.sentinels.join(',')})` : redactUrl(o.redis_url);
}

interface KnownQueue {
  readonly ref: QueueRef;
  readonly key: string;
  readonly cls: Classification;
  /** This queue's fixed commands of the scrape pipeline, built once at discovery. */
  readonly fixed: readonly Command[];
}

/** Resolves with p, or rejects when the signal aborts first; the listener is removed when p settles and p's later rejection is swallowed. */
function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

class QueuesCollector {
  private client: Redis | undefined;
  private lastError = '';
  private known: KnownQueue[] | undefined;
  private discoveredAt = 0;
  private discovering: Promise<void> | undefined;
  private discoveryNote = 'not yet';
  /** Oldest-waiting candidate ids per queue from the last scrape, asked for in the next round trip. */
  private tails = new Map<string, readonly string[]>();
  private lastCost = { roundTrips: 0, commands: 0 };
  private readonly filter: QueueFilter;

  constructor(private readonly ctx: CollectorContext<Options>) {
    this.filter = {
      prefixes: ctx.options.prefixes,
      include: compilePatterns(ctx.options.queues_include),
      exclude: compilePatterns(ctx.options.queues_exclude),
    };
  }

  private redis(): Redis {
    if (!this.client) {
      const c = newRedis(clientOptions(this.ctx.options, this.ctx.timeoutSeconds));
      // ioredis reports connection trouble as events; keep the latest for the error message (never the URL's password).
      c.on('error', (e: Error) => {
        this.lastError = e.message;
      });
      c.on('ready', () => {
        this.lastError = '';
      });
      this.client = c;
    }
    return this.client;
  }

  /** The client once it is ready; waits a bounded time for a (re)connection, then fails with the last error. */
  private async ready(signal: AbortSignal): Promise<Redis> {
    const c = this.redis();
    if (c.status === 'ready') return c;
    if (c.status === 'wait' || c.status === 'end') c.connect().catch(() => undefined);
    const waitMs = Math.min(1500, this.ctx.timeoutSeconds * 500);
    const ok = await raceSignal(
      new Promise<boolean>((resolve) => {
        const done = (v: boolean): void => {
          clearTimeout(timer);
          c.off('ready', onReady);
          resolve(v);
        };
        const onReady = (): void => done(true);
        const timer = setTimeout(() => done(c.status === 'ready'), waitMs);
        c.on('ready', onReady);
      }),
      signal,
    );
    if (!ok) throw new Error(`Redis at ${where(this.ctx.options)} unavailable: ${this.lastError || `connection ${c.status}`}`);
    return c;
  }

  async collect(sink: SampleSink, signal: AbortSignal): Promise<void> {
    const client = await this.ready(signal);
    const now = Date.now();
    if (!this.known) {
      await this.discover(client, signal);
    } else if (now - this.discoveredAt >= this.ctx.options.discovery_interval * 1000 && !this.discovering) {
      // Refresh in the background: this scrape keeps the cached list and stays one round trip.
      this.discovering = this.discover(client, AbortSignal.timeout(30_000))
        .catch((e: unknown) => {
          this.discoveryNote = `refresh failed: ${(e as Error).message}`;
        })
        .finally(() => {
          this.discovering = undefined;
        });
    }
    const queues = this.known ?? [];
    const workers = this.ctx.options.workers;

    // The pipeline is built straight from each queue's precomputed commands (no per-scrape key building), in
    // chunks of QUEUES_PER_CHUNK queues: each chunk is sent as soon as it is built, without waiting for the
    // replies of the ones before (still one round trip of latency), and the event loop gets a turn between
    // chunks, so thousands of queues never hold the exporter's only thread long enough to time out the other
    // collectors of the same scrape (10k queues = ~120k commands).
    if (queues.length === 0 && !workers) {
      this.lastCost = { roundTrips: 0, commands: 0 };
      return;
    }
    const sent: Array<Promise<Reply[]>> = [];
    let pipe = client.pipeline();
    const send = (): void => {
      const p = this.exec(pipe, signal);
      p.catch(() => undefined); // awaited below with the others; never an unhandled rejection meanwhile
      sent.push(p);
      pipe = client.pipeline();
    };
    if (workers) pipe.call('client', 'list');
    let commandCount = workers ? 1 : 0;
    const plans: QueuePlan[] = [];
    const slices: Array<[start: number, end: number]> = [];
    for (const [i, q] of queues.entries()) {
      const cachedIds = this.tails.get(q.key) ?? [];
      plans.push({ ref: q.ref, library: q.cls.library, cachedIds });
      const start = commandCount;
      for (const [name, ...args] of q.fixed) pipe.call(name, ...args);
      for (const id of cachedIds) pipe.call('hget', jobKey(q.ref, id), 'timestamp');
      commandCount += q.fixed.length + cachedIds.length;
      slices.push([start, commandCount]);
      if ((i + 1) % QUEUES_PER_CHUNK === 0 && i + 1 < queues.length) {
        send();
        await yieldToEventLoop(signal);
      }
    }
    send();
    const replies = (await Promise.all(sent)).flat();
    let roundTrips = 1;

    const problems: string[] = [];
    let gone = false;
    let workerCounts: number[] | undefined;
    if (workers) {
      const r = replies[0];
      if (r && !r[0] && typeof r[1] === 'string') workerCounts = countWorkers(clientNames(r[1]), queues.map((q) => ({ ref: q.ref, library: q.cls.library })));
      else problems.push(`CLIENT LIST failed (${r?.[0]?.message ?? 'no reply'}): worker counts left out; allow +client|list or set workers=false`);
    }

    const results: Array<ReturnType<typeof interpretCounts> | undefined> = [];
    for (const [i, p] of plans.entries()) {
      if (i > 0 && i % QUEUES_PER_CHUNK === 0) await yieldToEventLoop(signal);
      const [start, end] = slices[i] as [number, number];
      try {
        results.push(interpretCounts(p, replies.slice(start, end)));
      } catch (e) {
        if (e instanceof QueueGone) gone = true;
        else problems.push((e as Error).message);
        results.push(undefined);
      }
    }

    // Nothing readable at all (every command timed out, …): a failure, not partial data.
    if (queues.length > 0 && problems.length > 0 && results.every((r) => r === undefined)) {
      throw new Error(`Redis at ${where(this.ctx.options)}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
    }

    // Second round trip only for candidates not asked for in the first (the oldest waiting job changed).
    const missing: Array<{ i: number; id: string }> = [];
    results.forEach((r, i) => {
      for (const id of r?.oldestCandidates ?? []) if (!r?.knownTimestamps.has(id)) missing.push({ i, id });
    });
    const fetched = new Map<number, Map<string, number>>();
    if (missing.length > 0) {
      const more = await this.run(client, missing.map(({ i, id }) => ['hget', jobKey((plans[i] as QueuePlan).ref, id), 'timestamp']), signal);
      roundTrips += 1;
      commandCount += missing.length;
      missing.forEach(({ i, id }, k) => {
        const r = more[k];
        const ts = r && !r[0] ? parseTimestamp(r[1]) : undefined;
        if (ts === undefined) return;
        let m = fetched.get(i);
        if (!m) fetched.set(i, (m = new Map()));
        m.set(id, ts);
      });
    }

    const nowMs = Date.now();
    const tails = new Map<string, readonly string[]>();
    for (const [i, r] of results.entries()) {
      if (i > 0 && i % QUEUES_PER_CHUNK === 0) await yieldToEventLoop(signal);
      const q = queues[i] as KnownQueue;
      if (!r) continue;
      const labels = { prefix: q.ref.prefix, queue: q.ref.queue };
      sink.set(queueInfo, { ...labels, library: q.cls.library, version: q.cls.version }, 1);
      for (const [state, n] of r.states) sink.set(queueJobs, { ...labels, state }, n);
      sink.set(queuePaused, labels, r.paused ? 1 : 0);
      const ts = new Map([...r.knownTimestamps, ...(fetched.get(i) ?? [])]);
      const age = oldestAgeSeconds(r.oldestCandidates, ts, nowMs);
      if (age !== undefined) sink.set(queueOldest, labels, age);
      if (workerCounts) sink.set(queueWorkers, labels, workerCounts[i] as number);
      if (r.oldestCandidates.length > 0) tails.set(q.key, r.oldestCandidates);
    }
    this.tails = tails;
    this.lastCost = { roundTrips, commands: commandCount };
    if (gone) this.discoveredAt = 0; // a queue vanished: rediscover on the next scrape
    if (problems.length > 0) sink.degraded(problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : ''));
  }

  private run(client: Redis, commands: ReadonlyArray<readonly string[]>, signal: AbortSignal): Promise<Reply[]> {
    const pipe = client.pipeline();
    for (const [name, ...args] of commands) pipe.call(name as string, ...args);
    return this.exec(pipe, signal);
  }

  private async exec(pipe: ChainableCommander, signal: AbortSignal): Promise<Reply[]> {
    try {
      return await raceSignal(
        pipe.exec().then((r) => (r ?? []).map(([e, v]) => [e, v] as Reply)),
        signal,
      );
    } catch (e) {
      throw new Error(`Redis at ${where(this.ctx.options)}: ${(e as Error).message}`);
    }
  }

  /** SCAN (never KEYS) for queue marker keys, then classify every queue in one pipeline. */
  private async discover(client: Redis, signal: AbortSignal): Promise<void> {
    const patterns = this.filter.prefixes.length > 0 ? this.filter.prefixes.map((p) => scanPattern(p)) : [scanPattern()];
    const keys: string[] = [];
    let scans = 0;
    for (const pattern of patterns) {
      let cursor = '0';
      do {
        const [next, batch] = await raceSignal(client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000), signal);
        scans += 1;
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
    }
    const refs = queuesFromKeys(keys).filter((r) => selectQueue(r, this.filter));
    const cmds: string[][] = [];
    for (const r of refs) cmds.push(['hget', `${r.prefix}:${r.queue}:meta`, 'version'], ['type', `${r.prefix}:${r.queue}:events`]);
    const replies = refs.length > 0 ? await this.run(client, cmds, signal) : [];
    this.known = refs.map((ref, i) => {
      const v = replies[2 * i];
      const t = replies[2 * i + 1];
      const cls = classify(v && !v[0] ? (v[1] as string | null) : null, t && !t[0] ? (t[1] as string) : null);
      return { ref, key: refKey(ref), cls, fixed: queueCommands({ ref, library: cls.library, cachedIds: [] }) };
    });
    this.discoveredAt = Date.now();
    this.discoveryNote = `${refs.length} queues at ${new Date(this.discoveredAt).toISOString()} (${scans} SCAN calls)`;
  }

  describe(): Record<string, string> {
    const libs = new Map<string, number>();
    for (const q of this.known ?? []) libs.set(q.cls.library, (libs.get(q.cls.library) ?? 0) + 1);
    return {
      redis: where(this.ctx.options),
      discovery: this.discoveryNote,
      queues: [...libs].map(([l, n]) => `${n} ${l}`).join(', ') || 'none',
      'last scrape': `${this.lastCost.roundTrips} round trip(s), ${this.lastCost.commands} commands`,
    };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    try {
      await raceSignal(c.quit(), AbortSignal.timeout(1000));
    } catch {
      c.disconnect();
    }
  }
}

export const queuesCollector = defineCollector({
  name: 'queues',
  description: 'Bull/BullMQ queues in Redis (Immich first): jobs per state, paused, oldest waiting job age, workers.',
  defaultEnabled: 'auto',
  options,
  metrics: [queueJobs, queuePaused, queueOldest, queueWorkers, queueInfo],
  async detect(ctx) {
    const target = clientOptions(ctx.options, Math.min(ctx.timeoutSeconds, 2));
    if (target.host !== undefined && target.port !== undefined) {
      // Nothing listening (the zero-config case on most hosts): say so without loading a Redis client.
      const tcp = await tcpReachable(target.host, target.port, 1500);
      if (!tcp.ok) return { present: false, reason: `no Redis at ${where(ctx.options)}: ${tcp.why}` };
    }
    const c = newRedis(
      clientOptions(ctx.options, Math.min(ctx.timeoutSeconds, 2), { enableOfflineQueue: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectionName: 'silentwatch-detect' }),
    );
    c.on('error', () => undefined);
    try {
      const pong = await raceSignal(c.ping(), AbortSignal.timeout(1500));
      return { present: pong === 'PONG', reason: `Redis answers at ${where(ctx.options)}` };
    } catch (e) {
      const msg = (e as Error).message;
      // A Redis that refuses our credentials is still a Redis: turn on and report the failure on every scrape.
      if (/NOAUTH|WRONGPASS|NOPERM|invalid password/i.test(msg)) return { present: true, reason: `Redis at ${where(ctx.options)} refuses our credentials: ${msg}` };
      return { present: false, reason: `no Redis at ${where(ctx.options)}: ${msg}` };
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
