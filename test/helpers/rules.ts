/**
 * The shipped alert rules for end-to-end tests: rendered into a temp dir with every `for:` shortened
 * (the shipped rules/ files are never changed), and Prometheus' view of its alerts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveThresholds, type Thresholds } from '../../rules/src/index.js';
import { renderRuleFiles } from '../../rules/src/render.js';
import { removeDir, tempDir, waitFor } from './daemon.js';

export interface TestRules {
  readonly dir: string;
  /** Absolute paths, for PrometheusOptions.ruleFiles. */
  readonly files: string[];
  remove(): void;
}

/**
 * Renders every rule file with `for:` = forOverride (default 2s) and optional threshold overrides
 * (e.g. a shorter `container_oom_window` or `queue_stalled_oldest_age_seconds` for an incident replay).
 */
export function renderTestRules(opts: { forOverride?: string; thresholds?: Partial<Record<keyof Thresholds, number | string>> } = {}): TestRules {
  const dir = tempDir('rules');
  const files: string[] = [];
  const short = opts.forOverride ?? '2s';
  // SilentwatchDown also covers "no target at all" (absent(up)), which is briefly true while a fresh Prometheus
  // has not scraped yet; its production `for:` absorbs that, a 2 s one would not. Keep it long enough here.
  const forOverride = (alert: string): string => (alert === 'SilentwatchDown' ? '30s' : short);
  for (const [name, text] of renderRuleFiles(resolveThresholds(opts.thresholds ?? {}), { forOverride })) {
    const file = join(dir, name);
    writeFileSync(file, text);
    files.push(file);
  }
  return { dir, files, remove: () => removeDir(dir) };
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

/** Alerts Prometheus currently holds, pending or firing (GET /api/v1/alerts). */
export async function prometheusAlerts(prometheusUrl: string): Promise<PrometheusAlert[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/alerts`);
  const body = (await res.json()) as { status: string; data: { alerts: PrometheusAlert[] } };
  if (body.status !== 'success') throw new Error(`prometheus /api/v1/alerts answered ${res.status}`);
  return body.data.alerts;
}

/** Names of the rule groups Prometheus loaded, with their rule counts and last evaluation errors. */
export async function prometheusRuleGroups(prometheusUrl: string): Promise<Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }>> {
  const res = await fetch(`${prometheusUrl}/api/v1/rules`);
  const body = (await res.json()) as { data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> } };
  return body.data.groups;
}

/** Waits until Prometheus has loaded every rule group and evaluated each rule without error. */
export async function waitForRulesEvaluated(prometheusUrl: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => {
    const g = await prometheusRuleGroups(prometheusUrl);
    return g.length > 0 && g.every((x) => x.rules.every((r) => r.health === 'ok'));
  }, 'rules loaded and evaluated', timeoutMs, 250);
}
