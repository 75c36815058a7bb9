/**
 * Builds the Kubernetes PrometheusRule (Prometheus Operator) from the rule files in rules/, so the two
 * can never differ: deploy/kubernetes/prometheusrule.yaml is this output, checked by a test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

export interface RuleGroup {
  name: string;
  rules: unknown[];
  [k: string]: unknown;
}

/** Rule groups of every rules/*.yml (not the promtool tests), in file-name order. */
export function ruleGroups(rulesDir: string): RuleGroup[] {
  const files = readdirSync(rulesDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  return files.flatMap((f) => ((parse(readFileSync(join(rulesDir, f), 'utf8')) as { groups?: RuleGroup[] } | null)?.groups ?? []));
}

export function prometheusRuleYaml(rulesDir: string): string {
  const doc = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'silentwatch', labels: { 'app.kubernetes.io/name': 'silentwatch', role: 'alert-rules' } },
    spec: { groups: ruleGroups(rulesDir) },
  };
  return `# Generated from rules/*.yml by \`npm run gen:k8s\`; test/deploy keeps it equal. Do not edit by hand.\n${stringify(doc, { lineWidth: 0 })}`;
}
