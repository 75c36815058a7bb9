/**
 * The runner's guarantees, through the real HTTP server: a collector that throws, hangs forever or
 * returns garbage costs only its own series; /metrics still answers 200 within the time-out.
 */
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCollector, type AnyCollector } from '../src/collectors/types.js';
import { createSharedServices } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger, type Logger } from '../src/logger.js';
import { defineMetric, type MetricDef } from '../src/metrics.js';
import { CollectorRunner } from '../src/runner.js';
import { createApp, listen } from '../src/server.js';
import { parseExposition } from './helpers/metrics-text.js';
import { pino } from 'pino';

const okGauge = defineMetric({ name: 'silentwatch_test_ok', type: 'gauge', help: 'test', labels: ['k'] });
const counter = defineMetric({ name: 'silentwatch_test_events_total', type: 'counter', help: 'test' });
const undeclared = defineMetric({ name: 'silentwatch_test_undeclared', type: 'gauge', help: 'test' });

function collector(name: string, collect: AnyCollector['create'] extends (...a: never[]) => infer R ? R extends { collect: infer C } ? C : never : never, metrics: MetricDef[] = [okGauge, counter]): AnyCollector {
  return defineCollector({ name, description: name, defaultEnabled: true, options: z.object({}), metrics, create: () => ({ collect }) });
}

const good = collector('good', async (sink) => {
  sink.set(okGauge, { k: 'a' }, 1);
  sink.set(counter, {}, 5);
});
const throwing = collector('throwing', async () => {
  throw new Error('redis: ECONNREFUSED');
});
const throwingSync = collector('throwing_sync', () => {
  throw new Error('sync boom');
});
let hangCalls = 0;
const hanging = collector('hanging', () => {
  hangCalls += 1;
  return new Promise<void>(() => undefined);
});
const garbage = collector('garbage', async (sink) => {
  sink.set(okGauge, { k: 'fine' }, 2);
  sink.set(okGauge, { k: 'nan' }, NaN);
  sink.set(okGauge, { k: 'inf' }, Infinity);
  sink.set(counter, {}, -1);
  sink.set(undeclared, {}, 1);
  sink.set(okGauge, { k: 'fine' }, 3); // duplicate series
  sink.set(okGauge, { wrong: 'label' } as unknown as { k: string }, 1);
});
const degraded = collector('degraded', async (sink) => {
  sink.set(okGauge, { k: 'partial' }, 7);
  sink.degraded('docker unreachable');
});

interface Harness {
  url: string;
  runner: CollectorRunner;
  lines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(collectors: AnyCollector[], timeout = '300ms'): Promise<Harness> {
  const config = loadConfig({ argv: [`--collector.timeout=${timeout}`], env: {}, collectors });
  const lines: Array<Record<string, unknown>> = [];
  const log: Logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  const shared = createSharedServices(config);
  const entries = collectors.map((c) => ({
    collector: c,
    enabled: true as const,
    context: { name: c.name, options: {}, paths: config.path, log, shared, timeoutSeconds: config.collectors.timeout },
  }));
  const runner = new CollectorRunner(entries, { log });
  await runner.start();
  const server: Server = await listen(createApp({ runner, log, telemetryPath: '/metrics' }), '127.0.0.1', 0);
  const port = (server.address() as { port: number }).port;
  harness = {
    url: `http://127.0.0.1:${port}`,
    runner,
    lines,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await runner.close();
    },
  };
  return harness;
}

async function scrape(h: Harness) {
  const started = performance.now();
  const res = await fetch(`${h.url}/metrics`);
  const text = await res.text();
  return { status: res.status, ms: performance.now() - started, m: parseExposition(text), text };
}

