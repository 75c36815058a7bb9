/**
 * Turns a scrape's samples into Prometheus text or OpenMetrics. silentwatch's own families are written by
 * exposition-format.ts (prom-client's format, without its per-value objects); the process and Node.js
 * runtime metrics come from prom-client's default collectors, one persistent registry per format because
 * prom-client's OpenMetrics path renames counters on the metric objects it formats.
 */
import { collectDefaultMetrics, Registry, type RegistryContentType } from 'prom-client';
import type { MetricDef, Sample } from './metrics.js';
import { formatFamily, joinFamilies, SeriesPrefixCache, type Format } from './exposition-format.js';
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

export type { Format };
export const CONTENT_TYPES: Record<Format, string> = {
  text: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/** OpenMetrics when the scraper's Accept header asks for it (Prometheus does when it can), else text 0.0.4. */
export function negotiateFormat(accept: string | undefined): Format {
  return accept && /application\/openmetrics-text/i.test(accept) ? 'openmetrics' : 'text';
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

  /** Renders shared by every scrape of the same collection (concurrent scrapes share one collection). */
  private readonly rendered = new WeakMap<ScrapeResult, Partial<Record<Format, Promise<Buffer>>>>();
  private readonly prefixes = new SeriesPrefixCache();

  /** The exposition of one collection as text. */
  async render(result: ScrapeResult, format: Format): Promise<string> {
    return (await this.renderBody(result, format)).toString('utf8');
  }

  /** The exposition of one collection as the response body; scrapes that share a collection share it. */
  renderBody(result: ScrapeResult, format: Format): Promise<Buffer> {
    let byFormat = this.rendered.get(result);
    if (!byFormat) this.rendered.set(result, (byFormat = {}));
    return (byFormat[format] ??= this.renderNow(result, format).then((text) => Buffer.from(text, 'utf8')));
  }

  private async renderNow(result: ScrapeResult, format: Format): Promise<string> {
    const chunks: string[] = [];
    const reg = this.processRegistries[format];
    for (const m of reg.getMetricsAsArray()) {
      if (isMisnamedProcessGauge(m)) continue;
      // What prom-client's Registry.metrics() does before formatting an OpenMetrics counter.
      if (format === 'openmetrics' && (m as unknown as { type: string }).type === 'counter') (m as { name: string }).name = m.name.replace(/_total$/, '');
      chunks.push(await (reg as unknown as { getMetricsAsString(m: unknown): Promise<string> }).getMetricsAsString(m));
    }
    const byFamily = new Map<string, Sample[]>();
    for (const s of result.samples) {
      const list = byFamily.get(s.def.name);
      if (list) list.push(s);
      else byFamily.set(s.def.name, [s]);
    }
    byFamily.set(buildInfo.name, [{ def: buildInfo, labels: { version: VERSION, node_version: process.versions.node }, value: 1 }]);
    const defs = new Map<string, MetricDef>(result.families.map((d) => [d.name, d]));
    defs.set(buildInfo.name, buildInfo);
    for (const [name, samples] of byFamily) {
      const def = defs.get(name);
      if (def) chunks.push(formatFamily(def, samples, format, this.prefixes));
    }
    this.prefixes.sweep();
    return joinFamilies(chunks, format);
  }
}
