/** Options of the queues collector and how they become Redis connections (no I/O besides tcpReachable). */
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import type { Redis, RedisOptions } from 'ioredis';
import { z } from 'zod';
import { bool, duration, stringList } from '../../lib/config-values.js';
import { redactUrl } from '../../lib/http.js';
import { compilePatterns } from './parse-keys.js';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

function checkRedisUrl(v: string, ctx: z.RefinementCtx): void {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a URL such as redis://[:password@]host:6379[/db] or rediss://…, got ${JSON.stringify(redactUrl(v))}` });
    return;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') ctx.addIssue({ code: 'custom', message: `expected a redis:// or rediss:// URL, got ${u.protocol}//` });
  else if (u.pathname.length > 1 && !/^\/\d{1,2}$/.test(u.pathname)) ctx.addIssue({ code: 'custom', message: 'the path of the URL must be a database number such as /0' });
}

const patternList = () =>
  stringList().superRefine((v, ctx) => {
    try {
      compilePatterns(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

export const options = z.object({
  redis_url: z
    .string()
    .superRefine(checkRedisUrl)
    .default(DEFAULT_URL)
    .describe('Redis holding the queues: redis://[user:password@]host:port[/db], rediss:// for TLS. The password is never logged or shown.'),
  redis_urls: stringList()
    .superRefine((v, ctx) => v.forEach((u) => checkRedisUrl(u, ctx)))
    .prefault([])
    .describe(
      'More Redis servers or databases to watch from the same exporter (comma-separated URLs, e.g. redis://redis:6379/2 for Bull in db 2 beside BullMQ in db 0). Every queue series carries a redis label (host:port/db) that tells them apart.',
    ),
  prefixes: stringList().prefault([]).describe('Queue prefixes to watch (e.g. immich_bull,bull); empty = every prefix found.'),
  queues_include: patternList().prefault([]).describe('Only these queues (regular expressions, anchored, matched against the queue name); empty = all.'),
  queues_exclude: patternList().prefault([]).describe('Leave out these queues (regular expressions, anchored).'),
  max_queues: z.coerce.number().int().min(1).max(100_000).default(500).describe('Most queues watched per Redis database; more found = silentwatch_queue_discovery_capped 1 and one log line.'),
  discovery_interval: duration().prefault('60s').describe('How often queues are rediscovered with SCAN (in the background; scrapes use the cached list).'),
  events_per_scrape: z.coerce
    .number()
    .int()
    .min(10)
    .max(100_000)
    .default(2000)
    .describe("Most entries read from each BullMQ queue's event stream per scrape; the rest are read by the next scrapes."),
  workers: bool().prefault('true').describe('Count worker connections with CLIENT LIST (needs +client|list in a Redis ACL).'),
  sentinels: stringList()
    .prefault([])
    .describe('Redis Sentinel addresses (host:port,…). When set, the master named by sentinel_master is used; redis_url still gives password, db and TLS.'),
  sentinel_master: z.string().min(1).default('mymaster').describe('Master name to ask the sentinels for.'),
});

export type Options = z.output<typeof options>;

/** Every Redis (server or database) to watch: redis_url first, then redis_urls, without duplicates. */
export function targetUrls(o: Options): string[] {
  return [...new Set([o.redis_url, ...o.redis_urls])];
}

const dbOf = (u: URL): number => (u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0);

/** The `redis` label of a target: host:port/db (never a password), or sentinel:<master>/db. */
export function redisLabel(url: string, o: Options): string {
  const u = new URL(url);
  if (o.sentinels.length > 0) return `sentinel:${o.sentinel_master}/${dbOf(u)}`;
  return `${u.hostname || '127.0.0.1'}:${u.port || '6379'}/${dbOf(u)}`;
}

/** ioredis options for one target URL, without ever putting the password anywhere but the client. */
export function clientOptions(url: string, o: Options, timeoutSeconds: number, extra: Partial<RedisOptions> = {}): RedisOptions {
  const u = new URL(url);
  const budgetMs = Math.max(200, Math.floor(timeoutSeconds * 1000));
  const base: RedisOptions = {
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: dbOf(u),
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
export function newRedis(options: RedisOptions): Redis {
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

/** Where a target is, for messages (password redacted). */
export function where(url: string, o: Options): string {
  return o.sentinels.length > 0 ? `sentinel master ${o.sentinel_master} (${o.sentinels.join(',')})` : redactUrl(url);
}
