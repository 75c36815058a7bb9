/**
 * Every dashboard query through a real Prometheus scraping the incident lab (test/helpers/lab.ts: the real exporter
 * watching a real dockerd with an OOM-killed container, redis with a stalled and a busy BullMQ queue, seed 002's GPU
 * through the fake nvidia-smi, failing llama-swap stand-ins, ML backends one up one down, a tmpfs mount; and a second
 * exporter on a fake DRM host), with the shipped rules loaded (short `for:`) so ALERTS has firing alerts.
 * Each variable's query must list the lab's values; panels are queried as Grafana does by default, with "All"
 * selected (allValue .*, which also covers series the variable cannot list). Each query must be accepted (status success) and EVERY panel must return
 * at least one series: a panel left "No data" is a typo or a dead panel.
 *
 * EXPECTED lists every query of every dashboard: 'series' (must have data here) or a reason why this lab cannot
 * give it data. A query missing from the table, or a stale entry, fails the test so the table stays complete.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCommand } from '../helpers/daemon.js';
import { dockerUnavailableReason, startLab, type Lab } from '../helpers/lab.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { renderTestRules, type TestRules } from '../helpers/rules.js';
import { dashboardQueries, substitute, type DashboardJson, type DashboardQuery } from './queries.js';

/**
 * 'series', or { accepted: why no lab can give this query data }: then only a valid query is required. Keep the
 * escape hatch honest (a reason, never a silent skip).
 */
type Expect = 'series' | { accepted: string };


/** "<dashboard uid> / <panel title> / <refId>" (or "/ annotation <name>", "/ variable <name>") → expectation. */
const EXPECTED: Record<string, Expect> = {
  // overview
  'silentwatch-overview / Firing silentwatch alerts / A': 'series', // the lab's incidents fire alerts (rules loaded, short for:)
  'silentwatch-overview / Collector health / A': 'series',
  'silentwatch-overview / OOM kills in the last 24 h by container / A': 'series',
  'silentwatch-overview / Host OOM kills in the last 24 h / A': 'series',
  'silentwatch-overview / Containers near their memory limit / A': 'series',
  'silentwatch-overview / Host memory available / A': 'series',
  'silentwatch-overview / Oldest waiting job age / A': 'series',
  'silentwatch-overview / Stalled or growing queues / A': 'series',
  'silentwatch-overview / GPU free VRAM / A': 'series',
  'silentwatch-overview / Top VRAM holders / A': 'series',
  'silentwatch-overview / llama-swap 5xx ratio per model / A': 'series',
  'silentwatch-overview / llama-swap reachable / A': 'series',
  'silentwatch-overview / ML backend probes / A': 'series',
  'silentwatch-overview / Mount health / A': 'series',
  'silentwatch-overview / Collector failures in the last hour / A': 'series',
  'silentwatch-overview / Collector duration / A': 'series',
  'silentwatch-overview / Exporter event-loop lag p99 / A': 'series',
  'silentwatch-overview / Exporter memory and version / A': 'series',
  'silentwatch-overview / variable instance': 'series',
  // containers
  'silentwatch-containers / Memory working set / limit / A': 'series',
  'silentwatch-containers / Memory working set / A': 'series',
  'silentwatch-containers / Memory limit / A': 'series',
  'silentwatch-containers / RSS and page cache / A': 'series',
  'silentwatch-containers / RSS and page cache / B': 'series',
  'silentwatch-containers / Containers without a limit / A': 'series',
  'silentwatch-containers / Kernel OOM kills / A': 'series',
  // cgroup v2 only: the lab's fake host has a v2 hierarchy, so this has data even where the real host is v1
  'silentwatch-containers / Memory limit hits (OOM events) / A': 'series',
  'silentwatch-containers / Docker OOMKilled flag / A': 'series',
  'silentwatch-containers / Memory pressure (all tasks stalled) / A': { accepted: "per-container pressure (memory.pressure) exists on cgroup v2 only, and the lab's dockerd uses the host's hierarchy, which is v1 on the test machines" },
  'silentwatch-containers / Peak usage / limit / A': 'series',
  'silentwatch-containers / Killed as a whole (OOM exits and pod kills) / A': 'series',
  'silentwatch-containers / Killed as a whole (OOM exits and pod kills) / B': { accepted: 'the lab runs Docker containers, no Kubernetes pod (pod-level kills are tested in test/collectors/containers/kubernetes.test.ts)' },
  'silentwatch-containers / State and health / A': 'series',
  'silentwatch-containers / State and health / B': 'series',
  'silentwatch-containers / Restarts / A': 'series',
  'silentwatch-containers / Uptime / A': 'series',
  'silentwatch-containers / annotation OOM kills': 'series',
  'silentwatch-containers / annotation Container restarts': 'series',
  'silentwatch-containers / variable instance': 'series',
  'silentwatch-containers / variable container': 'series',
  // queues
  'silentwatch-queues / Oldest waiting job age / A': 'series',
  'silentwatch-queues / Waiting jobs / A': 'series',
  'silentwatch-queues / Jobs by state / A': 'series',
  'silentwatch-queues / Backlog growth / A': 'series',
  'silentwatch-queues / Workers connected / A': 'series',
  'silentwatch-queues / Failed jobs / A': 'series',
  'silentwatch-queues / Paused queues / A': 'series',
  'silentwatch-queues / Throughput (jobs finished per minute) / A': 'series', // the busy queue completes jobs
  'silentwatch-queues / Oldest active job / A': 'series', // the busy queue's worker holds a job
  'silentwatch-queues / Backlog (ready to run) / A': 'series',
  'silentwatch-queues / Events lost to trimming / A': 'series', // 0 for every queue with a stream
  'silentwatch-queues / variable instance': 'series',
  'silentwatch-queues / variable queue': 'series',
  // GPUs
  'silentwatch-gpus / Free VRAM ratio / A': 'series',
  'silentwatch-gpus / VRAM used and total / A': 'series',
  'silentwatch-gpus / VRAM used and total / B': 'series',
  'silentwatch-gpus / Unattributed VRAM / A': 'series',
  'silentwatch-gpus / GPU utilisation / A': 'series',
  'silentwatch-gpus / GPU memory per process / A': 'series',
  'silentwatch-gpus / GPU memory per container / A': 'series',
  'silentwatch-gpus / Engine busy per process (DRM) / A': 'series',
  'silentwatch-gpus / DRM resident memory / A': 'series',
  'silentwatch-gpus / DRM clients / A': 'series',
  'silentwatch-gpus / GPU inventory / A': 'series',
  'silentwatch-gpus / variable instance': 'series',
  'silentwatch-gpus / variable gpu': 'series',
  // llama-swap
  'silentwatch-llamaswap / 5xx ratio per model / A': 'series',
  'silentwatch-llamaswap / Requests by status code / A': 'series',
  'silentwatch-llamaswap / Model load failures / A': 'series',
  'silentwatch-llamaswap / Activity rows missed / A': 'series',
  'silentwatch-llamaswap / Request duration p95 / A': 'series',
  'silentwatch-llamaswap / Model state / A': 'series',
  'silentwatch-llamaswap / llama-swap reachable / A': 'series',
  'silentwatch-llamaswap / Oldest request in flight / A': 'series',
  'silentwatch-llamaswap / Requests in flight / A': 'series',
  'silentwatch-llamaswap / Model swaps per 5m / A': 'series',
  'silentwatch-llamaswap / Failed loads (transitions) / A': 'series',
  'silentwatch-llamaswap / Request log by status class / A': 'series',
  'silentwatch-llamaswap / Live state source / A': 'series',
  'silentwatch-llamaswap / variable instance': 'series',
  'silentwatch-llamaswap / variable model': 'series',
};

