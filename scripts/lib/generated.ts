/**
 * Every generated file of the repository and what it must contain, computed from its source (no I/O but reading
 * the sources): docs/metrics.md and docs/configuration.md from the collectors, rules/*.yml and docs/alerts.md from
 * rules/src/ and src/thresholds/, the Kubernetes PrometheusRule from the rendered rules, grafana/dashboards/*.json
 * from grafana/src/. scripts/generate.ts writes them or checks them.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { renderDashboards } from '../../grafana/src/index.js';
import { resolveThresholds } from '../../rules/src/index.js';
import { renderAlertsMarkdown, renderRuleFiles } from '../../rules/src/render.js';
import { ALL_COLLECTORS } from '../../src/collectors/index.js';
import { configurationMarkdown, metricsMarkdown } from '../../src/docs/catalogue.js';
import { groupsOf, prometheusRuleYaml } from './prometheusrule.js';

/** Folders whose files of the given extension are all generated: a file there that the generator no longer makes is stale. */
export const GENERATED_DIRS: ReadonlyArray<{ dir: string; ext: string }> = [
  { dir: 'rules', ext: '.yml' },
  { dir: 'grafana/dashboards', ext: '.json' },
];

/** Repository-relative path → exact content. */
export function generatedFiles(): Map<string, string> {
  const t = resolveThresholds();
  const rules = renderRuleFiles(t);
  const out = new Map<string, string>([
    ['docs/metrics.md', metricsMarkdown(ALL_COLLECTORS)],
    ['docs/configuration.md', configurationMarkdown(ALL_COLLECTORS)],
    ['docs/alerts.md', renderAlertsMarkdown(t)],
    ['deploy/kubernetes/prometheusrule.yaml', prometheusRuleYaml('rules', groupsOf(rules))],
  ]);
  for (const [f, text] of rules) out.set(`rules/${f}`, text);
  for (const [f, text] of renderDashboards()) out.set(`grafana/dashboards/${f}`, text);
  return out;
}

/** What differs under `root` from `wanted`: files to (re)write, and leftovers in GENERATED_DIRS to remove. */
export async function staleFiles(root: string, wanted: ReadonlyMap<string, string>): Promise<{ write: string[]; remove: string[] }> {
  const remove: string[] = [];
  for (const { dir, ext } of GENERATED_DIRS) {
    for (const f of await readdir(join(root, dir)).catch(() => [])) if (f.endsWith(ext) && !wanted.has(`${dir}/${f}`)) remove.push(`${dir}/${f}`);
  }
  const write: string[] = [];
  for (const [path, text] of wanted) if ((await readFile(join(root, path), 'utf8').catch(() => undefined)) !== text) write.push(path);
  return { write, remove };
}