describe('collector runner', () => {
  it('a throwing, a hanging and a garbage collector cost only their own series', async () => {
    const h = await start([good, throwing, throwingSync, hanging, garbage, degraded]);
    const { status, ms, m } = await scrape(h);
    expect(status).toBe(200);
    expect(ms).toBeLessThan(2000); // time-out is 300 ms
    const success = (c: string) => m.value('silentwatch_collector_success', { collector: c });
    expect(success('good')).toBe(1);
    expect(success('throwing')).toBe(0);
    expect(success('throwing_sync')).toBe(0);
    expect(success('hanging')).toBe(0);
    expect(success('garbage')).toBe(0);
    expect(success('degraded')).toBe(0);
    expect(m.value('silentwatch_collector_duration_seconds', { collector: 'hanging' })).toBeCloseTo(0.3, 1);
    // good's samples are all there; the garbage collector's valid sample is kept, invalid ones dropped
    expect(m.value('silentwatch_test_ok', { k: 'a' })).toBe(1);
    expect(m.get('silentwatch_test_ok', { k: 'fine' }).map((s) => s.value)).toEqual([2]);
    expect(m.get('silentwatch_test_ok', { k: 'nan' })).toHaveLength(0);
    expect(m.get('silentwatch_test_ok', { k: 'inf' })).toHaveLength(0);
    expect(m.get('silentwatch_test_undeclared')).toHaveLength(0);
    // a degraded collector keeps what it could read
    expect(m.value('silentwatch_test_ok', { k: 'partial' })).toBe(7);
    // one log line per failing collector, naming the cause
    const failures = h.lines.filter((l) => l.msg === 'collector failed');
    expect(failures.map((l) => l.collector).sort()).toEqual(['degraded', 'garbage', 'hanging', 'throwing', 'throwing_sync']);
    expect(failures.find((l) => l.collector === 'throwing')?.cause).toBe('redis: ECONNREFUSED');
    expect(failures.find((l) => l.collector === 'hanging')?.cause).toMatch(/timed out after 0\.3s/);
    expect(String(failures.find((l) => l.collector === 'garbage')?.cause)).toMatch(/non-finite value NaN.*negative counter.*not declared.*duplicate series.*do not match declared/);
  });

  it('a hung collector is not started again beside itself, and the same failure is not logged every scrape', async () => {
    hangCalls = 0;
    const h = await start([good, hanging]);
    for (let i = 0; i < 5; i++) {
      const { status, m } = await scrape(h);
      expect(status).toBe(200);
      expect(m.value('silentwatch_collector_success', { collector: 'hanging' })).toBe(0);
    }
    expect(hangCalls).toBe(1);
    const m = (await scrape(h)).m;
    expect(m.value('silentwatch_collector_failures_total', { collector: 'hanging' })).toBe(6);
    // first: timed out; then: "still running" — two distinct causes, not six lines
    expect(h.lines.filter((l) => l.msg === 'collector failed' && l.collector === 'hanging')).toHaveLength(2);
  });

  it('concurrent scrapes share one collection', async () => {
    let calls = 0;
    const slow = collector('slow', async (sink) => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 100));
      sink.set(okGauge, { k: 'slow' }, calls);
    });
    const h = await start([slow], '2s');
    const results = await Promise.all(Array.from({ length: 10 }, () => scrape(h)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(calls).toBe(1);
    expect(new Set(results.map((r) => r.m.value('silentwatch_test_ok', { k: 'slow' })))).toEqual(new Set([1]));
  });

  it('a collector that recovers is logged once as recovered', async () => {
    let fail = true;
    const flaky = collector('flaky', async (sink) => {
      if (fail) throw new Error('down');
      sink.set(okGauge, { k: 'x' }, 1);
    });
    const h = await start([flaky]);
    expect((await scrape(h)).m.value('silentwatch_collector_success', { collector: 'flaky' })).toBe(0);
    fail = false;
    expect((await scrape(h)).m.value('silentwatch_collector_success', { collector: 'flaky' })).toBe(1);
    expect(h.lines.filter((l) => l.msg === 'collector recovered')).toHaveLength(1);
  });

  it('auto collectors: not detected -> enabled 0 and no success series; detected -> active', async () => {
    const absent = defineCollector({
      name: 'absent',
      description: 'absent',
      defaultEnabled: 'auto',
      options: z.object({}),
      metrics: [okGauge],
      detect: async () => ({ present: false, reason: 'nothing here' }),
      create: () => ({ collect: async () => undefined }),
    });
    const config = loadConfig({ argv: [], env: {}, collectors: [absent, good] });
    const log = silentLogger();
    const shared = createSharedServices(config);
    const runner = new CollectorRunner(
      [absent, good].map((c) => ({ collector: c, enabled: c.defaultEnabled, context: { name: c.name, options: {}, paths: config.path, log, shared, timeoutSeconds: 1 } })),
      { log },
    );
    await runner.start();
    const r = await runner.collect();
    const lines = r.samples.map((s) => `${s.def.name}${JSON.stringify(s.labels)}=${String(s.value)}`);
    expect(lines).toContain('silentwatch_collector_enabled{"collector":"absent"}=0');
    expect(lines.some((l) => l.startsWith('silentwatch_collector_success{"collector":"absent"}'))).toBe(false);
    expect(runner.states().find((s) => s.name === 'absent')?.reason).toBe('auto: nothing here');
    await runner.close();
  });
});
