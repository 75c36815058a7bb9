/**
 * Builds the Kubernetes PrometheusRule (Prometheus Operator) from the rule files, so the two can never differ:
 * deploy/kubernetes/prometheusrule.yaml is this output (`npm run generate`, checked by `npm run generate -- --check`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

export interface RuleGroup {
  name: string;
  rules: unknown[];
  [k: string]: unknown;
}

/** Rule groups of rule-file texts (file name → YAML), in file-name order. */
export function groupsOf(files: ReadonlyMap<string, string>): RuleGroup[] {
  return [...files.keys()].sort().flatMap((f) => (parse(files.get(f) as string) as { groups?: RuleGroup[] } | null)?.groups ?? []);
}

/** Rule groups of every rules/*.yml (not the promtool tests), in file-name order. */
export function ruleGroups(rulesDir: string): RuleGroup[] {
  const files = readdirSync(rulesDir).filter((f) => /\.ya?ml$/.test(f));
  return groupsOf(new Map(files.map((f) => [f, readFileSync(join(rulesDir, f), 'utf8')])));
}

/** The PrometheusRule of the given groups (default: the rule files in `rulesDir`). */
export function prometheusRuleYaml(rulesDir: string, groups: RuleGroup[] = ruleGroups(rulesDir)): string {
  const doc = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'silentwatch', labels: { 'app.kubernetes.io/name': 'silentwatch', role: 'alert-rules' } },
    spec: { groups },
  };
  return `# Generated from rules/*.yml by \`npm run generate\`. Do not edit by hand.\n${stringify(doc, { lineWidth: 0 })}`;
}
