/**
 * The metric names a rule may use: exactly the catalogue (src/docs/catalogue.ts, the collectors' own declarations,
 * which docs/metrics.md is generated from). A renamed or removed metric therefore fails test/rules/rules.test.ts
 * instead of silently breaking an alert.
 */
import { ALL_COLLECTORS } from '../../src/collectors/index.js';
import { metricContract } from '../../src/docs/catalogue.js';

/** Series Prometheus itself makes, not the exporter. */
export const PROMETHEUS_OWN = new Set(['up', 'ALERTS', 'ALERTS_FOR_STATE', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** Metric names of the catalogue. */
export function documentedMetrics(): Set<string> {
  return new Set(metricContract(ALL_COLLECTORS).keys());
}

/** Every name a rule may select. Histogram families also allow their _bucket/_sum/_count series. */
export function knownMetrics(): Set<string> {
  const base = documentedMetrics();
  const out = new Set([...base, ...PROMETHEUS_OWN]);
  for (const n of base) for (const s of ['_bucket', '_sum', '_count']) out.add(n + s);
  return out;
}
