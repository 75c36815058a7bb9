/**
 * The reliability fault matrix (issue 13): one driver for every "dependency × fault" case, run against the
 * real exporter process. For one case it proves, in order:
 *   1. while the fault holds, /metrics answers 200 within the collector time-out (plus a scheduling margin:
 *      2 shared cores), the affected collector reports silentwatch_collector_success 0 (or 1 where the
 *      expected behaviour is "served correctly despite the fault", e.g. a cgroup removed mid-read) and
 *      every other active collector reports 1;
 *   2. over `scrapes` scrapes under the fault: no fd / child-process / timer leak (test/helpers/leaks.ts),
 *      the process stays up;
 *   3. when the fault clears, the collector goes back to success 1 without a restart.
 * What was measured comes back as a FaultReport, so the test can assert on numbers and print them.
 */
import { expect } from 'vitest';
import { sleep, waitFor } from './daemon.js';
import type { RunningExporter } from './exporter.js';
import { leakDelta, snapshot, type ResourceSnapshot } from './leaks.js';
import { parseExposition, type ParsedExposition } from './metrics-text.js';

export interface FaultCase {
  /** The exporter under test (its collectors already configured with short time-outs). */
  readonly exporter: RunningExporter;
  /** The collector the fault is aimed at. */
  readonly collector: string;
  /** That collector's configured time-out, in ms. */
  readonly timeoutMs: number;
  /** Turns the fault on (it may already be on from the start: then a no-op). */
  inject(): Promise<void>;
  /** Turns it off again. */
  clear(): Promise<void>;
  /** Expected success of the affected collector while the fault holds (default 0). */
  readonly expectSuccess?: 0 | 1;
  /** Scrapes for the leak check (default 100). */
  readonly scrapes?: number;
  /** Extra slack over the time-out for one scrape, in ms (default 1500: 2 shared cores). */
  readonly marginMs?: number;
  /** How long recovery may take after clear(), in ms (default 15 s: client back-off, re-detection). */
  readonly recoveryMs?: number;
  /** Leak slack (defaults: 3 fds for keep-alive sockets, 0 children, 5 timers: the snapshot is itself a scrape, with its own time-out timers and those of concurrent work; a leak of one per scrape shows as 100). */
  readonly slack?: Partial<ResourceSnapshot>;
  /** Checked on every scrape under the fault (e.g. "no series of a vanished container"). */
  readonly check?: (m: ParsedExposition) => void;
  /**
   * For collectors that report a dependency's failure in their own series and stay successful (probes,
   * mounts): what the fault looks like in a scrape (default: affected collector success = expectSuccess)
   * and what healthy looks like (default: success 1), for the baseline and the recovery.
   */
  readonly faulty?: (m: ParsedExposition) => boolean;
  readonly healthy?: (m: ParsedExposition) => boolean;
}

export interface FaultReport {
  readonly collector: string;
  /** Scrapes done under the fault (including the ones that waited for it to show). */
  readonly scrapes: number;
  /** Slowest scrape under the fault, ms. */
  readonly maxScrapeMs: number;
  /** Scrapes under the fault in which the affected collector reported the expected success value. */
  readonly expectedSuccessScrapes: number;
  readonly leak: ResourceSnapshot;
  /** From clear() to success 1, ms. */
  readonly recoveryMs: number;
  /** Log line of the collector's failure (cause), when it failed. */
  readonly cause: string;
}

/** silentwatch_collector_success of one collector in a scrape. */
export const collectorSuccess = (m: ParsedExposition, collector: string): number | undefined => m.value('silentwatch_collector_success', { collector });

/** Active collectors other than `collector` (enabled = 1). */
function others(m: ParsedExposition, collector: string): string[] {
  return m
    .get('silentwatch_collector_enabled')
    .filter((s) => s.value === 1 && s.labels.collector !== collector)
    .map((s) => s.labels.collector as string);
}

/** One timed scrape: status must be 200. */
async function timedScrape(e: RunningExporter): Promise<{ ms: number; m: ParsedExposition }> {
  const t0 = performance.now();
  const res = await fetch(`${e.url}/metrics`);
  const body = await res.text();
  const ms = performance.now() - t0;
  expect(res.status, body.slice(0, 500)).toBe(200);
  return { ms, m: parseExposition(body) };
}

