/**
 * The culprit text appended to alert descriptions (rules/src/culprits.ts): keyed by shipped alerts only, present in
 * the rendered rule files, and each `query` in it is valid PromQL over metrics the exporter documents. What the
 * text says when the alert fires is proven by promtool (rules/tests/culprits.test.yml, run by rules.test.ts) and
 * through real Prometheus + Alertmanager in e2e-culprits.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ALL_ALERTS, resolveThresholds } from '../../rules/src/index.js';
import { CULPRITS } from '../../rules/src/culprits.js';
import { renderGroups } from '../../rules/src/index.js';
import { knownMetrics } from './contract.js';
import { selectedMetrics } from './promql.js';

/** The PromQL of every `printf "<promql>" args… | query` in a template, with %q filled by a label value. */
function queriesOf(template: string): string[] {
  return [...template.matchAll(/printf "((?:[^"\\]|\\.)*)"[^|]*\| query/g)].map((m) => (m[1] as string).replaceAll('\\"', '"').replaceAll('%q', '"x"'));
}

describe('culprit annotations', () => {
  it('name only alerts that exist, and the ones the pages need', () => {
    const names = new Set(ALL_ALERTS.map((a) => a.alert));
    for (const alert of Object.keys(CULPRITS)) expect(names, `culprits.ts names ${alert}`).toContain(alert);
    for (const want of ['GpuFreeVramLow', 'LlamaSwapModelLoadFailing', 'LlamaSwapHighErrorRate', 'ContainerOOMKillInside', 'QueueStalled', 'QueueNoWorkers']) expect(Object.keys(CULPRITS)).toContain(want);
  });

  it('are appended to the rendered description of their alert', () => {
    const rules = [...renderGroups(resolveThresholds({})).values()].flatMap((f) => f.groups.flatMap((g) => g.rules));
    for (const [alert, text] of Object.entries(CULPRITS)) {
      const rule = rules.find((r) => r.alert === alert);
      expect(rule?.annotations.description.endsWith(text), alert).toBe(true);
    }
  });

  it('query valid PromQL over documented metrics, scoped to the alert\'s own exporter', () => {
    const known = knownMetrics();
    for (const [alert, text] of Object.entries(CULPRITS)) {
      const queries = queriesOf(text);
      expect(queries.length, alert).toBeGreaterThan(0);
      for (const q of queries) {
        const sel = selectedMetrics(q);
        expect(sel.errors, `${alert}: ${q}`).toEqual([]);
        for (const n of sel.names) expect(known, `${alert} queries ${n}`).toContain(n);
        expect(q, `${alert} must not mix hosts`).toContain('instance="x"');
      }
    }
  });
});
