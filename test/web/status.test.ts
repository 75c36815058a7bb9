/**
 * The status page costs no extra probe: through the real HTTP server and the real collector runner (with a
 * counting collector), page and API views reuse the collection /metrics made; without scrapes, views start at
 * most one shared collection per max age; Docker inspect and the mount table (host facts) are looked at again
 * at most once per their TTL. The findings are the doctor's checks on that collection.
 */
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSharedServices } from '../../src/app.js';
import { queueJobs as jobs, queueWorkers as workers } from '../../src/collectors/queues/metrics.js';
import { defineCollector } from '../../src/collectors/types.js';
import { loadConfig } from '../../src/config.js';
import type { HostFacts } from '../../src/doctor/index.js';
import { silentLogger } from '../../src/logger.js';
import { CollectorRunner } from '../../src/runner.js';
import { createApp, listen } from '../../src/server.js';


let closeServer: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeServer?.();
  closeServer = undefined;
});

async function start(opts: { maxAgeMs: number; factsTtlMs: number }) {
  let collections = 0;
  let factCalls = 0;
  let clock = 1_000_000;
  const queues = defineCollector({
    name: 'queues',
    description: 'counting stand-in of the queues collector',
    defaultEnabled: true,
    options: z.object({}),
    metrics: [jobs, workers],
    create: () => ({
      async collect(sink) {
        collections += 1;
        sink.set(jobs, { redis: 'redis:6379/0', prefix: 'immich_bull', queue: 'smartSearch', state: 'waiting' }, 25);
        sink.set(jobs, { redis: 'redis:6379/0', prefix: 'immich_bull', queue: 'smartSearch', state: 'active' }, 0);
        sink.set(workers, { redis: 'redis:6379/0', prefix: 'immich_bull', queue: 'smartSearch' }, 0);
      },
    }),
  });
  const config = loadConfig({ argv: [], env: {}, collectors: [queues] });
  const log = silentLogger();
  const runner = new CollectorRunner([{ collector: queues, enabled: true, context: { name: 'queues', options: {}, paths: config.path, log, shared: createSharedServices(config), timeoutSeconds: 5 } }], { log });
  await runner.start();
  const hostFacts = async (): Promise<HostFacts> => {
    factCalls += 1;
    return { containers: [], mounts: [], hostPidNamespace: true };
  };
  const server: Server = await listen(createApp({ runner, log, telemetryPath: '/metrics', hostFacts, status: { ...opts, now: () => clock } }), '127.0.0.1', 0);
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  closeServer = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await runner.close();
  };
  return {
    url,
    collections: () => collections,
    factCalls: () => factCalls,
    advance: (ms: number) => (clock += ms),
    get: async (path: string) => {
      const res = await fetch(url + path);
      expect(res.status).toBe(200);
      return res;
    },
  };
}

describe('status page cost', () => {
  it('page and API views reuse the collection /metrics made', async () => {
    const h = await start({ maxAgeMs: 30_000, factsTtlMs: 60_000 });
    await h.get('/metrics');
    expect(h.collections()).toBe(1);
    for (let i = 0; i < 20; i++) {
      h.advance(1000);
      await h.get(i % 2 ? '/' : '/api/v1/findings');
    }
    expect(h.collections()).toBe(1);
    expect(h.factCalls()).toBe(1);
    // every scrape is a new collection, and the page shows it
    await h.get('/metrics');
    expect(h.collections()).toBe(2);
    await h.get('/');
    expect(h.collections()).toBe(2);
  });

  it('without scrapes, views start at most one shared collection per max age; host facts once per TTL', async () => {
    const h = await start({ maxAgeMs: 30_000, factsTtlMs: 60_000 });
    await h.get('/');
    expect(h.collections()).toBe(1);
    h.advance(29_000);
    await Promise.all(Array.from({ length: 10 }, () => h.get('/')));
    expect(h.collections()).toBe(1);
    h.advance(2_000);
    await Promise.all(Array.from({ length: 10 }, () => h.get('/api/v1/findings')));
    expect(h.collections()).toBe(2);
    expect(h.factCalls()).toBe(1);
    h.advance(60_000);
    await Promise.all(Array.from({ length: 10 }, () => h.get('/')));
    expect(h.collections()).toBe(3);
    expect(h.factCalls()).toBe(2);
  });

  it('the API answers what the doctor finds on that collection, in doctor --json\'s shape', async () => {
    const h = await start({ maxAgeMs: 30_000, factsTtlMs: 60_000 });
    const res = await h.get('/api/v1/findings');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('last-modified')).toBe(new Date(1_000_000).toUTCString());
    const body = (await res.json()) as { exit_code: number; findings: Array<{ check: string; severity: string; title: string }>; skipped: unknown[]; passed: string[] };
    expect(Object.keys(body)).toEqual(['exit_code', 'findings', 'skipped', 'passed']);
    expect(body.exit_code).toBe(2);
    expect(body.findings).toEqual([expect.objectContaining({ check: 'stuck-queue', severity: 'critical', title: 'queue immich_bull:smartSearch (redis:6379/0) has 25 job(s) and no worker connected' })]);
    const page = await (await h.get('/')).text();
    expect(page).toContain('queue immich_bull:smartSearch (redis:6379/0) has 25 job(s) and no worker connected');
    expect(page).toContain('now 25 · low 25 · high 25');
  });
});