/** Waits for the collector to report success 1, or for `healthy` to hold (the baseline, or recovery). */
export async function waitSuccess(e: RunningExporter, collector: string, timeoutMs = 15_000, healthy?: (m: ParsedExposition) => boolean): Promise<ParsedExposition> {
  return waitFor(
    async () => {
      const m = await e.metrics();
      return collectorSuccess(m, collector) === 1 && (healthy?.(m) ?? true) ? m : undefined;
    },
    `collector ${collector} to report success 1${healthy ? ' and healthy series' : ''}`,
    timeoutMs,
    100,
  );
}

export async function runFault(c: FaultCase): Promise<FaultReport> {
  const e = c.exporter;
  const want = c.expectSuccess ?? 0;
  const limitMs = c.timeoutMs + (c.marginMs ?? 1500);
  const total = c.scrapes ?? 100;
  const slack = { fds: 3, children: 0, timers: 5, ...c.slack };

  // Healthy baseline first, so "recovered" below means something.
  const base = await waitSuccess(e, c.collector, 30_000, c.healthy);
  const faulty = c.faulty ?? ((m: ParsedExposition): boolean => collectorSuccess(m, c.collector) === want);
  const activeOthers = others(base, c.collector);
  expect(activeOthers.length, 'at least one other active collector to watch').toBeGreaterThan(0);

  await c.inject();
  let scrapes = 0;
  let maxMs = 0;
  let hits = 0;
  const one = async (): Promise<ParsedExposition> => {
    const { ms, m } = await timedScrape(e);
    scrapes++;
    maxMs = Math.max(maxMs, ms);
    expect(ms, `scrape ${scrapes} took ${Math.round(ms)} ms, limit ${limitMs}`).toBeLessThan(limitMs);
    for (const o of activeOthers) expect(collectorSuccess(m, o), `collector ${o} while ${c.collector} is faulted`).toBe(1);
    // A collector that reports the fault in its own series must itself stay successful throughout.
    if (c.faulty && want === 1) expect(collectorSuccess(m, c.collector), `collector ${c.collector} success under the fault`).toBe(1);
    if (faulty(m)) hits++;
    return m;
  };
  // The fault shows within a few scrapes (a kill mid-scrape may let the first one through).
  if (want === 0 || c.faulty) {
    await waitFor(async () => faulty(await one()), `the fault to show in collector ${c.collector}'s scrape`, Math.max(10_000, 4 * limitMs), 20);
  } else {
    await one();
  }
  const before = await snapshot(e);
  for (let i = 0; i < total; i++) {
    const m = await one();
    c.check?.(m);
  }
  // In-flight work of the last scrape (a killed child, a closing socket) settles before the snapshot.
  await sleep(200);
  const after = await snapshot(e);
  const leak = leakDelta(before, after);
  expect(e.daemon.exited(), 'exporter still running').toBe(false);
  expect(leak.fds, `fd growth over ${total} scrapes`).toBeLessThanOrEqual(slack.fds);
  expect(leak.children, 'child processes left').toBeLessThanOrEqual(slack.children);
  expect(leak.timers, 'timers left').toBeLessThanOrEqual(slack.timers);
  // Under the fault the collector reported the expected value in (nearly) every scrape.
  expect(hits, `scrapes with success ${want}`).toBeGreaterThanOrEqual(Math.floor(total * 0.95));

  const failures = e.logs().filter((l) => l.msg === 'collector failed' && l.collector === c.collector);
  const cause = String(failures.at(-1)?.cause ?? '');

  const t0 = performance.now();
  await c.clear();
  await waitSuccess(e, c.collector, c.recoveryMs ?? 15_000, c.healthy);
  const recoveryMs = performance.now() - t0;
  expect(e.daemon.exited(), 'exporter still running after recovery').toBe(false);
  return { collector: c.collector, scrapes, maxScrapeMs: Math.round(maxMs), expectedSuccessScrapes: hits, leak, recoveryMs: Math.round(recoveryMs), cause };
}

/** One line per case for the test log (and docs/reliability.md). */
export function describeReport(name: string, r: FaultReport): string {
  return `[fault] ${name}: ${r.scrapes} scrapes, max ${r.maxScrapeMs} ms, success-as-expected ${r.expectedSuccessScrapes}, leak fds ${r.leak.fds} children ${r.leak.children} timers ${r.leak.timers}, recovered in ${r.recoveryMs} ms${r.cause ? `; cause: ${r.cause.slice(0, 160)}` : ''}`;
}
