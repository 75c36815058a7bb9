/** Thresholds of the alerts (and dashboards and doctor checks) about the exporter itself (and the runbook links of every alert). */
import { type ThresholdDef } from './schema.js';

/** Where every runbook_url points (one place); overridable with the `runbook_base_url` threshold key. */
export const RUNBOOK_BASE_URL = 'https://github.com/silentwatch/silentwatch/blob/main/docs/runbooks';

export const SILENTWATCH_THRESHOLDS = {
  runbook_base_url: { default: RUNBOOK_BASE_URL, kind: 'string', help: 'Base URL of the runbooks (runbook_url = <base>/<Alert>.md).' },
  silentwatch_job: { default: 'silentwatch', kind: 'string', help: 'Prometheus job name that scrapes silentwatch (for SilentwatchDown).' },
  collector_failing_for: { default: '10m', kind: 'duration', help: 'SilentwatchCollectorFailing: a collector reporting success 0 for this long.' },
  silentwatch_down_for: { default: '5m', kind: 'duration', help: 'SilentwatchDown: the exporter target down or absent for this long.' },
} as const satisfies Record<string, ThresholdDef>;
