/** What the doctor's checks share: sample look-ups, formatting, the thresholds in force and the Check signature. */
import type { MetricDef, Sample } from '../metrics.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../thresholds/index.js';
import type { DoctorInput, Finding } from './findings.js';

export const RUNBOOK = 'docs/runbooks/';
export const GiB = 2 ** 30;
/** Immich's default models loaded together (CLIP ViT-B-32, buffalo_l faces, PP-OCRv5) need about 6 GiB; below 4 GiB the worker gets OOM-killed. */
export const ML_MIN_MEMORY_BYTES = 4 * GiB;
export const ML_RECOMMENDED_MEMORY = '6144M';

/** The thresholds a check compares with: the run's own (a thresholds file) or the shipped defaults, the same values the alert rules use. */
export const thresholdsOf = (input: DoctorInput): Thresholds => input.thresholds ?? DEFAULT_THRESHOLDS;

export const isImmichMl = (image: string, name: string): boolean => /immich-machine-learning|immich_machine_learning/.test(`${image} ${name}`);

type NumericSample = { readonly labels: Readonly<Record<string, string>>; readonly value: number };

/**
 * Indexes of one collection's samples, built once per samples array: by metric family, and by family and label
 * values for each set of label names a check matches on. A check walks every queue or container and looks up a
 * few series of each, so a linear search per look-up would cost queues × samples (10k queues: 190k samples).
 */
interface SampleIndex {
  readonly families: Map<string, NumericSample[]>;
  readonly byLabels: Map<string, Map<string, number>>;
}
const indexes = new WeakMap<readonly Sample[], SampleIndex>();

function indexOf(samples: readonly Sample[]): SampleIndex {
  let idx = indexes.get(samples);
  if (!idx) {
    const families = new Map<string, NumericSample[]>();
    for (const s of samples) {
      if (typeof s.value !== 'number') continue;
      let f = families.get(s.def.name);
      if (!f) families.set(s.def.name, (f = []));
      f.push({ labels: s.labels, value: s.value });
    }
    idx = { families, byLabels: new Map() };
    indexes.set(samples, idx);
  }
  return idx;
}

/** The numeric samples of one metric family, named by its definition (a renamed metric fails the build, not the check). */
export function values(samples: readonly Sample[], def: MetricDef): readonly NumericSample[] {
  return indexOf(samples).families.get(def.name) ?? [];
}

/** The value of the first sample of the family whose labels equal `match` (on the labels `match` names). */
export function valueFor(samples: readonly Sample[], def: MetricDef, match: Readonly<Record<string, string>>): number | undefined {
  const idx = indexOf(samples);
  const names = Object.keys(match).sort();
  const key = `${def.name}\0${names.join('\0')}`;
  let byValues = idx.byLabels.get(key);
  if (!byValues) {
    byValues = new Map();
    for (const v of idx.families.get(def.name) ?? []) {
      if (names.some((n) => v.labels[n] === undefined)) continue;
      const k = names.map((n) => v.labels[n]).join('\0');
      if (!byValues.has(k)) byValues.set(k, v.value);
    }
    idx.byLabels.set(key, byValues);
  }
  return byValues.get(names.map((n) => match[n]).join('\0'));
}

export const bytes = (n: number): string => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`);

export type Check = (input: DoctorInput, out: { add: (f: Finding) => void; skip: (reason: string) => void }) => void;
