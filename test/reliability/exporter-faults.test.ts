/**
 * Fault matrix, the exporter itself: 50 concurrent scrapes, clients that abort mid-scrape, 100 scrapes
 * without fd/child/timer leaks. (SIGTERM during a scrape is in test/exporter.test.ts.)
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { leakDelta, snapshot } from '../helpers/leaks.js';

let exporter: RunningExporter;
beforeAll(async () => {
  exporter = await startExporter();
});
afterAll(async () => {
  await exporter?.stop();
});

describe('fault matrix: the exporter', () => {
  it('50 concurrent scrapes all answer 200 with the same collection', async () => {
    const bodies = await Promise.all(Array.from({ length: 50 }, () => exporter.scrape()));
    expect(bodies.every((b) => b.includes('silentwatch_collector_success{collector="host"} 1'))).toBe(true);
  });

  it('scrapes aborted by the client mid-way do not hurt the next scrape or leak', async () => {
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
  });

  it('100 scrapes: no fd, child process or timer leak', async () => {
    const before = await snapshot(exporter);
    for (let i = 0; i < 100; i++) await exporter.scrape();
    const d = leakDelta(before, await snapshot(exporter));
    expect(d).toEqual({ fds: expect.any(Number), children: 0, timers: expect.any(Number) });
    expect(d.fds).toBeLessThanOrEqual(2);
    expect(d.timers).toBeLessThanOrEqual(1);
    expect(exporter.daemon.exited()).toBe(false);
  });
});
