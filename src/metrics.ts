/**
 * Metric definitions and the per-scrape sample sink.
 *
 * Collectors declare every family they may emit up front (name, type, HELP, label names). That single
 * declaration feeds the exposition, the validation of what a collector returns, and docs/metrics.md.
 * Samples are snapshots: each scrape a collector writes its current values into a fresh sink, so series
 * of things that went away (an exited PID, a removed container) disappear instead of going stale.
 */

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface MetricDef<L extends string = string> {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly L[];
}

/** Declares a metric family; `const` generics keep the label names as a literal union for type-checked samples. */
export function defineMetric<const L extends string = never>(def: {
  name: string;
  type: MetricType;
  help: string;
  labels?: readonly L[];
}): MetricDef<L> {
  return { name: def.name, type: def.type, help: def.help, labels: def.labels ?? [] };
}

export type Labels<L extends string> = { readonly [K in L]: string };

export interface HistogramValue {
  /** Cumulative counts per upper bound, ascending; the +Inf bucket is added from `count`. */
  readonly buckets: ReadonlyArray<readonly [le: number, cumulativeCount: number]>;
  readonly sum: number;
  readonly count: number;
}

export interface Sample {
  readonly def: MetricDef;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number | HistogramValue;
  /** The series' identity (family name and label values), set by the sink; the exposition caches by it. */
  readonly series?: string;
}

/** Longest label value we pass through; longer ones are cut so one odd process name cannot bloat a scrape. */
export const MAX_LABEL_VALUE_LENGTH = 256;

/**
 * Collects the samples of one collector for one scrape and checks them as they arrive.
 * Problems (undeclared family, wrong labels, NaN, negative counter, duplicate series) are recorded,
 * the offending sample is dropped, and the runner reports the collector as failed.
 */
export class SampleSink {
  readonly samples: Sample[] = [];
  readonly problems: string[] = [];
  /** Set when the collector served partial data and wants success=0 with a reason. */
  degradedReason: string | undefined;
  private readonly seen = new Set<string>();
  private readonly keyParts: string[] = [];

  constructor(private readonly allowed: ReadonlySet<MetricDef>) {}

  set<L extends string>(def: MetricDef<L>, labels: Labels<L>, value: number): void {
    if (def.type === 'histogram') {
      this.problem(`${def.name}: histogram family given a plain value`);
      return;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.problem(`${def.name}: non-finite value ${String(value)}`);
      return;
    }
    if (def.type === 'counter' && value < 0) {
      this.problem(`${def.name}: negative counter value ${value}`);
      return;
    }
    this.push(def, labels, value);
  }

  histogram<L extends string>(def: MetricDef<L>, labels: Labels<L>, value: HistogramValue): void {
    if (def.type !== 'histogram') {
      this.problem(`${def.name}: histogram value for a ${def.type} family`);
      return;
    }
    const numbers = [value.sum, value.count, ...value.buckets.flat()];
    if (!numbers.every((n) => typeof n === 'number' && (Number.isFinite(n) || n === Infinity))) {
      this.problem(`${def.name}: non-finite histogram value`);
      return;
    }
    this.push(def, labels, value);
  }

  /** Partial result: keep the samples, but report success=0 with this reason. */
  degraded(reason: string): void {
    this.degradedReason = this.degradedReason ? `${this.degradedReason}; ${reason}` : reason;
  }

  private push(def: MetricDef, labels: Readonly<Record<string, string>>, value: number | HistogramValue): void {
    if (!this.allowed.has(def)) {
      this.problem(`${def.name}: family not declared by this collector`);
      return;
    }
    // Keys in declared order (the usual case) are checked without listing them.
    let count = 0;
    let ordered = true;
    for (const k in labels) {
      if (def.labels[count] !== k) ordered = false;
      count++;
    }
    if (count !== def.labels.length || (!ordered && !def.labels.every((l) => Object.hasOwn(labels, l)))) {
      this.problem(`${def.name}: labels {${Object.keys(labels).join(',')}} do not match declared {${def.labels.join(',')}}`);
      return;
    }
    // Label values in the family's declared order, so no sort: NUL cannot occur in a sanitised value. The
    // parts go through one reused array: one string per sample instead of two per label.
    const parts = this.keyParts;
    parts.length = 1;
    parts[0] = def.name;
    let changed = !ordered;
    for (const l of def.labels) {
      const v = labels[l];
      if (typeof v !== 'string') {
        this.problem(`${def.name}: label ${l} is not a string`);
        return;
      }
      const c = sanitizeLabelValue(v);
      if (c !== v) changed = true;
      parts.push(c);
    }
    const key = parts.join('\u0000');
    if (this.seen.has(key)) {
      this.problem(`${def.name}: duplicate series ${seriesKey(def.name, cleanLabels(def, labels))}`);
      return;
    }
    this.seen.add(key);
    // The caller's object is kept when it is already clean and in order (collectors build a fresh one per sample).
    this.samples.push({ def, labels: changed ? cleanLabels(def, labels) : labels, value, series: key });
  }

  private problem(p: string): void {
    // Keep the first few only: a collector gone wrong must not produce an unbounded error list.
    if (this.problems.length < 20) this.problems.push(p);
  }
}

/** The label values sanitised, in the family's declared order. */
function cleanLabels(def: MetricDef, labels: Readonly<Record<string, string>>): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const l of def.labels) clean[l] = sanitizeLabelValue(labels[l] as string);
  return clean;
}

export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return name + JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Valid UTF-8 (lone surrogates replaced), no control characters, bounded length. */
export function sanitizeLabelValue(v: string): string {
  // Most values need nothing: return them as they are instead of copying each one on every scrape.
  if (v.length <= MAX_LABEL_VALUE_LENGTH && !CONTROL.test(v) && v.isWellFormed()) return v;
  // eslint-disable-next-line no-control-regex
  let s = v.toWellFormed().replace(/[\u0000-\u001f\u007f]/g, ' ');
  if (s.length > MAX_LABEL_VALUE_LENGTH) s = s.slice(0, MAX_LABEL_VALUE_LENGTH - 1) + '…';
  return s;
}
