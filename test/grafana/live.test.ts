/**
 * Every dashboard query through a real Prometheus scraping the real exporter: each must be accepted by
 * /api/v1/query (status success) with its variables substituted, and the queries whose metrics the exporter already
 * emits with zero configuration must return at least one series (no panel showing "No data" because of a typo).
 *
 * EXPECTED lists every query of every dashboard. After a collector merges, flip its queries from 'accepted' to
 * 'series' (and start the exporter against the component it watches) — one-line changes. A query missing from the
 * table, or a stale entry, fails the test so the table stays complete.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { dashboardQueries, substitute, type DashboardJson, type DashboardQuery } from './queries.js';

type Expect = 'series' | 'accepted';

/** "<dashboard uid> / <panel title> / <refId>" (or "/ annotation <name>", "/ variable <name>") → expectation. */
const EXPECTED: Record<string, Expect> = {
  // overview
  'silentwatch-overview / Firing silentwatch alerts / A': 'accepted', // no rule files loaded here
  'silentwatch-overview / Collector health / A': 'series',
  'silentwatch-overview / OOM kills in the last 24 h by container / A': 'accepted',
  'silentwatch-overview / Host OOM kills in the last 24 h / A': 'series',
  'silentwatch-overview / Containers near their memory limit / A': 'accepted',
  'silentwatch-overview / Host memory available / A': 'series',
  'silentwatch-overview / Oldest waiting job age / A': 'accepted',
  'silentwatch-overview / Stalled or growing queues / A': 'accepted',
  'silentwatch-overview / GPU free VRAM / A': 'accepted',
  'silentwatch-overview / Top VRAM holders / A': 'accepted',
  'silentwatch-overview / llama-swap 5xx ratio per model / A': 'accepted',
  'silentwatch-overview / llama-swap reachable / A': 'accepted',
  'silentwatch-overview / ML backend probes / A': 'accepted',
  'silentwatch-overview / Mount health / A': 'accepted',
  'silentwatch-overview / Collector failures in the last hour / A': 'series',
  'silentwatch-overview / Collector duration / A': 'series',
  'silentwatch-overview / Exporter event-loop lag p99 / A': 'series',
  'silentwatch-overview / Exporter memory and version / A': 'series',
  'silentwatch-overview / variable instance': 'series',
  // containers
  'silentwatch-containers / Memory working set / limit / A': 'accepted',
  'silentwatch-containers / Memory working set / A': 'accepted',
  'silentwatch-containers / Memory limit / A': 'accepted',
  'silentwatch-containers / RSS and page cache / A': 'accepted',
  'silentwatch-containers / RSS and page cache / B': 'accepted',
  'silentwatch-containers / Containers without a limit / A': 'accepted',
  'silentwatch-containers / Kernel OOM kills / A': 'accepted',
  'silentwatch-containers / Memory limit hits (OOM events) / A': 'accepted',
  'silentwatch-containers / Docker OOMKilled flag / A': 'accepted',
  'silentwatch-containers / State and health / A': 'accepted',
  'silentwatch-containers / State and health / B': 'accepted',
  'silentwatch-containers / Restarts / A': 'accepted',
  'silentwatch-containers / Uptime / A': 'accepted',
  'silentwatch-containers / annotation OOM kills': 'accepted',
  'silentwatch-containers / annotation Container restarts': 'accepted',
  'silentwatch-containers / variable instance': 'series',
  'silentwatch-containers / variable container': 'accepted',
  // queues
  'silentwatch-queues / Oldest waiting job age / A': 'accepted',
  'silentwatch-queues / Waiting jobs / A': 'accepted',
  'silentwatch-queues / Jobs by state / A': 'accepted',
  'silentwatch-queues / Backlog growth / A': 'accepted',
  'silentwatch-queues / Workers connected / A': 'accepted',
  'silentwatch-queues / Failed jobs / A': 'accepted',
  'silentwatch-queues / Paused queues / A': 'accepted',
  'silentwatch-queues / variable instance': 'series',
  'silentwatch-queues / variable queue': 'accepted',
  // GPUs
  'silentwatch-gpus / Free VRAM ratio / A': 'accepted',
  'silentwatch-gpus / VRAM used and total / A': 'accepted',
  'silentwatch-gpus / VRAM used and total / B': 'accepted',
  'silentwatch-gpus / Unattributed VRAM / A': 'accepted',
  'silentwatch-gpus / GPU utilisation / A': 'accepted',
  'silentwatch-gpus / GPU memory per process / A': 'accepted',
  'silentwatch-gpus / GPU memory per container / A': 'accepted',
  'silentwatch-gpus / Engine busy per process (DRM) / A': 'accepted',
  'silentwatch-gpus / DRM resident memory / A': 'accepted',
  'silentwatch-gpus / DRM clients / A': 'accepted',
  'silentwatch-gpus / GPU inventory / A': 'accepted',
  'silentwatch-gpus / variable instance': 'series',
  'silentwatch-gpus / variable gpu': 'accepted',
  // llama-swap
  'silentwatch-llamaswap / 5xx ratio per model / A': 'accepted',
  'silentwatch-llamaswap / Requests by status code / A': 'accepted',
  'silentwatch-llamaswap / Model load failures / A': 'accepted',
  'silentwatch-llamaswap / Activity rows missed / A': 'accepted',
  'silentwatch-llamaswap / Request duration p95 / A': 'accepted',
  'silentwatch-llamaswap / Model state / A': 'accepted',
  'silentwatch-llamaswap / llama-swap reachable / A': 'accepted',
  'silentwatch-llamaswap / variable instance': 'series',
  'silentwatch-llamaswap / variable model': 'accepted',
};

