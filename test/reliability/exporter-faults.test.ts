/**
 * Fault matrix, the exporter itself: 50 concurrent scrapes, clients that abort mid-scrape, 100 scrapes without
 * fd/child/timer leaks, and SIGTERM while a scrape is provably in flight (a probe target answers after 800 ms).
 * Case names are rows of docs/reliability.md.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { leakDelta, snapshot } from '../helpers/leaks.js';
import { serve, type Backend } from '../helpers/probes.js';

let exporter: RunningExporter;
beforeAll(async () => {
  exporter = await startExporter();
});
afterAll(async () => {
  await exporter?.stop();
});

describe('fault matrix: the exporter', () => {
  it('exporter: 50 concurrent scrapes', async () => {
    const t0 = performance.now();
    const bodies = await Promise.all(Array.from({ length: 50 }, () => exporter.scrape()));
    const ms = Math.round(performance.now() - t0);
    expect(bodies.every((b) => b.includes('silentwatch_collector_success{collector="host"} 1'))).toBe(true);
    console.log(`[fault] exporter: 50 concurrent scrapes: 50/50 answered 200 with every collector, all within ${ms} ms`);
  });

  it('exporter: a scrape aborted by the client', async () => {
    const before = await snapshot(exporter);
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port: exporter.port, path: '/metrics' }, (res) => {
          res.destroy();
          resolve();
        });
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => req.destroy(), i % 2 ? 0 : 1);
      });
    }
    expect(await exporter.scrape()).toContain('silentwatch_build_info');
    const d = leakDelta(before, await snapshot(exporter));
    expect(d.fds).toBeLessThanOrEqual(3);
    expect(d.children).toBe(0);
    expect(exporter.daemon.exited()).toBe(false);
    console.log(`[fault] exporter: a scrape aborted by the client: 20 aborted, next scrape 200, leak ${JSON.stringify(d)}`);
  });

  it('exporter: 100 scrapes of a healthy exporter', async () => {
    const before = await snapshot(exporter);
    for (let i = 0; i < 100; i++) await exporter.scrape();
    const d = leakDelta(before, await snapshot(exporter));
    expect(d).toEqual({ fds: expect.any(Number), children: 0, timers: expect.any(Number) });
    expect(d.fds).toBeLessThanOrEqual(2);
    expect(d.timers).toBeLessThanOrEqual(1);
    expect(exporter.daemon.exited()).toBe(false);
    console.log(`[fault] exporter: 100 scrapes of a healthy exporter: leak ${JSON.stringify(d)}`);
  });

  it('exporter: SIGTERM during a scrape', async () => {
    const slow: Backend = await serve(() => ({ status: 200, body: 'pong', delayMs: 800 }));
    const e = await startExporter([`--collector.probes.targets=slow=http://127.0.0.1:${slow.port}/ping`, '--collector.timeout=3s']);
    try {
      let answered = 0;
      const t0 = performance.now();
      const scrape = e.scrape().finally(() => (answered = performance.now() - t0));
      await new Promise((r) => setTimeout(r, 300));
      expect(answered, 'the scrape is still in flight when SIGTERM is sent').toBe(0);
      const stopped = e.stop();
      // A new connection after SIGTERM is not served.
      await new Promise((r) => setTimeout(r, 100));
      const late = await fetch(`${e.url}/metrics`).then(
        (r) => r.status,
        () => 'refused',
      );
      const body = await scrape;
      const code = await stopped;
      expect(body).toMatch(/silentwatch_probe_success\{[^}]*target="slow"[^}]*\} 1/);
      expect(code).toBe(0);
      expect(late).toBe('refused');
      expect(e.logs().some((l) => l.msg === 'shutting down')).toBe(true);
      console.log(`[fault] exporter: SIGTERM during a scrape: SIGTERM at 300 ms, scrape answered 200 complete at ${Math.round(answered)} ms, exit 0, new connections refused`);
    } finally {
      await e.stop();
      await slow.stop();
    }
  });
});
