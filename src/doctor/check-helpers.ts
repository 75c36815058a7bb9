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

/** The numeric samples of one metric family, named by its definition (a renamed metric fails the build, not the check). */
export function values(samples: readonly Sample[], def: MetricDef): Array<{ labels: Readonly<Record<string, string>>; value: number }> {
  return samples.filter((s) => s.def.name === def.name && typeof s.value === 'number').map((s) => ({ labels: s.labels, value: s.value as number }));
}

export function valueFor(samples: readonly Sample[], def: MetricDef, match: Readonly<Record<string, string>>): number | undefined {
  return values(samples, def).find((v) => Object.entries(match).every(([k, want]) => v.labels[k] === want))?.value;
}

export const bytes = (n: number): string => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`);

export type Check = (input: DoctorInput, out: { add: (f: Finding) => void; skip: (reason: string) => void }) => void;
