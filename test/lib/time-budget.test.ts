/**
 * The time budget the runner hands to every collection: the deadline is the collector's time-out from the start of
 * the collection, remainingMs() shrinks towards it, and the signal aborts there with a TimeoutError.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCollector, type CollectRun } from '../../src/collectors/types.js';
import { TimeoutError } from '../../src/lib/async.js';
import { timeBudget } from '../../src/lib/time-budget.js';
import { silentLogger } from '../../src/logger.js';
import { CollectorRunner } from '../../src/runner.js';
import type { SharedServices } from '../../src/collectors/types.js';

describe('timeBudget', () => {
  it('remainingMs scales what is left, never below the floor or 0', () => {
    let now = 1_000;
    const b = timeBudget(new AbortController().signal, 3_000, () => now);
    expect(b.remainingMs()).toBe(2_000);
    expect(b.remainingMs(0.5)).toBe(1_000);
    now = 2_900;
    expect(b.remainingMs(0.5, 200)).toBe(200);
    now = 9_000;
    expect(b.remainingMs()).toBe(0);
  });

  it('the runner gives each collection its time-out as deadline and aborts the signal there', async () => {
    let seen: CollectRun | undefined;
    let aborted: unknown;
    const c = defineCollector({
      name: 'budget',
      description: 'records its budget',
      defaultEnabled: true,
      options: z.object({}),
      metrics: [],
      create: () => ({
        collect: async (_sink, run) => {
          seen = run;
          await new Promise<void>((resolve) => run.signal.addEventListener('abort', () => ((aborted = run.signal.reason), resolve()), { once: true }));
        },
      }),
    });
    const ctx = { name: c.name, options: {}, paths: { procfs: '/proc', sysfs: '/sys', rootfs: '/' }, log: silentLogger(), shared: {} as SharedServices, timeoutSeconds: 0.3 };
    const runner = new CollectorRunner([{ collector: c, enabled: true, context: ctx }], { log: silentLogger() });
    const started = Date.now();
    await runner.start();
    await runner.collect();
    await runner.close();
    expect(seen?.deadline).toBeGreaterThanOrEqual(started + 300);
    expect(seen?.deadline).toBeLessThan(started + 300 + 1_000);
    expect(seen?.remainingMs()).toBe(0);
    expect(aborted).toBeInstanceOf(TimeoutError);
    expect(runner.states()[0]?.last?.success).toBe(false);
  });
});
