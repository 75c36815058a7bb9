/**
 * Turns a scrape's samples into Prometheus text or OpenMetrics through prom-client's formatter.
 * Families are wrapped in fresh per-scrape objects because prom-client's OpenMetrics path rewrites
 * counter names on the objects it formats; process metrics come from one persistent registry per format.
 */
import { collectDefaultMetrics, Registry, type Metric, type RegistryContentType } from 'prom-client';
import type { HistogramValue, MetricDef, Sample } from './metrics.js';
import type { ScrapeResult } from './runner.js';
import { VERSION } from './version.js';
import { defineMetric } from './metrics.js';

export const buildInfo = defineMetric({
  name: 'silentwatch_build_info',
  type: 'gauge',
  help: 'Always 1; labels carry the silentwatch version and the Node.js version running it.',
  labels: ['version', 'node_version'],
});

/** Prefix for prom-client's process and Node.js runtime metrics, so every series is silentwatch_…. */
export const PROCESS_METRICS_PREFIX = 'silentwatch_';

/**
 * prom-client's nodejs_active_*_total are gauges named like counters, which promtool rejects: silentwatch
 * leaves them out of the exposition, and the catalogue (docs/metrics.md) leaves them out the same way.
 */
export function isMisnamedProcessGauge(m: { name: string }): boolean {
  return (m as unknown as { type?: string }).type === 'gauge' && /_total$/.test(m.name);
}

export type Format = 'text' | 'openmetrics';
export const CONTENT_TYPES: Record<Format, string> = {
  text: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/** OpenMetrics when the scraper's Accept header asks for it (Prometheus does when it can), else text 0.0.4. */
export function negotiateFormat(accept: string | undefined): Format {
  return accept && /application\/openmetrics-text/i.test(accept) ? 'openmetrics' : 'text';
}

interface PromValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

function histogramValues(name: string, labels: Readonly<Record<string, string>>, h: HistogramValue): PromValue[] {
  const out: PromValue[] = h.buckets.map(([le, count]) => ({
    metricName: `${name}_bucket`,
    labels: { ...labels, le: formatLe(le) },
    value: count,
  }));
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels: { ...labels }, value: h.sum });
  out.push({ metricName: `${name}_count`, labels: { ...labels }, value: h.count });
  return out;
}

function formatLe(le: number): string {
  return le === Infinity ? '+Inf' : String(le);
}

type AnyRegistry = Registry<RegistryContentType>;

/** prom-client's typings omit the constructor's content-type argument that the runtime takes. */
function newRegistry(contentType: string): AnyRegistry {
  const Ctor = Registry as unknown as new (contentType: string) => AnyRegistry;
  return new Ctor(contentType);
}

export class Exposition {
  private readonly processRegistries: Record<Format, AnyRegistry>;

  constructor(withProcessMetrics = true) {
    this.processRegistries = { text: newRegistry(CONTENT_TYPES.text), openmetrics: newRegistry(CONTENT_TYPES.openmetrics) };
    if (withProcessMetrics) {
      for (const reg of Object.values(this.processRegistries)) collectDefaultMetrics({ register: reg, prefix: PROCESS_METRICS_PREFIX });
    }
  }

  async render(result: ScrapeResult, format: Format): Promise<string> {
    const reg = newRegistry(CONTENT_TYPES[format]);
    for (const m of this.processRegistries[format].getMetricsAsArray()) {
      if (isMisnamedProcessGauge(m)) continue;
      reg.registerMetric(m as unknown as Metric);
    }
    const byFamily = new Map<string, Sample[]>();
    for (const s of result.samples) {
      const list = byFamily.get(s.def.name);
      if (list) list.push(s);
      else byFamily.set(s.def.name, [s]);
    }
    byFamily.set(buildInfo.name, [
      { def: buildInfo, labels: { version: VERSION, node_version: process.versions.node }, value: 1 },
    ]);
    const defs = new Map<string, MetricDef>(result.families.map((d) => [d.name, d]));
    defs.set(buildInfo.name, buildInfo);
    for (const [name, samples] of byFamily) {
      const def = defs.get(name);
      if (!def) continue;
      const values = samples.flatMap((s): PromValue[] =>
        typeof s.value === 'number' ? [{ labels: { ...s.labels }, value: s.value }] : histogramValues(def.name, s.labels, s.value),
      );
      // A minimal object in the shape prom-client's Registry formats; fresh each scrape (see file comment).
      // get() reads `name` back because the OpenMetrics path strips a counter's _total before calling it.
      const family = {
        name: def.name,
        help: def.help,
        type: def.type,
        get: () => Promise.resolve({ name: family.name, help: def.help, type: def.type, values, aggregator: 'sum' }),
      };
      reg.registerMetric(family as unknown as Metric);
    }
    return reg.metrics();
  }
}
