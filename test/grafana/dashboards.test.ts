/**
 * Static checks of the generated dashboards (test/golden/generated.test.ts keeps them equal to the generator): every PromQL parses with the real
 * PromQL grammar (@prometheus-io/lezer-promql), every metric and label is in the contract, conventions hold.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDashboards } from '../../grafana/src/index.js';
import { UIDS } from '../../grafana/src/constants.js';
import { ALL_COLLECTORS } from '../../src/collectors/index.js';
import { catalogue, metricContract } from '../../src/docs/catalogue.js';
import { defineMetric } from '../../src/metrics.js';
import { allowedLabels, CONTRACT } from './contract.js';
import { allPanels, analyse, dashboardQueries, labelValuesToPromQL, substitute, type DashboardJson } from './queries.js';

const DIR = new URL('../../grafana/dashboards/', import.meta.url);
const rendered = renderDashboards();
const committed = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const dashboards: DashboardJson[] = committed.map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as DashboardJson);

/** Plausible values of the template variables (one value each, as Grafana substitutes into regex matchers). */
const PLAUSIBLE = {
  datasource: 'prometheus',
  instance: 'silentwatch:9184',
  container: 'immich_machine_learning',
  queue: 'smartSearch',
  gpu: '0',
  model: 'qwen2.5-7b-instruct',
};

describe('generated dashboards', () => {
  it('has the five dashboards with stable UIDs, file named after the UID', () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(Object.values(UIDS).sort());
    for (const d of dashboards) expect(committed).toContain(`${d.uid}.json`);
  });

  it('generation is deterministic', () => {
    expect(renderDashboards()).toEqual(rendered);
  });

  it('finds queries to check in every dashboard (the checks below are not vacuous)', () => {
    for (const d of dashboards) expect(dashboardQueries(d).length, d.uid).toBeGreaterThan(5);
  });
});

