/**
 * silentwatch's alert rules: one file per area beside this one (rules/src/<area>.ts), rendered into rules/<area>.yml,
 * docs/alerts.md and the Kubernetes PrometheusRule by `npm run generate` (`npm run generate -- --check`, run by
 * the suite, keeps the committed files equal to the renderer). Thresholds and `for:` durations come from src/thresholds/.
 */
import { DURATION, type Thresholds } from '../../src/thresholds/index.js';
import { containersGroup } from './containers.js';
import { CULPRITS } from './culprits.js';
import type { AlertDef, GroupDef, Severity } from './define.js';
import { gpuGroup } from './gpu.js';
import { llamaswapGroup } from './llamaswap.js';
import { probesGroup } from './probes.js';
import { queuesGroup } from './queues.js';
import { silentwatchGroup } from './silentwatch.js';

export type { AlertDef, GroupDef, Severity } from './define.js';
export {
  DEFAULT_THRESHOLDS,
  resolveThresholds,
  RUNBOOK_BASE_URL,
  THRESHOLDS,
  thresholdsSchema,
  type ThresholdDef,
  type ThresholdKey,
  type Thresholds,
} from '../../src/thresholds/index.js';

export const GROUPS: readonly GroupDef[] = [containersGroup, queuesGroup, gpuGroup, llamaswapGroup, probesGroup, silentwatchGroup];

export const ALL_ALERTS: readonly AlertDef[] = GROUPS.flatMap((g) => g.alerts);

/**
 * Rendering options (tests only: the shipped files use the thresholds). `forOverride` replaces every `for:`,
 * or, as a function, decides per alert (given the alert name and its normal duration).
 */
export interface RenderOptions {
  readonly forOverride?: string | ((alert: string, normal: string) => string);
}

export interface RenderedRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

/** The rule-file objects, keyed by file name (`containers.yml` …). */
export function renderGroups(t: Thresholds, opts: RenderOptions = {}): Map<string, { groups: Array<{ name: string; rules: RenderedRule[] }> }> {
  const files = new Map<string, { groups: Array<{ name: string; rules: RenderedRule[] }> }>();
  for (const g of GROUPS) {
    const rules = g.alerts.map((a): RenderedRule => {
      const window = a.thresholds.map((k) => t[k]).find((v): v is string => typeof v === 'string' && DURATION.test(v)) ?? '';
      const normal = a.for ? String(t[a.for]) : undefined;
      const o = opts.forOverride;
      const forValue = normal === undefined ? undefined : o === undefined ? normal : typeof o === 'string' ? o : o(a.alert, normal);
      return {
        alert: a.alert,
        expr: a.expr(t),
        ...(forValue ? { for: forValue } : {}),
        labels: { severity: a.severity },
        annotations: {
          summary: a.summary,
          description: a.description.replaceAll('%WINDOW%', window) + (CULPRITS[a.alert] ?? ''),
          runbook_url: `${t.runbook_base_url}/${a.alert}.md`,
        },
      };
    });
    files.set(`${g.file}.yml`, { groups: [{ name: g.name, rules }] });
  }
  return files;
}
