/** What the doctor's checks share: sample look-ups, formatting and the Check signature. */
import type { Sample } from '../metrics.js';
import type { DoctorInput, Finding } from './findings.js';

export const RUNBOOK = 'docs/runbooks/';
export const GiB = 2 ** 30;
/** Seed 000: ViT-B-32 + buffalo_l + PP-OCRv5 loaded together need ~6 GiB; below 4 GiB the worker gets killed. */
export const ML_MIN_MEMORY_BYTES = 4 * GiB;
export const ML_RECOMMENDED_MEMORY = '6144M';
/**
 * Free VRAM below this is too little to load a typical model: seed 002's qwen3-8b needed 4455 MiB, while
 * the T4 had 2.2 GB free, i.e. 13.75 %: a ratio threshold alone (10 %) would have stayed silent.
 */
export const LOW_VRAM_BYTES = 4 * GiB;
export const LOW_VRAM_RATIO = 0.1;

export const isImmichMl = (image: string, name: string): boolean => /immich-machine-learning|immich_machine_learning/.test(`${image} ${name}`);

export function values(samples: readonly Sample[], name: string): Array<{ labels: Readonly<Record<string, string>>; value: number }> {
  return samples.filter((s) => s.def.name === name && typeof s.value === 'number').map((s) => ({ labels: s.labels, value: s.value as number }));
}

export function valueFor(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>>): number | undefined {
  return values(samples, name).find((v) => Object.entries(match).every(([k, want]) => v.labels[k] === want))?.value;
}

export const bytes = (n: number): string => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`);

export type Check = (input: DoctorInput, out: { add: (f: Finding) => void; skip: (reason: string) => void }) => void;