const DIR = new URL('../../grafana/dashboards/', import.meta.url);
const queries: DashboardQuery[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((f) => dashboardQueries(JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as DashboardJson));
/** Per dashboard uid: variable → what Grafana sends with "All" selected (its allValue; none of them lacks one). */
const ALL_VALUES = new Map(
  readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as DashboardJson)
    .map((d) => [d.uid, Object.fromEntries(d.templating.list.filter((v) => v.type === 'query').map((v) => [v.name, v.includeAll ? v.allValue : undefined]))] as const),
);

describe('the expectation table covers every dashboard query', () => {
  it('no query is missing from EXPECTED and no entry is stale', () => {
    expect(queries.length).toBeGreaterThan(50);
    expect(queries.map((q) => q.key).filter((k) => !(k in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((k) => !queries.some((q) => q.key === k))).toEqual([]);
  });
});

const missing = [!hasCommand('prometheus') && 'prometheus', dockerUnavailableReason()].filter(Boolean);

describe.skipIf(missing.length > 0)(`dashboard queries against real Prometheus scraping the incident lab (skipped: ${missing.join(', ') || 'nothing missing'})`, () => {
  let lab: Lab | undefined;
  let prom: RunningPrometheus | undefined;
  let rules: TestRules | undefined;
  /** Per dashboard uid: variable name → what Grafana sends with every value selected. */
  const values = new Map<string, Record<string, string>>();
  /** Per dashboard uid: variable name → the options its query lists in the lab. */
  const options = new Map<string, Record<string, string[]>>();
  /** For listing the options of a variable that depends on others: every other variable matches anything. */
  const ALL: Record<string, string> = { instance: '.*', container: '.*', queue: '.*', gpu: '.*', model: '.*' };

  beforeAll(async () => {
    rules = renderTestRules({ forOverride: '2s', thresholds: { queue_stalled_oldest_age_seconds: 5 } });
    lab = await startLab();
    prom = await startPrometheus({ targets: lab.targets, scrapeInterval: '1s', ruleFiles: rules.files });
    const p = prom;
    // Counters must be seen at their value before the incidents, or increase()/changes() miss them.
    await p.waitForSeries('count_over_time(silentwatch_container_oom_kills_total{container="immich_machine_learning"}[1m]) >= 2', 30_000);
    await Promise.all([lab.oomKill(), lab.driveLlamaSwap({ failing: 30, healthy: 10, spreadMs: 5000 })]);
    // What the time-windowed panels need: the OOM kill and a Docker restart inside the annotations' 2 m window, an
    // alert firing, the DRM engine counter moving, the stalled queue visible, and a few samples for every rate().
    await Promise.all([
      p.waitForSeries('changes(silentwatch_container_oom_kills_total{container="immich_machine_learning"}[2m]) > 0', 30_000),
      p.waitForSeries('changes(silentwatch_container_restarts_total{container="flaky"}[2m]) > 0', 60_000),
      p.waitForSeries('ALERTS{alertstate="firing", alertname="ContainerOOMKillInside"}', 30_000),
      p.waitForSeries('rate(silentwatch_gpu_process_engine_busy_seconds_total[1m]) > 0', 30_000),
      p.waitForSeries(`count_over_time(silentwatch_build_info[1m]) >= 5`, 30_000),
    ]);
    // Each variable's options, as Grafana lists them (dependency order: instance first, the others filtered by it) ...
    for (const q of queries.filter((x) => x.key.includes(' / variable '))) {
      const name = q.key.slice(q.key.lastIndexOf(' ') + 1);
      const own = options.get(q.uid) ?? {};
      options.set(q.uid, own);
      own[name] = (await p.query(substitute(q.expr, { ...ALL, instance: (own.instance ?? []).join('|') }))).map((r) => r.metric[name] ?? '');
    }
    // ... and what the panels get: "All", Grafana's default (the variable's allValue).
    for (const [uid, vars] of options) {
      values.set(uid, Object.fromEntries(Object.keys(vars).map((v) => {
        const all = ALL_VALUES.get(uid)?.[v];
        if (all === undefined) throw new Error(`${uid}: variable ${v} has no "All" value; pick a lab value for it here`);
        return [v, all];
      })));
    }
  }, 150_000);

  afterAll(async () => {
    await prom?.stop();
    await lab?.stop();
    rules?.remove();
  }, 90_000);

  /** Raw /api/v1/query: the status and error as Prometheus answers them. */
  const query = async (expr: string): Promise<{ status: string; error?: string; series: number }> => {
    const res = await fetch(`${prom?.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    return { status: body.status, error: body.error, series: body.data?.result.length ?? 0 };
  };

  it('the variables list the lab: both exporters, its containers, queues, GPU and models', () => {
    expect(options.get('silentwatch-overview')?.instance?.sort()).toEqual([...(lab as Lab).targets].sort());
    expect(options.get('silentwatch-containers')?.container).toEqual(expect.arrayContaining(['immich_machine_learning', 'jellyfin', 'flaky']));
    expect(options.get('silentwatch-queues')?.queue).toEqual(expect.arrayContaining(['smartSearch', 'thumbnailGeneration']));
    expect(options.get('silentwatch-gpus')?.gpu).toEqual(['0']);
    expect(options.get('silentwatch-llamaswap')?.model).toEqual(expect.arrayContaining(['qwen3-8b', 'bge-m3']));
  });

  it.each(queries.map((q) => [q.key, q] as const))('%s', async (key, q) => {
    const expr = substitute(q.expr, values.get(q.uid) ?? {});
    const r = await query(expr);
    expect(r, `${expr}: ${r.error ?? ''}`).toMatchObject({ status: 'success' });
    if (EXPECTED[key] === 'series') expect(r.series, `${key}: no series for ${expr}`).toBeGreaterThan(0);
  });

  it('a query with a metric typo is caught (the harness is not vacuous)', async () => {
    const typo = await query(`silentwatch_host_oom_kill_total{instance=~"${values.get('silentwatch-overview')?.instance}"}`);
    expect(typo).toMatchObject({ status: 'success', series: 0 });
    const broken = await query('sum by (collector (silentwatch_collector_success)');
    expect(broken.status).toBe('error');
  });
});
