/**
 * Writes silentwatch's own families as Prometheus text 0.0.4 or OpenMetrics 1.0, byte for byte as
 * prom-client's Registry writes them (test/exposition-format.test.ts compares the two on every shape), but
 * straight from the samples: no registry, no per-value objects, no label-object copies. prom-client's
 * formatter made one object and a handful of arrays and strings per value, which on a scrape of ~1,000
 * series was most of the exporter's garbage and a third of its CPU per scrape (bench/results/load.md).
 */
import type { HistogramValue, MetricDef, Sample } from './metrics.js';

export type Format = 'text' | 'openmetrics';

const NEEDS_ESCAPE = /[\\\n"]/;

/** prom-client's escapeString: backslash and newline. */
function escapeHelp(s: string): string {
  return s.includes('\\') || s.includes('\n') ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : s;
}

/** prom-client's escapeLabelValue: backslash, newline and double quote. */
function escapeLabelValue(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : s;
}

/** prom-client's getValueAsString. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

function formatLe(le: number): string {
  return le === Infinity ? '+Inf' : String(le);
}

/** `{a="x",b="y"}` in the object's own key order (the family's declared order), or '' without labels. */
function labelBlock(labels: Readonly<Record<string, string>>, extraName?: string, extraValue?: string): string {
  let out = '';
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabelValue(labels[k] as string)}"`;
  if (extraName !== undefined) out += `${out ? ',' : ''}${extraName}="${extraValue as string}"`;
  return out ? `{${out}}` : '';
}

function histogramLines(name: string, labels: Readonly<Record<string, string>>, h: HistogramValue): string {
  let out = '';
  for (const [le, count] of h.buckets) out += `\n${name}_bucket${labelBlock(labels, 'le', formatLe(le))} ${formatValue(count)}`;
  out += `\n${name}_bucket${labelBlock(labels, 'le', '+Inf')} ${formatValue(h.count)}`;
  const plain = labelBlock(labels);
  out += `\n${name}_sum${plain} ${formatValue(h.sum)}`;
  out += `\n${name}_count${plain} ${formatValue(h.count)}`;
  return out;
}

/**
 * The `name{labels}` part of each series, kept from one scrape to the next (series are mostly the same each
 * scrape, and this part is most of a line). Keyed by the sink's series identity; entries not used in the
 * last two renders are dropped, and past `max` entries lines are written without the cache, so a watched
 * set of 100k series does not keep 100k strings.
 */
export class SeriesPrefixCache {
  private readonly entries = new Map<string, { prefix: string; used: number }>();
  private renders = 0;

  constructor(private readonly max = 20_000) {}

  prefix(series: string | undefined, sampleName: string, labels: Readonly<Record<string, string>>): string {
    if (series === undefined) return sampleName + labelBlock(labels);
    const hit = this.entries.get(series);
    if (hit) {
      hit.used = this.renders;
      return hit.prefix;
    }
    const prefix = sampleName + labelBlock(labels);
    if (this.entries.size < this.max) this.entries.set(series, { prefix, used: this.renders });
    return prefix;
  }

  /** Ends a render: forgets the series not seen in this one or the one before. */
  sweep(): void {
    // forEach rather than for…of: no [key, value] array per entry on every render.
    this.entries.forEach((e, k) => {
      if (e.used < this.renders - 1) this.entries.delete(k);
    });
    this.renders++;
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * One family as prom-client's getMetricsAsString returns it: HELP, TYPE and one line per value, joined
 * with newlines, no trailing newline. In OpenMetrics a counter's HELP/TYPE name loses `_total` and its
 * samples keep it.
 */
export function formatFamily(def: MetricDef, samples: readonly Sample[], format: Format, cache?: SeriesPrefixCache): string {
  const counterOm = format === 'openmetrics' && def.type === 'counter';
  const name = counterOm ? def.name.replace(/_total$/, '') : def.name;
  const sampleName = counterOm ? `${name}_total` : name;
  // The cached prefix holds the sample name: usable in both formats when that name is the same in both.
  const cached = cache && sampleName === def.name ? cache : undefined;
  let out = `# HELP ${escapeHelp(name)} ${escapeHelp(def.help)}\n# TYPE ${escapeHelp(name)} ${def.type}`;
  for (const s of samples) {
    if (typeof s.value !== 'number') out += histogramLines(name, s.labels, s.value);
    else if (cached) out += `\n${cached.prefix(s.series, sampleName, s.labels)} ${formatValue(s.value)}`;
    else out += `\n${sampleName}${labelBlock(s.labels)} ${formatValue(s.value)}`;
  }
  return out;
}

/** Joins family chunks the way prom-client's Registry.metrics() does for each format. */
export function joinFamilies(chunks: readonly string[], format: Format): string {
  return format === 'openmetrics' ? `${chunks.join('\n')}\n# EOF\n` : `${chunks.join('\n\n')}\n`;
}