describe.each(dashboards.map((d) => [d.uid, d] as const))('%s', (_uid, d) => {
  const panels = allPanels(d).filter((p) => p.type !== 'row');

  it('every panel has a title, a description, a unit and unique id', () => {
    const ids = new Set<number>();
    for (const p of panels) {
      expect(p.title, JSON.stringify(p).slice(0, 100)).toBeTruthy();
      expect(p.description?.length ?? 0, `description of ${p.title}`).toBeGreaterThan(20);
      expect(p.fieldConfig?.defaults?.unit, `unit of ${p.title}`).toMatch(/^(bytes|s|percentunit|short|reqps)$/);
      expect(p.id, `id of ${p.title}`).toBeTypeOf('number');
      expect(ids.has(p.id as number), `duplicate id ${p.id}`).toBe(false);
      ids.add(p.id as number);
      expect(p.targets?.length ?? 0, `queries of ${p.title}`).toBeGreaterThan(0);
    }
  });

  it('uses the ${datasource} variable everywhere, never a hard-coded datasource', () => {
    const ds = d.templating.list.find((v) => v.name === 'datasource');
    expect(ds?.type).toBe('datasource');
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    for (const a of d.annotations?.list ?? []) expect(a.datasource, a.name).toEqual({ type: 'prometheus', uid: '${datasource}' });
    for (const v of d.templating.list.filter((x) => x.type === 'query')) expect(v.datasource, v.name).toEqual({ type: 'prometheus', uid: '${datasource}' });
    // Any "uid" anywhere in the JSON other than the dashboard's own is the variable.
    const uids = [...JSON.stringify(d).matchAll(/"uid":"([^"]*)"/g)].map((m) => m[1]);
    expect(new Set(uids)).toEqual(new Set([d.uid, '${datasource}']));
  });

  it('every query filters by $instance (except the instance variable and ALERTS), and every variable it uses is defined', () => {
    const defined = new Set(d.templating.list.map((v) => v.name));
    for (const q of dashboardQueries(d)) {
      // Alerts aggregated by the rules may have no instance label: filtering them would hide firing alerts.
      if (!q.key.endsWith('variable instance') && !q.expr.includes('ALERTS{')) expect(q.expr, q.key).toContain('instance=~"$instance"');
      for (const m of q.expr.matchAll(/\$\{?(\w+)/g)) if (!(m[1] as string).startsWith('__')) expect(defined, `${q.key}: $${m[1]}`).toContain(m[1]);
    }
  });

  it('every PromQL expression parses (lezer-promql, variables substituted) and has no error node', () => {
    for (const q of dashboardQueries(d)) {
      const expr = substitute(q.expr, PLAUSIBLE);
      expect(expr, q.key).not.toMatch(/\$/);
      const a = analyse(expr);
      expect(a.errors, `${q.key}: ${expr}`).toEqual([]);
      expect(a.metrics.length, q.key).toBeGreaterThan(0);
    }
  });

  it('every metric and label a query uses is in the metric contract', () => {
    for (const q of dashboardQueries(d)) {
      const a = analyse(substitute(q.expr, PLAUSIBLE));
      const union = new Set<string>();
      let any = false;
      for (const m of a.metrics) {
        const labels = allowedLabels(m);
        expect(labels, `${q.key}: metric ${m} is not in the contract`).not.toBeUndefined();
        if (labels === null) any = true;
        else for (const l of labels ?? []) union.add(l);
      }
      for (const [m, l] of a.matchers) {
        const labels = allowedLabels(m);
        if (labels !== null) expect(labels, `${q.key}: ${m} has no label ${l}`).toContain(l);
      }
      if (!any) for (const l of a.grouping) expect([...union], `${q.key}: grouping label ${l} exists on none of ${a.metrics.join(', ')}`).toContain(l);
    }
  });
});

describe('drill-downs', () => {
  const byUid = new Map(dashboards.map((d) => [d.uid, d]));
  it.each([
    [UIDS.containers, 'container'],
    [UIDS.queues, 'queue'],
    [UIDS.gpus, 'gpu'],
    [UIDS.llamaswap, 'model'],
  ])('%s has the datasource, instance and %s variables', (uid, v) => {
    const names = byUid.get(uid)?.templating.list.map((x) => x.name);
    expect(names).toEqual(['datasource', 'instance', v]);
  });
  it('the containers dashboard annotates OOM kills and restarts', () => {
    const ann = byUid.get(UIDS.containers)?.annotations?.list ?? [];
    expect(ann.map((a) => a.expr).join('\n')).toMatch(/changes\(silentwatch_container_oom_kills_total/);
    expect(ann.map((a) => a.expr).join('\n')).toMatch(/changes\(silentwatch_container_restarts_total/);
  });
  it('label_values variable queries translate to PromQL', () => {
    expect(labelValuesToPromQL('label_values(silentwatch_gpu_info{instance=~"$instance"}, gpu)')).toBe('count by (gpu) (silentwatch_gpu_info{instance=~"$instance"})');
    expect(() => labelValuesToPromQL('query_result(up)')).toThrow(/unsupported/);
  });
});

describe('the checker itself catches mistakes', () => {
  it('flags a syntax error, an unknown metric and an unknown label', () => {
    expect(analyse('sum by (container) (rate(silentwatch_container_oom_kills_total[5m])').errors.length).toBeGreaterThan(0);
    expect(allowedLabels('silentwatch_container_oom_kill_total')).toBeUndefined();
    expect(allowedLabels('silentwatch_llamaswap_requests_total')).not.toContain('instance_name');
    expect(allowedLabels('silentwatch_llamaswap_request_duration_seconds_bucket')).toContain('le');
    expect(() => substitute('x{a=~"$nope"}', {})).toThrow(/no value/);
  });
  it('the contract is the catalogue: a renamed metric or label in a definition changes what panels may use', () => {
    expect(Object.keys(CONTRACT)).toEqual(expect.arrayContaining(catalogue(ALL_COLLECTORS).map((e) => e.def.name)));
    expect(CONTRACT.silentwatch_llamaswap_request_duration_seconds).toEqual({ type: 'histogram', labels: ['server', 'model'] });
    expect(CONTRACT.silentwatch_host_oom_kills_total).toEqual({ type: 'counter', labels: [] });
    // a rename in a collector's definition is seen
    const renamedDef = defineMetric({ name: 'silentwatch_queue_worker_count', type: 'gauge', help: 'renamed on purpose by this test', labels: ['prefix', 'queue_name'] });
    const renamed = metricContract(ALL_COLLECTORS.map((c) => (c.name === 'queues' ? { ...c, metrics: c.metrics.map((d) => (d.name === 'silentwatch_queue_workers' ? renamedDef : d)) } : c)));
    expect(renamed.get('silentwatch_queue_workers')).toBeUndefined();
    expect(renamed.get('silentwatch_queue_worker_count')?.labels).toEqual(['prefix', 'queue_name']);
  });
});

describe('provisioning files', () => {
  const yml = (p: string): Record<string, unknown> => parse(readFileSync(new URL(`../../grafana/provisioning/${p}`, import.meta.url), 'utf8')) as Record<string, unknown>;
  it('dashboard provider loads a folder of files', () => {
    const y = yml('dashboards/silentwatch.yml') as { apiVersion: number; providers: Array<{ type: string; options: { path: string } }> };
    expect(y.apiVersion).toBe(1);
    expect(y.providers[0]?.type).toBe('file');
    expect(y.providers[0]?.options.path).toMatch(/^\//);
  });
  it('datasource is a Prometheus', () => {
    const y = yml('datasources/prometheus.yml') as { apiVersion: number; datasources: Array<{ type: string; url: string }> };
    expect(y.apiVersion).toBe(1);
    expect(y.datasources[0]?.type).toBe('prometheus');
  });
});
