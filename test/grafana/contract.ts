/**
 * The metrics the dashboards may use, with their type and labels, taken from the catalogue in TypeScript (the
 * collectors' own declarations, src/docs/catalogue.ts). A renamed metric or label therefore fails
 * test/grafana/dashboards.test.ts.
 */
import { ALL_COLLECTORS } from '../../src/collectors/index.js';
import { metricContract, type ContractMetric } from '../../src/docs/catalogue.js';

export type { ContractMetric };

export const CONTRACT: Readonly<Record<string, ContractMetric>> = Object.fromEntries(metricContract(ALL_COLLECTORS));

/** Labels Prometheus attaches to every scraped series (target labels). */
export const TARGET_LABELS = ['instance', 'job'] as const;

/** Series Prometheus itself produces that a dashboard may use; `null` labels = any label (ALERTS carries the alert's labels). */
export const PROMETHEUS_BUILTINS: Readonly<Record<string, readonly string[] | null>> = {
  ALERTS: null,
  ALERTS_FOR_STATE: null,
  up: ['instance', 'job'],
};

/**
 * Resolves a series name used in PromQL to its contract family: histogram series `_bucket` (with `le`), `_sum`, `_count`.
 * Returns the allowed labels (null = any) or undefined when the name is not in the contract.
 */
export function allowedLabels(series: string): readonly string[] | null | undefined {
  if (series in PROMETHEUS_BUILTINS) return PROMETHEUS_BUILTINS[series];
  const direct = CONTRACT[series];
  if (direct && direct.type !== 'histogram') return [...direct.labels, ...TARGET_LABELS];
  for (const [suffix, extra] of [['_bucket', ['le']], ['_sum', []], ['_count', []]] as const) {
    if (!series.endsWith(suffix)) continue;
    const fam = CONTRACT[series.slice(0, -suffix.length)];
    if (fam?.type === 'histogram') return [...fam.labels, ...extra, ...TARGET_LABELS];
  }
  return undefined;
}
