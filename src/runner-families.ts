/**
 * The families the runner can serve, worked out once from the registered collectors: every family by name
 * (for the exposition and the catalogue), and the names declared by more than one collector, the only
 * families whose series can collide when the runner merges the collectors' samples.
 */
import type { MetricDef } from './metrics.js';

export interface FamilyCatalogue {
  readonly all: MetricDef[];
  readonly shared: ReadonlySet<string>;
}

export function familyCatalogue(runnerMetrics: readonly MetricDef[], perCollector: ReadonlyArray<readonly MetricDef[]>): FamilyCatalogue {
  const byName = new Map<string, MetricDef>();
  const declaredBy = new Map<string, number>();
  for (const d of runnerMetrics) byName.set(d.name, d);
  for (const metrics of perCollector) {
    for (const name of new Set(metrics.map((m) => m.name))) declaredBy.set(name, (declaredBy.get(name) ?? 0) + 1);
    for (const d of metrics) byName.set(d.name, d);
  }
  return { all: [...byName.values()], shared: new Set([...declaredBy].filter(([, n]) => n > 1).map(([name]) => name)) };
}