const DIR = new URL('../../grafana/dashboards/', import.meta.url);
const queries: DashboardQuery[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((f) => dashboardQueries(JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as DashboardJson));

describe('the expectation table covers every dashboard query', () => {
  it('no query is missing from EXPECTED and no entry is stale', () => {
    expect(queries.length).toBeGreaterThan(50);
    expect(queries.map((q) => q.key).filter((k) => !(k in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((k) => !queries.some((q) => q.key === k))).toEqual([]);
  });
});

describe('dashboard queries against real Prometheus scraping the real exporter', () => {
  let exporter: RunningExporter | undefined;
  let prom: RunningPrometheus | undefined;
  let values: Record<string, string>;

  beforeAll(async () => {
    exporter = await startExporter();
    prom = await startPrometheus({ targets: [`127.0.0.1:${exporter.port}`], scrapeInterval: '1s' });
    // "All" for the multi-value variables (allValue .*), the real target for instance: what Grafana would send.
    values = { instance: `127.0.0.1:${exporter.port}`, container: '.*', queue: '.*', gpu: '.*', model: '.*' };
    // rate()/increase() need two samples in their window.
    await prom.waitForSeries(`count_over_time(silentwatch_build_info{instance="${values.instance}"}[1m]) >= 3`, 30_000);
  });

  afterAll(async () => {
    await prom?.stop();
    await exporter?.stop();
  });

  /** Raw /api/v1/query: the status and error as Prometheus answers them. */
  const query = async (expr: string): Promise<{ status: string; error?: string; series: number }> => {
    const res = await fetch(`${prom?.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    return { status: body.status, error: body.error, series: body.data?.result.length ?? 0 };
  };

  it.each(queries.map((q) => [q.key, q] as const))('%s', async (key, q) => {
    const expr = substitute(q.expr, values);
    const r = await query(expr);
    expect(r, `${expr}: ${r.error ?? ''}`).toMatchObject({ status: 'success' });
    if (EXPECTED[key] === 'series') expect(r.series, `${key}: no series for ${expr}`).toBeGreaterThan(0);
  });

  it('a query with a metric typo is caught (the harness is not vacuous)', async () => {
    const typo = await query(`silentwatch_host_oom_kill_total{instance=~"${values.instance}"}`);
    expect(typo).toMatchObject({ status: 'success', series: 0 });
    const broken = await query('sum by (collector (silentwatch_collector_success)');
    expect(broken.status).toBe('error');
  });
});
