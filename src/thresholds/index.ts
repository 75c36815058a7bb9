/**
 * Every threshold and `for:` duration of silentwatch, defined once. The alert rules (rules/src/), the Grafana
 * dashboards (grafana/src/) and `silentwatch doctor` all read them from here, so a changed default changes all
 * three. One file per area; an operator overrides any of them with a thresholds file (docs/alerts.md).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { issueLines } from '../lib/zod-issues.js';
import { CONTAINER_THRESHOLDS } from './containers.js';
import { GPU_THRESHOLDS } from './gpu.js';
import { LLAMASWAP_THRESHOLDS } from './llamaswap.js';
import { PROBE_THRESHOLDS } from './probes.js';
import { QUEUE_THRESHOLDS } from './queues.js';
import { DURATION, type ThresholdDef } from './schema.js';
import { SILENTWATCH_THRESHOLDS } from './silentwatch.js';

export { RUNBOOK_BASE_URL } from './silentwatch.js';
export { DURATION, type ThresholdDef } from './schema.js';

/** Every overridable value, with its default. Durations are Prometheus durations (`90s`, `10m`, `1h`). */
export const THRESHOLDS = {
  ...SILENTWATCH_THRESHOLDS,
  ...CONTAINER_THRESHOLDS,
  ...QUEUE_THRESHOLDS,
  ...GPU_THRESHOLDS,
  ...LLAMASWAP_THRESHOLDS,
  ...PROBE_THRESHOLDS,
} as const satisfies Record<string, ThresholdDef>;

export type ThresholdKey = keyof typeof THRESHOLDS;
export type Thresholds = { [K in ThresholdKey]: (typeof THRESHOLDS)[K]['default'] extends number ? number : string };

/** zod schema of a thresholds file: every key optional, unknown keys rejected (a typo must not be ignored). */
export const thresholdsSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(THRESHOLDS).map(([k, d]) => {
      const t: ThresholdDef = d;
      const s = t.kind === 'number' ? z.number().finite().nonnegative() : t.kind === 'duration' ? z.string().regex(DURATION, 'a Prometheus duration like 90s, 10m, 1h') : z.string().min(1);
      return [k, s.optional().describe(t.help)];
    }),
  ),
);

/** The shipped defaults with the given overrides applied (throws a ZodError naming a bad key). */
export function resolveThresholds(overrides: unknown = {}): Thresholds {
  const parsed = thresholdsSchema.parse(overrides ?? {}) as Partial<Record<ThresholdKey, number | string>>;
  const out: Record<string, number | string> = {};
  for (const [k, d] of Object.entries(THRESHOLDS)) out[k] = parsed[k as ThresholdKey] ?? d.default;
  return out as Thresholds;
}

/** The shipped defaults. */
export const DEFAULT_THRESHOLDS: Thresholds = resolveThresholds();

/**
 * The thresholds of a YAML thresholds file (the keys of docs/alerts.md), the shipped defaults for the rest: the file
 * you render your alert rules with, so `doctor` compares with the same values. Throws naming the file and the bad key.
 */
export function loadThresholdsFile(file: string): Thresholds {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`thresholds file ${file}: ${e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e)}`);
  }
  const r = thresholdsSchema.safeParse(doc ?? {});
  if (!r.success) throw new Error(`thresholds file ${file}: ${issueLines(r.error).join('; ')}`);
  return resolveThresholds(r.data);
}
